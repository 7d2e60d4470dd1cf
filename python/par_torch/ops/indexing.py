"""Indexing with integer tensors (src/ops/indexing.ts): take, take_along_axis, scatter_nd,
one_hot, arg_max and arg_min. Indices may be negative (counted from the end). An axis that
indices point into is read whole by every task. scatter_nd scatters with a one-hot product,
as the TS kernel, so repeated indices add up the same way in both engines; one_hot compares
with the task's GLOBAL positions along the new axis."""

from __future__ import annotations

import torch

from ..plan import Shard


def _axis(a: int, rank: int) -> int:
    return a + rank if a < 0 else a


def _non_negative(ix: torch.Tensor, size: int) -> torch.Tensor:
    i = ix.long()
    return torch.where(i < 0, i + size, i)


def take(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x, ix = inputs
    a = _axis(int(sh.attrs.get("axis", 0)), x.dim())
    y = torch.index_select(x, a, _non_negative(ix, x.shape[a]).reshape(-1))
    return [y.reshape(*x.shape[:a], *ix.shape, *x.shape[a + 1 :])]


def take_along_axis(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x, ix = inputs
    a = _axis(int(sh.attrs.get("axis", 0)), x.dim())
    # x's other axes cut to the indices' extents (the whole op is handed all of x).
    region = sh.input_regions[0]
    for i in range(x.dim()):
        if i != a and x.shape[i] != region.hi[i] - region.lo[i]:
            x = x.narrow(i, 0, region.hi[i] - region.lo[i])
    return [torch.gather(x, a, _non_negative(ix, x.shape[a]))]


def scatter_nd(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    data, ix, upd = inputs
    q = ix.shape[-1]
    prefix = list(data.shape[:q])
    p = 1
    for s in prefix:
        p *= s
    rest = data.numel() // p if p else 0
    sizes = torch.tensor(prefix, dtype=torch.long, device=ix.device)
    strides = torch.tensor([_prod(prefix[i + 1 :]) for i in range(q)], dtype=torch.long, device=ix.device)
    i = ix.long().reshape(-1, q)
    lin = (torch.where(i < 0, i + sizes, i) * strides).sum(dim=1)
    hot = (lin.unsqueeze(1) == torch.arange(p, device=ix.device).unsqueeze(0)).to(data.dtype)
    scattered = hot.t() @ upd.reshape(-1, rest)
    flat = data.reshape(p, rest)
    if sh.attrs.get("reduction", "none") == "add":
        return [(flat + scattered).reshape(data.shape)]
    untouched = (hot.sum(dim=0) == 0).to(data.dtype)
    return [(flat * untouched.unsqueeze(1) + scattered).reshape(data.shape)]


def _prod(xs: list[int]) -> int:
    r = 1
    for v in xs:
        r *= v
    return r


def one_hot(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    ix = inputs[0]
    r = ix.dim() + 1
    a = _axis(int(sh.attrs.get("axis", -1)), r)
    depth = int(sh.attrs["depth"])
    lo, hi = sh.output_regions[0].lo[a], sh.output_regions[0].hi[a]
    shape = [1] * r
    shape[a] = hi - lo
    positions = torch.arange(lo, hi, device=ix.device).view(shape)
    hit = _non_negative(ix, depth).unsqueeze(a) == positions
    on, off = float(sh.attrs.get("on", 1)), float(sh.attrs.get("off", 0))
    return [torch.where(hit, torch.full(hit.shape, on, device=ix.device), torch.full(hit.shape, off, device=ix.device))]


def _arg(kind: str):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        x = inputs[0]
        a = _axis(int(sh.attrs.get("axis", 0)), x.dim())
        pick = torch.argmax if kind == "max" else torch.argmin
        # torch returns the first extreme; the last one is the first of the reversed axis.
        if sh.attrs.get("select_last_index", False):
            y = x.shape[a] - 1 - pick(x.flip(a), dim=a)
        else:
            y = pick(x, dim=a)
        if sh.attrs.get("keepdims", True):
            y = y.unsqueeze(a)
        return [y.to(torch.int32)]

    return kernel


KERNELS = {
    "take": take,
    "take_along_axis": take_along_axis,
    "scatter_nd": scatter_nd,
    "one_hot": one_hot,
    "arg_max": _arg("max"),
    "arg_min": _arg("min"),
}
