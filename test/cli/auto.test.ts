import { beforeAll, describe, expect, it } from "vitest";
import { ensureWorkerBuild } from "../runtime/ensure-build.js";
import { cli, SMALL_MLP } from "./cli-helpers.js";

describe("par auto: the whole pipeline", () => {
  beforeAll(() => ensureWorkerBuild(), 180_000);

  it("loads, searches, lowers, trains on workers and verifies (text report)", async () => {
    const r = await cli("auto", ...SMALL_MLP, "--budget", "200", "--steps", "3", "--backend", "cpu");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    // --backend names a tfjs backend, so the engine is tfjs, and the first line says why.
    expect(r.out).toMatch(/^engine: tfjs \(--backend cpu names a TensorFlow\.js backend\)\nbackend: cpu/);
    expect(r.out).toMatch(/model mlp \(par\): \d+ ops/);
    expect(r.out).toMatch(/search: \d+ iterations/);
    expect(r.out).toMatch(/step 3 loss \d+\.\d+/);
    expect(r.out).toMatch(/verify vs one device: ok/);
  });

  it("--json: search, losses and verification; the loss falls on the cycled synthetic data", async () => {
    const r = await cli("auto", ...SMALL_MLP, "--budget", "200", "--steps", "6", "--backend", "cpu", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.verify.ok).toBe(true);
    expect(j.losses).toHaveLength(6);
    expect(j.search.best.iterationTimeMs).toBeGreaterThan(0);
    expect(j.search.baselines.dataParallel.iterationTimeMs).toBeGreaterThanOrEqual(j.search.best.iterationTimeMs);
    // Steps 5 and 6 revisit the batches of steps 1 and 2 (two batches, cycled).
    expect(j.losses[4]).toBeLessThan(j.losses[0]);
    expect(j.losses[5]).toBeLessThan(j.losses[1]);
  });

  it("bad input: a missing file is a coded error, a GPU mesh a usage error", async () => {
    const missing = await cli("auto", "models/nope.par");
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/PAR4\d{3}/);
    const gpu = await cli("auto", ...SMALL_MLP, "--mesh", "p100x16");
    expect(gpu.code).toBe(2);
    expect(gpu.err).toMatch(/no local devices/);
  });
});
