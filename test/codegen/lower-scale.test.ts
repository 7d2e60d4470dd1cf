// Structure of lowered large-scale plans (what verify cannot see: order and memory):
// sends leave when their producer finishes, programs follow the schedule, ZeRO uses the
// collectives of its stage, releases bound the live activations, and lowering is
// deterministic. Numerical agreement is the property tests' (test/runtime/scale-strategies).
import { describe, expect, it } from "vitest";
import type { Strategy } from "../../src/ir/strategy.js";
import { lower } from "../../src/codegen/lower.js";
import { checkSchedule } from "../../src/plan/schedule.js";
import type { Instruction, Plan } from "../../src/plan/plan.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { validatePlan } from "../../src/plan/io.js";
import { singleDeviceStrategy } from "../../src/codegen/lower.js";
import { verifyPlan } from "../../src/runtime/exec/verify.js";
import { useBackend } from "../support/tf.js";
import { meshOf, mlp, SGD } from "../runtime/graphs.js";

const ADAM = { kind: "adam" as const, learningRate: 0.01 };

/** mlp(16 samples): fc1, act on stage 0 (device 0), fc2, loss on stage 1 (device 1). */
function twoStages(extra: Partial<Strategy>): Strategy {
  const ops: Strategy["ops"] = {};
  for (const o of ["fc1", "act", "fc2", "loss"]) ops[o] = { degrees: o === "fc1" || o === "fc2" ? [1, 1, 1] : o === "act" ? [1, 1] : [1], devices: [o === "fc1" || o === "act" ? 0 : 1] };
  return { name: "s", model: "mlp", mesh: "cpu4", ops, ...extra };
}

const pipeline = (schedule: "gpipe" | "1f1b", microbatches: number) => ({
  microbatches,
  schedule,
  stages: [
    { first: "fc1", last: "act", devices: [0] },
    { first: "fc2", last: "loss", devices: [1] },
  ],
});

function plan(s: Strategy, optimizer = SGD): Plan {
  const p = lower(mlp(16), s, meshOf(4), { seed: 3, optimizer });
  expect(checkSchedule(p)).toBeUndefined();
  return p;
}

const program = (p: Plan, d: number): Instruction[] => p.programs.find((x) => x.device === d)!.instructions;

describe("lowering large-scale strategies", () => {
  it("v1 strategies still give v1 plans; large-scale ones v2; precision alone changes nothing", () => {
    expect(plan(twoStages({})).version).toBe(1);
    expect(plan(twoStages({ pipeline: pipeline("gpipe", 2) })).version).toBe(2);
    const bf16 = plan(twoStages({ precision: "bf16" }));
    expect(JSON.stringify(bf16)).toBe(JSON.stringify(plan(twoStages({}))));
  });

  it("1F1B: stage 0 sends each micro-batch's activation right after the forward that makes it", () => {
    const p = plan(twoStages({ pipeline: pipeline("1f1b", 4) }));
    const ins = program(p, 0);
    const forwards = ins.flatMap((x, i) => (x.kind === "forward" && x.op === "act" ? [i] : []));
    expect(forwards).toHaveLength(4);
    for (const i of forwards) {
      const next = ins[i + 1];
      expect(next.kind).toBe("send");
      expect((next as Extract<Instruction, { kind: "send" }>).src).toBe((ins[i] as Extract<Instruction, { kind: "forward" }>).outputs[0]);
    }
    // Stage 0's order: F F B F B F B B in micro-batch units (warm-up p − s − 1 = 1).
    const units = ins.filter((x) => (x.kind === "forward" && x.op === "fc1") || (x.kind === "backward" && x.op === "fc1")).map((x) => (x.kind === "forward" ? "F" : "B"));
    expect(units.join("")).toBe("FFBFBFBB");
  });

  it("releases: 1F1B keeps fewer micro-batches of stage 0's activations alive than GPipe", () => {
    const peak = (p: Plan) => {
      const ins = program(p, 0);
      const live = new Set<string>();
      let most = 0;
      for (const x of ins) {
        if (x.kind === "forward" && x.op === "fc1") live.add(x.outputs[0]);
        if (x.kind === "release") live.delete(x.buf);
        most = Math.max(most, live.size);
      }
      return most;
    };
    expect(peak(plan(twoStages({ pipeline: pipeline("gpipe", 4) })))).toBe(4);
    expect(peak(plan(twoStages({ pipeline: pipeline("1f1b", 4) })))).toBe(2);
  });

  it("ZeRO 1, 2, 3 use the collectives of their stage", () => {
    const kinds = (z: 1 | 2 | 3) => {
      const ins = program(plan(twoStages({ replicas: { count: 2, offset: 2 }, zero: z }), ADAM), 0);
      const count = (k: string) => ins.filter((x) => x.kind === k).length;
      return { allreduce: count("allreduce"), reducescatter: count("reducescatter"), allgather: count("allgather"), release: count("release") };
    };
    // fc1 has a weight and a bias on device 0, each shared with replica 1's device 2.
    expect(kinds(1)).toMatchObject({ allreduce: 2, reducescatter: 0, allgather: 2 });
    expect(kinds(2)).toMatchObject({ allreduce: 0, reducescatter: 2, allgather: 2 });
    // ZeRO-3: gathered before the forward and before the backward, none after the update.
    expect(kinds(3)).toMatchObject({ allreduce: 0, reducescatter: 2, allgather: 4 });
    const z3 = program(plan(twoStages({ replicas: { count: 2, offset: 2 }, zero: 3 }), ADAM), 0);
    const firstForward = z3.findIndex((x) => x.kind === "forward" && x.op === "fc1");
    expect(z3.slice(0, firstForward).filter((x) => x.kind === "allgather")).toHaveLength(2);
    const update = z3.find((x) => x.kind === "update") as Extract<Instruction, { kind: "update" }>;
    const buffers = plan(twoStages({ replicas: { count: 2, offset: 2 }, zero: 3 }), ADAM).programs.find((x) => x.device === 0)!.buffers;
    expect(buffers.find((b) => b.id === update.param)!.slice).toBeDefined();
    expect(buffers.find((b) => b.id === update.m)!.slice).toEqual(buffers.find((b) => b.id === update.param)!.slice);
  });

  it("a frozen param (an imported buffer, --freeze) gets no gradient sum, update or re-gathering at any ZeRO stage, and still trains as one device does", async () => {
    const tf = await useBackend("cpu");
    const g = mlp(16);
    g.frozen.add("fc1.weight");
    const s = (z: 0 | 1 | 2 | 3, pipe = false): Plan => {
      const p = lower(g, twoStages({ replicas: { count: 2, offset: 2 }, ...(z ? { zero: z } : {}), ...(pipe ? { pipeline: pipeline("1f1b", 4) } : {}) }), meshOf(4), { seed: 3, optimizer: ADAM });
      expect(checkSchedule(p)).toBeUndefined();
      const d = new Diagnostics();
      expect(validatePlan(JSON.parse(JSON.stringify(p)), "plan.json", d), d.items.map((x) => x.message).join("; ")).toBeDefined();
      return p;
    };
    const kinds = (p: Plan) => {
      const ins = program(p, 0);
      const count = (k: string) => ins.filter((x) => x.kind === k).length;
      const updated = ins.flatMap((x) => (x.kind === "update" ? [x.param] : []));
      return { allreduce: count("allreduce"), reducescatter: count("reducescatter"), allgather: count("allgather"), updated };
    };
    // Only fc1's bias is synchronised and updated on device 0 (compare the test above: 2 each).
    expect(kinds(s(0))).toMatchObject({ allreduce: 1, reducescatter: 0, allgather: 0, updated: ["p:fc1.bias[0:5]"] });
    expect(kinds(s(1))).toMatchObject({ allreduce: 1, reducescatter: 0, allgather: 1 });
    expect(kinds(s(2))).toMatchObject({ allreduce: 0, reducescatter: 1, allgather: 1 });
    // ZeRO-3 still gathers the frozen weight's (unchanging) slices before each use.
    expect(kinds(s(3))).toMatchObject({ allreduce: 0, reducescatter: 1, allgather: 4 });
    for (const p of [s(0), s(3), s(3, true)]) {
      expect(p.params.find((x) => x.tensor === "fc1.weight")!.trainable).toBe(false);
      expect(p.programs.flatMap((x) => x.instructions).some((x) => x.kind === "update" && x.param.includes("fc1.weight"))).toBe(false);
    }
    const single = lower(g, singleDeviceStrategy(g), meshOf(1), { seed: 3, optimizer: ADAM });
    for (const p of [s(2), s(3, true)]) {
      const r = await verifyPlan(p, single, tf, { steps: 2, tolerance: 1e-4 });
      expect(r.ok, JSON.stringify(r)).toBe(true);
    }
  });

  it("recomputation runs the op's forward again right before its backward", () => {
    const ins = program(plan(twoStages({ pipeline: pipeline("gpipe", 2), recompute: ["act"] })), 0);
    const acts = ins.flatMap((x) => ((x.kind === "forward" || x.kind === "backward") && x.op === "act" ? [x.kind[0]] : []));
    // GPipe with 2 micro-batches: two forwards, then per micro-batch the recomputed forward and the backward.
    expect(acts.join("")).toBe("fffbfb");
    // Each backward of act directly follows a forward of act for the same micro-batch (its dOutput arrives in between).
    ins.forEach((x, i) => {
      if (x.kind !== "backward" || x.op !== "act") return;
      const before = ins.slice(0, i).reverse().find((y) => y.kind === "forward" && y.op === "act") as Extract<Instruction, { kind: "forward" }>;
      expect(before.task).toBe(x.task);
    });
  });

  it("lowering is deterministic", () => {
    const s = twoStages({ replicas: { count: 2, offset: 2 }, pipeline: pipeline("1f1b", 4), zero: 3, recompute: ["act"] });
    expect(JSON.stringify(plan(s, ADAM))).toBe(JSON.stringify(plan(s, ADAM)));
  });
});
