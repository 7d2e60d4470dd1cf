"""Counter-based hashing, ported bit for bit from src/runtime/exec/hash.ts.

Every weight and every synthetic datum is a pure function of its key (seed, tensor,
global index, ...). JavaScript does this in 32-bit integer arithmetic (`Math.imul`,
`>>>`); here the same arithmetic runs on int64 tensors holding values in [0, 2^32), with
every product split so that nothing overflows int64, or on Python ints for scalars.
"""

from __future__ import annotations

import math

import torch

MASK32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9
HASH_START = 0x2545F491
TWO32 = 4294967296


# ----------------------------------------------------------------------------- scalars

def imul(a: int, b: int) -> int:
    """Math.imul on unsigned 32-bit operands, as an unsigned result."""
    return (a * b) & MASK32


def mix32(x: int) -> int:
    """splitmix32's finaliser (hash.ts `mix32`)."""
    x = (x + GOLDEN) & MASK32
    x = imul(x ^ (x >> 16), 0x85EBCA6B)
    x = imul(x ^ (x >> 13), 0xC2B2AE35)
    return (x ^ (x >> 16)) & MASK32


def fmix32(h: int) -> int:
    """murmur3's finaliser (src/ops/dropout.ts `fmix32`)."""
    h &= MASK32
    h ^= h >> 16
    h = imul(h, 0x85EBCA6B)
    h ^= h >> 13
    h = imul(h, 0xC2B2AE35)
    h ^= h >> 16
    return h & MASK32


def str_hash(s: str) -> int:
    """FNV-1a over the string's UTF-16 code units (JavaScript's charCodeAt)."""
    h = 0x811C9DC5
    units = s.encode("utf-16-le")
    for i in range(0, len(units), 2):
        h ^= units[i] | (units[i + 1] << 8)
        h = imul(h, 0x01000193)
    return h


def hash_step(h: int, k: int) -> int:
    """Folds one integer key into the state; keys beyond 2^32 fold their high word too."""
    hi = k // TWO32  # Math.floor, also for negative keys
    h = mix32(h ^ (k & MASK32))
    if hi != 0:
        h = mix32(h ^ (hi & MASK32))
    return h


def hash_key(*keys: int) -> int:
    h = HASH_START
    for k in keys:
        h = hash_step(h, k)
    return h


def unit(h: int) -> float:
    return (h >> 8) / 16777216


def symmetric(h: int) -> float:
    return unit(h) * 2 - 1


# ----------------------------------------------------------------------------- tensors
# Tensors are int64 holding unsigned 32-bit values.

def t_imul(a: torch.Tensor, b: int) -> torch.Tensor:
    """(a * b) mod 2^32 without int64 overflow: b split into 16-bit halves."""
    lo = b & 0xFFFF
    hi = b >> 16
    return (a * lo + (((a * hi) & 0xFFFF) << 16)) & MASK32


def t_mix32(x: torch.Tensor) -> torch.Tensor:
    x = (x + GOLDEN) & MASK32
    x = t_imul(x ^ (x >> 16), 0x85EBCA6B)
    x = t_imul(x ^ (x >> 13), 0xC2B2AE35)
    return (x ^ (x >> 16)) & MASK32


def t_fmix32(h: torch.Tensor) -> torch.Tensor:
    h = h ^ (h >> 16)
    h = t_imul(h, 0x85EBCA6B)
    h = h ^ (h >> 13)
    h = t_imul(h, 0xC2B2AE35)
    return h ^ (h >> 16)


def t_hash_step(h: torch.Tensor | int, k: torch.Tensor | int) -> torch.Tensor:
    """hash_step with a tensor state and/or tensor keys (non-negative tensor keys)."""
    if isinstance(k, int):
        hi = k // TWO32
        out = t_mix32(torch.as_tensor(h, dtype=torch.int64) ^ (k & MASK32))
        return t_mix32(out ^ (hi & MASK32)) if hi != 0 else out
    hi = k >> 32
    out = t_mix32(torch.as_tensor(h, dtype=torch.int64) ^ (k & MASK32))
    if bool((hi != 0).any()):
        out = torch.where(hi != 0, t_mix32(out ^ (hi & MASK32)), out)
    return out


def t_unit(h: torch.Tensor) -> torch.Tensor:
    """Uniform in [0, 1) with 24 bits, as float64 (exact)."""
    return (h >> 8).to(torch.float64) / 16777216


def t_symmetric(h: torch.Tensor) -> torch.Tensor:
    return t_unit(h) * 2 - 1


def t_gaussian(h1: torch.Tensor, h2: torch.Tensor) -> torch.Tensor:
    """Box-Muller from two hashes, in float64 (hash.ts `gaussian`)."""
    u1 = ((h1 >> 8) + 1).to(torch.float64) / 16777217
    u2 = t_unit(h2)
    return torch.sqrt(-2 * torch.log(u1)) * torch.cos(2 * math.pi * u2)


def global_indices(shape: list[int], lo: list[int], hi: list[int]) -> torch.Tensor:
    """Row-major global flat index of every element of region [lo, hi), shaped like the region."""
    rank = len(shape)
    ext = [h - l for l, h in zip(lo, hi)]
    if rank == 0:
        return torch.zeros((), dtype=torch.int64)
    g = torch.zeros(ext, dtype=torch.int64)
    stride = 1
    for axis in range(rank - 1, -1, -1):
        view = [1] * rank
        view[axis] = ext[axis]
        g = g + (torch.arange(lo[axis], hi[axis], dtype=torch.int64) * stride).view(view)
        stride *= shape[axis]
    return g
