"""`python3 -m par_torch selftest-collectives --nproc N`: the collective layer on this
machine's backend, checked on N ranks: all-reduce, reduce-scatter and all-gather, both as
the backend provides them (where it does) and as compositions of other collectives (as
Gloo in torch 1.13 needs), against their definitions. Prints one JSON line."""

from __future__ import annotations

import json
import multiprocessing as mp
import sys

from .launcher_env import cores


def _rank(rank: int, world: int, port: int, out) -> None:
    import torch
    import torch.distributed as dist

    from .collectives import Capabilities, Collectives, probe

    torch.set_num_threads(max(1, cores() // world))
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    native = probe(torch.device("cpu"))
    results = []
    modes = [("composed", Capabilities(False, False))]
    if native.reduce_scatter or native.all_gather_flat:
        modes.append(("native", native))
    k = 5
    for name, caps in modes:
        coll = Collectives(caps)
        t = torch.arange(7, dtype=torch.float32) * (rank + 1)
        coll.all_reduce(t, None)
        want = torch.arange(7, dtype=torch.float32) * sum(r + 1 for r in range(world))
        results.append({"mode": name, "op": "all_reduce", "ok": bool(torch.equal(t, want))})
        flat = torch.arange(world * k, dtype=torch.float32) * (rank + 1)
        piece = torch.empty(k)
        coll.reduce_scatter(piece, flat, None)
        total = torch.arange(world * k, dtype=torch.float32) * sum(r + 1 for r in range(world))
        results.append({"mode": name, "op": "reduce_scatter", "ok": bool(torch.equal(piece, total[rank * k : (rank + 1) * k]))})
        gathered = torch.empty(world * k)
        coll.all_gather(gathered, torch.full((k,), float(rank)), None)
        want_g = torch.cat([torch.full((k,), float(r)) for r in range(world)])
        results.append({"mode": name, "op": "all_gather", "ok": bool(torch.equal(gathered, want_g))})
    everyone = [None] * world
    dist.all_gather_object(everyone, results)
    if rank == 0:
        out.put({"native": native.describe(), "ok": all(r["ok"] for rs in everyone for r in rs), "results": everyone[0], "ranks": world})
    dist.destroy_process_group()


def selftest_collectives(world: int) -> dict:
    from .launcher import free_port

    port = free_port()
    ctx = mp.get_context("fork")
    out = ctx.SimpleQueue()
    procs = [ctx.Process(target=_rank, args=(r, world, port, out)) for r in range(world)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    if any(p.exitcode != 0 for p in procs):
        return {"ok": False, "error": f"a rank exited with {[p.exitcode for p in procs]}"}
    return out.get()


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(selftest_collectives(int(sys.argv[1]) if len(sys.argv) > 1 else 2)))
