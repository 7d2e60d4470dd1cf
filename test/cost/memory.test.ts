import { describe, expect, it } from "vitest";
import { optimizerStateFactor, peakMemory } from "../../src/cost/memory.js";
import { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { addOp, clusterMesh, f32 } from "../sim/fixtures.js";

function fcGraph(): Graph {
  const g = new Graph("m");
  g.addInput("x", f32(8, 16));
  addOp(g, "fc", "linear", ["x"], { out: 4, bias: false });
  addOp(g, "r", "relu", ["fc"]);
  return g;
}

describe("peak memory", () => {
  it("data parallel: every device holds the whole weight, gradient and state, and its batch shard", () => {
    const g = fcGraph();
    const s: Strategy = { name: "dp", model: "m", mesh: "x", ops: { fc: { degrees: [2, 1, 1], devices: [0, 1] }, r: { degrees: [2, 1], devices: [0, 1] } } };
    const m = peakMemory(g, s, clusterMesh(1, 2), "adam");
    const w = 16 * 4 * 4;
    const d0 = m.devices[0];
    expect(d0.weights).toBe(w);
    expect(d0.gradients).toBe(w);
    expect(d0.optimizer).toBe(2 * w);
    // x shard 4×16, fc output 4×4, relu output 4×4; no exchange (aligned).
    expect(d0.activations).toBe(4 * (4 * 16 + 4 * 4 + 4 * 4));
    expect(d0.exchange).toBe(0);
    expect(m.peakBytes[0]).toBe(d0.total);
    expect(optimizerStateFactor("momentum")).toBe(1);
  });

  it("counts regions read from other devices as exchange buffers, and flags devices over capacity", () => {
    const g = fcGraph();
    // fc on device 0 whole; relu split over devices 0 and 1: device 1 receives half of fc's output.
    const s: Strategy = { name: "x", model: "m", mesh: "x", ops: { fc: { degrees: [1, 1, 1], devices: [0] }, r: { degrees: [2, 1], devices: [0, 1] } } };
    const mesh = clusterMesh(1, 2);
    mesh.devices[1].spec.memoryBytes = 100;
    const m = peakMemory(g, s, mesh, "sgd");
    expect(m.devices[1].exchange).toBe(4 * 4 * 4);
    expect(m.devices[1].weights).toBe(0);
    expect(m.devices[0].optimizer).toBe(0);
    expect(m.overCapacity.map((o) => o.device)).toEqual([1]);
  });
});
