"""The Plan as the torch engine reads it (src/plan/plan.ts, docs/runtime.md), plus the op
signatures the TypeScript side exports into it (src/plan/signatures.ts): each op's
iteration space and axis maps, from which a task's box gives its tensor regions here
exactly as src/ops/regions.ts computes them there. No op's shape inference is ported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from math import prod
from typing import Any

from .errors import EngineError
from .regions import Region

PLAN_FORMAT = "par-plan"
PLAN_VERSIONS = (1, 2)  # 2: ZeRO slices, reducescatter, allgather, release (src/plan/plan.ts)


@dataclass(frozen=True)
class OpInfo:
    name: str
    op: str
    attrs: dict[str, Any]
    inputs: list[str]
    outputs: list[str]
    params: list[str]
    degrees: list[int]
    space: list[dict]
    input_maps: list[list[dict]]
    param_maps: list[list[dict]]
    output_maps: list[list[dict]]
    input_shapes: list[list[int]]
    param_shapes: list[list[int]]
    output_shapes: list[list[int]]
    reduction_dims: tuple[int, ...]

    @property
    def space_sizes(self) -> list[int]:
        return [int(d["size"]) for d in self.space]


@dataclass(frozen=True)
class Shard:
    """What a task's kernel knows of its place in the whole (the TS ShardContext)."""

    op: OpInfo
    box: Region
    input_regions: list[Region]
    param_regions: list[Region]
    output_regions: list[Region]
    first_along_reductions: bool

    @property
    def attrs(self) -> dict[str, Any]:
        return self.op.attrs

    @property
    def space_sizes(self) -> list[int]:
        return self.op.space_sizes


def axis_range(m: dict, box: Region, axis_size: int) -> tuple[int, int]:
    """src/ops/regions.ts `axisRange`: the index range a box touches along one tensor axis."""
    kind = m["kind"]
    if kind == "iter":
        return box.lo[m["dim"]], box.hi[m["dim"]]
    if kind == "full":
        return 0, axis_size
    if kind == "window":
        d = m["dim"]
        first = box.lo[d] * m["stride"] - m["padLo"]
        last = (box.hi[d] - 1) * m["stride"] - m["padLo"] + (m["kernel"] - 1) * m["dilation"]
        return max(0, first), min(m["size"], last + 1)
    if kind == "block":
        return box.lo[m["dim"]] * m["blockSize"], box.hi[m["dim"]] * m["blockSize"]
    raise EngineError("PAR8004", f"unknown axis map kind {kind!r}")


def window_padding(m: dict, box: Region) -> tuple[int, int]:
    """Implicit zero padding a window axis needs before and after the clipped input range."""
    d = m["dim"]
    first = box.lo[d] * m["stride"] - m["padLo"]
    last = (box.hi[d] - 1) * m["stride"] - m["padLo"] + (m["kernel"] - 1) * m["dilation"]
    return max(0, -first), max(0, last + 1 - m["size"])


def tensor_region(maps: list[dict], shape: list[int], box: Region) -> Region:
    lo, hi = [], []
    for axis, m in enumerate(maps):
        a, b = axis_range(m, box, shape[axis])
        lo.append(a)
        hi.append(b)
    return Region(tuple(lo), tuple(hi))


def shard_of(op: OpInfo, box: Region) -> Shard:
    return Shard(
        op=op,
        box=box,
        input_regions=[tensor_region(m, s, box) for m, s in zip(op.input_maps, op.input_shapes)],
        param_regions=[tensor_region(m, s, box) for m, s in zip(op.param_maps, op.param_shapes)],
        output_regions=[tensor_region(m, s, box) for m, s in zip(op.output_maps, op.output_shapes)],
        first_along_reductions=all(box.lo[d] == 0 for d in op.reduction_dims),
    )


def _reduction_dims(space: list[dict], output_maps: list[list[dict]]) -> tuple[int, ...]:
    used = {m["dim"] for maps in output_maps for m in maps if m["kind"] != "full"}
    return tuple(i for i in range(len(space)) if i not in used)


@dataclass
class Plan:
    raw: dict
    tensors: dict[str, dict]
    ops: dict[str, OpInfo]
    programs: dict[int, dict]
    devices: list[int]
    params: dict[str, dict] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.raw["seed"])

    @property
    def optimizer(self) -> dict:
        return self.raw["optimizer"]

    def rank_of(self, device: int) -> int:
        return self.devices.index(device)


def parse_plan(raw: Any, where: str = "plan") -> Plan:
    """Checks what the engine relies on and indexes the plan; coded errors otherwise."""
    if not isinstance(raw, dict) or raw.get("format") != PLAN_FORMAT:
        raise EngineError("PAR8016", f"{where} is not a par plan (`format` is not {PLAN_FORMAT!r})")
    if raw.get("version") not in PLAN_VERSIONS:
        raise EngineError("PAR8016", f"{where} is plan format version {raw.get('version')!r}; this engine reads versions {' and '.join(map(str, PLAN_VERSIONS))}")
    try:
        tensors = {t["id"]: t for t in raw["tensors"]}
        ops: dict[str, OpInfo] = {}
        for o in raw["ops"]:
            sig = o.get("signature")
            if sig is None:
                raise EngineError("PAR8004", f"{where}: op {o['name']} has no exported signature (`signature`, src/plan/signatures.ts)")
            output_maps = sig["outputMaps"]
            ops[o["name"]] = OpInfo(
                name=o["name"],
                op=o["op"],
                attrs=dict(o["attrs"]),
                inputs=list(o["inputs"]),
                outputs=list(o["outputs"]),
                params=list(o["params"]),
                degrees=list(o["degrees"]),
                space=sig["space"],
                input_maps=sig["inputMaps"],
                param_maps=sig["paramMaps"],
                output_maps=output_maps,
                input_shapes=[list(tensors[t]["shape"]) for t in o["inputs"]],
                param_shapes=[list(tensors[t]["shape"]) for t in o["params"]],
                output_shapes=[list(tensors[t]["shape"]) for t in o["outputs"]],
                reduction_dims=_reduction_dims(sig["space"], output_maps),
            )
        programs = {int(p["device"]): p for p in raw["programs"]}
        devices = sorted(int(d["index"]) for d in raw["devices"])
        params = {p["tensor"]: p for p in raw["params"]}
    except KeyError as e:
        raise EngineError("PAR8016", f"{where}: missing or unknown field {e}") from None
    for d in devices:
        programs.setdefault(d, {"device": d, "buffers": [], "instructions": []})
    return Plan(raw=raw, tensors=tensors, ops=ops, programs=programs, devices=devices, params=params)


def load_plan(path: str) -> Plan:
    try:
        with open(path, "r", encoding="utf-8") as f:
            raw = json.load(f)
    except OSError as e:
        raise EngineError("PAR8016", f"cannot read plan {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise EngineError("PAR8016", f"{path} is not valid JSON: {e}") from None
    return parse_plan(raw, path)


def volume(shape: list[int]) -> int:
    return prod(shape)
