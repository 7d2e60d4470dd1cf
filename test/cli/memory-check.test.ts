// Issue 20 row 9: `models/mlp.par` with hidden = 24000 on mesh `local` was predicted to fit,
// then crashed after 55 s with an out-of-memory from the kernel library. Now `par compile`
// (and `par run`, on a model or a plan file) refuses a plan predicted not to fit, naming
// the device, the predicted and available bytes and the largest consumers (PAR5030),
// unless --force.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, scratch } from "./cli-helpers.js";

const BIG = ["models/mlp.par", "--set", "hidden=24000", "--mesh", "local", "--strategy", "dp"];

describe("the memory check (PAR5030)", () => {
  const dir = scratch();

  it("par compile refuses mlp hidden=24000 data-parallel on local, naming device, bytes and consumers", async () => {
    const out = join(dir, "big.plan.json");
    const r = await cli("compile", ...BIG, "--out", out);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(r.err).toMatch(/PAR5030/);
    // The wasm heap of the tfjs wasm backend is what the run ran out of (4 GiB per worker).
    expect(r.err).toMatch(/device 0 is predicted to need [\d.]+ GiB of its wasm heap, which tfjs wasm caps at 4\.00 GiB/);
    // The largest consumers by category and tensor: the weights kept in the heap (24000² floats each, and XNNPACK's packed copy).
    expect(r.err).toMatch(/largest: .*kernel weights layer0\.h\.linear\.weight 4\.29 GiB/);
    // One finding per limit, for the fullest device, naming the others.
    expect(r.err).toMatch(/\(device 1 too\)/);
    expect(r.err).toMatch(/--force/);
  });

  it("--force writes it, with the finding as a warning", async () => {
    const out = join(dir, "forced.plan.json");
    const r = await cli("compile", ...BIG, "--out", out, "--force");
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(r.err).toMatch(/warning PAR5030.*--force: going ahead/);
  });

  it("par run refuses the forced plan file before starting any worker", async () => {
    const out = join(dir, "forced.plan.json");
    if (!existsSync(out)) await cli("compile", ...BIG, "--out", out, "--force");
    const r = await cli("run", out, "--steps", "1");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/PAR5030/);
    expect(r.out).not.toMatch(/step 1/);
  });

  it("a plan that fits passes without a word", async () => {
    const r = await cli("compile", "models/mlp.par", "--set", "hidden=64", "--strategy", "dp", "--out", join(dir, "small.plan.json"));
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
  });
});

describe("where a plan runs decides its limits", () => {
  it("the tfjs wasm heap binds the tfjs runtime only; capacities come from the target", async () => {
    const { readPlan } = await import("../../src/plan/io.js");
    const { Diagnostics } = await import("../../src/core/diagnostics.js");
    const { memoryDiagnostics, tfjsTarget, torchTarget } = await import("../../src/cli/memory-check.js");
    const dir = scratch();
    const out = join(dir, "big.plan.json");
    expect((await cli("compile", ...BIG, "--out", out, "--force")).code).toBe(0);
    const plan = readPlan(out, new Diagnostics())!;
    const roomy = (t: ReturnType<typeof tfjsTarget>) => ({ ...t, capacity: () => 2 ** 50 });
    const wasm = memoryDiagnostics(plan, roomy(tfjsTarget(plan, "wasm")), false);
    expect(wasm.map((d) => d.severity)).toEqual(["error"]);
    expect(wasm[0].message).toMatch(/wasm heap/);
    expect(memoryDiagnostics(plan, roomy(torchTarget(plan, "cpu")), false)).toEqual([]);
    expect(memoryDiagnostics(plan, roomy(tfjsTarget(plan, "cpu")), false)).toEqual([]);
    const tight = memoryDiagnostics(plan, { ...torchTarget(plan, "cpu"), capacity: () => 2 ** 30 }, true);
    expect(tight.map((d) => [d.code, d.severity])).toEqual([["PAR5030", "warning"]]);
    expect(tight[0].message).toMatch(/of memory, and has 1\.00 GiB/);
  });
});
