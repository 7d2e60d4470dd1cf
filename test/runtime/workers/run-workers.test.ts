// Device workers: a 2-device data-parallel plan on workers computes exactly what the
// in-process runtime computes; faults anywhere stop the run within seconds, name the
// device, instruction and op, and leave no worker behind.
import { beforeAll, describe, expect, it } from "vitest";
import { ParError } from "../../../src/core/diagnostics.js";
import type { Plan } from "../../../src/plan/plan.js";
import { sampleDim } from "../../../src/ir/baselines.js";
import type { Graph } from "../../../src/ir/graph.js";
import type { Strategy } from "../../../src/ir/strategy.js";
import { runPlanInProcess } from "../../../src/runtime/exec/run-inprocess.js";
import { liveWorkerCount, runPlan } from "../../../src/runtime/workers/run-workers.js";
import { useBackend } from "../../support/tf.js";
import { ensureWorkerBuild } from "../ensure-build.js";
import { mlp, pipelineStrategy, plans } from "../graphs.js";

function dp(g: Graph, n: number): Strategy {
  const ops: Strategy["ops"] = {};
  for (const o of g.topoOrder()) {
    const degrees = o.sig.space.map(() => 1);
    const s = sampleDim(o);
    if (s >= 0) degrees[s] = n;
    ops[o.name] = { degrees, devices: Array.from({ length: degrees.reduce((a, b) => a * b, 1) }, (_, i) => i) };
  }
  return { name: "dp", model: g.name, mesh: `cpu${n}`, ops };
}

// process.getActiveResourcesInfo() does not list worker threads; runPlan counts them.
const workerHandles = liveWorkerCount;

async function expectFailure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ParError);
    const d = (e as ParError).diagnostics[0];
    return { code: d.code, message: d.message };
  }
  throw new Error("the run did not fail");
}

describe("runPlan (worker threads)", () => {
  let plan: Plan;
  beforeAll(() => {
    ensureWorkerBuild();
    plan = plans(mlp(8, 6, 5, 3), dp(mlp(8, 6, 5, 3), 2), 2).plan;
  }, 180_000);

  it("gives the in-process losses bit for bit, with step times and an instruction timeline", async () => {
    let during = 0;
    const before = workerHandles();
    const r = await runPlan(plan, { steps: 3, backend: "cpu", trace: true, onStep: () => (during = Math.max(during, workerHandles())) });
    expect(during).toBe(2);
    const tf = await useBackend("cpu");
    const ref = await runPlanInProcess(plan, tf, { steps: 3 });
    expect(r.backend).toBe("cpu");
    expect(r.losses).toEqual(ref.losses);
    expect(r.stepTimesMs).toHaveLength(3);
    for (const d of r.timeline.devices) {
      const n = plan.programs.find((p) => p.device === d.device)!.instructions.length;
      expect(d.steps).toHaveLength(3);
      const s = d.steps[2];
      expect(s.starts).toHaveLength(n);
      for (let i = 0; i < n; i++) expect(s.ends![i]).toBeGreaterThanOrEqual(s.starts![i]);
    }
    expect(workerHandles()).toBe(before);
  });

  it("with every message handed off over the ports (whole activations adopted) and every all-reduce on the shared arena, or handed-off ring all-reduces, the in-process losses bit for bit", async () => {
    const tf = await useBackend("cpu");
    const g = mlp(8, 6, 5, 3);
    const pipeline = pipelineStrategy(g);
    for (const [p, sharedAllreduceBytes] of [[plan, 0], [plan, Infinity], [plans(g, pipeline, 2).plan, 0]] as const) {
      const r = await runPlan(p, { steps: 3, backend: "cpu", handoffBytes: 0, sharedAllreduceBytes });
      const ref = await runPlanInProcess(p, tf, { steps: 3 });
      expect(r.losses).toEqual(ref.losses);
    }
    expect(workerHandles()).toBe(0);
  });

  it("a version-2 plan (replicas of a 1F1B pipeline, ZeRO-3, recomputation: slices, reduce-scatters, all-gathers, releases) gives the in-process losses bit for bit", async () => {
    const g = mlp(16, 6, 5, 3);
    const s: Strategy = {
      ...pipelineStrategy(g),
      mesh: "cpu4",
      replicas: { count: 2, offset: 2 },
      pipeline: { microbatches: 4, schedule: "1f1b", stages: [{ first: "fc1", last: "act", devices: [0] }, { first: "fc2", last: "loss", devices: [1] }] },
      zero: 3,
      recompute: ["act"],
    };
    const v2 = plans(g, s, 4, { kind: "adam", learningRate: 0.01 }).plan;
    expect(v2.version).toBe(2);
    expect(v2.programs[0].instructions.some((i) => i.kind === "reducescatter")).toBe(true);
    const r = await runPlan(v2, { steps: 2, backend: "cpu" });
    const ref = await runPlanInProcess(v2, await useBackend("cpu"), { steps: 2 });
    expect(r.losses).toEqual(ref.losses);
  }, 120_000);

  it("a bad hand-off threshold is refused before any worker starts", async () => {
    await expect(runPlan(plan, { steps: 1, backend: "cpu", handoffBytes: -5 })).rejects.toThrow(/handoffBytes must be a non-negative number of bytes, got -5/);
    expect(workerHandles()).toBe(0);
  });

  it("an instruction that throws stops every device within 5 s, naming device, instruction and op", async () => {
    const fc = plan.programs[1].instructions.findIndex((i) => i.kind === "forward");
    // The fault fires early in step 1: time from the end of step 0 to the rejection.
    let t = 0;
    const f = await expectFailure(runPlan(plan, { steps: 3, backend: "cpu", onStep: () => (t = Date.now()), faultInjection: { device: 1, instruction: fc, step: 1, kind: "throw" } }));
    expect(t).toBeGreaterThan(0);
    expect(Date.now() - t).toBeLessThan(5_000);
    expect(f.code).toBe("PAR5101");
    expect(f.message).toMatch(new RegExp(`device 1, step 1, instruction ${fc} \\(forward fc1 task 1\\), op fc1: injected fault`));
    expect(workerHandles()).toBe(0);
  });

  it("a worker that exits is reported with where it was; no worker is left", async () => {
    const f = await expectFailure(runPlan(plan, { steps: 2, backend: "cpu", faultInjection: { device: 0, instruction: 2, step: 1, kind: "exit" } }));
    expect(f.code).toBe("PAR5102");
    expect(f.message).toMatch(/device 0, step 1, instruction 2 .*exited with code 7/);
    expect(workerHandles()).toBe(0);
  });

  it("a device stuck in a kernel makes its peer time out, and the error names both", async () => {
    const bw = plan.programs[1].instructions.findIndex((i) => i.kind === "backward");
    const f = await expectFailure(runPlan(plan, { steps: 1, backend: "cpu", timeoutMs: 1500, faultInjection: { device: 1, instruction: bw, kind: "hang", hangMs: 60_000 } }));
    expect(f.code).toBe("PAR5103");
    expect(f.message).toMatch(/device 0, step 0, instruction \d+ \(allreduce/);
    expect(f.message).toMatch(new RegExp(`meanwhile device 1, step 0, instruction ${bw} \\(backward`));
    expect(workerHandles()).toBe(0);
  });
});
