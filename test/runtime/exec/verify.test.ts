import { beforeAll, describe, expect, it } from "vitest";
import type { Instruction, OptimizerConfig, Plan } from "../../../src/plan/plan.js";
import type { TF } from "../../../src/ops/contract.js";
import { MemoryHub } from "../../../src/runtime/exec/memory-comm.js";
import { runPlanInProcess } from "../../../src/runtime/exec/run-inprocess.js";
import { tensorError, verifyPlan } from "../../../src/runtime/exec/verify.js";
import { useBackend } from "../../support/tf.js";
import { maskedMlp, meshOf, mixedStrategy, mlp, plans } from "../graphs.js";
import { lower, singleDeviceStrategy } from "../../../src/codegen/lower.js";
import type { Mesh } from "../../../src/core/mesh.js";
import { dataParallel } from "../../../src/ir/baselines.js";
import { testMesh } from "../../ir/fixtures.js";

describe("verifyPlan", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  for (const optimizer of [
    { kind: "sgd", learningRate: 0.1 },
    { kind: "momentum", learningRate: 0.1, momentum: 0.9 },
    { kind: "adam", learningRate: 0.01 },
  ] as OptimizerConfig[]) {
    it(`a mixed strategy on 3 devices matches one device (${optimizer.kind})`, async () => {
      const { plan, single } = plans(mlp(), mixedStrategy(), 3, optimizer);
      const r = await verifyPlan(plan, single, tf, { steps: 3 });
      expect(r.firstMismatch).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(r.maxRelError).toBeLessThan(1e-5);
      expect(r.losses.plan).toHaveLength(3);
    });
  }

  it("replicas of a weight stay bit-identical", async () => {
    const { plan } = plans(mlp(), mixedStrategy(), 3);
    const hub = new MemoryHub();
    const { DeviceExecutor } = await import("../../../src/runtime/exec/executor.js");
    const ex = plan.programs.map((p) => new DeviceExecutor(plan, p.device, tf, hub.comm(p.device)));
    for (let s = 0; s < 3; s++) await Promise.all(ex.map((e) => e.step(s)));
    // fc2 is replicated on devices 1 and 2.
    expect(ex[1].buffer("p:fc2.weight[0:5,0:3]")).toEqual(ex[2].buffer("p:fc2.weight[0:5,0:3]"));
  });

  it("finds a broken plan: a dropped all-reduce gives a gradient mismatch naming the param and op", async () => {
    const { plan, single } = plans(mlp(), mixedStrategy(), 3);
    const broken: Plan = JSON.parse(JSON.stringify(plan));
    for (const p of broken.programs) p.instructions = p.instructions.filter((i) => !(i.kind === "allreduce" && i.buf.startsWith("pg:fc2.weight")));
    // One step: the loss is computed before any update, so the gradient is the first to differ.
    const r = await verifyPlan(broken, single, tf, { steps: 1 });
    expect(r.ok).toBe(false);
    expect(r.firstMismatch).toMatchObject({ what: "gradient", param: "fc2.weight", op: "fc2", step: 0 });
    // With two steps the replicas diverged and the second loss differs already.
    expect((await verifyPlan(broken, single, tf, { steps: 2 })).firstMismatch).toMatchObject({ what: "loss", step: 1 });
  });

  it("finds a broken plan: a partial sum left out changes the loss", async () => {
    const { plan, single } = plans(mlp(), mixedStrategy(), 3);
    const broken: Plan = JSON.parse(JSON.stringify(plan));
    // Turn the first accumulate of a partial sum of fc1 into an overwrite.
    for (const p of broken.programs) {
      const i = p.instructions.findIndex((x): x is Extract<Instruction, { kind: "recv" }> => x.kind === "recv" && x.accumulate === true && x.dst.startsWith("v:fc1"));
      if (i >= 0) {
        p.instructions[i] = { ...(p.instructions[i] as Extract<Instruction, { kind: "recv" }>), accumulate: false };
        break;
      }
    }
    const r = await verifyPlan(broken, single, tf, { steps: 1 });
    expect(r.firstMismatch).toMatchObject({ what: "loss", step: 0 });
  });

  it("runPlanInProcess stitches full weights and gradients", async () => {
    const { single } = plans(mlp(), mixedStrategy(), 3);
    const r = await runPlanInProcess(single, tf, { steps: 1 });
    expect([...r.params.keys()]).toEqual(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    expect(r.params.get("fc1.weight")).toHaveLength(30);
    expect(r.grads.get("fc2.bias")!.some((v) => v !== 0)).toBe(true);
  });

  it("a frozen param in a data-parallel op: no gradient reported (its shards' gradients are never summed); every reported gradient and weight equals one device's", async () => {
    // Swin's attention mask: a constant added with broadcasting, imported as a frozen
    // bias_add. Each device's gradient buffer of it holds only its own samples' sum; the
    // runs once stitched one device's partial as "the whole gradient" (the zoo compared it).
    const g = maskedMlp();
    const pair = testMesh(1, 2, "pair", true) as Mesh;
    const options = { seed: 3, optimizer: { kind: "sgd" as const, learningRate: 0.1 } };
    const plan = lower(g, dataParallel(g, pair), pair, options);
    const single = lower(g, singleDeviceStrategy(g), meshOf(1), options);
    expect(plan.programs.map((p) => p.instructions.filter((i) => i.kind === "backward" && i.op === "mask").length)).toEqual([1, 1]);
    const [a, ref] = [await runPlanInProcess(plan, tf, { steps: 1 }), await runPlanInProcess(single, tf, { steps: 1 })];
    for (const r of [a, ref]) {
      expect([...r.grads.keys()]).toEqual(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
      expect([...r.params.keys()]).toContain("mask.bias");
    }
    for (const [p, want] of ref.grads) expect(tensorError(want, a.grads.get(p)!).rel, p).toBeLessThan(1e-5);
    for (const [p, want] of ref.params) expect(tensorError(want, a.params.get(p)!).rel, p).toBeLessThan(1e-5);
    expect((await verifyPlan(plan, single, tf, { steps: 2 })).ok).toBe(true);
  });

  it("tensorError is relative to the reference's largest magnitude", () => {
    expect(tensorError([10, 0.001], [10, 0.002])).toEqual({ abs: 0.001, rel: 0.0001 });
    expect(tensorError([1], [NaN]).abs).toBe(Infinity);
    expect(tensorError([1, 2], [1]).rel).toBe(Infinity);
  });
});

describe("memory comm", () => {
  it("delivers in any order and all-reduces to identical sums in group order", async () => {
    const hub = new MemoryHub();
    const [a, b, c] = [0, 1, 2].map((d) => hub.comm(d));
    const early = new Float32Array([1, 2]);
    a.send(1, "t", early);
    early[0] = 99; // send copies
    expect(await b.recv(0, "t")).toEqual(new Float32Array([1, 2]));
    const late = c.recv(1, "u");
    b.send(2, "u", new Float32Array([3]));
    expect(await late).toEqual(new Float32Array([3]));
    const xs = [new Float32Array([0.1, 1e8]), new Float32Array([0.2, 1]), new Float32Array([0.3, -1e8])];
    const sums = await Promise.all([a, b, c].map((m, i) => m.allreduce([0, 1, 2], "ar", xs[i])));
    expect(sums[1]).toEqual(sums[0]);
    expect(sums[2]).toEqual(sums[0]);
    expect(hub.pending()).toBe(0);
  });
});
