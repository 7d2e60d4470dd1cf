"""Short descriptions of instructions for errors and traces, as the TS runtime writes them
(src/runtime/workers/run-workers.ts `instructionLabel`, `instructionOp`)."""

from __future__ import annotations


def instruction_label(ins: dict) -> str:
    k = ins["kind"]
    if k in ("forward", "backward"):
        return f"{k} {ins['op']} task {ins['task']}"
    if k == "send":
        return f"send {ins['tag']} → {ins['to']}"
    if k == "recv":
        return f"recv {ins['tag']} ← {ins['from']}"
    if k in ("allreduce", "reducescatter", "allgather"):
        return f"{k} {ins['tag']} [{','.join(str(d) for d in ins['group'])}]"
    if k == "update":
        return f"update {ins['param']}"
    if k == "copy":
        return f"copy {ins['src']} → {ins['dst']}"
    return f"{k} {ins['buf']}"


def instruction_op(plan_raw: dict, program: dict, ins: dict) -> str:
    """The op an instruction belongs to: its own for kernels, else the op of its tensor."""
    k = ins["kind"]
    if k in ("forward", "backward"):
        return ins["op"]
    buf = {"send": ins.get("src"), "recv": ins.get("dst"), "allreduce": ins.get("buf"), "update": ins.get("param"), "copy": ins.get("dst")}.get(k, ins.get("buf"))
    tensor = next((b["tensor"] for b in program["buffers"] if b["id"] == buf), None)
    if tensor is None:
        return "?"
    for o in plan_raw["ops"]:
        if tensor in o["outputs"] or tensor in o["params"]:
            return o["name"]
    for o in plan_raw["ops"]:
        if tensor in o["inputs"]:
            return o["name"]
    return tensor
