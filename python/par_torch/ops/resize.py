"""resize (src/ops/resize.ts): nearest or (bi/tri)linear resizing of the spatial axes of a
channel-first tensor with ONNX's coordinate transformations. Separable: one interpolation
matrix per spatial axis (rows: the task's GLOBAL output positions; columns: its input
region), applied along that axis, exactly as the TS kernel builds them."""

from __future__ import annotations

import math

import torch

from ..plan import Shard
from .common import crop_to_region


def _js_round(x: float) -> float:
    # JavaScript's Math.round: halves up (Python's round takes halves to even).
    return math.floor(x + 0.5)


def _source(o: int, in_size: int, out_size: int, scale: float, mode: str) -> float:
    if mode == "half_pixel":
        return (o + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (o + 0.5) / scale - 0.5 if out_size > 1 else 0.0
    if mode == "align_corners":
        return 0.0 if out_size == 1 else (o * (in_size - 1)) / (out_size - 1)
    return o / scale  # asymmetric


def _nearest(x: float, mode: str) -> int:
    if mode == "floor":
        return math.floor(x)
    if mode == "ceil":
        return math.ceil(x)
    if mode == "round_prefer_floor":
        return math.floor(x) if x == math.floor(x) + 0.5 else _js_round(x)
    return _js_round(x)  # round_prefer_ceil


def taps(o: int, in_size: int, out_size: int, scale: float, attrs: dict) -> list[tuple[int, float]]:
    """src/ops/resize.ts `taps`: the inputs (index, weight) output o reads along one axis."""
    x = _source(o, in_size, out_size, scale, attrs.get("coordinate", "half_pixel"))
    last = in_size - 1
    if attrs.get("mode", "nearest") == "nearest":
        return [(min(last, max(0, int(_nearest(x, attrs.get("nearest_mode", "round_prefer_floor"))))), 1.0)]
    c = min(last, max(0.0, x))
    i0 = math.floor(c)
    frac = c - i0
    return [(i0, 1.0)] if frac == 0 or i0 == last else [(i0, 1 - frac), (i0 + 1, frac)]


def resize(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = crop_to_region(inputs[0], sh)
    a = sh.attrs
    region, out = sh.input_regions[0], sh.output_regions[0]
    maps = sh.op.input_maps[0]
    size = [int(v) for v in a["size"]]
    scale = [float(v) for v in a.get("scale", [])]
    y = x
    for i, out_size in enumerate(size):
        axis = i + 2
        # The whole input's extent: a split axis's window map records it; an unsplit one is read whole.
        in_size = int(maps[axis]["size"]) if maps[axis]["kind"] == "window" else region.hi[axis]
        sc = scale[i] if scale else out_size / in_size
        lo, hi, ilo, ihi = out.lo[axis], out.hi[axis], region.lo[axis], region.hi[axis]
        m = torch.zeros(hi - lo, ihi - ilo, dtype=torch.float32)
        for o in range(lo, hi):
            for j, w in taps(o, in_size, out_size, sc, a):
                m[o - lo, j - ilo] += w
        moved = y.movedim(axis, -1)
        y = (moved @ m.to(y.device).t()).movedim(-1, axis)
    return [y]


KERNELS = {"resize": resize}
