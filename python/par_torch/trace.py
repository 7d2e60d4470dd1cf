"""The measured timeline as a Chrome trace (the simulator's format, src/sim/trace.ts; the
same events as `par run --trace`'s "measured" process): one track per device, one
complete event per step and per instruction, times in microseconds from the run's start."""

from __future__ import annotations

import json
import os
import statistics

from .labels import instruction_label, instruction_op


def chrome_trace(plan_raw: dict, records: list[dict], backend: str) -> dict:
    programs = {int(p["device"]): p for p in plan_raw["programs"]}
    pid = 1
    events: list[dict] = [{"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": f"measured ({backend})"}}]
    origin = min((d["start"] for r in records for d in r["devices"]), default=0.0)
    named: set[int] = set()
    for r in records:
        for d in r["devices"]:
            dev = d["device"]
            if dev not in named:
                named.add(dev)
                events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": dev, "args": {"name": f"device {dev}"}})
            events.append({"name": f"step {r['step']}", "cat": "step", "ph": "X", "pid": pid, "tid": dev,
                           "ts": (d["start"] - origin) * 1e3, "dur": (d["end"] - d["start"]) * 1e3, "args": {"step": r["step"]}})
            if "starts" not in d:
                continue
            prog = programs.get(dev, {"instructions": [], "buffers": []})
            for i, ins in enumerate(prog["instructions"]):
                events.append({
                    "name": instruction_label(ins), "cat": ins["kind"], "ph": "X", "pid": pid, "tid": dev,
                    "ts": (d["starts"][i] - origin) * 1e3, "dur": max(0.0, d["ends"][i] - d["starts"][i]) * 1e3,
                    "args": {"op": instruction_op(plan_raw, prog, ins), "instruction": i, "step": r["step"]},
                })
    other = {"model": plan_raw.get("model", ""), "strategy": plan_raw.get("strategy", ""), "mesh": plan_raw.get("mesh", ""), "backend": backend}
    if records:
        other["measuredMedianStepMs"] = statistics.median(r["ms"] for r in records)
    return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": other}


def write_trace(path: str, plan_raw: dict, records: list[dict], backend: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(chrome_trace(plan_raw, records, backend), f)
        f.write("\n")
    os.replace(tmp, path)
