"""Convolutions (src/ops/conv.ts) over channel-first tensors with 1, 2 or 3 spatial axes.

conv1d/2d/3d: each task pads its input region explicitly with the zeros the global
padding puts at the tensor's borders, then runs a 'valid' convolution. Grouped
convolutions: a task holding a block of whole groups runs them as local groups (the
registry splits channels of a grouped conv only when every group has one output channel,
and then hands the task exactly its groups' input channels).

conv_transpose1d/2d/3d: as the TS kernel, a direct convolution over the task's input
region dilated by the stride (zeros between entries), padded or cropped to the margins its
GLOBAL output range needs, with the filter flipped along the spatial axes and its in/out
axes swapped per group; autograd of that gives the TS kernel's explicit backward."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..plan import Shard
from .common import crop_to_region, padded_window, values_of

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _bias(sh: Shard, params: list[torch.Tensor]) -> torch.Tensor | None:
    # Added once: only by the task that is first along the reduction (in_channel).
    if sh.attrs.get("bias", True) and len(params) > 1 and sh.first_along_reductions:
        return params[1]
    return None


def _conv(n: int):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        x = padded_window(inputs[0], sh, 0.0)
        w = params[0]
        groups = int(sh.attrs.get("groups", 1))
        local_groups = 1 if groups == 1 else w.shape[0] // (int(sh.attrs["out"]) // groups)
        stride = values_of(sh.attrs.get("stride", [1]), n)
        dilation = values_of(sh.attrs.get("dilation", [1]), n)
        return [_CONV[n](x, w, _bias(sh, params), stride, 0, dilation, local_groups)]

    return kernel


def _pad_or_crop(t: torch.Tensor, axis: int, before: int, after: int) -> torch.Tensor:
    """Pads (positive) or crops (negative) `before` and `after` entries of `axis`."""
    if before > 0 or after > 0:
        pads = [0, 0] * (t.dim() - 1 - axis) + [max(0, before), max(0, after)]
        t = F.pad(t, pads)
    if before < 0 or after < 0:
        lo = max(0, -before)
        t = t.narrow(axis, lo, t.shape[axis] - lo - max(0, -after))
    return t


def _dilate(t: torch.Tensor, axis: int, s: int) -> torch.Tensor:
    """s − 1 zeros between consecutive entries along `axis`."""
    if s == 1:
        return t
    shape = list(t.shape)
    shape[axis] = (shape[axis] - 1) * s + 1
    u = t.new_zeros(shape)
    index = [slice(None)] * t.dim()
    index[axis] = slice(0, None, s)
    u[tuple(index)] = t
    return u


def _direct_filter(w: torch.Tensor, groups: int) -> torch.Tensor:
    """w [C, out/g, k...] → the direct conv's [out, C/g, k...], flipped along the spatial axes."""
    c, og = w.shape[0], w.shape[1]
    k = list(w.shape[2:])
    if groups == 1:
        swapped = w.transpose(0, 1)
    else:
        swapped = w.reshape(groups, c // groups, og, *k).transpose(1, 2).reshape(groups * og, c // groups, *k)
    return swapped.flip(list(range(2, 2 + len(k))))


def _conv_transpose(n: int):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        a = sh.attrs
        k = values_of(a["kernel"], n)
        s = values_of(a.get("stride", [1]), n)
        d = values_of(a.get("dilation", [1]), n)
        pb = values_of(a.get("padding", [0]), n)
        groups = int(a.get("groups", 1))
        region, out = sh.input_regions[0], sh.output_regions[0]
        u = crop_to_region(inputs[0], sh)
        for i in range(n):
            ax = i + 2
            pad_lo = (k[i] - 1) * d[i] - pb[i]
            ra, rb = region.lo[ax], region.hi[ax]
            lo, hi = out.lo[ax], out.hi[ax]
            # The task needs dilated-and-padded positions lo … hi − 1 + (k − 1)·d; its input
            # covers ra·s + pad_lo … (rb − 1)·s + pad_lo.
            before = ra * s[i] + pad_lo - lo
            after = hi - 1 + (k[i] - 1) * d[i] - ((rb - 1) * s[i] + pad_lo)
            u = _pad_or_crop(_dilate(u, ax, s[i]), ax, before, after)
        w = _direct_filter(params[0], groups)
        return [_CONV[n](u, w, _bias(sh, params), 1, 0, d, groups)]

    return kernel


KERNELS = {
    "conv1d": _conv(1),
    "conv2d": _conv(2),
    "conv3d": _conv(3),
    "conv_transpose1d": _conv_transpose(1),
    "conv_transpose2d": _conv_transpose(2),
    "conv_transpose3d": _conv_transpose(3),
}
