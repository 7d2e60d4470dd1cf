"""Affine ops (src/ops/affine.ts): bias_add and scale with a learned, broadcast parameter,
and scale_shift with constant scalars."""

from __future__ import annotations

import torch

from ..plan import Shard
from .elementwise import SCALE_SHIFT


def bias_add(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [inputs[0] + params[0]]


def scale(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [inputs[0] * params[0]]


KERNELS = {"bias_add": bias_add, "scale": scale, "scale_shift": SCALE_SHIFT}
