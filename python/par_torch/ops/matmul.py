"""matmul and batch_matmul (src/ops/matmul.ts): a[..., m, k] · b[k, n] or b[..., k, n],
batch dims broadcast NumPy-style; `transpose_b` reads b as [..., n, k]. einsum: torch.einsum
of the task's pieces (a split summed letter gives partial sums that add up), with the
implicit output of an equation without "->" spelled out as the TS parser does."""

from __future__ import annotations

import torch

from ..plan import Shard


def _matmul(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    a, b = inputs
    if sh.attrs.get("transpose_b", False):
        b = b.transpose(-1, -2)
    if b.dim() == 2:
        # b shared by every batch index: one 2-D product over the flattened rows.
        y = a.reshape(-1, a.shape[-1]) @ b
        return [y.view(*a.shape[:-1], b.shape[1])]
    return [torch.matmul(a, b)]


def explicit_equation(equation: str) -> str:
    """`equation` with its output: without "->", the ellipsis then the letters that occur
    once, sorted by code point (src/ops/matmul.ts `parseEinsum`)."""
    eq = "".join(equation.split())
    if "->" in eq:
        return eq
    counts: dict[str, int] = {}
    for term in eq.split(","):
        for ch in term.replace("...", ""):
            counts[ch] = counts.get(ch, 0) + 1
    dots = "..." if "..." in eq else ""
    return eq + "->" + dots + "".join(sorted(ch for ch, n in counts.items() if n == 1))


def einsum(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    y = torch.einsum(explicit_equation(str(sh.attrs["equation"])), *inputs)
    # A fresh tensor (a one-operand permutation would be a view of the input).
    return [y.clone() if len(inputs) == 1 else y]


KERNELS = {"matmul": _matmul, "batch_matmul": _matmul, "einsum": einsum}
