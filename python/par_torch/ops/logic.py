"""Comparisons, boolean logic, selection and casts (src/ops/logic.ts). par has no bool
dtype at run time: a boolean is an i32 tensor of 0 and 1. Comparisons and logical ops
output i32 0/1 and take no gradient; logical ops and `where` read any non-zero integer as
true; `where` passes dy to the operand it selected (autograd of a select, summed over each
operand's broadcast axes); `cast` passes dy through float → float only."""

from __future__ import annotations

import torch

from ..plan import Shard
from .common import out_shape

_I32 = torch.int32


def _compare(fn):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        return [fn(inputs[0], inputs[1]).to(_I32)]

    return kernel


def _logical(fn):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        return [fn(inputs[0] != 0, inputs[1] != 0).to(_I32)]

    return kernel


def logical_not(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [(inputs[0] == 0).to(_I32)]


def is_nan(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [torch.isnan(inputs[0]).to(_I32)]


def is_inf(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    hit = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
    if sh.attrs.get("detect_positive", True):
        hit = hit | (x == float("inf"))
    if sh.attrs.get("detect_negative", True):
        hit = hit | (x == float("-inf"))
    return [hit.to(_I32)]


def where(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    cond, x, y = inputs
    shape = out_shape(sh)
    # A select rather than cond·x + (1 − cond)·y, which would turn a −∞ into NaN.
    return [torch.where((cond != 0).expand(shape), x.expand(shape), y.expand(shape))]


def cast(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    to = sh.attrs["to"]
    if to == "float":
        return [x.clone() if x.dtype == torch.float32 else x.to(torch.float32)]
    if to == "bool":
        return [(x != 0).to(_I32)]
    # float → int32 truncates towards 0, as tfjs's cast.
    return [x.detach().to(_I32)]


KERNELS = {
    "equal": _compare(torch.eq),
    "less": _compare(torch.lt),
    "less_equal": _compare(torch.le),
    "greater": _compare(torch.gt),
    "greater_equal": _compare(torch.ge),
    "logical_and": _logical(torch.logical_and),
    "logical_or": _logical(torch.logical_or),
    "logical_xor": _logical(torch.logical_xor),
    "logical_not": logical_not,
    "is_nan": is_nan,
    "is_inf": is_inf,
    "where": where,
    "cast": cast,
}
