"""Normalisation (src/ops/norm.ts). batchnorm's sub-ops: moments and central_moment divide
each task's partial sum by the GLOBAL count (every iteration dim but the channel), so
sample and spatial splits add up; batchnorm_apply normalises with given statistics.
layernorm normalises over the trailing `axes` dims, which stay whole. group_norm
normalises per sample and group over the group's channels and every spatial position;
a task holds whole groups (its box along the group dim), which it runs as local groups."""

from __future__ import annotations

from math import prod

import torch
import torch.nn.functional as F

from ..plan import Shard


def _per_channel(v: torch.Tensor, rank: int) -> torch.Tensor:
    return v.view(1, v.shape[0], *([1] * (rank - 2)))


def _stat_axes(x: torch.Tensor) -> list[int]:
    return [i for i in range(x.dim()) if i != 1]


def _global_count(space_sizes: list[int]) -> int:
    return prod(space_sizes) // space_sizes[1]


def _mean(x: torch.Tensor, count: int) -> torch.Tensor:
    return x.sum(dim=_stat_axes(x)) / count


def _central(x: torch.Tensor, mean: torch.Tensor, count: int) -> torch.Tensor:
    return torch.square(x - _per_channel(mean, x.dim())).sum(dim=_stat_axes(x)) / count


def _apply(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float) -> torch.Tensor:
    scale = torch.rsqrt(var + eps) * w
    r = x.dim()
    return (x - _per_channel(mean, r)) * _per_channel(scale, r) + _per_channel(b, r)


def moments(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [_mean(inputs[0], _global_count(sh.space_sizes))]


def central_moment(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [_central(inputs[0], inputs[1], _global_count(sh.space_sizes))]


def batchnorm_apply(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x, mean, var = inputs
    return [_apply(x, mean, var, params[0], params[1], float(sh.attrs.get("eps", 1e-5)))]


def batchnorm(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    # Unexpanded, only the channel splits: the local tensor holds every sample and position.
    x = inputs[0]
    count = prod(x.shape) // x.shape[1]
    mean = _mean(x, count)
    return [_apply(x, mean, _central(x, mean, count), params[0], params[1], float(sh.attrs.get("eps", 1e-5)))]


def layernorm(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    axes = int(sh.attrs.get("axes", 1))
    return [F.layer_norm(x, list(x.shape[x.dim() - axes :]), params[0], params[1], float(sh.attrs.get("eps", 1e-5)))]


def group_norm(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    local_groups = sh.box.hi[1] - sh.box.lo[1]
    return [F.group_norm(inputs[0], local_groups, params[0], params[1], float(sh.attrs.get("eps", 1e-5)))]


KERNELS = {
    "moments": moments,
    "central_moment": central_moment,
    "batchnorm_apply": batchnorm_apply,
    "batchnorm": batchnorm,
    "layernorm": layernorm,
    "group_norm": group_norm,
}
