"""One rank's interpreter of its device's Plan program (src/runtime/exec/executor.ts).

The program is compiled once into a list of closures over the rank's buffers, so a step
is a loop of calls with no per-instruction dispatch on strings. Buffers are tensors on the
rank's device, addressed by slot; copies, sends and receives work on views of them.

Autograd. A forward instruction whose task has a backward on this rank runs its kernel on
fresh leaves (detached views of the input and weight buffers) and keeps the graph; the
backward instruction runs autograd from it with the dOutput buffers and adds the leaves'
gradients into the dInput and dParam buffers, as the TS executor adds its kernels'. A
leaf shares its buffer's version counter, so an in-place write to a buffer between a
task's forward and backward would fail loudly instead of computing a wrong gradient.

Views instead of copies. A buffer written only by one forward instruction takes the
kernel's result tensor itself (when it is a fresh contiguous tensor), and a buffer written
only by `feed` takes the cached batch: nothing else writes them in place, so no copy is
needed. Weight-gradient all-reduces run in buckets (buckets.py; members are views of one
flat buffer), start as soon as their buffers are final and are waited for just before
their next use, so they overlap the rest of the backward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import torch

from .buckets import plan_buckets
from .collectives import Collectives
from .comm import P2P, comm_error
from .errors import EngineError
from .feeds import Feeds
from .init import decode_f32, given_region, init_region
from .labels import instruction_label
from .ops import KERNELS
from .optim import make_update
from .plan import Plan, shard_of
from .regions import Region

DTYPES = {"f32": torch.float32, "i32": torch.int32}




@dataclass
class Tape:
    outputs: list[torch.Tensor]
    inputs: list[torch.Tensor]
    params: list[torch.Tensor]


def _writes(ins: dict) -> tuple[list[str], list[str]]:
    """(buffers written in place, buffers overwritten by a forward's result) by an instruction."""
    k = ins["kind"]
    if k in ("zero", "fill", "allreduce"):
        return [ins["buf"]], []
    if k == "feed":
        return [], [ins["buf"]]
    if k in ("copy", "recv", "reducescatter"):
        return [ins["dst"]], []
    if k == "allgather":
        return [ins["buf"]], []
    if k == "forward":
        return [], list(ins["outputs"])
    if k == "backward":
        return [d for d in ins["dInputs"] if d is not None] + list(ins["dParams"]), []
    if k == "update":
        return [b for b in (ins["param"], ins.get("m"), ins.get("v")) if b], []
    return [], []


def _pure_writes(ins: dict) -> list[str]:
    """Buffers an instruction overwrites without reading (a released buffer comes back for them)."""
    k = ins["kind"]
    if k in ("feed", "zero", "fill"):
        return [ins["buf"]]
    if k in ("copy", "recv"):
        return [] if ins.get("accumulate") else [ins["dst"]]
    if k == "forward":
        return list(ins["outputs"])
    if k == "reducescatter":
        return [ins["dst"]]
    if k == "allgather":
        return [ins["buf"]]
    return []


def _slice_of(n: int, parts: int, k: int) -> tuple[int, int]:
    """Member k's even slice of n elements cut into `parts` (src/plan/slices.ts sliceOf)."""
    base, extra = divmod(n, parts)
    lo = k * base + min(k, extra)
    return lo, lo + base + (1 if k < extra else 0)


def _reads(ins: dict) -> list[str]:
    k = ins["kind"]
    if k in ("loss", "allreduce"):
        return [ins["buf"]]
    if k == "copy":
        return [ins["src"], ins["dst"]] if ins.get("accumulate") else [ins["src"]]
    if k in ("send", "allgather"):
        return [ins["src"]]
    if k == "reducescatter":
        return [ins["buf"]]
    if k == "recv":
        return [ins["dst"]] if ins.get("accumulate") else []
    if k == "forward":
        return list(ins["inputs"]) + list(ins["params"])
    if k == "backward":
        return list(ins["inputs"]) + list(ins["params"]) + list(ins["outputs"]) + list(ins["dOutputs"]) + [d for d in ins["dInputs"] if d] + list(ins["dParams"])
    if k == "update":
        return [b for b in (ins["param"], ins["grad"], ins.get("m"), ins.get("v")) if b]
    return []


class Executor:
    def __init__(self, plan: Plan, device_index: int, dev: torch.device, p2p: P2P, coll: Collectives,
                 groups: dict[tuple[int, ...], object], feeds: Feeds, timeout_s: float, record_times: bool):
        self.plan = plan
        self.device_index = device_index
        self.dev = dev
        self.p2p = p2p
        self.coll = coll
        self.groups = groups
        self.feeds = feeds
        self.record_times = record_times
        self.program = plan.programs[device_index]
        self.instructions: list[dict] = self.program["instructions"]
        self.specs = {b["id"]: b for b in self.program["buffers"]}
        self.regions = {b["id"]: Region.of(b["region"]) for b in self.program["buffers"]}
        self.slot = {b["id"]: i for i, b in enumerate(self.program["buffers"])}
        self.T: list[torch.Tensor] = [self._allocate(b) for b in self.program["buffers"]]
        # Slots whose storage a `release` dropped; the next pure write allocates them again.
        self.released: set[int] = set()
        self.tape: dict[tuple[str, int], Tape] = {}
        self.loss_terms: list[torch.Tensor] = []
        self.pending_allreduce: dict[int, object] = {}
        self.timeout_s = timeout_s
        self.starts: list[float] = [0.0] * len(self.instructions)
        self.ends: list[float] = [0.0] * len(self.instructions)
        self._analyse()
        self.steps: list[Callable[[int], None]] = [self._compile(i, ins) for i, ins in enumerate(self.instructions)]

    # ------------------------------------------------------------------ buffers

    def _allocate(self, b: dict) -> torch.Tensor:
        region = Region.of(b["region"])
        sl = b.get("slice")
        if sl is not None:
            # A ZeRO slice: a flat run of the region's row-major elements.
            if b["kind"] != "param":
                return torch.zeros(sl[1] - sl[0], dtype=DTYPES[b["dtype"]], device=self.dev)
            whole = self._allocate({**b, "slice": None})
            return whole.reshape(-1)[sl[0] : sl[1]].clone()
        if b["kind"] != "param":
            return torch.zeros(region.shape(), dtype=DTYPES[b["dtype"]], device=self.dev)
        tensor = self.plan.tensors.get(b["tensor"])
        p = self.plan.params.get(b["tensor"])
        if tensor is None or p is None:
            raise EngineError("PAR8004", f"buffer {b['id']}: no param {b['tensor']} in the plan")
        init = p["init"]
        if init["kind"] == "values":
            w = (self.plan.raw.get("weights") or {}).get(init["ref"])
            if w is None:
                raise EngineError("PAR8017", f"param {b['tensor']}: given values `{init['ref']}` are missing from the plan's weights")
            whole = decode_f32(w["data"], _volume(tensor["shape"]), f"param {b['tensor']}")
            values = given_region(whole, list(tensor["shape"]), region)
        else:
            values = init_region(init, self.plan.seed, b["tensor"], list(tensor["shape"]), region)
        return values.to(self.dev)

    def buffer(self, buffer_id: str) -> torch.Tensor:
        return self.T[self.slot[buffer_id]]

    # ------------------------------------------------------------------ analysis

    def _analyse(self) -> None:
        """Which buffers may take a result tensor instead of a copy, which forwards keep their
        graph for a backward, where each all-reduce bucket starts and is waited for, and
        which sends need a private copy."""
        inplace: dict[str, int] = {}
        rebinders: dict[str, list[int]] = {}
        for i, ins in enumerate(self.instructions):
            ip, rb = _writes(ins)
            for b in ip:
                inplace[b] = inplace.get(b, 0) + 1
            for b in rb:
                rebinders.setdefault(b, []).append(i)
        # A buffer takes a tensor when one instruction is its only writer.
        self.rebindable = {b for b, idx in rebinders.items() if len(idx) == 1 and b not in inplace}
        self.backward_of: dict[tuple[str, int], dict] = {}
        # The forward whose graph a backward uses: the task's last forward before it. A
        # recomputed op runs its forward twice; the first one keeps no graph (its outputs
        # are released, and keeping its autograd tape would keep what recomputation frees).
        self.keeps_graph: set[int] = set()
        last_forward: dict[tuple[str, int], int] = {}
        for i, ins in enumerate(self.instructions):
            if ins["kind"] == "forward":
                last_forward[(ins["op"], int(ins["task"]))] = i
            if ins["kind"] == "backward":
                key = (ins["op"], int(ins["task"]))
                self.backward_of[key] = ins
                if key in last_forward:
                    self.keeps_graph.add(last_forward[key])
        self._plan_buckets()
        # Releases: which released slots each instruction allocates again (pure writes).
        released = {ins["buf"] for ins in self.instructions if ins["kind"] == "release"}
        self.revive: dict[int, list[int]] = {}
        for i, ins in enumerate(self.instructions):
            w = [self.slot[b] for b in _pure_writes(ins) if b in released]
            if w:
                self.revive[i] = w
            for b in _reads(ins):
                if b in released and b not in _pure_writes(ins):
                    self.revive.setdefault(i, [])
        # Sends: a view of the buffer when nothing writes it later in the step, else a copy.
        self.send_copies: set[int] = set()
        for i, ins in enumerate(self.instructions):
            if ins["kind"] != "send":
                continue
            src = ins["src"]
            # (A forward that replaces the buffer's tensor leaves the sent view intact.)
            later = any(src in _writes(self.instructions[j])[0] for j in range(i + 1, len(self.instructions)))
            if later:
                self.send_copies.add(i)

    def _accesses(self, buf: str, j: int) -> bool:
        other = self.instructions[j]
        return buf in _reads(other) or buf in _writes(other)[0] or buf in _writes(other)[1]

    def _plan_buckets(self) -> None:
        """This device's all-reduces in buckets (buckets.py: decided from the whole plan, the
        same on every rank). A bucket's members become views of one flat buffer, so nothing
        is copied; it starts right after its members' last access before their all-reduces
        and is waited for just before their first access after them. Buckets start in
        program order: the order of two collectives is the same on every rank that joins
        both, as NCCL needs across communicators."""
        n = len(self.instructions)
        position = {ins["tag"]: a for a, ins in enumerate(self.instructions) if ins["kind"] == "allreduce"}
        # Reduce-scatters and all-gathers run at their place in the program: a bucket never
        # starts before one that precedes its members, so every rank issues its collectives
        # in program order (the order lowering gave all members alike).
        others = [a for a, ins in enumerate(self.instructions) if ins["kind"] in ("reducescatter", "allgather")]
        mine = [b for b in plan_buckets(self.plan) if self.device_index in b.group]
        mine.sort(key=lambda b: position[b.tags[0]])
        self.buckets: list[tuple[list[int], tuple[int, ...], torch.Tensor | None]] = []
        self.start_at: dict[int, list[int]] = {}
        self.wait_before: dict[int, list[int]] = {}
        self.wait_at_end: list[int] = []
        last_start = -1
        for k, b in enumerate(mine):
            members = [position[t] for t in b.tags]
            bufs = [self.instructions[m]["buf"] for m in members]
            ready = max(next((j for j in range(m - 1, -1, -1) if self._accesses(buf, j)), -1) for m, buf in zip(members, bufs))
            wait = min(next((j for j in range(m + 1, n) if self._accesses(buf, j)), n) for m, buf in zip(members, bufs))
            flat = None
            if len(members) > 1:
                sizes = [self.regions[buf].volume() for buf in bufs]
                flat = torch.zeros(sum(sizes), dtype=torch.float32, device=self.dev)
                off = 0
                for buf, size in zip(bufs, sizes):
                    self.T[self.slot[buf]] = flat[off : off + size].view(self.regions[buf].shape())
                    self.rebindable.discard(buf)
                    off += size
            self.buckets.append((members, tuple(self.plan.rank_of(d) for d in b.group), flat))
            start = max(ready + 1, last_start, max((a + 1 for a in others if a < members[0]), default=0))
            last_start = start
            self.start_at.setdefault(start, []).append(k)
            if wait >= n:
                self.wait_at_end.append(k)
            else:
                self.wait_before.setdefault(wait, []).append(k)

    # ------------------------------------------------------------------ compile

    def _compile(self, index: int, ins: dict) -> Callable[[int], None]:
        k = ins["kind"]
        T = self.T
        slot = self.slot
        if k == "feed":
            s = slot[ins["buf"]]
            spec = self.specs[ins["buf"]]
            region = self.regions[ins["buf"]]
            feeds = self.feeds
            if ins["buf"] in self.rebindable:
                def feed_bind(step: int) -> None:
                    T[s] = feeds.batch(spec["id"], spec["tensor"], region, step)
                return feed_bind

            def feed_copy(step: int) -> None:
                T[s].copy_(feeds.batch(spec["id"], spec["tensor"], region, step))
            return feed_copy
        if k == "zero":
            s = slot[ins["buf"]]
            return lambda step: T[s].zero_()
        if k == "fill":
            s = slot[ins["buf"]]
            value = float(ins["value"])
            return lambda step: T[s].fill_(value)
        if k == "copy":
            return self._compile_copy(ins)
        if k == "forward":
            return self._compile_forward(index, ins)
        if k == "backward":
            return self._compile_backward(ins)
        if k == "send":
            return self._compile_send(index, ins)
        if k == "recv":
            return self._compile_recv(ins)
        if k == "allreduce":
            # Started and waited for by the step loop (see _analyse).
            return lambda step: None
        if k == "update":
            p = T[slot[ins["param"]]]
            sl = self.specs[ins["param"]].get("slice")

            def part(buf: str) -> torch.Tensor:
                # A ZeRO member updates its slice; whole-region operands (ZeRO-1's
                # all-reduced gradient) contribute that slice (a view).
                t = T[slot[buf]]
                if sl is not None and self.specs[buf].get("slice") is None:
                    return t.view(-1)[sl[0] : sl[1]]
                return t
            g = part(ins["grad"])
            if p.numel() != g.numel():
                raise EngineError("PAR8018", f"update {ins['param']}: gradient has {g.numel()} elements, weight {p.numel()}")
            m = part(ins["m"]) if ins.get("m") else None
            v = part(ins["v"]) if ins.get("v") else None
            return make_update(self.plan.optimizer, p, g, m, v)
        if k == "reducescatter":
            return self._compile_reduce_scatter(ins)
        if k == "allgather":
            return self._compile_all_gather(ins)
        if k == "release":
            s = slot[ins["buf"]]
            released = self.released
            empty = torch.empty(0, dtype=DTYPES[self.specs[ins["buf"]]["dtype"]], device=self.dev)

            def release(step: int) -> None:
                T[s] = empty
                released.add(s)
            return release
        if k == "loss":
            s = slot[ins["buf"]]
            terms = self.loss_terms
            return lambda step: terms.append(T[s].detach().to(torch.float64).sum())
        raise EngineError("PAR8004", f"unknown instruction kind {k!r}")

    def _collective_setup(self, ins: dict):
        """(process group or None for a group of one, this member's index, whether the
        native collective applies: even slices and the group's ranks in plan order)."""
        ranks = tuple(self.plan.rank_of(d) for d in ins["group"])
        group = self.groups.get(tuple(sorted(ranks)))
        k = list(ins["group"]).index(self.device_index)
        n = self.regions[ins["buf"]].volume()
        native = n % len(ranks) == 0 and list(ranks) == sorted(ranks)
        return group, k, native, n

    def _compile_reduce_scatter(self, ins: dict) -> Callable[[int], None]:
        group, k, native, n = self._collective_setup(ins)
        s, d = self.slot[ins["buf"]], self.slot[ins["dst"]]
        lo, hi = _slice_of(n, len(ins["group"]), k)
        T = self.T
        coll = self.coll

        def reduce_scatter(step: int) -> None:
            whole = T[s].reshape(-1)
            if group is None:
                T[d].copy_(whole[lo:hi])
            elif native:
                coll.reduce_scatter(T[d], whole.contiguous(), group)
            else:
                # Uneven slices: the all-reduced sum, of which this member keeps its slice.
                summed = whole.clone()
                coll.all_reduce(summed, group)
                T[d].copy_(summed[lo:hi])
        return reduce_scatter

    def _compile_all_gather(self, ins: dict) -> Callable[[int], None]:
        group, k, native, n = self._collective_setup(ins)
        src, b = self.slot[ins["src"]], self.slot[ins["buf"]]
        lo, hi = _slice_of(n, len(ins["group"]), k)
        T = self.T
        coll = self.coll

        def all_gather(step: int) -> None:
            whole = T[b]
            if group is None:
                whole.view(-1)[lo:hi].copy_(T[src])
            elif native and whole.is_contiguous():
                coll.all_gather(whole.view(-1), T[src].contiguous(), group)
            else:
                # Uneven slices: each member's slice at its place, zeros elsewhere, summed
                # (adding zeros is exact).
                mine = torch.zeros(n, dtype=whole.dtype, device=whole.device)
                mine[lo:hi].copy_(T[src])
                coll.all_reduce(mine, group)
                whole.copy_(mine.view(whole.shape))
        return all_gather

    def _compile_copy(self, ins: dict) -> Callable[[int], None]:
        s, d = self.slot[ins["src"]], self.slot[ins["dst"]]
        r = Region.of(ins["region"]).intersect(self.regions[ins["src"]])
        if r is None:
            return lambda step: None
        src_ix = r.within(self.regions[ins["src"]])
        dst_ix = r.within(self.regions[ins["dst"]])
        T = self.T
        if ins.get("accumulate"):
            return lambda step: T[d][dst_ix].add_(T[s][src_ix])
        return lambda step: T[d][dst_ix].copy_(T[s][src_ix])

    def _kernel_setup(self, ins: dict):
        op = self.plan.ops.get(ins["op"])
        if op is None:
            raise EngineError("PAR8004", f"no op {ins['op']} in the plan")
        kernel = KERNELS.get(op.op)
        if kernel is None:
            raise EngineError("PAR8004", f"op {op.name}: the torch engine has no kernel for `{op.op}`")
        shard = shard_of(op, Region.of(ins["box"]))
        return op, kernel, shard

    def _compile_forward(self, index: int, ins: dict) -> Callable[[int], None]:
        op, kernel, shard = self._kernel_setup(ins)
        T = self.T
        ins_slots = [self.slot[b] for b in ins["inputs"]]
        par_slots = [self.slot[b] for b in ins["params"]]
        out_slots = [self.slot[b] for b in ins["outputs"]]
        rebind = [b in self.rebindable for b in ins["outputs"]]
        key = (ins["op"], int(ins["task"]))
        bwd = self.backward_of.get(key) if index in self.keeps_graph else None
        tape = self.tape
        label = instruction_label(ins)
        if bwd is None:
            def forward_only(step: int) -> None:
                ys = kernel(shard, [T[i] for i in ins_slots], [T[p] for p in par_slots])
                self._store(ys, out_slots, rebind, label)
            return forward_only
        want = [d is not None and self.specs[b]["dtype"] == "f32" for b, d in zip(ins["inputs"], bwd["dInputs"])]

        def forward_kept(step: int) -> None:
            xs = [T[i].detach().requires_grad_() if w else T[i] for i, w in zip(ins_slots, want)]
            ps = [T[p].detach().requires_grad_() for p in par_slots]
            with torch.enable_grad():
                ys = kernel(shard, xs, ps)
            tape[key] = Tape(ys, xs, ps)
            self._store(ys, out_slots, rebind, label)
        return forward_kept

    def _store(self, ys: list[torch.Tensor], out_slots: list[int], rebind: list[bool], label: str) -> None:
        T = self.T
        for y, s, rb in zip(ys, out_slots, rebind):
            y = y.detach()
            dst = T[s]
            if y.numel() != dst.numel():
                raise EngineError("PAR8018", f"{label}: the kernel returned {y.numel()} elements for a buffer of {dst.numel()}")
            if rb and y._base is None and y.is_contiguous() and y.dtype == dst.dtype:
                T[s] = y.view(dst.shape)
            else:
                dst.copy_(y.reshape(dst.shape))

    def _compile_backward(self, ins: dict) -> Callable[[int], None]:
        op, kernel, shard = self._kernel_setup(ins)
        T = self.T
        key = (ins["op"], int(ins["task"]))
        dout_slots = [self.slot[b] for b in ins["dOutputs"]]
        din_slots = [self.slot[b] if b is not None else None for b in ins["dInputs"]]
        dpar_slots = [self.slot[b] for b in ins["dParams"]]
        ins_slots = [self.slot[b] for b in ins["inputs"]]
        par_slots = [self.slot[b] for b in ins["params"]]
        want = [d is not None and self.specs[b]["dtype"] == "f32" for b, d in zip(ins["inputs"], ins["dInputs"])]
        tape = self.tape

        def recompute() -> Tape:
            # No forward of this task ran here this step: autograd of a fresh forward.
            xs = [T[i].detach().requires_grad_() if w else T[i] for i, w in zip(ins_slots, want)]
            ps = [T[p].detach().requires_grad_() for p in par_slots]
            with torch.enable_grad():
                ys = kernel(shard, xs, ps)
            return Tape(ys, xs, ps)

        def backward(step: int) -> None:
            t = tape.pop(key, None) or recompute()
            outs, grads = [], []
            for y, s in zip(t.outputs, dout_slots):
                if y.requires_grad:
                    outs.append(y)
                    grads.append(T[s].view(y.shape))
            targets: list[tuple[torch.Tensor, int]] = []
            for x, s in zip(t.inputs, din_slots):
                if s is not None and x.requires_grad:
                    targets.append((x, s))
            for p, s in zip(t.params, dpar_slots):
                targets.append((p, s))
            if not outs or not targets:
                return
            gs = torch.autograd.grad(outs, [x for x, _ in targets], grads, allow_unused=True)
            for g, (_, s) in zip(gs, targets):
                if g is not None:
                    T[s].add_(g.view(T[s].shape))
        return backward

    def _compile_send(self, index: int, ins: dict) -> Callable[[int], None]:
        s = self.slot[ins["src"]]
        holder = self.regions[ins["src"]]
        region = Region.of(ins["region"])
        ix = region.within(holder)
        copy = index in self.send_copies or not region.is_contiguous_in(holder)
        to = self.plan.rank_of(int(ins["to"]))
        tag = ins["tag"]
        T = self.T
        p2p = self.p2p

        def send(step: int) -> None:
            view = T[s][ix]
            p2p.send(to, tag, step, view.clone(memory_format=torch.contiguous_format) if copy or not view.is_contiguous() else view)
        return send

    def _compile_recv(self, ins: dict) -> Callable[[int], None]:
        d = self.slot[ins["dst"]]
        holder = self.regions[ins["dst"]]
        region = Region.of(ins["region"])
        ix = region.within(holder)
        accumulate = bool(ins.get("accumulate"))
        direct = not accumulate and region.is_contiguous_in(holder)
        sender = self.plan.rank_of(int(ins["from"]))
        tag = ins["tag"]
        T = self.T
        p2p = self.p2p
        shape = region.shape()
        dtype = DTYPES[self.specs[ins["dst"]]["dtype"]]
        dev = self.dev

        def recv(step: int) -> None:
            view = T[d][ix]
            if direct and view.is_contiguous():
                p2p.recv(sender, tag, step, view)
                return
            tmp = torch.empty(shape, dtype=dtype, device=dev)
            p2p.recv(sender, tag, step, tmp)
            if accumulate:
                view.add_(tmp)
            else:
                view.copy_(tmp)
        return recv

    # ------------------------------------------------------------------ run

    def _where(self, step: int, index: int) -> str:
        if 0 <= index < len(self.instructions):
            return f"device {self.device_index}, step {step}, instruction {index} ({instruction_label(self.instructions[index])})"
        return f"device {self.device_index}, end of step {step}"

    def _start_allreduce(self, k: int, step: int) -> None:
        members, group_key, flat = self.buckets[k]
        group = self.groups.get(group_key)
        if group is None:
            return  # a group of one: nothing to sum
        t = flat if flat is not None else self.T[self.slot[self.instructions[members[0]]["buf"]]]
        try:
            self.pending_allreduce[k] = self.coll.all_reduce(t, group, async_op=True)
        except RuntimeError as e:
            err = comm_error(e)
            err.where = self._where(step, members[0])  # type: ignore[attr-defined]
            raise err from None

    def _wait_allreduce(self, k: int, step: int) -> None:
        work = self.pending_allreduce.pop(k, None)
        if work is None:
            return
        try:
            work.wait(_timedelta(self.timeout_s))
        except RuntimeError as e:
            err = comm_error(e)
            err.where = self._where(step, self.buckets[k][0][0])  # type: ignore[attr-defined]
            raise err from None

    def _revive(self, i: int, slots: list[int], step: int) -> None:
        """Allocates the released buffers instruction i overwrites; one it reads is a plan error."""
        for b in _reads(self.instructions[i]):
            s = self.slot[b]
            if s in self.released and s not in slots:
                raise EngineError("PAR8004", f"{instruction_label(self.instructions[i])} reads buffer {b} after its release")
        for s in slots:
            if s in self.released:
                spec = self.program["buffers"][s]
                sl = spec.get("slice")
                shape = [sl[1] - sl[0]] if sl is not None else self.regions[spec["id"]].shape()
                self.T[s] = torch.zeros(shape, dtype=DTYPES[spec["dtype"]], device=self.dev)
                self.released.discard(s)

    def step(self, step: int, timer) -> float:
        """Runs the program once (training step `step`, 0-based); this device's loss share."""
        self.loss_terms.clear()
        steps = self.steps
        start_at = self.start_at
        wait_before = self.wait_before
        revive = self.revive
        released = self.released
        T = self.T
        record = self.record_times
        starts, ends = self.starts, self.ends
        i = -1
        try:
            with torch.no_grad():
                for i, run in enumerate(steps):
                    if i in wait_before:
                        for a in wait_before[i]:
                            self._wait_allreduce(a, step)
                    if i in start_at:
                        for a in start_at[i]:
                            self._start_allreduce(a, step)
                    if released and i in revive:
                        self._revive(i, revive[i], step)
                    if record:
                        starts[i] = timer.mark()
                        run(step)
                        ends[i] = timer.mark()
                    else:
                        run(step)
                i = len(steps)
                for a in self.wait_at_end:
                    self._wait_allreduce(a, step)
                self.p2p.finish_step()
        except EngineError as e:
            if getattr(e, "where", None) is None:
                e.where = self._where(step, i)  # type: ignore[attr-defined]
            raise
        except Exception as e:  # a kernel's or torch's error: coded, with where it happened
            text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            err = EngineError("PAR8006", text)
            err.where = self._where(step, i)  # type: ignore[attr-defined]
            raise err from None
        if self.tape:
            self.tape.clear()
        return float(sum(t.item() for t in self.loss_terms))


def _volume(shape: list[int]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _timedelta(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)

