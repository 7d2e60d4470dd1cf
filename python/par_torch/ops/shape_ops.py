"""Shape ops (src/ops/shape-ops.ts). Each task works on its own regions: every forward
derives its output shape from the task's output region, never from the whole tensor.
tile reads a repeated axis whole and cuts the task's output range out of its copies;
depth_to_space and space_to_depth rearrange the task's own blocks (`block` maps)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..plan import Shard
from .common import out_shape


def _axis(a: int, rank: int) -> int:
    return a + rank if a < 0 else a


def reshape(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [inputs[0].reshape(out_shape(sh))]


def transpose(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    return [x.permute([_axis(int(p), x.dim()) for p in sh.attrs["perm"]])]


def concat(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [torch.cat(inputs, dim=_axis(int(sh.attrs["axis"]), inputs[0].dim()))]


def split(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    axis = _axis(int(sh.attrs.get("axis", 0)), x.dim())
    sizes = list(sh.attrs.get("sizes", []))
    if not sizes:
        parts = int(sh.attrs["parts"])
        sizes = [x.shape[axis] // parts] * parts
    return list(torch.split(x, sizes, dim=axis))


def slice_(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    axis = _axis(int(sh.attrs.get("axis", 0)), x.dim())
    region = sh.input_regions[0]
    extent = region.hi[axis] - region.lo[axis]
    # Handed the whole tensor rather than its region: cut the region out first.
    if x.shape[axis] != extent:
        x = x.narrow(axis, region.lo[axis], extent)
    step = int(sh.attrs.get("step", 1))
    count = out_shape(sh)[axis]
    if step == 1:
        return [x.clone()]
    index = [slice(None)] * x.dim()
    index[axis] = slice(0, (count - 1) * step + 1, step)
    return [x[tuple(index)]]


def expand(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [inputs[0].expand(out_shape(sh))]


def pad(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    rank = x.dim()
    pads = [int(p) for p in sh.attrs["pads"]]
    torch_pads: list[int] = []
    for axis in range(rank - 1, -1, -1):  # F.pad lists the last axis first
        torch_pads += [pads[axis], pads[axis + rank]]
    return [F.pad(x, torch_pads)]


def tile(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    reps = [int(r) for r in sh.attrs["repeats"]]
    if all(r == 1 for r in reps):
        return [x.clone()]
    region = sh.output_regions[0]
    y = x.repeat(reps)
    for a, r in enumerate(reps):
        if r != 1:
            y = y.narrow(a, region.lo[a], region.hi[a] - region.lo[a])
    return [y]


def depth_to_space(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    b = int(sh.attrs["blocksize"])
    n, c, h, w = x.shape
    oc = c // (b * b)
    if sh.attrs.get("mode", "DCR") == "CRD":
        y = x.reshape(n, oc, b, b, h, w).permute(0, 1, 4, 2, 5, 3)
    else:
        y = x.reshape(n, b, b, oc, h, w).permute(0, 3, 4, 1, 5, 2)
    return [y.reshape(n, oc, h * b, w * b)]


def space_to_depth(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    b = int(sh.attrs["blocksize"])
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // b, b, w // b, b).permute(0, 3, 5, 1, 2, 4)
    return [y.reshape(n, c * b * b, h // b, w // b)]


KERNELS = {
    "reshape": reshape,
    "flatten": reshape,
    "squeeze": reshape,
    "unsqueeze": reshape,
    "transpose": transpose,
    "concat": concat,
    "split": split,
    "slice": slice_,
    "expand": expand,
    "broadcast_to": expand,
    "pad": pad,
    "tile": tile,
    "depth_to_space": depth_to_space,
    "space_to_depth": space_to_depth,
}
