// Property: a builder rebuilt in place (TaskGraphBuilder.rebuildAll, what the pooled
// simulateIterationTime does for a search's repeated full simulations) holds exactly the
// task graph a new builder builds, whatever it held before; and simulateIterationTime,
// called on a random mix of strategies, graphs and meshes (failed builds included), gives
// exactly a fresh simulation's iteration time every time.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CostModel } from "../../src/cost/compute.js";
import type { Graph, OpNode } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { simulate, simulateIterationTime, sweep } from "../../src/sim/simulate.js";
import type { SimCosts } from "../../src/sim/costs.js";
import { TaskGraphBuilder } from "../../src/sim/taskgraph.js";
import { mulberry32 as rng } from "../../src/core/random.js";
import { assertProperty } from "../support/property.js";
import { randomConfig, randomGraph, randomMesh, randomStrategy } from "./random-sim.js";

/** `s` with a few ops' configs redrawn (the rest unchanged, as between a search's steps). */
function mutate(r: () => number, g: Graph, s: Strategy, devices: number): Strategy {
  const ops = { ...s.ops };
  const names = [...g.ops.keys()];
  for (let k = 1 + Math.floor(r() * 2); k > 0; k--) {
    const op = g.op(names[Math.floor(r() * names.length)]);
    ops[op.name] = randomConfig(r, op.sig.space.map((d) => d.size), devices);
  }
  return { ...s, ops };
}

/** The task graph in key order, with resources by name and predecessors by key: independent of ids and resource numbering. */
function tasksOf(b: TaskGraphBuilder): unknown[] {
  const s = b.store;
  const out: unknown[] = [];
  for (let g = 0; g < b.segmentCount; g++) {
    for (let t = s.segBeg[g]; t < s.segEnd[g]; t++) {
      out.push([s.keyOf(t), s.kind[t], b.links.names[s.res[t]], s.dur[t], s.op[t], s.idx[t], s.src[t], s.dst[t], s.bytes[t], s.predsOf(t).map((p) => s.keyOf(p))]);
    }
  }
  return out;
}

/** `costs` with every answer scaled by a factor the caller changes between simulations. */
function varying(costs: CostModel): SimCosts & { factor: number } {
  const v = {
    factor: 1,
    compute: (op: OpNode, extent: readonly number[], device: number) => {
      const t = costs.compute(op, extent, device);
      return { forward: t.forward * v.factor, backward: t.backward * v.factor };
    },
    partialSum: (bytes: number, count: number, device: number) => costs.partialSum(bytes, count, device) * v.factor,
    transfer: (bytes: number, src: number, dst: number) => costs.transfer(bytes, src, dst) * v.factor,
    allReduce: (bytes: number, devices: readonly number[]) => costs.allReduce(bytes, devices) * v.factor,
    update: (bytes: number, device: number) => costs.update(bytes, device) * v.factor,
    computeClass: (device: number) => costs.computeClass(device),
  };
  return v;
}

describe("full simulation in a reused builder == a new builder's", () => {
  it("rebuildAll holds exactly the tasks of a new builder's buildAll", () => {
    assertProperty(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 5 }), (seed, steps) => {
        const r = rng(seed);
        const g = randomGraph(r, 6, 0.7);
        const mesh = randomMesh(r);
        const n = mesh.devices.length;
        const costs = new CostModel(g, mesh);
        const reused = new TaskGraphBuilder(g, mesh, costs);
        let strategy = randomStrategy(r, g, n);
        reused.buildAll(strategy);
        for (let k = 0; k < steps; k++) {
          // The same strategy again, a few ops changed, or a new one altogether.
          const pick = r();
          if (pick < 0.6) strategy = mutate(r, g, strategy, n);
          else if (pick < 0.8) strategy = randomStrategy(r, g, n);
          reused.rebuildAll(strategy);
          reused.checkOrder();
          const fresh = new TaskGraphBuilder(g, mesh, costs);
          fresh.buildAll(strategy);
          expect(tasksOf(reused)).toEqual(tasksOf(fresh));
          expect(sweep(reused, 0)).toBe(sweep(fresh, 0));
        }
      }),
      100,
    );
  });

  it("simulateIterationTime equals a fresh simulation across strategies, graphs, meshes and failed builds", () => {
    assertProperty(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const r = rng(seed);
        const cases = [0, 1].map(() => {
          const g = randomGraph(r, 6, 0.7);
          const mesh = randomMesh(r);
          return { g, mesh, costs: varying(new CostModel(g, mesh)), strategy: randomStrategy(r, g, mesh.devices.length) };
        });
        for (let k = 0; k < 8; k++) {
          // Mostly the same case as the call before (the pooled builder is rebuilt), sometimes the other.
          const c = cases[r() < 0.8 ? 0 : 1];
          const n = c.mesh.devices.length;
          if (r() < 0.1) {
            const broken: Strategy = { ...c.strategy, ops: { ...c.strategy.ops } };
            delete broken.ops.loss;
            expect(() => simulateIterationTime(c.g, c.mesh, broken, c.costs)).toThrow(/no config for op loss/);
            continue;
          }
          if (r() < 0.7) c.strategy = mutate(r, c.g, c.strategy, n);
          // The same costs object may answer differently from one call to the next (as
          // interference draws do): nothing it answered before may be reused.
          c.costs.factor = r() < 0.5 ? 1 : 1 + Math.floor(r() * 4);
          const t = simulateIterationTime(c.g, c.mesh, c.strategy, c.costs);
          expect(t).toBe(simulate(c.g, c.mesh, c.strategy, c.costs).iterationTime);
        }
      }),
      100,
    );
  });
});
