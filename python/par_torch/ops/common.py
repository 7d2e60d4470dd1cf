"""Helpers shared by the kernels: attribute pairs, per-task padding of window axes, and
reducing a broadcast gradient back to an operand's shape."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..plan import Shard, window_padding

Kernel = Callable[[Shard, list[torch.Tensor], list[torch.Tensor]], list[torch.Tensor]]


def pair(v) -> tuple[int, int]:
    """An `ints` attribute of 1 or 2 values as (h, w) (src/ops/conv.ts `pairOf`)."""
    xs = v if isinstance(v, list) else [v]
    return int(xs[0]), int(xs[1] if len(xs) > 1 else xs[0])


def out_shape(sh: Shard, i: int = 0) -> list[int]:
    """The task's output region shape (shape ops derive their result shape from it)."""
    return sh.output_regions[i].shape()


def padded_nchw(x: torch.Tensor, sh: Shard, value: float) -> torch.Tensor:
    """The task's NCHW input cropped to its region's extent along H and W and padded with
    `value` where its windows run off the tensor (src/ops/conv.ts `paddedNHWC`, in NCHW)."""
    maps = sh.op.input_maps[0]
    region = sh.input_regions[0]
    eh = region.hi[2] - region.lo[2]
    ew = region.hi[3] - region.lo[3]
    if x.shape[2] != eh or x.shape[3] != ew:
        x = x[:, :, :eh, :ew]
    pt, pb = window_padding(maps[2], sh.box)
    pl, pr = window_padding(maps[3], sh.box)
    if pt + pb + pl + pr == 0:
        return x
    return F.pad(x, (pl, pr, pt, pb), value=value)


def sum_to(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """A broadcast result's gradient summed back to an operand's shape."""
    if t.shape == shape:
        return t
    return t.sum_to_size(shape) if len(shape) > 0 else t.sum()
