import { describe, expect, it } from "vitest";
import { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import type { SimCosts } from "../../src/sim/costs.js";
import { KIND_ALLREDUCE, KIND_BWD, KIND_FWD, KIND_PSUM, KIND_UPDATE, KIND_XFER } from "../../src/sim/task-kinds.js";
import { TaskGraphBuilder } from "../../src/sim/taskgraph.js";
import { addOp, clusterMesh, f32 } from "./fixtures.js";

const unit: SimCosts = {
  compute: () => ({ forward: 1, backward: 2 }),
  partialSum: () => 0.1,
  transfer: (b) => b * 1e-9,
  allReduce: () => 1,
  update: () => 0.1,
};

function kinds(b: TaskGraphBuilder): Record<string, number> {
  const out: Record<string, number> = {};
  const names = ["fwd", "bwd", "xfer", "reduce", "allreduce", "update"];
  for (const s of b.store.slots()) out[names[b.store.kind[s]]] = (out[names[b.store.kind[s]]] ?? 0) + 1;
  return out;
}

function chain(): Graph {
  const g = new Graph("c");
  g.addInput("x", f32(8, 6));
  addOp(g, "fc", "linear", ["x"], { out: 4, bias: true });
  addOp(g, "r", "relu", ["fc"]);
  return g;
}

describe("task graph construction", () => {
  it("aligned data parallel: compute tasks, no transfers, one all-reduce per weight shard group", () => {
    const g = chain();
    const s: Strategy = { name: "dp", model: "c", mesh: "m", ops: { fc: { degrees: [2, 1, 1], devices: [0, 1] }, r: { degrees: [2, 1], devices: [0, 1] } } };
    const b = new TaskGraphBuilder(g, clusterMesh(1, 2), unit);
    b.buildAll(s);
    expect(kinds(b)).toEqual({ fwd: 4, bwd: 4, allreduce: 2, update: 4 });
    // fc fwd [i] → r fwd [i] directly (same device); r bwd [i] → fc bwd [i].
    const st = b.store;
    const fwdR0 = st.slots().find((x) => st.kind[x] === KIND_FWD && b.ops[st.op[x]].node.name === "r" && st.idx[x] === 0)!;
    const pred = st.predsOf(fwdR0).map((p) => [b.ops[st.op[p]].node.name, st.kind[p], st.idx[p]]);
    expect(pred).toEqual([["fc", KIND_FWD, 0]]);
  });

  it("a transfer per overlapping producer/consumer pair on different devices, and its reverse for the gradient", () => {
    const g = chain();
    // fc split by samples over 0,1; relu split by channels over 2,3: every relu task reads from both fc tasks.
    const s: Strategy = { name: "x", model: "c", mesh: "m", ops: { fc: { degrees: [2, 1, 1], devices: [0, 1] }, r: { degrees: [1, 2], devices: [2, 3] } } };
    const b = new TaskGraphBuilder(g, clusterMesh(1, 4), unit);
    b.buildAll(s);
    const st = b.store;
    const xfers = st.slots().filter((x) => st.kind[x] === KIND_XFER);
    expect(xfers.length).toBe(8); // 4 pairs × (forward, backward)
    for (const x of xfers) expect(st.bytes[x]).toBe(4 * 4 * 2); // a 4×2 block of f32
    const pairs = xfers.map((x) => `${st.src[x]}→${st.dst[x]}`).sort();
    expect(pairs).toEqual(["0→2", "0→3", "1→2", "1→3", "2→0", "2→1", "3→0", "3→1"]);
  });

  it("split reduction dims: partial-sum transfers to the owner, an add there, a gradient broadcast back", () => {
    const g = chain();
    const s: Strategy = { name: "x", model: "c", mesh: "m", ops: { fc: { degrees: [1, 1, 3], devices: [0, 1, 1] }, r: { degrees: [1, 1], devices: [0] } } };
    const b = new TaskGraphBuilder(g, clusterMesh(1, 2), unit);
    b.buildAll(s);
    const k = kinds(b);
    expect(k.reduce).toBe(1);
    // Two partials on device 1 go to the owner on device 0; one gradient broadcast comes back
    // (both partial tasks on device 1 read it, as they share the lowered plan's `@b` buffer).
    expect(k.xfer).toBe(3);
    // W is split by rows (in_channel): 3 disjoint shards, no all-reduce; the bias (channel only)
    // is held whole by all three tasks: one all-reduce over devices 0 and 1.
    expect(k.allreduce).toBe(1);
    const st = b.store;
    const add = st.slots().find((x) => st.kind[x] === KIND_PSUM)!;
    expect(st.predsOf(add).length).toBe(3);
    expect(st.slots().filter((x) => st.kind[x] === KIND_UPDATE).length).toBe(3 + 2);
    expect(st.slots().some((x) => st.kind[x] === KIND_ALLREDUCE && st.idx[x] === 1)).toBe(true);
    expect(st.slots().filter((x) => st.kind[x] === KIND_BWD).length).toBe(4);
  });

  it("a data-parallel loss moves nothing: each task reports its share of the loss (as the lowered plan does)", () => {
    const g = chain();
    g.addInput("labels", { dtype: "i32", shape: [8], dims: ["d0"] });
    addOp(g, "loss", "softmax_cross_entropy", ["r", "labels"]);
    const s: Strategy = {
      name: "dp", model: "c", mesh: "m",
      ops: { fc: { degrees: [2, 1, 1], devices: [0, 1] }, r: { degrees: [2, 1], devices: [0, 1] }, loss: { degrees: [2], devices: [0, 1] } },
    };
    const b = new TaskGraphBuilder(g, clusterMesh(1, 2), unit);
    b.buildAll(s);
    expect(kinds(b)).toEqual({ fwd: 6, bwd: 6, allreduce: 2, update: 4 });
  });

  it("readers on one device fetch a remote region once and send its gradient back once, after all of them", () => {
    const g = chain();
    addOp(g, "r2", "relu", ["fc"]);
    const s: Strategy = {
      name: "x", model: "c", mesh: "m",
      ops: { fc: { degrees: [1, 1, 1], devices: [0] }, r: { degrees: [1, 1], devices: [1] }, r2: { degrees: [1, 1], devices: [1] } },
    };
    const b = new TaskGraphBuilder(g, clusterMesh(1, 2), unit);
    b.buildAll(s);
    b.checkOrder();
    const st = b.store;
    const xfers = st.slots().filter((x) => st.kind[x] === KIND_XFER);
    expect(xfers.map((x) => `${st.src[x]}→${st.dst[x]}`)).toEqual(["0→1", "1→0"]);
    const name = (t: number) => `${b.ops[st.op[t]].node.name} ${st.kind[t]}`;
    // Both relus wait for the one forward transfer; the gradient transfer waits for both bwd tasks.
    const fwdOf = (op: string) => st.slots().find((x) => st.kind[x] === KIND_FWD && b.ops[st.op[x]].node.name === op)!;
    expect(st.predsOf(fwdOf("r"))).toEqual([xfers[0]]);
    expect(st.predsOf(fwdOf("r2"))).toEqual([xfers[0]]);
    expect(st.predsOf(xfers[1]).map(name).sort()).toEqual([`r ${KIND_BWD}`, `r2 ${KIND_BWD}`]);
  });

  it("setOp replaces only the op's tasks and the transfers on its edges", () => {
    const g = chain();
    const s: Strategy = { name: "dp", model: "c", mesh: "m", ops: { fc: { degrees: [2, 1, 1], devices: [0, 1] }, r: { degrees: [2, 1], devices: [0, 1] } } };
    const b = new TaskGraphBuilder(g, clusterMesh(1, 2), unit);
    b.buildAll(s);
    const fcFwd = b.store.slots().filter((x) => b.store.kind[x] === KIND_FWD && b.ops[b.store.op[x]].node.name === "fc");
    b.setOp("r", { degrees: [1, 1], devices: [1] });
    // fc's tasks survive; r now reads fc[0] from device 0 → one transfer each way.
    for (const x of fcFwd) expect(b.store.alive[x]).toBe(1);
    expect(kinds(b)).toEqual({ fwd: 3, bwd: 3, xfer: 2, allreduce: 2, update: 4 });
    expect(b.config("r")).toEqual({ degrees: [1, 1], devices: [1] });
  });
});
