"""Gradient buckets: which all-reduces of a plan are summed as one flat buffer.

DistributedDataParallel sums gradients in buckets to pay one collective's latency per
bucket instead of one per weight; the engine does the same with a plan's all-reduces. Every
member of a collective must see the same bucket (same tensors, same order, same size), so
buckets are decided from the whole plan, identically on every rank:

- a bucket holds all-reduces of one group, consecutive in every member's program (no other
  all-reduce between them anywhere), float32, of distinct buffers;
- on every member, each buffer is final before the bucket could start and not needed again
  before it could end: the latest last access before a member's all-reduce precedes the
  earliest next access after one (the executor starts a bucket right after the former and
  waits for it just before the latter);
- a group's first bucket holds at most FIRST_BUCKET_BYTES (the last layers' gradients, final
  first, so their sum starts early in the backward pass), the others BUCKET_BYTES (the
  sizes DistributedDataParallel uses).
"""

from __future__ import annotations

from dataclasses import dataclass

from .plan import Plan
from .regions import Region

FIRST_BUCKET_BYTES = 1 << 20
BUCKET_BYTES = 25 << 20


@dataclass(frozen=True)
class Bucket:
    group: tuple[int, ...]  # plan device indices, sorted as in the plan
    tags: tuple[str, ...]  # the members' all-reduce tags, in program order


def _touches(ins: dict, buf: str) -> bool:
    k = ins["kind"]
    if k in ("feed", "zero", "fill", "loss", "allreduce", "release"):
        return ins["buf"] == buf
    if k == "reducescatter":
        return buf in (ins["buf"], ins["dst"])
    if k == "allgather":
        return buf in (ins["src"], ins["buf"])
    if k == "copy":
        return buf in (ins["src"], ins["dst"])
    if k == "send":
        return ins["src"] == buf
    if k == "recv":
        return ins["dst"] == buf
    if k == "update":
        return buf in (ins["param"], ins["grad"], ins.get("m"), ins.get("v"))
    if k in ("forward", "backward"):
        names = list(ins["inputs"]) + list(ins["params"]) + list(ins["outputs"])
        if k == "backward":
            names += list(ins["dOutputs"]) + [d for d in ins["dInputs"] if d] + list(ins["dParams"])
        return buf in names
    return False


@dataclass
class _Site:
    pos: int  # position in the device's program
    order: int  # index among the device's all-reduces
    ready: int  # last access of the buffer before the all-reduce (-1: none)
    next: int  # next access after it (len(program): none this step)
    bytes: int
    buf: str
    f32: bool


def plan_buckets(plan: Plan) -> list[Bucket]:
    sites: dict[int, dict[str, _Site]] = {}
    group_tags: dict[tuple[int, ...], list[str]] = {}
    for d, prog in plan.programs.items():
        ins_list = prog["instructions"]
        specs = {b["id"]: b for b in prog["buffers"]}
        n = len(ins_list)
        per: dict[str, _Site] = {}
        order = 0
        for a, ins in enumerate(ins_list):
            if ins["kind"] != "allreduce":
                continue
            buf = ins["buf"]
            ready = next((j for j in range(a - 1, -1, -1) if _touches(ins_list[j], buf)), -1)
            nxt = next((j for j in range(a + 1, n) if _touches(ins_list[j], buf)), n)
            spec = specs[buf]
            per[ins["tag"]] = _Site(a, order, ready, nxt, 4 * Region.of(spec["region"]).volume(), buf, spec["dtype"] == "f32")
            order += 1
            group = tuple(ins["group"])
            if len(group) > 1 and d == group[0]:
                group_tags.setdefault(group, []).append(ins["tag"])
        sites[d] = per
    buckets: list[Bucket] = []
    for group, tags in group_tags.items():
        current: list[str] = []
        first = True

        def fits(members: list[str]) -> bool:
            cap = FIRST_BUCKET_BYTES if first else BUCKET_BYTES
            for d in group:
                s = [sites[d][t] for t in members]
                if not all(x.f32 for x in s) or len({x.buf for x in s}) < len(s):
                    return False
                if any(b.order != a.order + 1 for a, b in zip(s, s[1:])):
                    return False
                if sum(x.bytes for x in s) > cap and len(s) > 1:
                    return False
                if max(x.ready for x in s) >= min(x.next for x in s):
                    return False
            return True

        for t in tags:
            if current and fits(current + [t]):
                current.append(t)
                continue
            if current:
                buckets.append(Bucket(group, tuple(current)))
                first = False
            current = [t]
        if current:
            buckets.append(Bucket(group, tuple(current)))
    return buckets
