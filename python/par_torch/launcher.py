"""Starting ranks and watching them.

On one machine (`--nproc N`) the launcher starts N rank processes (fork on CPU: nothing of
torch's thread pools exists yet in the launcher; spawn for CUDA), each with a pipe back.
It aggregates their step reports into JSON lines on stdout (one per step: the loss summed
over devices in device order, as the TS runtime sums it, and the step time from the first
device's start to the last device's end), and watches them: the first failure (an error a
rank reports, a rank that exits or is killed, no progress within the timeout) ends the run:
every other rank is terminated (SIGTERM, then SIGKILL) and reaped before the launcher
reports one coded error and exits 1. Ranks die with the launcher (PR_SET_PDEATHSIG).

Across machines, torchrun or srun start the processes: with RANK/WORLD_SIZE (or
SLURM_PROCID/SLURM_NTASKS) in the environment each process is one rank, and rank 0 gathers
the steps' reports over a Gloo control group and prints the JSON lines (env_main).
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import signal
import socket
import sys
import time
import traceback

from .errors import EngineError
from .launcher_env import cores
from .rank import Job, RankConfig, RankSession

GRACE_S = 2.0
# How long a communication failure waits for its root cause (a rank that died) to show.
ROOT_CAUSE_WAIT_S = 1.5


def emit(rec: dict) -> None:
    sys.stdout.write(json.dumps(rec, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """Linux: this process gets SIGKILL when the launcher dies, so no rank outlives it."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:  # pragma: no cover - not Linux
        pass


def error_record(e: BaseException, rank: int | None = None) -> dict:
    if isinstance(e, EngineError):
        rec = e.record()
        where = getattr(e, "where", None)
        if where and where not in rec["message"]:
            rec["message"] = f"{where}: {rec['message']}"
        if getattr(e, "secondary", False):
            rec["secondary"] = True
    else:
        text = str(e).strip().splitlines()[0] if str(e).strip() else ""
        rec = EngineError("PAR8019", f"{type(e).__name__}: {text}" if text else type(e).__name__).record()
        if os.environ.get("PAR_TORCH_DEBUG"):
            sys.stderr.write(traceback.format_exc())
    if rank is not None:
        rec["rank"] = rank
    return rec


def rank_main(cfg: RankConfig, conn, parent_pid: int) -> None:
    """A rank process started by the launcher: run the jobs that arrive on `conn`."""
    _die_with_parent()
    if os.getppid() != parent_pid:  # the launcher died before prctl took effect
        os._exit(1)
    os.dup2(2, 1)  # the launcher's stdout carries only its JSON lines
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the launcher, which ends us
    session = None
    code = 0
    try:
        session = RankSession(cfg)
        conn.send({"event": "ready", "rank": cfg.rank, "pid": os.getpid(), **session.describe()})
        while True:
            msg = conn.recv()
            if msg is None:
                break
            session.run_job(Job(**msg), conn.send)
        session.close()
    except BaseException as e:  # noqa: BLE001 - every failure becomes one coded record
        code = 1
        try:
            conn.send(error_record(e, cfg.rank))
        except (OSError, EOFError, BrokenPipeError):
            pass
    finally:
        try:
            conn.close()
        except OSError:
            pass
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # no atexit handlers: a torn-down process group must not hang exit


class Launcher:
    """Starts and watches this node's ranks; prints the run's JSON lines."""

    def __init__(self, nproc: int, device: str, timeout_s: float, ordered_p2p: bool | None = None, threads: int | None = None):
        self.nproc = nproc
        self.device = device
        self.timeout_s = timeout_s
        self.world = nproc
        master_addr = "127.0.0.1"
        port = free_port()
        ctx = mp.get_context("spawn" if device == "cuda" else "fork")
        per_rank = threads if threads is not None else max(1, cores() // nproc)
        self.procs: list = []
        self.conns: list = []
        self.ranks: list[int] = []
        self.pids: list[int] = []
        self.info: dict = {}
        for local in range(nproc):
            rank = local
            cfg = RankConfig(rank=rank, world=self.world, local_rank=local, local_world=nproc, device=device, master_addr=master_addr,
                             master_port=port, timeout_s=timeout_s, threads=per_rank, ordered_p2p=ordered_p2p)
            parent_conn, child_conn = ctx.Pipe(duplex=True)
            p = ctx.Process(target=rank_main, args=(cfg, child_conn, os.getpid()), daemon=False)
            p.start()
            child_conn.close()
            self.procs.append(p)
            self.conns.append(parent_conn)
            self.ranks.append(rank)
            self.pids.append(p.pid)
        self.failure: dict | None = None
        self.pending_secondary: tuple[dict, float] | None = None

    # ------------------------------------------------------------------ watching

    def _fail(self, rec: dict) -> None:
        if self.failure is None:
            self.failure = rec

    def _poll(self, timeout: float) -> list[dict]:
        """Messages from the ranks within `timeout` s; notices ranks that died."""
        live = [c for c in self.conns if c is not None]
        sentinels = [p.sentinel for p in self.procs]
        ready = mpc.wait(live + sentinels, timeout=timeout)
        out: list[dict] = []
        for r in ready:
            if r in sentinels:
                continue
            i = self.conns.index(r)
            try:
                while r.poll():
                    out.append(r.recv())
            except (EOFError, OSError):
                self.conns[i] = None
        for i, p in enumerate(self.procs):
            if p.exitcode is not None and p.exitcode != 0 and not getattr(p, "_reported", False):
                p._reported = True  # type: ignore[attr-defined]
                c = self.conns[i]
                if c is not None:  # drain what it said before dying
                    try:
                        while c.poll():
                            out.append(c.recv())
                    except (EOFError, OSError):
                        pass
                said = any(m.get("event") == "error" and m.get("rank") == self.ranks[i] for m in out)
                if not said:
                    how = f"was killed by signal {-p.exitcode} ({signal.Signals(-p.exitcode).name})" if p.exitcode < 0 else f"exited with status {p.exitcode}"
                    out.append({"event": "error", "code": "PAR8007", "message": f"rank {self.ranks[i]} (pid {p.pid}) {how}", "rank": self.ranks[i],
                                "hint": "the other ranks were stopped; see the rank's stderr above for its last words"})
        return out

    def _handle_errors(self, msgs: list[dict]) -> list[dict]:
        rest = []
        for m in msgs:
            if m.get("event") != "error":
                rest.append(m)
                continue
            if m.get("secondary"):
                # A peer's connection broke: prefer the root cause if it shows up soon.
                if self.pending_secondary is None:
                    self.pending_secondary = (m, time.monotonic())
            else:
                self._fail(m)
        if self.failure is None and self.pending_secondary is not None and time.monotonic() - self.pending_secondary[1] > ROOT_CAUSE_WAIT_S:
            self._fail(self.pending_secondary[0])
        return rest

    def wait_for(self, event: str, count: int, on_message, progress_timeout: float | None = None) -> bool:
        """Collects `count` messages of kind `event` (passing every message to on_message);
        False when the run failed meanwhile."""
        seen = 0
        last = time.monotonic()
        limit = progress_timeout if progress_timeout is not None else self.timeout_s + 10
        while seen < count and self.failure is None:
            msgs = self._handle_errors(self._poll(0.2))
            for m in msgs:
                on_message(m)
                if m.get("event") == event:
                    seen += 1
                last = time.monotonic()
            if self.failure is None and all(c is None for c in self.conns):
                self._fail({"event": "error", "code": "PAR8007", "message": "every rank closed its pipe"})
            if self.failure is None and time.monotonic() - last > limit:
                self._fail({"event": "error", "code": "PAR8008", "message": f"no rank reported progress for {limit:.0f} s (a rank stuck in a kernel?)",
                            "hint": "raise --timeout for very slow steps"})
        return self.failure is None

    def send_all(self, msg) -> None:
        for c in self.conns:
            if c is not None:
                try:
                    c.send(msg)
                except (OSError, BrokenPipeError):
                    pass

    def settle_root_cause(self) -> None:
        """A communication failure reported by one rank is usually the echo of another rank's
        death: prefer the death when it is visible by now."""
        if self.failure is None or not self.failure.get("secondary"):
            return
        time.sleep(0.2)
        for m in self._poll(0.0):
            if m.get("event") == "error" and not m.get("secondary"):
                self.failure = m
                return

    def shutdown(self) -> None:
        """Ends every rank: politely when the run went well, else terminate then kill."""
        self.settle_root_cause()
        if self.failure is None:
            self.send_all(None)
            deadline = time.monotonic() + GRACE_S + 3
            for p in self.procs:
                p.join(max(0.0, deadline - time.monotonic()))
        for p in self.procs:
            if p.exitcode is None:
                try:
                    p.terminate()
                except OSError:
                    pass
        deadline = time.monotonic() + GRACE_S
        for p in self.procs:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in self.procs:
            if p.exitcode is None:
                p.kill()
                p.join()
        for c in self.conns:
            if c is not None:
                c.close()


class RunAggregator:
    """Turns the ranks' per-step reports into one JSON line per step."""

    def __init__(self, world: int, job_id: int, record_times: bool):
        self.world = world
        self.job_id = job_id
        self.record_times = record_times
        self.steps: dict[int, dict[int, dict]] = {}
        self.records: list[dict] = []
        # Each device's end of its previous step: ranks do not wait for each other between
        # steps, so a step's time is its period on the slowest device (end to end), not the
        # span from the earliest start, which would include a fast device's head start.
        self.last_end: dict[int, float] = {}

    def add_all(self, m: dict) -> list[dict]:
        """A rank's message: one step report, or a batch of them."""
        if m.get("event") == "steps":
            return [r for r in (self.add(x) for x in m["records"]) if r is not None]
        r = self.add(m)
        return [r] if r is not None else []

    def add(self, m: dict) -> dict | None:
        if m.get("event") != "step" or m.get("job") != self.job_id:
            return None
        per = self.steps.setdefault(m["step"], {})
        per[m["device"]] = m
        if len(per) < self.world:
            return None
        devices = sorted(per)
        loss = 0.0
        for d in devices:
            loss += per[d]["loss"]
        ms = max(per[d]["end"] - self.last_end.get(d, per[d]["start"]) for d in devices)
        for d in devices:
            self.last_end[d] = per[d]["end"]
        rec = {"event": "step", "job": self.job_id, "step": m["step"], "loss": loss, "ms": ms,
               "devices": [{"device": d, "start": per[d]["start"], "end": per[d]["end"]} for d in devices]}
        if self.record_times:
            for entry in rec["devices"]:
                entry["starts"] = per[entry["device"]]["starts"]
                entry["ends"] = per[entry["device"]]["ends"]
        del self.steps[m["step"]]
        self.records.append(rec)
        return rec


def run_jobs(launcher: Launcher, jobs, plan_devices, on_record) -> bool:
    """Runs jobs one after another on the started ranks; False at the first failure."""
    for job in jobs:
        devices = plan_devices(job)
        agg = RunAggregator(devices, job["job_id"], job.get("record_times", False))
        launcher.send_all(job)

        def on_message(m: dict) -> None:
            for rec in agg.add_all(m):
                on_record(rec)

        if not launcher.wait_for("done", launcher.nproc, on_message):
            return False
        on_record({"event": "done", "job": job["job_id"], "steps": len(agg.records)})
    return True


def env_rank_config(device: str, timeout_s: float, ordered_p2p: bool | None) -> RankConfig | None:
    """This process's rank from torchrun's (RANK, WORLD_SIZE, LOCAL_RANK) or SLURM's variables."""
    env = os.environ
    if "RANK" in env and "WORLD_SIZE" in env:
        rank, world = int(env["RANK"]), int(env["WORLD_SIZE"])
        local, local_world = int(env.get("LOCAL_RANK", "0")), int(env.get("LOCAL_WORLD_SIZE", "1"))
    elif "SLURM_PROCID" in env and "SLURM_NTASKS" in env:
        rank, world = int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"])
        local = int(env.get("SLURM_LOCALID", "0"))
        local_world = int(env.get("SLURM_NTASKS_PER_NODE", "1").split("(")[0] or 1)
    else:
        return None
    addr = env.get("MASTER_ADDR")
    port = env.get("MASTER_PORT")
    if not addr or not port:
        raise EngineError("PAR8011", "MASTER_ADDR and MASTER_PORT must be set (torchrun sets them; under srun export them)")
    return RankConfig(rank=rank, world=world, local_rank=local, local_world=local_world, device=device, master_addr=addr,
                      master_port=int(port), timeout_s=timeout_s, threads=max(1, cores() // max(1, local_world)), ordered_p2p=ordered_p2p)


def env_main(cfg: RankConfig, job: Job, trace_path: str | None, plan_raw: dict) -> int:
    """One rank under torchrun/srun: rank 0 gathers every step's reports and prints them."""
    import torch.distributed as dist

    from .trace import write_trace

    session = None
    try:
        session = RankSession(cfg)
        infos: list = [None] * cfg.world
        dist.all_gather_object(infos, session.describe(), group=session.control)
        if cfg.rank == 0:
            emit({"event": "start", "nproc": cfg.world, **infos[0]})
        agg = RunAggregator(cfg.world, job.job_id, job.record_times)
        records: list[dict] = []

        def sink(rec: dict) -> None:
            if rec.get("event") != "steps":
                return
            for r in rec["records"]:  # one step each: run_job flushes every step here
                gathered: list = [None] * cfg.world
                dist.all_gather_object(gathered, r, group=session.control)
                if cfg.rank == 0:
                    for g in gathered:
                        out = agg.add(g)
                        if out is not None:
                            records.append(out)
                            emit(out)

        session.run_job(job, sink, batch_s=0.0)
        if cfg.rank == 0:
            if trace_path:
                write_trace(trace_path, plan_raw, records, f"torch {session.backend}")
            emit({"event": "done", "job": job.job_id, "steps": len(records)})
        session.close()
        return 0
    except BaseException as e:  # noqa: BLE001
        rec = error_record(e, cfg.rank)
        emit(rec)
        sys.stderr.write(f"par_torch: {rec['code']} {rec['message']}\n")
        return 1


def launch(nproc: int, device: str, timeout_s: float, jobs, plan_devices, on_record, on_start,
           ordered_p2p: bool | None = None, threads: int | None = None) -> dict | None:
    """Starts the ranks, runs `jobs`, stops the ranks. Returns the failure record, or None."""
    launcher: Launcher | None = None
    stopped = {"signal": None}

    def on_signal(signum, _frame):
        stopped["signal"] = signum
        if launcher is not None:
            launcher._fail({"event": "error", "code": "PAR8007", "message": f"the launcher got {signal.Signals(signum).name}; every rank was stopped"})

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            launcher = Launcher(nproc, device, timeout_s, ordered_p2p, threads)
        except OSError as e:
            return EngineError("PAR8011", f"cannot start {nproc} ranks: {e}").record()
        infos: dict[int, dict] = {}

        def on_ready(m: dict) -> None:
            if m.get("event") == "ready":
                infos[m["rank"]] = m

        if launcher.wait_for("ready", nproc, on_ready, progress_timeout=max(60.0, timeout_s)):
            first = infos[min(infos)]
            on_start({"event": "start", "nproc": launcher.world, "pids": launcher.pids,
                      **{k: first[k] for k in ("torch", "backend", "device", "threads", "collectives", "p2p")},
                      "startup_ms": max(i["startup_ms"] for i in infos.values())})
            run_jobs(launcher, jobs, plan_devices, on_record)
        launcher.shutdown()
        return launcher.failure
    finally:
        for s, h in old.items():
            signal.signal(s, h)

