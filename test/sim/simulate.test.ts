import { describe, expect, it } from "vitest";
import type { OpNode } from "../../src/ir/graph.js";
import { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { CostModel } from "../../src/cost/compute.js";
import { criticalPath, DeltaSimulator, simulate, type Timeline } from "../../src/sim/simulate.js";
import type { SimCosts } from "../../src/sim/costs.js";
import { addOp, clusterMesh, dataParallel, f32, mlp, singleDevice } from "./fixtures.js";

/** Round numbers (exact in binary) so that makespans can be checked with toBe. */
function fakeCosts(over: Partial<Record<"fwd" | "bwd" | "xfer" | "psum" | "ar" | "upd", number>> = {}): SimCosts {
  const c = { fwd: 1, bwd: 2, xfer: 0.5, psum: 0.125, ar: 3, upd: 0.25, ...over };
  return {
    compute: (_op: OpNode) => ({ forward: c.fwd, backward: c.bwd }),
    partialSum: () => c.psum,
    transfer: (_b, s, d) => (s === d ? 0 : c.xfer),
    allReduce: () => c.ar,
    update: () => c.upd,
  };
}

const byName = (t: Timeline) => new Map(t.tasks.map((x) => [x.name, x]));

describe("simulate: hand-computed makespans", () => {
  it("a 2-op chain on 2 devices with one transfer each way", () => {
    const g = new Graph("chain");
    g.addInput("x", f32(4, 4));
    addOp(g, "r1", "relu", ["x"]);
    addOp(g, "r2", "relu", ["r1"]);
    const s: Strategy = { name: "s", model: "chain", mesh: "m", ops: { r1: { degrees: [1, 1], devices: [0] }, r2: { degrees: [1, 1], devices: [1] } } };
    const t = simulate(g, clusterMesh(1, 2), s, fakeCosts());
    // fwd r1 [0,1] → xfer 0→1 [1,1.5] → fwd r2 [1.5,2.5] → bwd r2 [2.5,4.5] → xfer 1→0 [4.5,5] → bwd r1 [5,7]
    expect(t.iterationTime).toBe(7);
    const m = byName(t);
    expect([m.get("r2 fwd [0]")!.start, m.get("r2 fwd [0]")!.end]).toEqual([1.5, 2.5]);
    expect([m.get("r1 bwd [0]")!.start, m.get("r1 bwd [0]")!.end]).toEqual([5, 7]);
    expect(t.tasks.filter((x) => x.kind === "xfer").map((x) => x.name).sort()).toEqual(["xfer 0→1", "xfer 1→0"]);
    expect(t.computeTime).toBe(6);
    expect(t.commTime).toBe(1);
  });

  it("data parallel linear: both replicas, then one all-reduce, then an update per device", () => {
    const g = new Graph("dp");
    g.addInput("x", f32(4, 8));
    addOp(g, "fc", "linear", ["x"], { out: 2, bias: false });
    const s: Strategy = { name: "s", model: "dp", mesh: "m", ops: { fc: { degrees: [2, 1, 1], devices: [0, 1] } } };
    const t = simulate(g, clusterMesh(1, 2), s, fakeCosts());
    // fwd [0,1], bwd [1,3] on both devices; all-reduce [3,6]; updates [6,6.25].
    expect(t.iterationTime).toBe(6.25);
    const ar = t.tasks.find((x) => x.kind === "allreduce")!;
    expect(ar.name).toBe("allreduce fc.weight");
    expect([ar.start, ar.end]).toEqual([3, 6]);
    expect(t.tasks.filter((x) => x.kind === "update").length).toBe(2);
  });

  it("on a mesh of CPU workers (hostCopies) all-reduces run in line at the end, on their members' queues", () => {
    const g = new Graph("dp2");
    g.addInput("x", f32(4, 8));
    addOp(g, "fc1", "linear", ["x"], { out: 8, bias: false });
    addOp(g, "fc2", "linear", ["fc1"], { out: 2, bias: false });
    const s: Strategy = { name: "s", model: "dp2", mesh: "m", ops: { fc1: { degrees: [2, 1, 1], devices: [0, 1] }, fc2: { degrees: [2, 1, 1], devices: [0, 1] } } };
    const shm = { name: "shm", bandwidth: 3e9, latency: 1e-5, hostCopies: true };
    // Overlapped (GPU meshes): AR(fc2) [4,7] on the collective queue while fc1's bwd runs [4,6].
    expect(simulate(g, clusterMesh(1, 2), s, fakeCosts()).iterationTime).toBe(10.25);
    // In line: fwd [0,2], bwd [2,6]; then AR(fc2) [6,9], UP(fc2) [9,9.25], AR(fc1) [9.25,12.25], UP(fc1) [12.25,12.5].
    const t = simulate(g, clusterMesh(1, 2, shm, shm), s, fakeCosts());
    expect(t.iterationTime).toBe(12.5);
    const shares = t.tasks.filter((x) => x.kind === "allreduce" && !x.name.endsWith("(arrive)"));
    expect(shares.map((x) => [x.name, x.device, x.start, x.end])).toEqual([
      ["allreduce fc2.weight", 0, 6, 9],
      ["allreduce fc2.weight", 1, 6, 9],
      ["allreduce fc1.weight", 0, 9.25, 12.25],
      ["allreduce fc1.weight", 1, 9.25, 12.25],
    ]);
    expect(t.bytesByLinkClass.shm).toBeGreaterThan(0);
  });

  it("an in-line all-reduce is a barrier: a member waits for every other member to reach it", () => {
    // fc1 replicated on {0,1}, fc2 on {0,2}: device 0 is busy with AR(fc2) and its update
    // when device 1 is ready for AR(fc1), so device 1 waits for it.
    const g = new Graph("bar");
    g.addInput("x", f32(4, 8));
    addOp(g, "fc1", "linear", ["x"], { out: 8, bias: false });
    addOp(g, "fc2", "linear", ["fc1"], { out: 2, bias: false });
    const s: Strategy = { name: "s", model: "bar", mesh: "m", ops: { fc1: { degrees: [2, 1, 1], devices: [0, 1] }, fc2: { degrees: [2, 1, 1], devices: [0, 2] } } };
    const shm = { name: "shm", bandwidth: 3e9, latency: 1e-5, hostCopies: true };
    const t = simulate(g, clusterMesh(1, 3, shm, shm), s, fakeCosts());
    const share = (name: string, d: number) => t.tasks.find((x) => x.name === name && x.device === d)!;
    const up2 = t.tasks.find((x) => x.name === "update fc2.weight" && x.device === 0)!;
    const bwd1 = t.tasks.find((x) => x.name === "fc1 bwd [1]")!;
    expect(share("allreduce fc1.weight", 1).start).toBe(up2.end);
    expect(share("allreduce fc1.weight", 1).start).toBeGreaterThan(bwd1.end);
    expect(share("allreduce fc1.weight", 0).start).toBe(share("allreduce fc1.weight", 1).start);
  });

  it("a split reduction dim: partial sums travel to the owner, the gradient is broadcast back", () => {
    const g = new Graph("psum");
    g.addInput("x", f32(4, 8));
    addOp(g, "fc", "linear", ["x"], { out: 2, bias: false });
    addOp(g, "r", "relu", ["fc"]);
    const s: Strategy = { name: "s", model: "psum", mesh: "m", ops: { fc: { degrees: [1, 1, 2], devices: [0, 1] }, r: { degrees: [1, 1], devices: [0] } } };
    const t = simulate(g, clusterMesh(1, 2), s, fakeCosts());
    const m = byName(t);
    // fc fwd [0,1] on both; partial 1→0 [1,1.5]; add on 0 [1.5,1.625]; r fwd [1.625,2.625];
    // r bwd [2.625,4.625]; fc bwd[0] [4.625,6.625] + update [6.625,6.875];
    // broadcast 0→1 [4.625,5.125]; fc bwd[1] [5.125,7.125] + update [7.125,7.375].
    expect([m.get("fc reduce [0]")!.start, m.get("fc reduce [0]")!.end]).toEqual([1.5, 1.625]);
    expect(m.get("r bwd [0]")!.end).toBe(4.625);
    expect(m.get("fc bwd [1]")!.start).toBe(5.125);
    expect(t.iterationTime).toBe(7.375);
    // Shards of W along in_channel are disjoint: no all-reduce.
    expect(t.tasks.some((x) => x.kind === "allreduce")).toBe(false);
  });

  it("each device runs its tasks in key order, even one that is ready earlier (static order)", () => {
    const g = new Graph("static");
    g.addInput("x", f32(4, 4));
    addOp(g, "p", "relu", ["x"]);
    addOp(g, "a", "relu", ["p"]);
    addOp(g, "c", "relu", ["x"]);
    const s: Strategy = { name: "s", model: "static", mesh: "m", ops: { p: { degrees: [1, 1], devices: [0] }, a: { degrees: [1, 1], devices: [1] }, c: { degrees: [1, 1], devices: [1] } } };
    const t = simulate(g, clusterMesh(1, 2), s, fakeCosts());
    const m = byName(t);
    // p fwd [0,1] on 0; xfer 0→1 [1,1.5]; a fwd [1.5,2.5] on 1; c fwd on 1 is ready at 0
    // but comes after a in key order: [2.5,3.5]. Backward in reverse order: c bwd [3.5,5.5],
    // a bwd [5.5,7.5], gradient 1→0 [7.5,8], p bwd [8,10]. (Dynamic list scheduling would
    // have run c fwd at [0,1] and finished at 8.5.)
    expect([m.get("c fwd [0]")!.start, m.get("c fwd [0]")!.end]).toEqual([2.5, 3.5]);
    expect([m.get("a bwd [0]")!.start, m.get("a bwd [0]")!.end]).toEqual([5.5, 7.5]);
    expect([m.get("p bwd [0]")!.start, m.get("p bwd [0]")!.end]).toEqual([8, 10]);
    expect(t.iterationTime).toBe(10);
  });

  it("updates close the iteration: after every bwd on their device, in reverse op order", () => {
    const g = new Graph("upd");
    g.addInput("x", f32(4, 8));
    addOp(g, "fc1", "linear", ["x"], { out: 8, bias: false });
    addOp(g, "fc2", "linear", ["fc1"], { out: 2, bias: false });
    const s: Strategy = { name: "s", model: "upd", mesh: "m", ops: { fc1: { degrees: [1, 1, 1], devices: [0] }, fc2: { degrees: [1, 1, 1], devices: [0] } } };
    const t = simulate(g, clusterMesh(1, 1), s, fakeCosts());
    const m = byName(t);
    // fwd [0,1], [1,2]; bwd fc2 [2,4], fc1 [4,6]; updates fc2 [6,6.25], fc1 [6.25,6.5].
    expect([m.get("update fc2.weight")!.start, m.get("update fc1.weight")!.start]).toEqual([6, 6.25]);
    expect(t.iterationTime).toBe(6.5);
  });

  it("a link queue serialises two transfers between the same pair of devices", () => {
    const g = new Graph("two");
    g.addInput("x", f32(4, 4));
    addOp(g, "a", "relu", ["x"]);
    addOp(g, "b", "relu", ["a"]);
    // a split in 2 on device 0 (both tasks), b whole on device 1: two transfers 0→1 queue up.
    const s: Strategy = { name: "s", model: "two", mesh: "m", ops: { a: { degrees: [2, 1], devices: [0, 0] }, b: { degrees: [1, 1], devices: [1] } } };
    const t = simulate(g, clusterMesh(1, 2), s, fakeCosts());
    // a fwd [0,1], [1,2]; xfers [1,1.5], [2,2.5]; b fwd [2.5,3.5]; b bwd [3.5,5.5];
    // grads 1→0 [5.5,6], [6,6.5]; a bwd [6,8], [8,10].
    expect(t.iterationTime).toBe(10);
    const x = t.tasks.filter((q) => q.name === "xfer 0→1").map((q) => [q.start, q.end]);
    expect(x).toEqual([[1, 1.5], [2, 2.5]]);
  });
});

function checkInvariants(t: Timeline): void {
  const eps = 1e-12 * Math.max(1, t.iterationTime);
  expect(t.iterationTime).toBeGreaterThanOrEqual(criticalPath(t) - eps);
  // The key order is a linear extension of the dependencies.
  for (const task of t.tasks) for (const d of task.deps) expect(t.tasks[d].id).toBeLessThan(task.id);
  // Every resource runs its tasks in key order.
  const lastOn = new Map<number, { id: number; end: number }>();
  for (const task of [...t.tasks].sort((a, b) => a.id - b.id)) {
    const prev = lastOn.get(task.resourceId);
    if (prev) expect(task.start).toBeGreaterThanOrEqual(prev.end);
    lastOn.set(task.resourceId, { id: task.id, end: task.end });
  }
  for (const busy of t.deviceBusy) expect(t.iterationTime).toBeGreaterThanOrEqual(busy - eps);
  for (const task of t.tasks) for (const d of task.deps) expect(t.tasks[d].end).toBeLessThanOrEqual(task.start);
  // No resource runs two tasks at once.
  const byRes = new Map<number, [number, number][]>();
  for (const task of t.tasks) {
    if (!byRes.has(task.resourceId)) byRes.set(task.resourceId, []);
    byRes.get(task.resourceId)!.push([task.start, task.end]);
  }
  for (const spans of byRes.values()) {
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  }
}

describe("simulate: invariants with the real cost model", () => {
  it("on one device the makespan is the sum of all task times", () => {
    const g = mlp(32, 64, 3);
    const mesh = clusterMesh(1, 1);
    const t = simulate(g, mesh, singleDevice(g), new CostModel(g, mesh));
    const sum = t.tasks.reduce((a, x) => a + (x.end - x.start), 0);
    expect(t.iterationTime).toBeCloseTo(sum, 15);
    expect(t.commTime).toBe(0);
    checkInvariants(t);
  });

  it("data parallel over 2 nodes × 2: critical path, busiest device, no overlap on a queue", () => {
    const g = mlp(64, 128, 4);
    const mesh = clusterMesh(2, 2);
    const t = simulate(g, mesh, dataParallel(g, 4), new CostModel(g, mesh));
    checkInvariants(t);
    expect(t.tasks.filter((x) => x.kind === "allreduce").length).toBe(10); // 5 linears × (weight, bias)
    expect(t.bytesByLinkClass.infiniband).toBeGreaterThan(0);
  });

  it("the delta simulator matches a fresh simulation after a change and back", () => {
    const g = mlp(64, 128, 3);
    const mesh = clusterMesh(2, 2);
    const dp = dataParallel(g, 4);
    const costs = new CostModel(g, mesh);
    const ds = new DeltaSimulator(g, mesh, dp, costs);
    const base = ds.iterationTime();
    ds.setConfig("fc1", { degrees: [1, 4, 1], devices: [3, 2, 1, 0] });
    const changed = simulate(g, mesh, ds.strategy(), costs).iterationTime;
    expect(ds.iterationTime()).toBe(changed);
    ds.setConfig("fc1", dp.ops.fc1);
    expect(ds.iterationTime()).toBe(base);
  });
});
