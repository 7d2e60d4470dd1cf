import { describe, expect, it } from "vitest";
import type { OpNode } from "../../src/ir/graph.js";
import { predictUnderInterference, scaledCosts, type MeasuredInterference } from "../../src/sim/interference.js";
import { simulateIterationTime } from "../../src/sim/simulate.js";
import type { SimCosts } from "../../src/sim/costs.js";
import { clusterMesh, dataParallel, mlp, singleDevice } from "./fixtures.js";

/** Round numbers (exact in binary), every task alike. */
const costs: SimCosts = {
  compute: (_op: OpNode) => ({ forward: 1, backward: 2 }),
  partialSum: () => 0.125,
  transfer: (_b, s, d) => (s === d ? 0 : 0.25),
  allReduce: () => 0.5,
  update: () => 0.25,
};

/** Interference with the same slowdowns on every device and the same delays on every pair. */
function measured(slowdowns?: number[], delays?: number[]): MeasuredInterference {
  return { slowdowns: () => slowdowns, deliveryDelays: () => delays };
}

describe("prediction under interference", () => {
  const graph = mlp(8, 16, 2);
  const mesh = clusterMesh(1, 2);
  const dp = dataParallel(graph, 2);

  it("scaledCosts slows each device's own work by its factor and delays messages between devices", () => {
    const s = scaledCosts(costs, Float64Array.of(1, 3), (src, dst) => src + dst / 8);
    const op = graph.op("fc0");
    expect(s.compute(op, [8, 16, 16], 1)).toEqual({ forward: 3, backward: 6 });
    expect(s.compute(op, [8, 16, 16], 0)).toEqual({ forward: 1, backward: 2 });
    expect(s.partialSum(4, 2, 1)).toBe(0.375);
    expect(s.update(4, 1)).toBe(0.75);
    expect(s.transfer(4, 0, 1)).toBe(0.375);
    expect(s.transfer(4, 1, 0)).toBe(1.25);
    // A device to itself, or nothing to move: no message, no delay.
    expect(s.transfer(4, 1, 1)).toBe(0);
    expect(s.transfer(0, 0, 1)).toBe(0.25);
    expect(s.allReduce(4, [0, 1])).toBe(0.5);
  });

  it("without slowdowns, or with slowdowns of exactly 1, it is the plain simulation", () => {
    const plain = simulateIterationTime(graph, mesh, dp, costs);
    expect(predictUnderInterference(graph, mesh, dp, costs, measured()).median).toBe(plain);
    const ones = predictUnderInterference(graph, mesh, dp, costs, measured([1, 1, 1], [0, 0]));
    expect([ones.median, ones.p10, ones.p90]).toEqual([plain, plain, plain]);
  });

  it("one device alone runs at the drawn speed: every draw is the plain time times the factor", () => {
    const single = singleDevice(graph);
    const plain = simulateIterationTime(graph, mesh, single, costs);
    const r = predictUnderInterference(graph, mesh, single, costs, measured([2], [1]), { draws: 5 });
    expect(r.median).toBeCloseTo(2 * plain, 12);
  });

  it("devices that synchronise pay for the slower one: data parallel is predicted slower than its median speed", () => {
    // Each device is slowed 1.5× half the time; an iteration is slowed unless both are fast (1 in 4).
    const plain = simulateIterationTime(graph, mesh, dp, costs);
    const r = predictUnderInterference(graph, mesh, dp, costs, measured([1, 1.5]), { draws: 201, seed: 7 });
    expect(r.median).toBeGreaterThan(plain);
    expect(r.p10).toBeGreaterThanOrEqual(plain);
    expect(r.p90).toBeLessThanOrEqual(1.5 * plain + 1e-12);
  });

  it("each message between devices arrives later by a drawn delivery delay", () => {
    // fc0 and fc1 on device 0, the head (and the loss after it) on device 1: activations
    // cross forward and gradients back, one message each way on the critical path.
    const pipeline = { ...singleDevice(graph), name: "pipeline" };
    pipeline.ops = { ...pipeline.ops, head: { ...pipeline.ops.head, devices: [1] }, loss: { ...pipeline.ops.loss, devices: [1] } };
    const plain = simulateIterationTime(graph, mesh, pipeline, costs);
    const late = predictUnderInterference(graph, mesh, pipeline, costs, measured(undefined, [0.5]), { draws: 3 });
    expect(late.median).toBeGreaterThanOrEqual(plain + 2 * 0.5);
    // Delays of 0 change nothing.
    expect(predictUnderInterference(graph, mesh, pipeline, costs, measured(undefined, [0])).median).toBe(plain);
  });

  it("is deterministic in its seed", () => {
    const a = predictUnderInterference(graph, mesh, dp, costs, measured([0.9, 1, 1.3, 2], [0, 0.5]), { seed: 3 });
    const b = predictUnderInterference(graph, mesh, dp, costs, measured([0.9, 1, 1.3, 2], [0, 0.5]), { seed: 3 });
    expect(a).toEqual(b);
    expect(a.draws).toBe(101);
  });

  it("rejects a non-positive draw count and slowdowns that are not positive and finite", () => {
    expect(() => predictUnderInterference(graph, mesh, dp, costs, measured([1]), { draws: 0 })).toThrow(/draws must be an integer ≥ 1/);
    expect(() => predictUnderInterference(graph, mesh, dp, costs, measured([1, 0]))).toThrow(/device 0: slowdowns must be finite numbers > 0/);
    expect(() => predictUnderInterference(graph, mesh, dp, costs, measured([Infinity]))).toThrow(/slowdowns/);
    const pipeline = { ...singleDevice(graph), name: "pipeline" };
    pipeline.ops = { ...pipeline.ops, head: { ...pipeline.ops.head, devices: [1] } };
    expect(() => predictUnderInterference(graph, mesh, pipeline, costs, measured(undefined, [-1]))).toThrow(/0→1: delivery delays must be finite numbers ≥ 0/);
  });
});
