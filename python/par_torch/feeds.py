"""What a `feed` instruction loads: the step's batch of a graph input over the buffer's
region. Synthetic data (data.py) by default: the dataset has DATASET_BATCHES batches,
cycled, so each rank generates its shards once and reuses them, as a data loader with
the dataset in memory would. With a data directory (`--data DIR`), one `<input id>.npy` per
graph input holds k global batches stacked along axis 0 ([k·batch, ...]); step s reads
batch s mod k, and a rank maps only the rows and the region its feeds need."""

from __future__ import annotations

import os

import torch

from .data import DATASET_BATCHES, synthesize
from .errors import EngineError
from .npy import NpyArray, open_npy
from .plan import Plan
from .regions import Region


def _data_path(data_dir: str, tensor_id: str) -> str:
    return os.path.join(data_dir, f"{tensor_id}.npy")


def check_data_dir(plan: Plan, data_dir: str) -> dict[str, tuple[NpyArray, int]]:
    """Opens and checks every graph input's file: (array, batches in it) by tensor id."""
    if not os.path.isdir(data_dir):
        raise EngineError("PAR8009", f"data directory {data_dir} does not exist")
    out: dict[str, tuple[NpyArray, int]] = {}
    for t in plan.tensors.values():
        if t["role"] != "input":
            continue
        arr = open_npy(_data_path(data_dir, t["id"]))
        shape = list(t["shape"])
        want = "float32" if t["dtype"] == "f32" else "int32 or int64"
        ok_dtypes = ("<f4",) if t["dtype"] == "f32" else ("<i4", "<i8")
        if arr.descr not in ok_dtypes:
            raise EngineError("PAR8010", f"{arr.path}: dtype {arr.descr} does not fit input {t['id']} ({t['dtype']}); expected {want}")
        if len(shape) == 0:
            if len(arr.shape) != 1 or arr.shape[0] < 1:
                raise EngineError("PAR8010", f"{arr.path}: shape {list(arr.shape)} for the scalar input {t['id']}; expected [k] (k values, one per batch)")
            out[t["id"]] = (arr, arr.shape[0])
            continue
        batch = shape[0]
        if len(arr.shape) != len(shape) or list(arr.shape[1:]) != shape[1:] or arr.shape[0] < batch or arr.shape[0] % batch != 0:
            expected = "[" + ", ".join([f"k·{batch}"] + [str(s) for s in shape[1:]]) + "]"
            raise EngineError("PAR8010", f"{arr.path}: shape {list(arr.shape)} does not fit input {t['id']} {shape}; expected {expected} (k ≥ 1 batches)")
        out[t["id"]] = (arr, arr.shape[0] // batch)
    return out


class Feeds:
    def __init__(self, plan: Plan, device: torch.device, data_dir: str | None):
        self.plan = plan
        self.device = device
        self.files = check_data_dir(plan, data_dir) if data_dir else None
        self.cache: dict[tuple[str, int], torch.Tensor] = {}

    def batch(self, buffer_id: str, tensor_id: str, region: Region, step: int) -> torch.Tensor:
        """The step's data of `region` of graph input `tensor_id` (treat it as read-only)."""
        if self.files is not None:
            return self._from_file(tensor_id, region, step)
        key = (buffer_id, step % DATASET_BATCHES)
        t = self.cache.get(key)
        if t is None:
            tensor = self.plan.tensors[tensor_id]
            feed = tensor.get("feed") or {}
            teacher_id = feed.get("teacher") if feed.get("kind") != "uniform" else None
            teacher = self.plan.tensors.get(teacher_id) if teacher_id is not None else None
            if teacher_id is not None and teacher is None:
                raise EngineError("PAR8004", f"tensor {tensor_id}: teacher {teacher_id} is not in the plan")
            t = synthesize(tensor, teacher, self.plan.seed, step, region).to(self.device)
            self.cache[key] = t
        return t

    def _from_file(self, tensor_id: str, region: Region, step: int) -> torch.Tensor:
        assert self.files is not None
        arr, batches = self.files[tensor_id]
        tensor = self.plan.tensors[tensor_id]
        b = step % batches
        dtype = torch.float32 if tensor["dtype"] == "f32" else torch.int32
        if len(tensor["shape"]) == 0:
            return arr.rows(b, 1).reshape(()).to(dtype).to(self.device)
        batch = tensor["shape"][0]
        rows = arr.rows(b * batch + region.lo[0], region.hi[0] - region.lo[0])
        piece = rows[(slice(None),) + region.slices()[1:]]
        return piece.to(dtype).contiguous().to(self.device)
