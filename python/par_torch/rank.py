"""One rank of a run: joins the process group, creates the plan's groups, runs jobs (one plan
for some steps) and reports every step to a sink: the launcher's pipe when this machine's
launcher started the ranks, or rank 0's stdout under torchrun/srun."""

from __future__ import annotations

import ctypes
import json
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import torch
import torch.distributed as dist

from .collectives import Capabilities, Collectives, probe
from .comm import P2P
from .errors import EngineError
from .executor import DTYPES, Executor
from .feeds import Feeds
from .plan import Plan, load_plan
from .regions import Region
from .timing import CudaTimer, HostTimer

Sink = Callable[[dict], None]


@dataclass
class RankConfig:
    rank: int
    world: int
    local_rank: int
    local_world: int
    device: str  # "cpu" | "cuda"
    master_addr: str
    master_port: int
    timeout_s: float = 60.0
    threads: int = 1
    ordered_p2p: bool | None = None  # None: as the backend needs (NCCL)


@dataclass
class Job:
    plan_path: str
    steps: int
    job_id: int = 0
    data_dir: str | None = None
    record_times: bool = False
    dump_dir: str | None = None
    extra: dict = field(default_factory=dict)


class RankSession:
    def __init__(self, cfg: RankConfig):
        t0 = time.time()
        self.cfg = cfg
        if cfg.device == "cuda":
            if not torch.cuda.is_available() or torch.cuda.device_count() <= cfg.local_rank:
                raise EngineError("PAR8003", f"rank {cfg.rank}: --device cuda, but this machine has {torch.cuda.device_count() if torch.cuda.is_available() else 0} CUDA device(s) for local rank {cfg.local_rank}")
            if not dist.is_nccl_available():
                raise EngineError("PAR8003", "--device cuda needs torch built with NCCL")
            self.dev = torch.device("cuda", cfg.local_rank)
            torch.cuda.set_device(self.dev)
            # float32 means float32, as in the TS kernels: no TF32 in matmuls or convolutions.
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            backend = "nccl"
        elif cfg.device == "cpu":
            self.dev = torch.device("cpu")
            backend = "gloo"
        else:
            raise EngineError("PAR8015", f"--device {cfg.device}: expected cpu or cuda")
        torch.set_num_threads(max(1, cfg.threads))
        self.backend = backend
        self.timeout = timedelta(seconds=cfg.timeout_s)
        try:
            dist.init_process_group(backend, init_method=f"tcp://{cfg.master_addr}:{cfg.master_port}", rank=cfg.rank, world_size=cfg.world, timeout=self.timeout)
        except RuntimeError as e:
            raise EngineError("PAR8011", f"rank {cfg.rank}: cannot join the process group at {cfg.master_addr}:{cfg.master_port}: {_first_line(e)}") from None
        # Control traffic (reports, the barrier that ends a job) on a CPU group of its own,
        # with no practical timeout: a rank idle in a server's job waits at the barrier as
        # long as the job runs. Failures are caught elsewhere: the launcher (or torchrun)
        # watches the processes, and the plan's own waits have the timeout.
        control_timeout = timedelta(days=7)
        self.control = dist.new_group(backend="gloo", timeout=control_timeout)
        self.caps: Capabilities = probe(self.dev)
        self.coll = Collectives(self.caps)
        self.ordered = cfg.ordered_p2p if cfg.ordered_p2p is not None else backend == "nccl"
        self.groups: dict[tuple, object] = {}
        self.startup_ms = (time.time() - t0) * 1000

    def describe(self) -> dict:
        return {
            "torch": torch.__version__,
            "backend": self.backend,
            "device": self.cfg.device,
            "threads": torch.get_num_threads(),
            "collectives": self.caps.describe(),
            "p2p": "ordered" if self.ordered else "tagged",
            "startup_ms": self.startup_ms,
        }

    # ------------------------------------------------------------------ groups

    def _group(self, key: tuple, ranks: list[int]):
        """A process group, created once for all jobs (every rank calls this in the same order)."""
        g = self.groups.get(key)
        if g is None:
            g = dist.new_group(ranks=ranks, timeout=self.timeout)
            self.groups[key] = g
        return g

    def _plan_groups(self, plan: Plan) -> tuple[dict[tuple[int, ...], object], dict[tuple[int, int], object]]:
        collective: set[tuple[int, ...]] = set()
        pairs: set[tuple[int, int]] = set()
        for d, prog in plan.programs.items():
            for ins in prog["instructions"]:
                if ins["kind"] in ("allreduce", "reducescatter", "allgather") and len(ins["group"]) > 1:
                    collective.add(tuple(sorted(plan.rank_of(x) for x in ins["group"])))
                if ins["kind"] == "send":
                    pairs.add((plan.rank_of(d), plan.rank_of(int(ins["to"]))))
        groups = {g: self._group(("c",) + g, list(g)) for g in sorted(collective)}
        pair_groups = {p: self._group(("p",) + p, sorted(p)) for p in sorted(pairs)} if self.ordered else {}
        return groups, pair_groups

    # ------------------------------------------------------------------ jobs

    def run_job(self, job: Job, sink: Sink, batch_s: float = 0.25) -> None:
        """Runs a job, reporting steps to `sink` in batches at most `batch_s` apart (0: every
        step; a sink that runs a collective needs that, so that every rank calls it alike)."""
        plan = load_plan(job.plan_path)
        if len(plan.devices) > self.cfg.world:
            raise EngineError("PAR8005", f"the plan has {len(plan.devices)} devices, the run {self.cfg.world} ranks")
        groups, pair_groups = self._plan_groups(plan)
        mine = self.cfg.rank < len(plan.devices)
        if mine:
            device_index = plan.devices[self.cfg.rank]
            tags = [ins["tag"] for prog in plan.programs.values() for ins in prog["instructions"] if ins["kind"] in ("send", "recv")]
            p2p = P2P(tags, self.cfg.timeout_s, self.ordered, pair_groups)
            if self.ordered:
                self._expect_orders(plan, device_index, p2p)
            memory = MemoryProbe.start()
            feeds = Feeds(plan, self.dev, job.data_dir)
            executor = Executor(plan, device_index, self.dev, p2p, self.coll, groups, feeds, self.cfg.timeout_s, job.record_times)
            timer = CudaTimer(self.dev) if self.dev.type == "cuda" else HostTimer()
            batch = StepBatcher(sink, batch_s)
            for s in range(job.steps):
                if isinstance(timer, CudaTimer):
                    timer.begin()
                start = timer.mark()
                loss = executor.step(s, timer)
                end = timer.mark()
                timer.sync()
                marks = timer.resolve([start, end] + (executor.starts + executor.ends if job.record_times else []))
                rec: dict = {"event": "step", "rank": self.cfg.rank, "device": device_index, "job": job.job_id, "step": s, "loss": loss, "start": marks[0], "end": marks[1]}
                if job.record_times:
                    n = len(executor.starts)
                    rec["starts"] = marks[2 : 2 + n]
                    rec["ends"] = marks[2 + n :]
                batch.add(rec)
            batch.flush()
            if memory:
                memory.write(self.cfg.rank, device_index, self.dev)
            if job.dump_dir:
                dump_buffers(executor, job.dump_dir, self.cfg.rank)
        # Every rank leaves the job together: the next job's messages never meet this one's.
        dist.barrier(group=self.control)
        sink({"event": "done", "rank": self.cfg.rank, "job": job.job_id, "idle": not mine})

    def _expect_orders(self, plan: Plan, device_index: int, p2p: P2P) -> None:
        """Ordered p2p: for each sender, its sends to this device in its program's order."""
        for d, prog in plan.programs.items():
            specs = {b["id"]: b for b in prog["buffers"]}
            order = [
                (ins["tag"], Region.of(ins["region"]).shape(), DTYPES[specs[ins["src"]]["dtype"]])
                for ins in prog["instructions"]
                if ins["kind"] == "send" and int(ins["to"]) == device_index
            ]
            if order:
                p2p.expect_from(plan.rank_of(d), order)

    def close(self) -> None:
        dist.destroy_process_group()


class MemoryProbe:
    """The measurement hook of `npm run bench -- memory` (docs/memory.md): with
    PAR_MEMORY_OUT=DIR set, each rank writes DIR/torch-device-<d>.json after its steps: its
    resident memory when the job started (the process's own: interpreter, torch, process
    group, the parsed plan) and its peak since (getrusage maxrss), and on CUDA the allocator's
    peak. Off (None) without the variable."""

    def __init__(self, directory: str, baseline: int):
        self.directory = directory
        self.baseline = baseline
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    @staticmethod
    def start() -> "MemoryProbe | None":
        directory = os.environ.get("PAR_MEMORY_OUT")
        return MemoryProbe(directory, _rss_bytes()) if directory else None

    def write(self, rank: int, device: int, dev: torch.device) -> None:
        import resource

        rec = {"engine": "torch", "rank": rank, "device": device, "baselineRssBytes": self.baseline,
               "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "endRssBytes": _rss_bytes()}
        if dev.type == "cuda":
            rec["cudaPeakBytes"] = torch.cuda.max_memory_allocated(dev)
        with open(os.path.join(self.directory, f"torch-device-{device}.json"), "w", encoding="utf-8") as f:
            json.dump(rec, f)


def _rss_bytes() -> int:
    """This process's resident memory now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class StepBatcher:
    """Sends step reports in batches, at most `flush_s` seconds apart: a report per step would
    wake the launcher (and whoever reads its output) every few milliseconds, taking the
    cores the ranks compute on."""

    def __init__(self, sink: Sink, flush_s: float):
        self.sink = sink
        self.flush_s = flush_s
        self.pending: list[dict] = []
        self.last = time.monotonic()

    def add(self, rec: dict) -> None:
        self.pending.append(rec)
        if time.monotonic() - self.last >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.sink({"event": "steps", "records": self.pending})
            self.pending = []
        self.last = time.monotonic()


def dump_buffers(executor: Executor, directory: str, rank: int) -> None:
    """Writes this rank's weight shards and their last gradients: rank<r>.bin (little-endian
    float32) and rank<r>.json (tensor, kind, region, offset and count of each)."""
    os.makedirs(directory, exist_ok=True)
    entries = []
    offset = 0
    with open(os.path.join(directory, f"rank{rank}.bin"), "wb") as f:
        for b in executor.program["buffers"]:
            # A released buffer holds nothing (ZeRO-3's gathered weights, ZeRO-2's unsummed gradient).
            if b["kind"] not in ("param", "param_grad") or executor.slot[b["id"]] in executor.released:
                continue
            t = executor.buffer(b["id"]).detach().to("cpu", torch.float32).contiguous()
            n = t.numel()
            f.write(ctypes.string_at(t.data_ptr(), 4 * n) if n else b"")
            entries.append({"tensor": b["tensor"], "kind": b["kind"], "region": b["region"], "offset": offset, "count": n, **({"slice": b["slice"]} if b.get("slice") else {})})
            offset += n
    with open(os.path.join(directory, f"rank{rank}.json"), "w", encoding="utf-8") as f:
        json.dump({"rank": rank, "device": executor.device_index, "entries": entries}, f)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
