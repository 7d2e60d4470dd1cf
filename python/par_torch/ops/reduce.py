"""Reductions (src/ops/reduce.ts): softmax and log_softmax along an unsplit axis;
reduce_sum/reduce_mean give partial sums over split reduced axes (the mean divides by the
GLOBAL count); reduce_max and reduce_min keep their reduced axes whole, and their gradient
goes to every element equal to the extreme, as tfjs's does (torch's amax would split it
among ties); reduce_prod and reduce_log_sum_exp keep theirs whole too. cumsum runs along an
unsplit axis; integers are summed as integers."""

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


def _tf_extreme(reduce):
    """max/min over axes with TensorFlow's gradient: dy to every element equal to the extreme (ties all get it)."""

    class _Extreme(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x: torch.Tensor, axes: list[int], keep: bool) -> torch.Tensor:  # type: ignore[override]
            ctx.save_for_backward(x, reduce(x, dim=axes, keepdim=True))
            return reduce(x, dim=axes, keepdim=keep)

        @staticmethod
        def backward(ctx, dy: torch.Tensor):  # type: ignore[override]
            x, y = ctx.saved_tensors
            return dy.view(y.shape) * (x == y).to(x.dtype), None, None

    return _Extreme


_TfMax = _tf_extreme(torch.amax)
_TfMin = _tf_extreme(torch.amin)


def _prod(x: torch.Tensor, axes: list[int], keep: bool) -> torch.Tensor:
    y = x
    for a in sorted(axes, reverse=True):
        y = torch.prod(y, dim=a, keepdim=keep) if keep else torch.prod(y, dim=a)
    return y


def _reduce(kind: str):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        x = inputs[0]
        axes = _reduced_axes(x.dim(), list(sh.attrs.get("axes", [])))
        keep = bool(sh.attrs.get("keepdims", False))
        if len(axes) == 0:
            return [x.clone()]
        if kind == "max":
            return [_TfMax.apply(x, axes, keep)]
        if kind == "min":
            return [_TfMin.apply(x, axes, keep)]
        if kind == "prod":
            return [_prod(x, axes, keep)]
        if kind == "log_sum_exp":
            return [torch.logsumexp(x, dim=axes, keepdim=keep)]
        s = x.sum(dim=axes, keepdim=keep)
        if kind == "sum":
            return [s]
        return [s / prod(sh.space_sizes[a] for a in axes)]

    return kernel


def cumsum(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    a = _axis(int(sh.attrs.get("axis", 0)), x.dim())
    reverse = bool(sh.attrs.get("reverse", False))
    t = x.flip(a) if reverse else x
    y = torch.cumsum(t, dim=a, dtype=x.dtype)
    if sh.attrs.get("exclusive", False):
        # Each position's sum of those before it: shift by one, a zero first.
        y = torch.cat([torch.zeros_like(y.narrow(a, 0, 1)), y.narrow(a, 0, y.shape[a] - 1)], dim=a)
    return [y.flip(a) if reverse else y]


KERNELS = {
    "softmax": softmax,
    "log_softmax": log_softmax,
    "reduce_sum": _reduce("sum"),
    "reduce_mean": _reduce("mean"),
    "reduce_max": _reduce("max"),
    "reduce_min": _reduce("min"),
    "reduce_prod": _reduce("prod"),
    "reduce_log_sum_exp": _reduce("log_sum_exp"),
    "cumsum": cumsum,
}
