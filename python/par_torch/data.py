"""Synthetic training data, ported bit for bit from src/runtime/exec/data.ts: every value
is a pure function of (seed, tensor id, global index, batch), so each rank feeds exactly
the region it reads and both engines see identical batches. Labels and regression
targets are a fixed function (the "teacher") of a float input's row at the same sample,
so the loss can fall; each reads at most TEACHER_TAPS elements of that row. Arithmetic is
float64 in JavaScript's order, rounded once to f32.
"""

from __future__ import annotations

from math import prod, sqrt

import torch

from .hashing import HASH_START, global_indices, hash_step, str_hash, t_hash_step, t_symmetric
from .regions import Region

DATASET_BATCHES = 2

FLOAT = 0
CLASS_WEIGHT = 1
TARGET_WEIGHT = 2
NO_TEACHER = 3
TAP = 4

TEACHER_TAPS = 64


def _prefix(seed: int, tensor_id: int) -> int:
    return hash_step(hash_step(HASH_START, seed), tensor_id)


def _uniform(prefix: int, index: torch.Tensor, step: int) -> torch.Tensor:
    """uniformFrom: U(-1, 1) as float64, for a tensor of global indices."""
    return t_symmetric(t_hash_step(t_hash_step(t_hash_step(prefix, index), step), FLOAT))


def _key_hash(keys: list[int | torch.Tensor]) -> torch.Tensor:
    """hashKey over keys of which some are tensors (broadcast together)."""
    h: torch.Tensor | int = HASH_START
    for k in keys:
        h = t_hash_step(h, k) if isinstance(k, torch.Tensor) or isinstance(h, torch.Tensor) else hash_step(h, k)
    return torch.as_tensor(h, dtype=torch.int64)


def _row_size(shape: list[int]) -> int:
    return prod(shape[1:])


def synthesize(tensor: dict, teacher: dict | None, seed: int, training_step: int, region: Region) -> torch.Tensor:
    """The data of `region` of graph input `tensor` (a plan tensor) at a training step."""
    step = training_step % DATASET_BATCHES
    shape = list(tensor["shape"])
    is_int = tensor["dtype"] == "i32"
    feed = tensor.get("feed") or ({"kind": "uniform"} if not is_int else {"kind": "classes", "classes": 2, "teacher": None})
    tid = str_hash(tensor["id"])
    g = global_indices(shape, list(region.lo), list(region.hi))
    out_dtype = torch.int32 if is_int else torch.float32
    if feed["kind"] == "uniform":
        return _uniform(_prefix(seed, tid), g, step).to(out_dtype)
    use_teacher = feed.get("teacher") is not None and teacher is not None and len(shape) > 0
    if not use_teacher:
        h = _key_hash([seed, tid, g, step, NO_TEACHER])
        if feed["kind"] == "classes":
            return (h % int(feed["classes"])).to(out_dtype)
        return t_symmetric(h).to(out_dtype)
    rest = _row_size(shape)
    i = torch.div(g, rest, rounding_mode="floor")
    j = g - i * rest
    # The region is a box, so its (sample, position) pairs are all pairs of these two sets.
    samples = torch.unique(i)
    positions = torch.unique(j)
    t_len = _row_size(list(teacher["shape"]))
    q = torch.arange(t_len, dtype=torch.int64)
    rows = _uniform(_prefix(seed, str_hash(teacher["id"])), samples.view(-1, 1) * t_len + q.view(1, -1), step)  # [S, len] float64
    classes = int(feed["classes"]) if feed["kind"] == "classes" else 1
    # Position p reads taps k < n of the row: elements k of a row of n <= TEACHER_TAPS, else
    # n = TEACHER_TAPS elements hashKey(seed, id, p, k, TAP) mod the row's length.
    n = min(t_len, TEACHER_TAPS)
    k = torch.arange(n, dtype=torch.int64)
    best = torch.empty(len(positions), len(samples), dtype=out_dtype)
    chunk = max(1, (1 << 23) // max(1, classes * n * len(samples)))  # positions per chunk: <= 8M values at once
    for lo in range(0, len(positions), chunk):
        pos = positions[lo : lo + chunk]
        taps = k.view(1, -1).expand(len(pos), n) if t_len <= TEACHER_TAPS else _key_hash([seed, tid, pos.view(-1, 1), k.view(1, -1), TAP]) % t_len
        vals = rows[:, taps].permute(1, 0, 2)  # [P, S, n]: row[tap k of position p] per sample
        if feed["kind"] == "classes":
            c = torch.arange(classes, dtype=torch.int64)
            # w[p, c, k] = symmetric(hashKey(seed, id, c, k, j_p, CLASS_WEIGHT))
            h = _key_hash([seed, tid, c.view(-1, 1, 1), k.view(1, -1, 1), pos.view(1, 1, -1), CLASS_WEIGHT])
            w = t_symmetric(h).permute(2, 0, 1)  # [P, C, n]
            # s += row[tap] * w[c, k] for k = 0, 1, ...: JavaScript's summation order, in float64.
            acc = torch.zeros(len(pos), len(samples), classes, dtype=torch.float64)
            for kk in range(n):
                acc = acc + vals[:, :, kk].view(len(pos), -1, 1) * w[:, :, kk].view(len(pos), 1, classes)
            best[lo : lo + len(pos)] = torch.argmax(acc, dim=2).to(out_dtype)  # the first maximum, as `>` keeps
        else:
            h = _key_hash([seed, tid, k.view(-1, 1), pos.view(1, -1), TARGET_WEIGHT])
            w = t_symmetric(h).t()  # [P, n]
            acc = torch.zeros(len(pos), len(samples), dtype=torch.float64)
            for kk in range(n):
                acc = acc + vals[:, :, kk] * w[:, kk].view(-1, 1)
            best[lo : lo + len(pos)] = torch.tanh((3 * acc) / sqrt(n)).to(out_dtype)
    return best[torch.searchsorted(positions, j), torch.searchsorted(samples, i)]
