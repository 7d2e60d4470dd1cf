// The engines from the command line: `par run/verify/profile/auto --engine torch|tfjs|auto|both`
// with --device, --nproc and --data, and `par export`. Runs on torch need a Python with torch
// (describeTorch: skipped, and reported, without one; CI requires it); the flag checks, the
// export and the fall-back to tfjs without torch run everywhere.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMeasuredCosts } from "../../src/cost/compute.js";
import { acrossEnginesError } from "../../src/cli/commands/verify.js";
import { compareRuns } from "../../src/runtime/exec/verify.js";
import { tfjsEngine } from "../../src/runtime/engine.js";
import { compile, createContext, load } from "../../src/pipeline.js";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { dataParallel } from "../../src/ir/baselines.js";
import { ensureWorkerBuild } from "../runtime/ensure-build.js";
import { describeTorch } from "../engines/torch/support.js";
import { cli, scratch, SMALL_MLP } from "./cli-helpers.js";

const dir = scratch();
const plan = join(dir, "mlp.plan.json");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  ensureWorkerBuild();
  expect((await cli("compile", ...SMALL_MLP, "--strategy", "dp", "--mesh", "local", "--out", plan)).code).toBe(0);
}, 180_000);

/** The plan's device count (the local mesh: one per core). */
function devices(): number {
  return (JSON.parse(readFileSync(plan, "utf8")) as { devices: unknown[] }).devices.length;
}

describe("engine flags (no torch needed)", () => {
  it("flags of the other engine, unknown engines and devices are usage errors", async () => {
    const cases: [string[], RegExp][] = [
      [["run", plan, "--engine", "tfjs", "--device", "cuda"], /--device applies to the torch engine/],
      [["run", plan, "--engine", "torch", "--backend", "wasm"], /--backend wasm picks a TensorFlow\.js backend/],
      [["run", plan, "--engine", "auto", "--backend", "wasm", "--data", dir], /do not go together/],
      [["run", plan, "--engine", "jax"], /unknown engine jax/],
      [["run", plan, "--engine", "both"], /unknown engine both\nhint: one of auto, tfjs, torch/],
      [["run", plan, "--engine", "torch", "--device", "tpu"], /unknown device tpu/],
      [["verify", plan, "--engine", "torch", "--workers"], /--workers compares the tfjs runtime's worker threads/],
      [["profile", ...SMALL_MLP, "--engine", "torch", "--load", "1", "--out", join(dir, "x.json")], /--load is the tfjs runtime's/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err).toMatch(message);
    }
  });

  it("--nproc must equal a plan's devices (PAR8005, a usage error)", async () => {
    const r = await cli("run", plan, "--nproc", String(devices() + 1), "--steps", "1");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`--nproc ${devices() + 1} disagrees with the plan's ${devices()} devices \\(PAR8005\\)`));
  });

  it("--nproc N compiles a model for the local mesh with N devices (tfjs here)", async () => {
    const r = await cli("run", ...SMALL_MLP, "--strategy", "dp", "--nproc", "3", "--steps", "1", "--backend", "cpu", "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ engine: "tfjs", devices: 3, mesh: "local" });
  });

  describe("without a Python that can import torch", () => {
    const saved = process.env.PAR_PYTHON;
    beforeAll(() => {
      // A real interpreter that cannot see torch: Python without its site-packages.
      const bare = join(dir, "python-without-torch");
      writeFileSync(bare, '#!/bin/sh\nexec python3 -S "$@"\n', { mode: 0o755 });
      process.env.PAR_PYTHON = bare;
    });
    afterAll(() => {
      if (saved === undefined) delete process.env.PAR_PYTHON;
      else process.env.PAR_PYTHON = saved;
    });

    it("--engine torch is PAR8001 with how to install torch, never a traceback", async () => {
      for (const command of ["run", "verify"]) {
        const r = await cli(command, plan, "--engine", "torch");
        expect(r.code).toBe(1);
        expect(r.err).toMatch(/PAR8001/);
        expect(r.err).toMatch(/apt-get install python3-torch libopenblas0-pthread/);
        expect(r.err).not.toMatch(/Traceback/);
      }
    });

    it("par auto falls back to the tfjs runtime, says why and how to get torch, and still verifies", async () => {
      const r = await cli("auto", ...SMALL_MLP, "--budget", "100", "--steps", "2");
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^engine: tfjs \(no Python can import torch; for the faster torch engine: npm run setup, or apt-get install python3-torch/);
      expect(r.out).toMatch(/verify vs one device: ok/);
    });
  });

  it("PAR8020 names what differs first when two engines disagree on a plan", async () => {
    // Two runs that do differ: the same model from two seeds (different weights).
    const ctx = createContext();
    const { graph } = load("models/mlp.par", ctx, { overrides: { batch: 8, hidden: 16, layers: 1 } });
    const mesh = builtinMesh("local")!;
    const plans = [1, 2].map((seed) => compile(graph, mesh, dataParallel(graph, mesh), ctx, { seed }));
    const engine = tfjsEngine("cpu");
    const [a, b] = [await engine.train(plans[0], { steps: 1 }), await engine.train(plans[1], { steps: 1 })];
    const across = { ...compareRuns(plans[0], b, a, { steps: 1 }), engines: ["tfjs", "torch"] as [string, string] };
    expect(across.ok).toBe(false);
    const d = acrossEnginesError("mlp", "dp", across, 1e-4).diagnostics[0];
    expect(d.code).toBe("PAR8020");
    expect(d.message).toMatch(/^mlp \/ dp: the loss of step 0 on torch differs from tfjs by /);
  });
});

describe("par export (no torch needed to write a job)", () => {
  it("writes the job atomically; a non-empty directory is PAR8014 unless --force", async () => {
    const job = join(dir, "jobs", "mlp-job");
    const r = await cli("export", plan, "--out", job, "--nodes", String(devices()), "--device", "cuda", "--steps", "7");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/wrote .*mlp-job: mlp \/ dp, \d+ ranks = \d+ node\(s\) × 1/);
    for (const f of ["plan.json", "train.py", "run-torchrun.sh", "run-slurm.sh", "README.md", "par_torch/__main__.py"]) expect(existsSync(join(job, f)), f).toBe(true);
    const script = readFileSync(join(job, "run-torchrun.sh"), "utf8");
    expect(script).toContain(`torchrun --nnodes ${devices()} --nproc_per_node 1`);
    expect(script).toContain("--device cuda --steps 7");
    const again = await cli("export", plan, "--out", job);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/PAR8014.*exists and is not empty/);
    expect(again.err).toMatch(/--force/);
    writeFileSync(join(job, "stale.txt"), "from an earlier export");
    const forced = await cli("export", plan, "--out", job, "--force", "--json");
    expect(forced.code, forced.err).toBe(0);
    expect(JSON.parse(forced.out)).toMatchObject({ nodes: 1, perNode: devices(), device: "cpu" });
    expect(existsSync(join(job, "stale.txt"))).toBe(false);
    // Nothing is left beside the job: the temporary directory was renamed into place.
    expect(readdirSync(join(dir, "jobs"))).toEqual(["mlp-job"]);
  });

  it("usage errors: another engine, nodes that do not divide the devices, no --out", async () => {
    expect((await cli("export", plan, "--out", join(dir, "j1"), "--engine", "tfjs")).err).toMatch(/only the torch engine runs jobs on clusters/);
    const nodes = await cli("export", plan, "--out", join(dir, "j2"), "--nodes", String(devices() + 1));
    expect(nodes.code).toBe(2);
    expect(nodes.err).toMatch(/does not divide the plan's/);
    expect((await cli("export", plan)).code).toBe(2);
  });
});

describeTorch("the torch engine from the command line", () => {
  it("par run --engine torch: per-step losses and times as on tfjs, the same losses", async () => {
    const text = await cli("run", plan, "--engine", "torch", "--steps", "2");
    expect(text.err).toBe("");
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^plan: model mlp, strategy dp on local/);
    expect(text.out).toMatch(/step 1 {2}loss \d+\.\d+ {2}\d+\.\d+ ms\nstep 2 {2}loss/);
    expect(text.out).toMatch(/backend: torch-gloo \(torch \d/);
    const torch = JSON.parse((await cli("run", plan, "--engine", "torch", "--steps", "2", "--json")).out);
    const tfjs = JSON.parse((await cli("run", plan, "--engine", "tfjs", "--backend", "cpu", "--steps", "2", "--json")).out);
    expect(torch).toMatchObject({ engine: "torch", backend: "torch-gloo", devices: devices() });
    expect(tfjs.engine).toBe("tfjs");
    torch.losses.forEach((l: number, i: number) => expect(Math.abs(l - tfjs.losses[i]) / Math.abs(tfjs.losses[i])).toBeLessThan(1e-4));
  });

  it("a model FILE with --nproc 3 and --trace: three ranks, measured and predicted in one trace", async () => {
    const trace = join(dir, "torch-trace.json");
    const r = await cli("run", ...SMALL_MLP, "--strategy", "dp", "--engine", "torch", "--nproc", "3", "--steps", "2", "--json", "--trace", trace);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ devices: 3, tracePredicted: true });
    expect(j.stepTimesMs).toHaveLength(2);
    const t = JSON.parse(readFileSync(trace, "utf8")) as { traceEvents: { name: string; ph: string; pid: number; tid: number; cat?: string; args?: { name?: string } }[] };
    const names = t.traceEvents.filter((e) => e.name === "process_name").map((e) => e.args?.name);
    expect(names).toEqual(["predicted (simulator)", "measured (torch-gloo)"]);
    expect(t.traceEvents.filter((e) => e.pid === 1 && e.name === "thread_name").map((e) => e.tid)).toEqual([0, 1, 2]);
    expect(t.traceEvents.some((e) => e.pid === 1 && e.ph === "X" && e.cat === "forward")).toBe(true);
  });

  it("par verify --engine torch, and --engine both (each engine, and torch against tfjs)", async () => {
    const one = await cli("verify", plan, "--engine", "torch", "--steps", "2");
    expect(one.code, one.err).toBe(0);
    expect(one.out).toMatch(new RegExp(`^verify mlp / dp on ${devices()} devices against one device, 2 steps \\(torch-gloo\\)\\n {2}max abs error .*\\(tolerance 0\\.0001\\)\\n {2}ok\\n$`));
    const both = await cli("verify", plan, "--engine", "both", "--backend", "cpu", "--steps", "2", "--json");
    expect(both.code, both.err).toBe(0);
    const j = JSON.parse(both.out);
    expect(j.ok).toBe(true);
    expect(j.engines.map((e: { engine: string; backend: string; ok: boolean }) => [e.engine, e.backend, e.ok])).toEqual([["tfjs", "cpu", true], ["torch", "torch-gloo", true]]);
    expect(j.across).toMatchObject({ engines: ["tfjs", "torch"], ok: true });
    expect(j.across.maxRelError).toBeLessThanOrEqual(1e-4);
  });

  it("par profile --engine torch writes a measured-cost table that par search plans with", async () => {
    const costs = join(dir, "torch-costs.json");
    const r = await cli("profile", ...SMALL_MLP, "--engine", "torch", "--warmup", "2", "--repeats", "3", "--out", costs, "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ engine: "torch", backend: "torch-gloo" });
    const table = parseMeasuredCosts(JSON.parse(readFileSync(costs, "utf8")), costs);
    expect(table.backend).toBe("torch-gloo");
    expect(table.entries.some((e) => e.op === "linear" && e.forwardMs > 0)).toBe(true);
    const search = async (...extra: string[]) => {
      const s = await cli("search", ...SMALL_MLP, "--mesh", "local", "--budget", "100", "--json", ...extra);
      expect(s.code, s.err).toBe(0);
      return JSON.parse(s.out) as { best: { iterationTimeMs: number } };
    };
    // The measured kernel times price the strategies, not the roofline's.
    expect((await search("--costs", costs)).best.iterationTimeMs).not.toBe((await search()).best.iterationTimeMs);
  });

  it("par auto takes torch when it can be imported, says so first, and verifies on it", async () => {
    const r = await cli("auto", ...SMALL_MLP, "--budget", "100", "--steps", "2");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^engine: torch \(torch \S+ can be imported by \S+\)\nbackend: torch-gloo\n/);
    expect(r.out).toMatch(/verify vs one device: ok/);
  });
});
