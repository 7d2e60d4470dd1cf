import { beforeAll, describe, expect, it } from "vitest";
import { lower } from "../../../src/codegen/lower.js";
import { ParError } from "../../../src/core/diagnostics.js";
import { initBackend } from "../../../src/runtime/backend.js";
import { profilePlanInWorker, profilePlanUnderLoad } from "../../../src/runtime/profile/load.js";
import { dataParallel, mlp, clusterMesh } from "../../sim/fixtures.js";
import { ensureWorkerBuild } from "../ensure-build.js";

describe("profilePlanUnderLoad", () => {
  beforeAll(() => ensureWorkerBuild(), 180_000);
  const graph = mlp(8, 16, 1);
  const mesh = clusterMesh(1, 2);
  const plan = lower(graph, dataParallel(graph, 2), mesh, { seed: 1, optimizer: { kind: "sgd", learningRate: 0.1 } });

  it("measures each task alone and under load, in plan order", async () => {
    const { tf } = await initBackend("cpu");
    const { tasks, updates } = await profilePlanUnderLoad(plan, tf, "cpu", 1, { warmup: 0, repeats: 1 });
    expect(tasks.map((t) => t.opName)).toEqual(["fc0", "relu0", "head", "loss"]);
    // The updates of the plan's weight shards (every device holds whole weights under dp).
    expect(updates.map((u) => [u.optimizer, u.floats])).toEqual([["sgd", 10], ["sgd", 16], ["sgd", 160], ["sgd", 256]]);
    for (const t of tasks) {
      expect(t.forwardMs).toBeGreaterThan(0);
      expect(t.loadedForwardMs).toBeGreaterThan(0);
      expect(t.loadedBackwardMs).toBeGreaterThan(0);
    }
    // No load: the alone figures only.
    const alone = await profilePlanUnderLoad(plan, tf, "cpu", 0, { warmup: 0, repeats: 1 });
    expect(alone.tasks.every((t) => t.loadedForwardMs === undefined)).toBe(true);
  }, 120_000);

  it("PAR5130 when the load workers cannot start their backend", async () => {
    const { tf } = await initBackend("cpu");
    const err = await profilePlanUnderLoad(plan, tf, "tensorflow", 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParError);
    expect((err as ParError).diagnostics[0].code).toBe("PAR5130");
    expect((err as ParError).diagnostics[0].hint).toMatch(/--load 0/);
  }, 120_000);

  it("profilePlanInWorker: the same rows from a fresh worker thread, load included", async () => {
    const { tasks, updates } = await profilePlanInWorker(plan, "cpu", 1, { warmup: 0, repeats: 1 });
    expect(tasks.map((t) => t.opName)).toEqual(["fc0", "relu0", "head", "loss"]);
    expect(updates.map((u) => u.floats)).toEqual([10, 16, 160, 256]);
    for (const t of tasks) {
      expect(t.forwardMs).toBeGreaterThan(0);
      expect(t.loadedForwardMs).toBeGreaterThan(0);
    }
  }, 120_000);

  it("profilePlanInWorker: a backend that cannot start is a coded error, not a hang", async () => {
    const err = await profilePlanInWorker(plan, "tensorflow", 0, { warmup: 0, repeats: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParError);
    expect((err as ParError).diagnostics[0].code).toBe("PAR5100");
  }, 120_000);
});
