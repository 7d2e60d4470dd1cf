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
    expect(r.err).toMatch(/largest: kernel weights mlp\.linear_\d+\.weight 2\.15 GiB/);
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
