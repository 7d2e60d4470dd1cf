import { describe, expect, it } from "vitest";
import { lower, singleDeviceStrategy } from "../../src/codegen/lower.js";
import type { Instruction, Plan } from "../../src/plan/plan.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { validatePlan } from "../../src/plan/io.js";
import { checkSchedule } from "../../src/plan/schedule.js";
import { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { addOp, meshOf, mlp, SGD, tt } from "../runtime/graphs.js";
import { randomCase } from "../runtime/random-cases.js";

function prog(plan: Plan, device: number): Instruction[] {
  return plan.programs.find((p) => p.device === device)!.instructions;
}
const kinds = (ins: Instruction[]) => ins.map((i) => i.kind);
const count = (plan: Plan, kind: Instruction["kind"]) => plan.programs.reduce((n, p) => n + p.instructions.filter((i) => i.kind === kind).length, 0);

/** x[4, 3] → linear(2) → softmax_cross_entropy. */
function tiny(): Graph {
  const g = new Graph("tiny");
  g.addInput("x", tt([4, 3]));
  g.addInput("labels", tt([4], "i32"));
  const y = addOp(g, "fc", "linear", ["x"], { out: 2 });
  addOp(g, "loss", "softmax_cross_entropy", [y, "labels"]);
  return g;
}

function strategy(g: Graph, ops: Strategy["ops"]): Strategy {
  return { name: "test", model: g.name, mesh: "cpu2", ops };
}

describe("lower", () => {
  it("2-op model, data parallel on 2 devices: the hand-checked program", () => {
    const g = tiny();
    const plan = lower(g, strategy(g, { fc: { degrees: [2, 1, 1], devices: [0, 1] }, loss: { degrees: [2], devices: [0, 1] } }), meshOf(2), { seed: 1, optimizer: SGD });
    for (const d of [0, 1]) {
      expect(kinds(prog(plan, d))).toEqual(["feed", "forward", "feed", "forward", "loss", "fill", "zero", "backward", "zero", "zero", "backward", "allreduce", "update", "allreduce", "update"]);
    }
    const p1 = prog(plan, 1);
    expect(p1[0]).toEqual({ kind: "feed", buf: "v:x[2:4,0:3]" });
    expect(p1[1]).toMatchObject({ kind: "forward", op: "fc", task: 1, box: { lo: [2, 0, 0], hi: [4, 2, 3] }, inputs: ["v:x[2:4,0:3]"], outputs: ["v:fc[2:4,0:2]"] });
    // The loss task reads the linear's output buffer directly (same device, same region).
    expect(p1[3]).toMatchObject({ kind: "forward", op: "loss", inputs: ["v:fc[2:4,0:2]", "v:labels[2:4]"] });
    expect(p1[7]).toMatchObject({ kind: "backward", op: "loss", dOutputs: ["g:loss[]@one"], dInputs: ["g:fc[2:4,0:2]", null] });
    expect(p1[10]).toMatchObject({ kind: "backward", op: "fc", dOutputs: ["g:fc[2:4,0:2]"], dInputs: [null], dParams: ["pg:fc.weight[0:3,0:2]", "pg:fc.bias[0:2]"] });
    expect(p1[11]).toMatchObject({ kind: "allreduce", group: [0, 1], buf: "pg:fc.weight[0:3,0:2]" });
    expect(p1[12]).toEqual({ kind: "update", param: "p:fc.weight[0:3,0:2]", grad: "pg:fc.weight[0:3,0:2]" });
    expect(plan.losses).toEqual(["loss"]);
    expect(plan.tensors.find((t) => t.id === "labels")!.feed).toEqual({ kind: "classes", classes: 2, teacher: "x" });
    expect(checkSchedule(plan)).toBeUndefined();
  });

  it("a data-parallel MLP all-reduces every weight gradient and moves no activations", () => {
    const g = mlp();
    const ops: Strategy["ops"] = {};
    for (const o of g.topoOrder()) ops[o.name] = { degrees: o.sig.space.map((_, i) => (i === 0 ? 2 : 1)), devices: [0, 1] };
    const plan = lower(g, strategy(g, ops), meshOf(2), { seed: 1, optimizer: { kind: "adam", learningRate: 0.01 } });
    expect(count(plan, "send")).toBe(0);
    expect(count(plan, "recv")).toBe(0);
    expect(count(plan, "allreduce")).toBe(2 * 4); // fc1.weight, fc1.bias, fc2.weight, fc2.bias on both devices
    const ar = prog(plan, 0).filter((i): i is Extract<Instruction, { kind: "allreduce" }> => i.kind === "allreduce");
    expect(ar.map((a) => a.buf).sort()).toEqual(["pg:fc1.bias[0:5]", "pg:fc1.weight[0:6,0:5]", "pg:fc2.bias[0:3]", "pg:fc2.weight[0:5,0:3]"]);
    // Adam: each update has both state buffers.
    expect(prog(plan, 0).filter((i) => i.kind === "update").every((u) => "m" in u && "v" in u)).toBe(true);
  });

  it("a channel-split linear followed by a sample-split relu: the expected transfers", () => {
    const g = mlp(); // x[8, 6] → fc1(5) → act → fc2(3) → loss
    const plan = lower(
      g,
      strategy(g, {
        fc1: { degrees: [1, 2, 1], devices: [0, 1] }, // columns 0:3 on 0, 3:5 on 1
        act: { degrees: [2, 1], devices: [0, 1] }, // rows 0:4 on 0, 4:8 on 1
        fc2: { degrees: [2, 1, 1], devices: [0, 1] },
        loss: { degrees: [2], devices: [0, 1] },
      }),
      meshOf(2),
      { seed: 1, optimizer: SGD },
    );
    const p0 = prog(plan, 0);
    const p1 = prog(plan, 1);
    const fwd0 = p0.slice(0, p0.findIndex((i) => i.kind === "forward" && i.op === "act"));
    expect(fwd0.filter((i) => i.kind === "copy")).toEqual([{ kind: "copy", src: "v:fc1[0:8,0:3]", dst: "v:fc1[0:4,0:5]", region: { lo: [0, 0], hi: [4, 3] } }]);
    expect(fwd0.filter((i) => i.kind === "recv")).toMatchObject([{ from: 1, dst: "v:fc1[0:4,0:5]", region: { lo: [0, 3], hi: [4, 5] } }]);
    // Device 0's send to device 1 goes out before its own relu task: every task's inputs
    // move before any of the op's kernels run, so no device's kernel holds up a peer.
    expect(fwd0.filter((i) => i.kind === "send" && i.src.startsWith("v:fc1"))).toMatchObject([{ to: 1, src: "v:fc1[0:8,0:3]", region: { lo: [4, 0], hi: [8, 3] } }]);
    // And before it waits for its own half from device 1: two devices exchanging halves
    // both send first, rather than taking turns.
    expect(fwd0.findIndex((i) => i.kind === "send")).toBeLessThan(fwd0.findIndex((i) => i.kind === "recv"));
    const fwd1 = p1.slice(0, p1.findIndex((i) => i.kind === "forward" && i.op === "act"));
    expect(fwd1.filter((i) => i.kind === "send")).toMatchObject([{ to: 0, src: "v:fc1[0:8,3:5]", region: { lo: [0, 3], hi: [4, 5] } }]);
    expect(fwd1.filter((i) => i.kind === "recv")).toMatchObject([{ from: 0, dst: "v:fc1[4:8,0:5]", region: { lo: [4, 0], hi: [8, 3] } }]);
    // Each device reads the whole x (fc1's in_channel and sample are unsplit): two feeds of all of x.
    expect(p0.filter((i) => i.kind === "feed")[0]).toEqual({ kind: "feed", buf: "v:x[0:8,0:6]" });
    // fc1's weight shards are disjoint: no all-reduce for fc1; fc2 is replicated: two.
    const ar = p0.filter((i): i is Extract<Instruction, { kind: "allreduce" }> => i.kind === "allreduce").map((a) => a.buf);
    expect(ar).toEqual(["pg:fc2.weight[0:5,0:3]", "pg:fc2.bias[0:3]"]);
    // Backward: the owner of fc1[0:8, 0:3] gathers both halves of the relu's input gradient.
    const gather = p0.filter((i) => (i.kind === "recv" || i.kind === "copy") && i.accumulate && i.dst === "g:fc1[0:8,0:3]");
    expect(gather).toMatchObject([
      { kind: "copy", src: "g:fc1[0:4,0:5]", region: { lo: [0, 0], hi: [4, 3] } },
      { kind: "recv", from: 1, region: { lo: [4, 0], hi: [8, 3] } },
    ]);
    expect(checkSchedule(plan)).toBeUndefined();
  });

  it("a split reduction dim gives partial sums reduced on the owner, and the dOutput sent back", () => {
    const g = tiny();
    const plan = lower(g, strategy(g, { fc: { degrees: [1, 1, 2], devices: [0, 1] }, loss: { degrees: [1], devices: [0] } }), meshOf(2), { seed: 1, optimizer: SGD });
    const p0 = prog(plan, 0);
    const p1 = prog(plan, 1);
    expect(p1[1]).toMatchObject({ kind: "forward", outputs: ["v:fc[0:4,0:2]#t1"] });
    expect(p1[2]).toMatchObject({ kind: "send", to: 0, src: "v:fc[0:4,0:2]#t1" });
    expect(p0.slice(2, 5)).toMatchObject([
      { kind: "zero", buf: "v:fc[0:4,0:2]" },
      { kind: "copy", src: "v:fc[0:4,0:2]#t0", dst: "v:fc[0:4,0:2]", accumulate: true },
      { kind: "recv", from: 1, dst: "v:fc[0:4,0:2]", accumulate: true },
    ]);
    expect(p1.find((i) => i.kind === "recv")).toMatchObject({ from: 0, dst: "g:fc[0:4,0:2]@b" });
    expect(p1.find((i) => i.kind === "backward")).toMatchObject({ dOutputs: ["g:fc[0:4,0:2]@b"], dParams: ["pg:fc.weight[2:3,0:2]", "pg:fc.bias[0:2]"] });
    // Disjoint weight shards, a shared bias: only the bias is all-reduced.
    expect(p1.filter((i) => i.kind === "allreduce")).toMatchObject([{ buf: "pg:fc.bias[0:2]", group: [0, 1] }]);
    expect(checkSchedule(plan)).toBeUndefined();
  });

  it("the single-device strategy is one task per op on device 0", () => {
    const g = mlp();
    const s = singleDeviceStrategy(g);
    expect(Object.values(s.ops).every((c) => c.devices.length === 1 && c.devices[0] === 0 && c.degrees.every((d) => d === 1))).toBe(true);
    const plan = lower(g, s, meshOf(1), { seed: 3, optimizer: SGD });
    expect(count(plan, "send") + count(plan, "allreduce") + count(plan, "copy")).toBe(0);
  });

  it("is deterministic, validates, and never deadlocks (random graphs and strategies)", () => {
    for (let i = 1; i <= 40; i++) {
      const c = randomCase(i * 31, (["mlp", "seq", "conv"] as const)[i % 3], i * 17, 1 + (i % 4));
      const a = lower(c.graph, c.strategy, meshOf(c.devices), { seed: i, optimizer: SGD });
      const b = lower(c.graph, c.strategy, meshOf(c.devices), { seed: i, optimizer: SGD });
      expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      expect(checkSchedule(a)).toBeUndefined();
      const diagnostics = new Diagnostics();
      expect(validatePlan(JSON.parse(JSON.stringify(a)), "p.json", diagnostics)).toBeDefined();
      expect(diagnostics.items).toEqual([]);
    }
  });

  it("checkSchedule finds a deadlock: each device receives before it sends", () => {
    const g = tiny();
    const plan = lower(g, strategy(g, { fc: { degrees: [1, 1, 2], devices: [0, 1] }, loss: { degrees: [1], devices: [1] } }), meshOf(2), { seed: 1, optimizer: SGD });
    expect(checkSchedule(plan)).toBeUndefined();
    // Move device 1's first send to the end of its program: device 0 then waits forever.
    const p1 = plan.programs[1].instructions;
    const k = p1.findIndex((i) => i.kind === "send");
    p1.push(...p1.splice(k, 1));
    expect(checkSchedule(plan)).toMatch(/deadlock: device 0 waits/);
  });

  it("rejects an invalid strategy with every problem listed", () => {
    const g = tiny();
    expect(() => lower(g, strategy(g, { fc: { degrees: [5, 1, 1], devices: [0] } }), meshOf(2), { seed: 1, optimizer: SGD })).toThrow(/degree 5 for dim sample.*op loss has no config/);
  });
});
