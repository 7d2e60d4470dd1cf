"""Parameter initialisation, ported bit for bit from src/runtime/exec/init.ts: the value of
element g of param P is a pure function of (seed, P, g), computed in float64 and rounded
to float32 once, as a Float32Array store rounds it. Any shard gets the whole's values.
"""

from __future__ import annotations

import base64
import sys

import torch

from .errors import EngineError
from .hashing import HASH_START, global_indices, hash_step, str_hash, t_gaussian, t_hash_step, t_symmetric
from .regions import Region


def param_prefix(seed: int, param: str) -> int:
    return hash_step(hash_step(HASH_START, seed), str_hash(param))


def init_region(spec: dict, seed: int, param: str, shape: list[int], region: Region) -> torch.Tensor:
    """Values of `region` of a param initialised by InitSpec `spec` (float32, region-shaped)."""
    ext = region.shape()
    kind = spec["kind"]
    if kind == "zeros":
        return torch.zeros(ext, dtype=torch.float32)
    if kind == "ones":
        return torch.ones(ext, dtype=torch.float32)
    prefix = param_prefix(seed, param)
    h = t_hash_step(prefix, global_indices(shape, region.lo, region.hi))
    if kind == "uniform":
        values = t_symmetric(t_hash_step(h, 1)) * float(spec["bound"])
    elif kind == "normal":
        values = t_gaussian(t_hash_step(h, 2), t_hash_step(h, 3)) * float(spec["std"])
    else:
        raise EngineError("PAR8004", f"param {param}: unknown init kind {kind!r}")
    return values.to(torch.float32)


def decode_f32(data: str, count: int, what: str) -> torch.Tensor:
    """A Plan.weights entry: base64 of little-endian float32, row-major."""
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError as e:
        raise EngineError("PAR8017", f"{what}: given values are not base64 ({e})") from None
    if len(raw) != 4 * count:
        raise EngineError("PAR8017", f"{what}: given values hold {len(raw) // 4} floats, the param has {count}")
    if sys.byteorder != "little":  # torch.frombuffer reads native order
        raise EngineError("PAR8004", f"{what}: given weights need a little-endian host")
    return torch.frombuffer(bytearray(raw), dtype=torch.float32)


def given_region(whole: torch.Tensor, shape: list[int], region: Region) -> torch.Tensor:
    """The values of `region` out of a param's whole given values."""
    return whole.view(shape)[region.slices()].clone()
