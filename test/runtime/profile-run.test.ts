import { beforeAll, describe, expect, it } from "vitest";
import { lower } from "../../src/codegen/lower.js";
import { profileFromTimeline, profilePlanInRun } from "../../src/runtime/profile-run.js";
import type { MeasuredTimeline } from "../../src/runtime/run-workers.js";
import { clusterMesh, dataParallel, mlp } from "../sim/fixtures.js";
import { ensureWorkerBuild } from "./ensure-build.js";

describe("profiling in a run", () => {
  const graph = mlp(8, 16, 1);
  const plan = lower(graph, dataParallel(graph, 2), clusterMesh(1, 2), { seed: 1, optimizer: { kind: "sgd", learningRate: 0.1 } });

  /** A timeline where instruction i of device d takes (i + 1) · (d + 1) · (step + 1) ms. */
  function timeline(steps: number): MeasuredTimeline {
    return {
      devices: plan.programs.map((p) => ({
        device: p.device,
        steps: Array.from({ length: steps }, (_, step) => {
          const starts = new Float64Array(p.instructions.length);
          const ends = new Float64Array(p.instructions.length);
          p.instructions.forEach((_, i) => {
            starts[i] = 1000 * step + 10 * i;
            ends[i] = starts[i] + (i + 1) * (p.device + 1) * (step + 1);
          });
          return { step, start: 0, end: 0, starts, ends };
        }),
      })),
    };
  }

  it("turns a traced run's instruction times into measured-cost rows, pooled over devices and timed steps", () => {
    const prof = profileFromTimeline(plan, timeline(3), 1, 0);
    expect(prof.tasks.map((t) => t.opName)).toEqual(["fc0", "relu0", "head", "loss"]);
    // The lowest sample of fc0's forward: device 0's, in step 1 (step 0 is before fromStep).
    const p0 = plan.programs[0];
    const fc0 = p0.instructions.findIndex((ins) => ins.kind === "forward" && ins.op === "fc0");
    expect(prof.tasks[0].forwardMs).toBe((fc0 + 1) * 1 * 2);
    const fc0Back = p0.instructions.findIndex((ins) => ins.kind === "backward" && ins.op === "fc0");
    expect(prof.tasks[0].backwardMs).toBe((fc0Back + 1) * 1 * 2);
    // The highest: device 1's in step 2.
    const high = profileFromTimeline(plan, timeline(3), 1, 1);
    expect(high.tasks[0].forwardMs).toBe((fc0 + 1) * 2 * 3);
    // Every weight shard size's update, ascending, with the plan's optimizer.
    expect(prof.updates.map((u) => [u.optimizer, u.floats])).toEqual([["sgd", 10], ["sgd", 16], ["sgd", 160], ["sgd", 256]]);
    const upd = p0.instructions.findIndex((ins) => ins.kind === "update");
    expect(prof.updates.some((u) => u.ms === (upd + 1) * 2)).toBe(true);
    for (const t of prof.tasks) expect(t.loadedForwardMs).toBeUndefined();
  });

  it("a timeline without timed steps gives rows of zero, not NaN", () => {
    const prof = profileFromTimeline(plan, timeline(1), 1);
    for (const t of prof.tasks) expect(t.forwardMs).toBe(0);
    expect(prof.updates).toEqual([]);
  });

  describe("profilePlanInRun", () => {
    beforeAll(() => ensureWorkerBuild(), 180_000);
    it("runs the plan in workers and returns rows and the timed steps' times", async () => {
      const prof = await profilePlanInRun(plan, { backend: "cpu", warmup: 1, repeats: 2 });
      expect(prof.backend).toBe("cpu");
      expect(prof.stepTimesMs).toHaveLength(2);
      expect(prof.tasks.map((t) => t.opName)).toEqual(["fc0", "relu0", "head", "loss"]);
      for (const t of prof.tasks) expect(t.forwardMs).toBeGreaterThan(0);
      expect(prof.updates.length).toBe(4);
    }, 120_000);
  });
});
