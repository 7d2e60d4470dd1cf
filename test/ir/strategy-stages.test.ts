// Helpers for downstream users of pipelines and replicas: the stage of each op, stage
// devices, micro-batch sample sizes, the even cut, replica 0's devices.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Graph } from "../../src/ir/graph.js";
import {
  defaultReplicaOffset,
  firstReplicaZeroDevices,
  isReplicaZeroDevice,
  replicaCount,
  replicaDevice,
  replicaZeroDevices,
} from "../../src/ir/strategy-replicas.js";
import {
  batchSize,
  deviceGroupCount,
  evenCut,
  evenDeviceBlocks,
  evenStages,
  microbatchCount,
  microbatchPart,
  microbatchSamples,
  opStageWeight,
  opStages,
  sampleDims,
  stageDevices,
  stageIndexOf,
} from "../../src/ir/strategy-stages.js";
import type { PipelineConfig } from "../../src/ir/strategy.js";
import { assertProperty } from "../support/property.js";
import { add, f32, mlp, residualMlp } from "./fixtures.js";

/** The smallest achievable heaviest stage, by trying every cut (small inputs only). */
function bruteForceBound(w: readonly number[], k: number): number {
  let best = Infinity;
  const rec = (start: number, left: number, worst: number): void => {
    if (left === 1) {
      best = Math.min(best, Math.max(worst, w.slice(start).reduce((a, b) => a + b, 0)));
      return;
    }
    for (let end = start + 1; end <= w.length - left + 1; end++) rec(end, left - 1, Math.max(worst, w.slice(start, end).reduce((a, b) => a + b, 0)));
  };
  rec(0, k, 0);
  return best;
}

describe("the even cut", () => {
  it("property: optimal heaviest stage, filled front to back as far as it allows", () => {
    assertProperty(
      fc.property(fc.array(fc.nat(20), { minLength: 1, maxLength: 9 }), fc.nat(), (weights, k0) => {
        const k = 1 + (k0 % weights.length);
        const starts = evenCut(weights, k);
        expect(starts.length).toBe(k);
        expect(starts[0]).toBe(0);
        for (let s = 1; s < k; s++) expect(starts[s]).toBeGreaterThan(starts[s - 1]);
        const w = weights.some((x) => x > 0) ? weights : weights.map(() => 1);
        const ends = [...starts.slice(1), w.length];
        const sums = starts.map((st, s) => w.slice(st, ends[s]).reduce((a, b) => a + b, 0));
        const bound = bruteForceBound(w, k);
        expect(Math.max(...sums)).toBe(bound);
        // Greedy: no stage but the last could take its next item within the bound while leaving one item per later stage.
        for (let s = 0; s < k - 1; s++) {
          const canTakeMore = ends[s] < w.length - (k - s - 1) && sums[s] + w[ends[s]] <= bound;
          expect(canTakeMore).toBe(false);
        }
      }),
      400,
    );
  });

  it("cuts examples as documented; all-zero weights count ops", () => {
    expect(evenCut([1, 1, 1, 1], 2)).toEqual([0, 2]);
    expect(evenCut([4, 1, 1, 1, 1], 2)).toEqual([0, 1]);
    expect(evenCut([1, 1, 1, 1, 4], 2)).toEqual([0, 4]);
    // Bound 3: the first stage takes 1 + 2, the second 3, the third the rest.
    expect(evenCut([1, 2, 3, 1, 1], 3)).toEqual([0, 2, 3]);
    expect(evenCut([0, 0, 0], 3)).toEqual([0, 1, 2]);
    expect(() => evenCut([1, 2], 3)).toThrow(/3 stages for 2 items/);
  });

  it("evenStages: the cut by FLOPs or parameters, stage k on block k mod p", () => {
    const g = residualMlp(2);
    const order = g.topoOrder();
    const stages = evenStages(order, 4, "flops", [[0, 1], [2, 3]]);
    expect(stages.map((s) => [s.first, s.last, s.devices.join()])).toEqual([
      ["layer0.fc1", "layer0.relu", "0,1"],
      ["layer0.fc2", "layer0.res", "2,3"],
      ["layer1.fc1", "layer1.relu", "0,1"],
      ["layer1.fc2", "loss", "2,3"],
    ]);
    expect(opStageWeight(g.op("layer0.fc1"), "params")).toBe(6 * 12 + 12);
    expect(opStageWeight(g.op("layer0.relu"), "params")).toBe(0);
    const byParams = evenStages(order, 2, "params", [[0], [1]]);
    expect(byParams.map((s) => s.last)).toEqual(["layer0.res", "loss"]);
  });

  it("evenDeviceBlocks: equal consecutive blocks, or nothing", () => {
    expect(evenDeviceBlocks([0, 2, 4, 6], 2)).toEqual([[0, 2], [4, 6]]);
    expect(evenDeviceBlocks([0, 1, 2], 2)).toBeUndefined();
    expect(evenDeviceBlocks([], 1)).toBeUndefined();
  });
});

describe("stages and micro-batches", () => {
  const pipeline: PipelineConfig = {
    microbatches: 4,
    schedule: "interleaved",
    virtualStages: 2,
    stages: [
      { first: "fc1", last: "fc1", devices: [0] },
      { first: "relu1", last: "relu1", devices: [1] },
      { first: "fc2", last: "fc2", devices: [0] },
      { first: "loss", last: "loss", devices: [1] },
    ],
  };

  it("opStages and stageIndexOf: the stage of every op", () => {
    const g = mlp();
    expect([...opStages(g, pipeline)]).toEqual([["fc1", 0], ["relu1", 1], ["fc2", 2], ["loss", 3]]);
    expect(stageIndexOf(g.topoOrder(), pipeline)).toEqual([0, 1, 2, 3]);
    const broken = { ...pipeline, stages: pipeline.stages.slice(1) };
    expect(stageIndexOf(g.topoOrder(), broken)).toBeUndefined();
    expect(() => opStages(g, broken)).toThrow(/validate the strategy first/);
    expect(deviceGroupCount(pipeline)).toBe(2);
    expect(stageDevices(pipeline, 3)).toEqual([1]);
  });

  it("micro-batch sizes: batch / (replicas × microbatches)", () => {
    const g = mlp(8);
    expect(batchSize(g)).toBe(8);
    expect(sampleDims(g.op("fc1"))).toEqual([0]);
    expect(microbatchCount({})).toBe(1);
    expect(microbatchCount({ pipeline })).toBe(4);
    expect(microbatchSamples(g, { pipeline })).toBe(2);
    expect(microbatchSamples(g, { pipeline, replicas: { count: 2, offset: 2 } })).toBe(1);
    expect(microbatchSamples(g, { pipeline: { ...pipeline, microbatches: 3 } })).toBeUndefined();
    expect(microbatchPart(12, { replicas: { count: 3, offset: 1 } })).toBe(4);
    const none = new Graph("w");
    add(none, "w", "param", [], { shape: [2, 2] });
    expect(batchSize(none)).toBeUndefined();
    expect(microbatchSamples(none, {})).toBeUndefined();
    const g2 = new Graph("two");
    g2.addInput("a", f32(4, 2));
    g2.addInput("b", f32(6, 2));
    add(g2, "ra", "relu", ["a"]);
    add(g2, "rb", "relu", ["b"]);
    expect(batchSize(g2)).toBe(6);
  });
});

describe("replicas", () => {
  it("replica images, replica 0's devices and the default offset", () => {
    const contiguous = { count: 2, offset: 4 };
    const megatron = { count: 2, offset: 2 };
    expect(replicaCount({})).toBe(1);
    expect(replicaCount({ replicas: contiguous })).toBe(2);
    expect(replicaDevice(3, 1, contiguous)).toBe(7);
    expect(replicaDevice(3, 1, undefined)).toBe(3);
    expect(replicaZeroDevices(8, contiguous)).toEqual([0, 1, 2, 3]);
    expect(replicaZeroDevices(8, megatron)).toEqual([0, 1, 4, 5]);
    expect(replicaZeroDevices(3, undefined)).toEqual([0, 1, 2]);
    expect(firstReplicaZeroDevices(3, megatron)).toEqual([0, 1, 4]);
    expect(isReplicaZeroDevice(6, megatron)).toBe(false);
    expect(isReplicaZeroDevice(6, { count: 2, offset: 0 })).toBe(true);
    expect(defaultReplicaOffset(8, 2)).toBe(4);
    expect(defaultReplicaOffset(8, 3)).toBeUndefined();
  });
});
