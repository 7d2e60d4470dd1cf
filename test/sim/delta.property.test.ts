// Property: after any sequence of one-op changes, the delta simulator's timeline equals a
// fresh full simulation's exactly (makespan and every task's start and end, by task id).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CostModel } from "../../src/cost/compute.js";
import type { Mesh } from "../../src/core/mesh.js";
import type { Graph } from "../../src/ir/graph.js";
import { criticalPath, DeltaSimulator, simulate, sweep } from "../../src/sim/simulate.js";
import { assertProperty } from "../support/property.js";
import { randomConfig, randomGraph, randomMesh, randomStrategy } from "./random-sim.js";
import { mulberry32 as rng } from "../../src/core/random.js";

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
        const g = randomGraph(r, 5, 0.75);
        const mesh = randomMesh(r);
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
