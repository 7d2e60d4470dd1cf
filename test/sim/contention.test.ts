import { describe, expect, it } from "vitest";
import { Graph, type OpNode } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { simulateWithContention, type ContentionCosts } from "../../src/sim/contention.js";
import { simulate } from "../../src/sim/simulate.js";
import { addOp, clusterMesh, f32 } from "./fixtures.js";

/** Round numbers (exact in binary); `loaded` multiplies compute while others compute. */
function costs(loaded: number | undefined, comm = 0): ContentionCosts {
  return {
    compute: (_op: OpNode) => ({ forward: 1, backward: 2 }),
    computeLoaded: (_op: OpNode) => (loaded === undefined ? undefined : { forward: loaded, backward: 2 * loaded }),
    hasLoadedCosts: loaded !== undefined,
    partialSum: () => 0.125,
    transfer: (_b, s, d) => (s === d ? 0 : comm),
    allReduce: () => 0.5,
    update: () => 0.25,
  };
}

function twoLayers(): Graph {
  const g = new Graph("two");
  g.addInput("x", f32(4, 8));
  addOp(g, "fc", "linear", ["x"], { out: 8, bias: false });
  addOp(g, "r", "relu", ["fc"]);
  return g;
}

const dp: Strategy = { name: "dp", model: "two", mesh: "m", ops: { fc: { degrees: [2, 1, 1], devices: [0, 1] }, r: { degrees: [2, 1], devices: [0, 1] } } };
const pipeline: Strategy = { name: "mp", model: "two", mesh: "m", ops: { fc: { degrees: [1, 1, 1], devices: [0] }, r: { degrees: [1, 1], devices: [1] } } };

describe("simulateWithContention", () => {
  const mesh = clusterMesh(1, 2);

  it("without loaded figures it is the plain simulation, in one round", () => {
    const r = simulateWithContention(twoLayers(), mesh, dp, costs(undefined));
    expect(r.rounds).toBe(1);
    expect(r.timeline.iterationTime).toBe(simulate(twoLayers(), mesh, dp, costs(undefined)).iterationTime);
  });

  it("loaded = alone changes nothing", () => {
    const r = simulateWithContention(twoLayers(), mesh, dp, costs(1));
    expect(r.timeline.iterationTime).toBe(simulate(twoLayers(), mesh, dp, costs(undefined)).iterationTime);
  });

  it("data parallel kernels overlap fully, so they run at the loaded speed", () => {
    // Both devices compute fc and r fwd [0,2], bwd [2,6] side by side: every kernel fully
    // overlapped, so each costs twice its alone time: fwd 4, bwd 8 (both ops), then the
    // all-reduce 0.5 and the update 0.25.
    const r = simulateWithContention(twoLayers(), mesh, dp, costs(2));
    expect(r.timeline.iterationTime).toBe(2 * (1 + 1) + 2 * (2 + 2) + 0.5 + 0.25);
    expect([...r.load.values()].every((f) => f === 1)).toBe(true);
  });

  it("a pipeline whose devices never compute together pays no contention", () => {
    const alone = simulate(twoLayers(), mesh, pipeline, costs(undefined)).iterationTime;
    const r = simulateWithContention(twoLayers(), mesh, pipeline, costs(3));
    expect(r.timeline.iterationTime).toBe(alone);
    expect([...r.load.values()].every((f) => f === 0)).toBe(true);
  });

  it("one device: nothing to contend with", () => {
    const one = clusterMesh(1, 1);
    const s: Strategy = { name: "one", model: "two", mesh: "m", ops: { fc: { degrees: [1, 1, 1], devices: [0] }, r: { degrees: [1, 1], devices: [0] } } };
    expect(simulateWithContention(twoLayers(), one, s, costs(5)).timeline.iterationTime).toBe(simulate(twoLayers(), one, s, costs(undefined)).iterationTime);
  });

  it("is deterministic and lies between the alone and the all-loaded prediction", () => {
    const g = twoLayers();
    // Uneven split: device 0 does 3 of 4 rows' worth of time on fc only by placement.
    const mixed: Strategy = { name: "mixed", model: "two", mesh: "m", ops: { fc: { degrees: [2, 1, 1], devices: [0, 1] }, r: { degrees: [1, 1], devices: [0] } } };
    const a = simulateWithContention(g, mesh, mixed, costs(2)).timeline.iterationTime;
    const b = simulateWithContention(g, mesh, mixed, costs(2)).timeline.iterationTime;
    expect(a).toBe(b);
    const alone = simulate(g, mesh, mixed, costs(undefined)).iterationTime;
    const allLoaded = simulate(g, mesh, mixed, { ...costs(undefined), compute: () => ({ forward: 2, backward: 4 }) }).iterationTime;
    expect(a).toBeGreaterThan(alone);
    expect(a).toBeLessThan(allLoaded);
  });
});
