// The collective layer (python/par_torch/collectives.py) on 3 ranks of this machine's
// backend: all-reduce, reduce-scatter and all-gather, native where the backend has them and
// composed from other collectives where not (Gloo in torch 1.13 has no reduce-scatter and no
// flat all-gather), each against its definition.
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { pythonEnv } from "../../../src/engines/torch/python.js";
import { describeTorch, TORCH } from "./support.js";

describeTorch("collectives that work everywhere", () => {
  it("all-reduce, reduce-scatter and all-gather on 3 ranks, native and composed", () => {
    const r = spawnSync(TORCH!.python, ["-m", "par_torch", "selftest-collectives", "--nproc", "3"], { env: pythonEnv(), encoding: "utf8", timeout: 120_000 });
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { ok: boolean; native: string; results: { mode: string; op: string; ok: boolean }[] };
    expect(out.results.filter((x) => !x.ok)).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.results.filter((x) => x.mode === "composed").map((x) => x.op)).toEqual(["all_reduce", "reduce_scatter", "all_gather"]);
    // What this backend offers natively is reported (Debian's torch 1.13 Gloo: neither).
    expect(out.native).toMatch(/reduce_scatter: (native|all_reduce \+ slice); all_gather: (native|list all_gather \+ cat)/);
    expect(r.status).toBe(0);
  }, 120_000);
});
