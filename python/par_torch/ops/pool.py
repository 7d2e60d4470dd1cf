"""Pooling (src/ops/pool.ts) over channel-first tensors with 1, 2 or 3 spatial axes, and
global_pool. pool{n}d pads each task's region explicitly (−∞ for max, 0 for avg) where its
windows run off the tensor (padding, end pads, ceil mode), then pools 'valid'. Max
pooling's gradient goes to the first maximum of each window in row-major order, in both
engines. Average pooling divides by the whole window, then multiplies each output by the
factor (from its GLOBAL position) that makes the divisor torch's: the window with its
padding (count_include_pad) or its real elements only, never positions past the end pad.
global_pool divides each task's partial sum by the GLOBAL count."""

from __future__ import annotations

from math import prod

import torch
import torch.nn.functional as F

from ..plan import Shard
from .common import padded_window, values_of

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _divisor_factors(lo: int, hi: int, size: int, k: int, s: int, pad_lo: int, pad_hi: int, include_pad: bool) -> list[float]:
    """src/ops/pool.ts `divisorFactors`: k / (the taps counted), per global output position."""
    out = []
    for o in range(lo, hi):
        start = o * s - pad_lo
        end = min(start + k, size + pad_hi)
        counted = end - start if include_pad else min(end, size) - max(start, 0)
        out.append(k / counted)
    return out


def _pool(n: int):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        a = sh.attrs
        k = values_of(a["kernel"], n)
        stride_attr = a.get("stride", [])
        stride = k if len(stride_attr) == 0 else values_of(stride_attr, n)
        if a["mode"] == "max":
            xp = padded_window(inputs[0], sh, float("-inf"))
            return [_MAX[n](xp, k, stride, 0, values_of(a.get("dilation", [1]), n))]
        y = _AVG[n](padded_window(inputs[0], sh, 0.0), k, stride)
        pad_lo = values_of(a.get("padding", [0]), n)
        end = a.get("padding_end", [])
        pad_hi = pad_lo if len(end) == 0 else values_of(end, n)
        include = bool(a.get("count_include_pad", True))
        maps = sh.op.input_maps[0]
        per_axis = [
            _divisor_factors(sh.box.lo[i + 2], sh.box.hi[i + 2], int(maps[i + 2]["size"]), k[i], stride[i], pad_lo[i], pad_hi[i], include)
            for i in range(n)
        ]
        if all(f == 1 for fs in per_axis for f in fs):
            return [y]
        factors = torch.ones((), dtype=torch.float64)
        for i, fs in enumerate(per_axis):
            shape = [1] * n
            shape[i] = len(fs)
            factors = factors * torch.tensor(fs, dtype=torch.float64).view(shape)
        return [y * factors.to(y.dtype).to(y.device)]

    return kernel


def global_pool(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    axes = list(range(2, x.dim()))
    count = prod(sh.space_sizes[2:])
    return [x.sum(dim=axes, keepdim=True) / count]


KERNELS = {"pool1d": _pool(1), "pool2d": _pool(2), "pool3d": _pool(3), "global_pool": global_pool}
