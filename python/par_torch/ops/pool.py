"""pool2d and global_pool (src/ops/pool.ts). pool2d pads each task's region explicitly (-inf
for max, 0 for avg, so average pooling counts the padding as PyTorch's default does), then
pools 'valid'. Max pooling's gradient goes to the first maximum of each window in row-major
order, in both engines. global_pool divides each task's partial sum by the GLOBAL count."""

from __future__ import annotations

from math import prod

import torch
import torch.nn.functional as F

from ..plan import Shard
from .common import pair, padded_nchw


def pool2d(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    kernel = pair(sh.attrs["kernel"])
    stride_attr = sh.attrs.get("stride", [])
    stride = kernel if len(stride_attr) == 0 else pair(stride_attr)
    if sh.attrs["mode"] == "max":
        return [F.max_pool2d(padded_nchw(inputs[0], sh, float("-inf")), kernel, stride)]
    return [F.avg_pool2d(padded_nchw(inputs[0], sh, 0.0), kernel, stride)]


def global_pool(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    axes = list(range(2, x.dim()))
    count = prod(sh.space_sizes[2:])
    return [x.sum(dim=axes, keepdim=True) / count]


KERNELS = {"pool2d": pool2d, "global_pool": global_pool}
