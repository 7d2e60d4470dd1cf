import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseMeasuredCosts } from "../../src/cost/compute.js";
import { ensureWorkerBuild } from "../runtime/ensure-build.js";
import { cli, scratch, SMALL_MLP } from "./cli-helpers.js";

describe("par profile", () => {
  const dir = scratch();
  // The load workers (profiling under contention) run from the compiled build.
  beforeAll(() => ensureWorkerBuild(), 180_000);

  it("writes a par-measured-costs table the simulator then uses", async () => {
    const out = join(dir, "costs.json");
    const r = await cli("profile", ...SMALL_MLP, "--strategy", "dp", "--backend", "cpu", "--repeats", "2", "--warmup", "1", "--load", "0", "--out", out);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/profiled \d+ distinct tasks of mlp \/ dp on cpu/);
    const table = parseMeasuredCosts(JSON.parse(readFileSync(out, "utf8")));
    expect(table.device).toBe("cpu");
    expect(table.entries.map((e) => e.op)).toContain("linear");
    for (const e of table.entries) expect(e.forwardMs).toBeGreaterThan(0);
    // The optimizer step of every weight shard size, measured too.
    expect(table.updates?.length).toBeGreaterThan(0);
    for (const u of table.updates ?? []) expect(u.optimizer).toBe("sgd");
    expect(r.out).toMatch(/sgd update\s+\d+ weights/);
    // The simulator picks the measurements up: its prediction changes.
    const roofline = JSON.parse((await cli("simulate", ...SMALL_MLP, "--mesh", "local", "--strategy", "dp", "--json")).out);
    const measured = JSON.parse((await cli("simulate", ...SMALL_MLP, "--mesh", "local", "--strategy", "dp", "--costs", out, "--json")).out);
    expect(measured.iterationTimeMs).not.toBe(roofline.iterationTimeMs);
    // --merge keeps the entries of another strategy.
    const r2 = await cli("profile", ...SMALL_MLP, "--strategy", "mp", "--backend", "cpu", "--repeats", "1", "--warmup", "0", "--out", out, "--merge");
    expect(r2.code).toBe(0);
    expect(parseMeasuredCosts(JSON.parse(readFileSync(out, "utf8"))).entries.length).toBeGreaterThanOrEqual(table.entries.length);
    expect(table.loadedBy).toBeUndefined();
    expect(table.entries.every((e) => e.loadedForwardMs === undefined)).toBe(true);
  });

  it("on the local mesh measures every task alone and under the other device's load by default", async () => {
    const out = join(dir, "loaded.json");
    const r = await cli("profile", ...SMALL_MLP, "--strategy", "dp", "--backend", "cpu", "--repeats", "1", "--warmup", "0", "--out", out);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/alone and with 1 other device\(s\) computing/);
    const table = parseMeasuredCosts(JSON.parse(readFileSync(out, "utf8")));
    expect(table.loadedBy).toBe(1);
    for (const e of table.entries) {
      expect(e.loadedForwardMs).toBeGreaterThan(0);
      expect(e.loadedBackwardMs).toBeGreaterThan(0);
    }
    // The simulator blends the loaded figures in: a data-parallel step is predicted no faster than from the alone figures.
    const sim = JSON.parse((await cli("simulate", ...SMALL_MLP, "--mesh", "local", "--strategy", "dp", "--costs", out, "--json")).out);
    expect(sim.iterationTimeMs).toBeGreaterThan(0);
  }, 120_000);

  it("rejects a negative --load", async () => {
    const r = await cli("profile", ...SMALL_MLP, "--load", "-1", "--out", join(dir, "x.json"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--load needs an integer ≥ 0/);
  });

  it("--in-run times every kernel in a run on the worker runtime, one worker per device", async () => {
    const out = join(dir, "in-run.json");
    const r = await cli("profile", ...SMALL_MLP, "--strategy", "dp", "--backend", "cpu", "--repeats", "2", "--warmup", "0", "--in-run", "--out", out);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/in a run on 2 worker\(s\)/);
    const table = parseMeasuredCosts(JSON.parse(readFileSync(out, "utf8")));
    // In a run the other devices are the load: no separate loaded figures.
    expect(table.loadedBy).toBeUndefined();
    for (const e of table.entries) expect(e.forwardMs).toBeGreaterThan(0);
    expect(table.updates?.length).toBeGreaterThan(0);
    // The interference the kernels met: one slowdown per device and timed step.
    expect(table.slowdowns).toHaveLength(4);
    expect(r.out).toMatch(/interference: slowdown of own work per device and step \(4\): median [\d.]+, p90 [\d.]+, max [\d.]+/);
    // The simulator predicts under it too, next to the plain prediction.
    const sim = await cli("simulate", ...SMALL_MLP, "--mesh", "local", "--strategy", "dp", "--costs", out);
    expect(sim.out).toMatch(/under measured interference: median \S+ \S+ \(p10 \S+ \S+, p90 \S+ \S+; 101 draws\)/);
    const json = JSON.parse((await cli("simulate", ...SMALL_MLP, "--mesh", "local", "--strategy", "dp", "--costs", out, "--json")).out);
    expect(json.interference.draws).toBe(101);
    expect(json.interference.p10Ms).toBeLessThanOrEqual(json.interference.medianMs);
    expect(json.interference.medianMs).toBeLessThanOrEqual(json.interference.p90Ms);
    // --merge with a profile taken apart keeps the run's slowdowns.
    const r2 = await cli("profile", ...SMALL_MLP, "--strategy", "mp", "--backend", "cpu", "--repeats", "1", "--warmup", "0", "--load", "0", "--out", out, "--merge");
    expect(r2.code).toBe(0);
    expect(parseMeasuredCosts(JSON.parse(readFileSync(out, "utf8"))).slowdowns).toEqual(table.slowdowns);
  }, 120_000);

  it("rejects --load with --in-run", async () => {
    const r = await cli("profile", ...SMALL_MLP, "--in-run", "--load", "1", "--out", join(dir, "x.json"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--load and --in-run do not go together/);
  });
});
