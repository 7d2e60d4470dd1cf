"""Synthetic training data, ported bit for bit from src/runtime/exec/data.ts: every value
is a pure function of (seed, tensor id, global index, batch), so each rank feeds exactly
the region it reads and both engines see identical batches. Labels and regression
targets are a fixed function (the "teacher") of a float input's row at the same sample,
so the loss can fall. Arithmetic is float64 in JavaScript's order, rounded once to f32.
"""

from __future__ import annotations

from math import prod, sqrt

import torch

from .hashing import HASH_START, global_indices, hash_key, hash_step, str_hash, t_hash_step, t_symmetric
from .regions import Region

DATASET_BATCHES = 2

FLOAT = 0
CLASS_WEIGHT = 1
TARGET_WEIGHT = 2
NO_TEACHER = 3


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
    samples = torch.unique(i)
    positions = torch.unique(j)
    t_len = _row_size(list(teacher["shape"]))
    t_pre = _prefix(seed, str_hash(teacher["id"]))
    q = torch.arange(t_len, dtype=torch.int64)
    rows = _uniform(t_pre, samples.view(-1, 1) * t_len + q.view(1, -1), step)  # [samples, len] float64
    out = torch.empty(g.shape, dtype=out_dtype)
    flat_out = out.view(-1)
    flat_i = i.reshape(-1)
    flat_j = j.reshape(-1)
    for jj in positions.tolist():
        where = (flat_j == jj).nonzero().view(-1)
        rows_here = rows[torch.searchsorted(samples, flat_i[where])]
        if feed["kind"] == "classes":
            classes = int(feed["classes"])
            c = torch.arange(classes, dtype=torch.int64)
            w = t_symmetric(_key_hash([seed, tid, c.view(-1, 1), q.view(1, -1), jj, CLASS_WEIGHT]))  # [classes, len]
            # s += row[q] * w[c, q] for q = 0, 1, ...: JavaScript's summation order, in float64.
            s = torch.zeros(rows_here.shape[0], classes, dtype=torch.float64)
            for qq in range(t_len):
                s = s + rows_here[:, qq : qq + 1] * w[:, qq].view(1, -1)
            flat_out[where] = torch.argmax(s, dim=1).to(out_dtype)  # the first maximum, as `>` keeps
        else:
            w = t_symmetric(_key_hash([seed, tid, q, jj, TARGET_WEIGHT]))  # [len]
            s = torch.zeros(rows_here.shape[0], dtype=torch.float64)
            for qq in range(t_len):
                s = s + rows_here[:, qq] * w[qq]
            flat_out[where] = torch.tanh((3 * s) / sqrt(t_len)).to(out_dtype)
    return out
