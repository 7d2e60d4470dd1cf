import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, scratch, SMALL_MLP } from "./cli-helpers.js";

describe("par verify", () => {
  const dir = scratch();

  it("a baseline strategy of a .par model verifies (--json)", async () => {
    const r = await cli("verify", ...SMALL_MLP, "--strategy", "megatron", "--steps", "2", "--backend", "cpu", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.ok).toBe(true);
    expect(j.maxAbsError).toBeLessThan(1e-5);
    expect(j.maxRelError).toBeLessThanOrEqual(j.tolerance);
  });

  it("a tampered plan file fails, naming the first param and op that diverge", async () => {
    const plan = join(dir, "dp.plan.json");
    expect((await cli("compile", ...SMALL_MLP, "--strategy", "dp", "--out", plan)).code).toBe(0);
    const p = JSON.parse(readFileSync(plan, "utf8"));
    // Double the loss's dOutput on one device: its gradients (not the loss) go wrong.
    const prog = p.programs[p.programs.length - 1];
    const fill = prog.instructions.find((i: { kind: string }) => i.kind === "fill");
    fill.value = 2;
    writeFileSync(plan, JSON.stringify(p));
    const r = await cli("verify", plan, "--steps", "1", "--backend", "cpu");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/MISMATCH/);
    expect(r.err).toMatch(/PAR5110.*first at the gradient of \S+ \(op \S+\) at step 0/);
  });

  it("--workers also runs the plan on worker threads", async () => {
    const r = await cli("verify", ...SMALL_MLP, "--strategy", "dp", "--steps", "1", "--backend", "cpu", "--workers", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.workers.ok).toBe(true);
    expect(j.workers.maxLossError).toBe(0);
  });
});
