"""matmul and batch_matmul (src/ops/matmul.ts): a[..., m, k] · b[k, n] or b[..., k, n],
batch dims broadcast NumPy-style; `transpose_b` reads b as [..., n, k]."""

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


KERNELS = {"matmul": _matmul, "batch_matmul": _matmul}
