import { beforeAll, describe, expect, it } from "vitest";
import { lower } from "../../../src/codegen/lower.js";
import type { Plan } from "../../../src/plan/plan.js";
import { deliveryDelays, profileFromTimeline, profilePlanInRun } from "../../../src/runtime/profile/run.js";
import type { MeasuredTimeline } from "../../../src/runtime/workers/run-workers.js";
import { clusterMesh, dataParallel, mlp } from "../../sim/fixtures.js";
import { ensureWorkerBuild } from "../ensure-build.js";

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
    expect(prof.slowdowns).toEqual([]);
  });

  it("records the time of each device's own work per timed step over its median step's (the interference)", () => {
    // Every instruction of step s takes (s + 1) times its step-0 time, so timed steps 1..3
    // have kernel times in the ratio 2 : 3 : 4 on both devices, whose median is step 2's.
    const prof = profileFromTimeline(plan, timeline(4), 1);
    expect(prof.slowdowns).toEqual([2 / 3, 2 / 3, 1, 1, 4 / 3, 4 / 3]);
  });

  it("measures slowdowns against the instructions' medians: a stall at a different instruction each step slows every step", () => {
    // Every instruction takes 1 ms, except that in step s the s-th instruction of the
    // device's own work (all but receives and all-reduces) stalls 4 ms more. Every median
    // stays 1 ms, every step is 4 ms longer than their sum; the median step is too.
    const ownOf = (p: (typeof plan.programs)[number]) => p.instructions.flatMap((ins, i) => (ins.kind === "recv" || ins.kind === "allreduce" ? [] : [i]));
    const stalled: MeasuredTimeline = {
      devices: plan.programs.map((p) => ({
        device: p.device,
        steps: Array.from({ length: 4 }, (_, step) => {
          const starts = new Float64Array(p.instructions.length);
          const ends = new Float64Array(p.instructions.length);
          p.instructions.forEach((_, i) => {
            starts[i] = 1000 * step + 10 * i;
            ends[i] = starts[i] + 1 + (i === ownOf(p)[step] ? 4 : 0);
          });
          return { step, start: 0, end: 0, starts, ends };
        }),
      })),
    };
    const prof = profileFromTimeline(plan, stalled, 0);
    const expected = plan.programs.flatMap((p) => Array(4).fill((ownOf(p).length + 4) / ownOf(p).length));
    expect(prof.slowdowns).toEqual(expected.sort((a, b) => a - b));
  });

  it("measures each message's delivery delay: from its data being there to the receive's end", () => {
    const region = { shape: [2], offset: [0] };
    const twoMessages = {
      programs: [
        { device: 0, instructions: [{ kind: "send", to: 1, tag: "a", src: "x", region }, { kind: "send", to: 1, tag: "a", src: "x", region }] },
        { device: 1, instructions: [{ kind: "recv", from: 0, tag: "a", dst: "y", region }, { kind: "recv", from: 0, tag: "a", dst: "y", region }] },
      ],
    } as unknown as Plan;
    const at = (step: number, starts: number[], ends: number[]) => ({ step, start: 0, end: 0, starts: Float64Array.from(starts), ends: Float64Array.from(ends) });
    const run: MeasuredTimeline = {
      devices: [
        { device: 0, steps: [at(0, [0, 1], [1, 2]), at(1, [10, 11], [11, 12])] },
        // Step 1: the first receive waits from 10 until its data is there at 11 and ends at
        // 11.25; the second arrives at 13, after its data (12), and takes 0.5; step 0 is not timed.
        { device: 1, steps: [at(0, [0, 1], [9, 9]), at(1, [10, 13], [11.25, 13.5])] },
      ],
    };
    expect(deliveryDelays(twoMessages, run, 1)).toEqual([0.25, 0.5]);
    // Sends and receives of one pair and tag match first to first, second to second.
    expect(deliveryDelays(twoMessages, run, 0)).toEqual([0.25, 0.5, 7, 8]);
    // A receive that ends before its send returns (a hand-off taken early) counts 0.
    const early: MeasuredTimeline = { devices: [run.devices[0], { device: 1, steps: [at(1, [10, 10.5], [10.5, 11])] }] };
    expect(deliveryDelays(twoMessages, early, 1)).toEqual([0, 0]);
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
      // One slowdown per device and timed step, around 1.
      expect(prof.slowdowns).toHaveLength(4);
      expect(prof.slowdowns!.every((x) => x > 0)).toBe(true);
    }, 120_000);
  });
});
