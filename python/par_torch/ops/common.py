"""Helpers shared by the kernels: spatial attribute values, per-task cropping and padding of
window axes, and reducing a broadcast gradient back to an operand's shape."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..plan import Shard, window_padding

Kernel = Callable[[Shard, list[torch.Tensor], list[torch.Tensor]], list[torch.Tensor]]


def out_shape(sh: Shard, i: int = 0) -> list[int]:
    """The task's output region shape (shape ops derive their result shape from it)."""
    return sh.output_regions[i].shape()


def values_of(v, n: int) -> list[int]:
    """An `ints` attribute of 1 or n values as n values (src/ops/windows.ts `valuesOf`)."""
    xs = v if isinstance(v, list) else [v]
    return [int(x) for x in xs] if len(xs) == n else [int(xs[0])] * n


def crop_to_region(x: torch.Tensor, sh: Shard, i: int = 0) -> torch.Tensor:
    """The task's input cut to its region along the axes past the channels (src/ops/windows.ts
    `cropToRegion`): the whole op is handed the whole tensor, whose region may start past 0 or
    end before the tensor's end."""
    region = sh.input_regions[i]
    for a in range(2, x.dim()):
        extent = region.hi[a] - region.lo[a]
        if x.shape[a] != extent:
            x = x.narrow(a, region.lo[a], extent)
    return x


def padded_window(x: torch.Tensor, sh: Shard, value: float, i: int = 0) -> torch.Tensor:
    """The task's channel-first input cropped to its region and padded with `value` where a
    `window` map runs off the tensor (src/ops/windows.ts `paddedChannelsLast`, channel-first)."""
    x = crop_to_region(x, sh, i)
    maps = sh.op.input_maps[i]
    pads: list[int] = []
    for a in range(x.dim() - 1, 1, -1):  # F.pad lists the last axis first
        m = maps[a]
        lo, hi = window_padding(m, sh.box) if m["kind"] == "window" else (0, 0)
        pads += [lo, hi]
    if not any(pads):
        return x
    return F.pad(x, pads, value=value)


def sum_to(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """A broadcast result's gradient summed back to an operand's shape."""
    if t.shape == shape:
        return t
    return t.sum_to_size(shape) if len(shape) > 0 else t.sum()
