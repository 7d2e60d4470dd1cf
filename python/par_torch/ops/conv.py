"""conv2d (src/ops/conv.ts) over NCHW: each task pads its input region explicitly with the
zeros the global padding puts at the tensor's borders, then runs a 'valid' convolution.
Grouped convolutions: a task holding a block of whole groups runs them as local groups
(the registry splits channels of a grouped conv only when every group has one output)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..plan import Shard
from .common import pair, padded_nchw


def conv2d(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = padded_nchw(inputs[0], sh, 0.0)
    w = params[0]
    groups = int(sh.attrs.get("groups", 1))
    local_groups = 1 if groups == 1 else w.shape[0] // (int(sh.attrs["out"]) // groups)
    bias = params[1] if sh.attrs.get("bias", True) and len(params) > 1 and sh.first_along_reductions else None
    y = F.conv2d(x, w, bias, pair(sh.attrs.get("stride", [1])), 0, pair(sh.attrs.get("dilation", [1])), local_groups)
    return [y]


KERNELS = {"conv2d": conv2d}
