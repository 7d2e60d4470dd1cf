"""Dropout's mask, ported bit for bit from src/ops/dropout.ts: element g of the op's output
is kept when a counter-based uniform of (seed, g) is at least p, so every shard of the
op draws exactly the whole op's mask."""

from __future__ import annotations

import torch

from .hashing import GOLDEN, MASK32, fmix32, global_indices, t_fmix32
from .regions import Region


def dropout_uniform(seed: int, index: torch.Tensor) -> torch.Tensor:
    """Uniform in [0, 1) (float64) for each global index."""
    s = fmix32((seed & MASK32) ^ GOLDEN)
    lo = index & MASK32
    hi = (index >> 32) & MASK32
    h = t_fmix32(lo ^ t_fmix32(hi ^ s))
    return h.to(torch.float64) / 4294967296


def dropout_mask(shape: list[int], region: Region, p: float, seed: int) -> torch.Tensor:
    """The scaled mask (0 or float32(1/(1-p))) of `region` of a tensor shaped `shape`."""
    u = dropout_uniform(seed, global_indices(shape, list(region.lo), list(region.hi)))
    scale = torch.tensor(1 / (1 - p), dtype=torch.float64).to(torch.float32)
    return torch.where(u >= p, scale, torch.zeros((), dtype=torch.float32))


# A task's mask is the same every step (it depends only on the seed and global indices):
# hashing it anew would cost ~20 integer passes over the tensor per forward.
_CACHE: dict[tuple, torch.Tensor] = {}
_CACHE_LIMIT = 1 << 26  # elements kept (256 MiB of float32)
_cached = 0


def cached_dropout_mask(shape: list[int], region: Region, p: float, seed: int, device: torch.device) -> torch.Tensor:
    global _cached
    key = (tuple(shape), region, p, seed, str(device))
    mask = _CACHE.get(key)
    if mask is None:
        mask = dropout_mask(shape, region, p, seed).to(device)
        if _cached + mask.numel() > _CACHE_LIMIT:
            _CACHE.clear()
            _cached = 0
        _CACHE[key] = mask
        _cached += mask.numel()
    return mask
