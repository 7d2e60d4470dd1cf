"""Affine ops (src/ops/affine.ts): bias_add, scale and prelu with a learned, broadcast
parameter, and scale_shift with constant scalars."""

from __future__ import annotations

import torch

from ..plan import Shard
from .elementwise import SCALE_SHIFT


def bias_add(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [inputs[0] + params[0]]


def scale(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [inputs[0] * params[0]]


def prelu(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    # A select on x > 0, as the TS kernel (torch's prelu takes only a per-channel slope).
    return [torch.where(x > 0, x, x * params[0])]


KERNELS = {"bias_add": bias_add, "scale": scale, "scale_shift": SCALE_SHIFT, "prelu": prelu}
