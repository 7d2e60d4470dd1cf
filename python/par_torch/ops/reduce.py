"""Reductions (src/ops/reduce.ts): softmax and log_softmax along an unsplit axis;
reduce_sum/reduce_mean give partial sums over split reduced axes (the mean divides by the
GLOBAL count); reduce_max keeps its reduced axes whole, and its gradient goes to every
element equal to the maximum, as tfjs's does (torch's amax would split it among ties)."""

from __future__ import annotations

from math import prod

import torch

from ..plan import Shard


def _axis(a: int, rank: int) -> int:
    return a + rank if a < 0 else a


def softmax(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    return [torch.softmax(x, dim=_axis(int(sh.attrs.get("axis", -1)), x.dim()))]


def log_softmax(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    return [torch.log_softmax(x, dim=_axis(int(sh.attrs.get("axis", -1)), x.dim()))]


def _reduced_axes(rank: int, given: list) -> list[int]:
    return list(range(rank)) if len(given) == 0 else [_axis(int(a), rank) for a in given]


class _TfMax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, axes: list[int], keep: bool) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x, torch.amax(x, dim=axes, keepdim=True))
        return torch.amax(x, dim=axes, keepdim=keep)

    @staticmethod
    def backward(ctx, dy: torch.Tensor):  # type: ignore[override]
        x, y = ctx.saved_tensors
        return dy.view(y.shape) * (x == y).to(x.dtype), None, None


def _reduce(kind: str):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        x = inputs[0]
        axes = _reduced_axes(x.dim(), list(sh.attrs.get("axes", [])))
        keep = bool(sh.attrs.get("keepdims", False))
        if len(axes) == 0:
            return [x.clone()]
        if kind == "max":
            return [_TfMax.apply(x, axes, keep)]
        s = x.sum(dim=axes, keepdim=keep)
        if kind == "sum":
            return [s]
        return [s / prod(sh.space_sizes[a] for a in axes)]

    return kernel


KERNELS = {
    "softmax": softmax,
    "log_softmax": log_softmax,
    "reduce_sum": _reduce("sum"),
    "reduce_mean": _reduce("mean"),
    "reduce_max": _reduce("max"),
}
