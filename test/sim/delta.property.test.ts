// Property: after any sequence of one-op changes, the delta simulator's timeline equals a
// fresh full simulation's exactly (makespan and every task's start and end, by task id).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CostModel } from "../../src/cost/compute.js";
import type { Mesh } from "../../src/core/mesh.js";
import { Graph } from "../../src/ir/graph.js";
import type { OpConfig, Strategy } from "../../src/ir/strategy.js";
import { criticalPath, DeltaSimulator, simulate, sweep } from "../../src/sim/simulate.js";
import { assertProperty } from "../support/property.js";
import { addOp, clusterMesh, f32, i32 } from "./fixtures.js";
import { mulberry32 as rng } from "../../src/core/random.js";


/** A random small graph: linears and relus with occasional residual adds, then a loss. */
function randomGraph(r: () => number): Graph {
  const g = new Graph("rand");
  const batch = 4 + Math.floor(r() * 8);
  const width = 4 + Math.floor(r() * 6);
  g.addInput("x", f32(batch, width));
  g.addInput("labels", i32(batch));
  const tensors = ["x"];
  const n = 1 + Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    const cur = tensors[tensors.length - 1];
    const pick = r();
    if (pick < 0.45) addOp(g, `fc${i}`, "linear", [cur], { out: width, bias: r() < 0.5 });
    else if (pick < 0.75) addOp(g, `relu${i}`, "relu", [cur]);
    else addOp(g, `add${i}`, "add", [cur, tensors[Math.floor(r() * tensors.length)]]);
    tensors.push([...g.ops.keys()].pop()!);
  }
  addOp(g, "head", "linear", [tensors[tensors.length - 1]], { out: 3 });
  addOp(g, "loss", "softmax_cross_entropy", ["head", "labels"]);
  return g;
}

function randomConfig(r: () => number, sizes: number[], devices: number): OpConfig {
  let budget = 8;
  const degrees = sizes.map((s) => {
    const d = 1 + Math.floor(r() * Math.min(s, budget, 3));
    budget = Math.max(1, Math.floor(budget / d));
    return d;
  });
  const n = degrees.reduce((a, b) => a * b, 1);
  return { degrees, devices: Array.from({ length: n }, () => Math.floor(r() * devices)) };
}

function randomStrategy(r: () => number, g: Graph, devices: number): Strategy {
  const ops: Record<string, OpConfig> = {};
  for (const o of g.ops.values()) ops[o.name] = randomConfig(r, o.sig.space.map((d) => d.size), devices);
  return { name: "rand", model: g.name, mesh: "m", ops };
}

function meshFor(r: () => number): Mesh {
  const nodes = 1 + Math.floor(r() * 2);
  const per = 1 + Math.floor(r() * 3);
  // A third of the meshes are CPU-worker meshes: all-reduces in line at the end.
  if (r() < 1 / 3) {
    const shm = { name: "shm", bandwidth: 3e9, latency: 14e-6, hostCopies: true };
    return clusterMesh(nodes, per, shm, shm);
  }
  return clusterMesh(nodes, per);
}

function sameTimeline(g: Graph, mesh: Mesh, ds: DeltaSimulator, costs: CostModel): void {
  const full = simulate(g, mesh, ds.strategy(), costs);
  const delta = ds.timeline();
  expect(delta.iterationTime).toBe(full.iterationTime);
  expect(delta.tasks.length).toBe(full.tasks.length);
  const byId = new Map(full.tasks.map((t) => [t.id, t]));
  for (const t of delta.tasks) {
    const f = byId.get(t.id);
    expect(f, `task ${t.name}`).toBeDefined();
    expect([t.name, t.start, t.end, t.resource]).toEqual([f!.name, f!.start, f!.end, f!.resource]);
  }
  expect(full.iterationTime).toBeGreaterThanOrEqual(criticalPath(full) * (1 - 1e-12));
}

/** Every task's stored end time equals a re-sweep from scratch of the same graph. */
function endsAreCurrent(ds: DeltaSimulator): void {
  const makespan = ds.iterationTime();
  const st = ds.builder.store;
  const kept = st.end.slice(0, st.top);
  expect(sweep(ds.builder, 0)).toBe(makespan);
  for (const s of st.slots()) expect(kept[s], `task ${s}`).toBe(st.end[s]);
}

describe("delta simulation == full simulation", () => {
  it("holds for random graphs, strategies and one-op changes", () => {
    let compactions = 0;
    let rollbacks = 0;
    let checkpoints = 0;
    assertProperty(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 4 }), (seed, steps) => {
        const r = rng(seed);
        const g = randomGraph(r);
        const mesh = meshFor(r);
        const n = mesh.devices.length;
        const costs = new CostModel(g, mesh);
        const ds = new DeltaSimulator(g, mesh, randomStrategy(r, g, n), costs);
        // No slack: the store compacts whenever garbage reaches twice the live data, so
        // compaction (task ids relocated under the blocks) happens every few steps.
        ds.builder.store.compactSlack = 0;
        // Checkpoints every few tasks, so that restarts from them are exercised too.
        ds.checkpoints.every = 1 + Math.floor(r() * 8);
        ds.builder.checkOrder();
        ds.iterationTime();
        const names = [...g.ops.keys()];
        for (let k = 0; k < steps; k++) {
          const op = g.op(names[Math.floor(r() * names.length)]);
          const before = ds.strategy().ops[op.name];
          const rolledBefore = ds.rollbacks;
          ds.setConfig(op.name, randomConfig(r, op.sig.space.map((d) => d.size), n));
          // The change may itself undo the previous step's revert (same op, same config).
          const changeRolledBack = ds.rollbacks > rolledBefore;
          // Sometimes chain two changes before simulating (no rollback possible then).
          const chained = r() < 0.3;
          if (chained) {
            const op2 = g.op(names[Math.floor(r() * names.length)]);
            ds.setConfig(op2.name, randomConfig(r, op2.sig.space.map((d) => d.size), n));
          }
          ds.builder.checkOrder();
          if (r() < 0.5) endsAreCurrent(ds);
          else sameTimeline(g, mesh, ds, costs);
          // Often reject the change, as MCMC does: a lone change is rolled back.
          if (r() < 0.6) {
            const rolled = ds.rollbacks;
            const top = ds.builder.store.top;
            ds.setConfig(op.name, before);
            if (!chained && !changeRolledBack) {
              // Rolled back: no task built, the store's top back where it was before.
              expect(ds.rollbacks).toBe(rolled + 1);
              expect(ds.builder.store.top).toBeLessThanOrEqual(top);
              rollbacks++;
            }
            ds.builder.checkOrder();
            endsAreCurrent(ds);
            sameTimeline(g, mesh, ds, costs);
          }
        }
        compactions += ds.builder.store.compactions;
        checkpoints += ds.checkpoints.count;
      }),
      150,
    );
    expect(compactions).toBeGreaterThan(0);
    expect(rollbacks).toBeGreaterThan(0);
    expect(checkpoints).toBeGreaterThan(0);
  });
});
