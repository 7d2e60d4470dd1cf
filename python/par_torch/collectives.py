"""Collectives that work on every backend: native where the backend has the operation, a
composition of operations it has where not (Gloo in torch 1.13 has no reduce_scatter and
no flat all-gather). Chosen once at start by probing; every rank probes the same way,
so every rank picks the same implementation and issues the same collectives in the same
order. Plans use all-reduce today; the reduce-scatter and all-gather of sharded-optimizer
(ZeRO) plans go through the same object.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Capabilities:
    reduce_scatter: bool
    all_gather_flat: bool

    def describe(self) -> str:
        rs = "native" if self.reduce_scatter else "all_reduce + slice"
        ag = "native" if self.all_gather_flat else "list all_gather + cat"
        return f"reduce_scatter: {rs}; all_gather: {ag}"


def _reduce_scatter_fn():
    return getattr(dist, "reduce_scatter_tensor", None) or getattr(dist, "_reduce_scatter_base", None)


def _all_gather_fn():
    return getattr(dist, "all_gather_into_tensor", None) or getattr(dist, "_all_gather_base", None)


def probe(device: torch.device, group=None) -> Capabilities:
    """Tries each native operation once on a tiny tensor (every rank, same order)."""
    n = dist.get_world_size(group)
    caps = Capabilities(False, False)
    rs = _reduce_scatter_fn()
    if rs is not None:
        try:
            rs(torch.zeros(1, device=device), torch.zeros(n, device=device), group=group)
            caps.reduce_scatter = True
        except RuntimeError:
            pass
    ag = _all_gather_fn()
    if ag is not None:
        try:
            ag(torch.zeros(n, device=device), torch.zeros(1, device=device), group=group)
            caps.all_gather_flat = True
        except RuntimeError:
            pass
    return caps


class Collectives:
    def __init__(self, caps: Capabilities):
        self.caps = caps

    def all_reduce(self, t: torch.Tensor, group, async_op: bool = False):
        """Element-wise sum over the group, in place; every member gets identical bits."""
        return dist.all_reduce(t, group=group, async_op=async_op)

    def reduce_scatter(self, out: torch.Tensor, flat: torch.Tensor, group) -> None:
        """`out` gets this member's equal slice of the element-wise sum of `flat` over the group."""
        if self.caps.reduce_scatter:
            _reduce_scatter_fn()(out, flat, group=group)
            return
        summed = flat.clone()
        dist.all_reduce(summed, group=group)
        k = dist.get_rank(group)
        n = out.numel()
        out.view(-1).copy_(summed.view(-1)[k * n : (k + 1) * n])

    def all_gather(self, flat_out: torch.Tensor, piece: torch.Tensor, group) -> None:
        """`flat_out` gets every member's `piece`, concatenated in group-rank order."""
        if self.caps.all_gather_flat:
            _all_gather_fn()(flat_out, piece, group=group)
            return
        n = piece.numel()
        parts = list(flat_out.view(-1).split(n))
        dist.all_gather(parts, piece.contiguous().view(-1), group=group)
