"""`python3 -m par_torch COMMAND ...`: the torch engine's command line.

  run PLAN.json --nproc N [--device cpu|cuda] [--steps N] [--data DIR] [--trace OUT]
      [--dump DIR] [--times] [--timeout S] [--json]
        train a plan: one rank per plan device on this machine, or, under torchrun/srun
        (RANK/WORLD_SIZE or SLURM_PROCID/SLURM_NTASKS set), this process as one rank.
  serve --nproc N [--device cpu|cuda] [--timeout S]
        start N ranks once and run the jobs read from stdin, one JSON object a line
        ({"plan": PATH, "steps": N, "dump"?: DIR, "data"?: DIR, "times"?: bool}).
  kernels [--json]   the op kernels and where each lives
  info [--json]      torch version, backends, CUDA devices
  codes --json       the engine's error codes
  port-values        (tests) hashes, initial weights, synthetic data and dropout masks
                     for keys read from stdin, to compare with the TypeScript originals
  selftest-collectives --nproc N
                     (tests) all-reduce, reduce-scatter and all-gather, native and composed
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

from .errors import CODES, HINTS, EngineError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise EngineError("PAR8015", message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python3 -m par_torch", description="par's torch.distributed engine", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="train a plan")
    run.add_argument("plan")
    run.add_argument("--nproc", type=int, default=None, help="ranks to start on this machine (default: the plan's device count)")
    run.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    run.add_argument("--steps", type=int, default=10)
    run.add_argument("--data", default=None, help="directory of <input id>.npy files (default: synthetic data)")
    run.add_argument("--trace", default=None, help="write the measured timeline as a Chrome trace")
    run.add_argument("--dump", default=None, help="write the weights and their last gradients here after the last step")
    run.add_argument("--times", action="store_true", help="report every instruction's start and end")
    run.add_argument("--timeout", type=float, default=60.0, help="seconds a rank waits for a peer (default 60)")
    run.add_argument("--ordered-p2p", action="store_true", help="receive in the sender's order, as NCCL needs (default: only with NCCL)")
    run.add_argument("--threads", type=int, default=None, help="torch threads per rank (default: cores / ranks)")
    run.add_argument("--json", action="store_true", help="JSON lines on stdout")
    serve = sub.add_parser("serve", help="run many plans on one set of ranks")
    serve.add_argument("--nproc", type=int, required=True)
    serve.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    serve.add_argument("--timeout", type=float, default=60.0)
    serve.add_argument("--ordered-p2p", action="store_true")
    serve.add_argument("--threads", type=int, default=None)
    for name in ("kernels", "info", "codes"):
        s = sub.add_parser(name)
        s.add_argument("--json", action="store_true")
    sub.add_parser("port-values")
    st = sub.add_parser("selftest-collectives")
    st.add_argument("--nproc", type=int, default=3)
    return p


def _emit_json(rec: dict) -> None:
    sys.stdout.write(json.dumps(rec, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _report_error(rec: dict, as_json: bool) -> None:
    if as_json:
        _emit_json(rec)
    hint = f" (hint: {rec['hint']})" if rec.get("hint") else ""
    sys.stderr.write(f"par_torch: error {rec['code']}: {rec['message']}{hint}\n")


def cmd_run(a) -> int:
    from .plan import load_plan

    if a.steps < 1:
        raise EngineError("PAR8015", f"--steps {a.steps}: at least 1")
    if a.timeout <= 0:
        raise EngineError("PAR8015", f"--timeout {a.timeout}: must be positive")
    plan = load_plan(a.plan)
    job = {"plan_path": a.plan, "steps": a.steps, "job_id": 0, "data_dir": a.data, "record_times": a.times or a.trace is not None, "dump_dir": a.dump}
    if a.data:
        from .feeds import check_data_dir

        check_data_dir(plan, a.data)  # a bad file is reported once, before any rank starts
    nproc = a.nproc if a.nproc is not None else len(plan.devices)
    set_blas_threads(a.threads, nproc)
    # torch is imported only now: bad input is reported without paying its import.
    from .launcher import env_main, env_rank_config, launch
    from .trace import write_trace

    ordered = True if a.ordered_p2p else None
    env_cfg = env_rank_config(a.device, a.timeout, ordered)
    if env_cfg is not None:
        from .rank import Job

        if env_cfg.world != len(plan.devices):
            raise EngineError("PAR8005", f"the plan has {len(plan.devices)} devices, the job {env_cfg.world} ranks")
        return env_main(env_cfg, Job(**job), a.trace, plan.raw)
    if nproc != len(plan.devices):
        raise EngineError("PAR8005", f"--nproc {nproc}, but the plan has {len(plan.devices)} devices")
    if a.device == "cuda":
        check_cuda(nproc)
    records: list[dict] = []
    start_info: dict = {}

    def on_start(rec: dict) -> None:
        start_info.update(rec)
        if a.json:
            _emit_json(rec)
        else:
            sys.stdout.write(f"torch {rec['torch']} {rec['backend']} on {rec['device']}, {rec['nproc']} ranks × {rec['threads']} threads (start-up {rec['startup_ms']:.0f} ms)\n")

    def on_record(rec: dict) -> None:
        if rec["event"] == "step":
            records.append(rec)
        if a.json:
            _emit_json(rec)
        elif rec["event"] == "step":
            sys.stdout.write(f"step {rec['step']}: loss {rec['loss']:.6f} ({rec['ms']:.2f} ms)\n")
        sys.stdout.flush()

    failure = launch(nproc, a.device, a.timeout, [job], lambda j: len(plan.devices), on_record, on_start, ordered, a.threads)
    if failure is not None:
        _report_error(failure, a.json)
        return 1
    if a.trace:
        write_trace(a.trace, plan.raw, records, f"torch {start_info.get('backend', '')}")
    if not a.json and records:
        sys.stdout.write(f"median step {statistics.median(r['ms'] for r in records):.2f} ms\n")
    return 0


def set_blas_threads(threads: int | None, local_ranks: int) -> None:
    """Thread pools of the BLAS under torch (OpenBLAS in Debian's build) size themselves from
    the environment when torch is first imported, and torch.set_num_threads does not reach
    them: without this every rank would start one BLAS thread per core and the ranks would
    fight over the cores. Set before any import of torch; the user's settings win."""
    from .launcher_env import cores

    n = str(threads if threads is not None else max(1, cores() // max(1, local_ranks)))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, n)


def check_cuda(nproc: int) -> None:
    """--device cuda needs a CUDA device per rank and NCCL (checked before any rank starts)."""
    import torch
    import torch.distributed as dist

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count < nproc:
        raise EngineError("PAR8003", f"--device cuda with {nproc} ranks, but this machine has {count} CUDA device(s)")
    if not dist.is_nccl_available():
        raise EngineError("PAR8003", "--device cuda needs torch built with NCCL")


def cmd_serve(a) -> int:
    set_blas_threads(a.threads, a.nproc)
    from .launcher import launch
    from .plan import load_plan

    if a.device == "cuda":
        check_cuda(a.nproc)

    counts: dict[int, int] = {}

    def jobs():
        for n, line in enumerate(sys.stdin):
            line = line.strip()
            if not line:
                continue
            req = json.loads(line)
            job = {"plan_path": req["plan"], "steps": int(req.get("steps", 1)), "job_id": n, "data_dir": req.get("data"),
                   "record_times": bool(req.get("times", False)), "dump_dir": req.get("dump")}
            counts[n] = len(load_plan(req["plan"]).devices)
            if counts[n] > a.nproc:
                _emit_json({**EngineError("PAR8005", f"job {n}: the plan has {counts[n]} devices, the server {a.nproc} ranks").record(), "job": n})
                continue
            yield job

    failure = launch(a.nproc, a.device, a.timeout, jobs(), lambda j: counts[j["job_id"]], _emit_json, _emit_json, True if a.ordered_p2p else None, a.threads)
    if failure is not None:
        _report_error(failure, True)
        return 1
    return 0


def cmd_kernels(a) -> int:
    from .ops import SOURCES, kernel_names

    if a.json:
        _emit_json({"kernels": {n: SOURCES[n] for n in kernel_names()}})
    else:
        for n in kernel_names():
            sys.stdout.write(f"{n:24} {SOURCES[n]}\n")
    return 0


def cmd_info(a) -> int:
    import torch
    import torch.distributed as dist

    info = {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "gloo": dist.is_available() and dist.is_gloo_available(),
        "nccl": dist.is_available() and dist.is_nccl_available(),
        "cuda": torch.cuda.is_available(),
        "cudaDevices": torch.cuda.device_count() if torch.cuda.is_available() else 0,
    }
    version = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2] if x.isdigit())
    info["supported"] = version >= (1, 13)
    if a.json:
        _emit_json(info)
    else:
        for k, v in info.items():
            sys.stdout.write(f"{k}: {v}\n")
    return 0


def cmd_codes(a) -> int:
    _emit_json({"codes": CODES, "hints": HINTS})
    return 0


def cmd_port_values(a) -> int:
    from .port_values import port_values

    _emit_json(port_values(json.load(sys.stdin)))
    return 0


def cmd_selftest_collectives(a) -> int:
    from .selftest import selftest_collectives

    r = selftest_collectives(a.nproc)
    _emit_json(r)
    return 0 if r.get("ok") else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--json" in argv or (len(argv) > 0 and argv[0] == "serve")
    try:
        a = _parser().parse_args(argv)
        return {"run": cmd_run, "serve": cmd_serve, "kernels": cmd_kernels, "info": cmd_info, "codes": cmd_codes, "port-values": cmd_port_values, "selftest-collectives": cmd_selftest_collectives}[a.command](a)
    except EngineError as e:
        _report_error(e.record(), as_json)
        return 2 if e.code == "PAR8015" else 1
    except ModuleNotFoundError as e:
        if e.name != "torch":
            raise
        _report_error(EngineError("PAR8001", f"{sys.executable} cannot import torch").record(), as_json)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - never a traceback for the user
        from .launcher import error_record

        _report_error(error_record(e), as_json)
        return 1


if __name__ == "__main__":
    sys.exit(main())
