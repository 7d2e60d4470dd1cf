import { describe, expect, it } from "vitest";
import { scaleChanges } from "../../src/ir/strategy-diff.js";
import type { Strategy } from "../../src/ir/strategy.js";

const base: Strategy = {
  name: "a",
  model: "m",
  mesh: "x",
  ops: {},
  pipeline: {
    microbatches: 4,
    schedule: "1f1b",
    stages: [
      { first: "a", last: "b", devices: [0, 1] },
      { first: "c", last: "c", devices: [2, 3] },
    ],
  },
  recompute: ["a", "b"],
};

describe("scaleChanges", () => {
  it("is empty for equal strategies and for defaults written or left out", () => {
    expect(scaleChanges(base, { ...base })).toEqual([]);
    expect(scaleChanges({ ...base, zero: 0, precision: "f32" }, base)).toEqual([]);
  });

  it("names each strategy-wide difference, stage by stage, with recomputed ops added and removed", () => {
    const b: Strategy = {
      ...base,
      replicas: { count: 4, offset: 1 },
      pipeline: { microbatches: 8, schedule: "interleaved", virtualStages: 2, stages: [base.pipeline!.stages[0], { first: "c", last: "c", devices: [4, 5, 6, 7] }, { first: "d", last: "d", devices: [0, 1] }] },
      zero: 3,
      recompute: ["b", "c"],
      precision: "bf16",
    };
    expect(scaleChanges(base, b)).toEqual([
      { what: "replicas", a: "1 (no replicas)", b: "4 replicas, 1 devices apart" },
      { what: "microbatches", a: "4", b: "8" },
      { what: "schedule", a: "1f1b", b: "interleaved" },
      { what: "virtual stages", a: "1", b: "2" },
      { what: "stages", a: "2", b: "3" },
      { what: "stage 1", a: "c on 2..3", b: "c on 4..7" },
      { what: "stage 2", a: "none", b: "d on 0..1" },
      { what: "zero", a: "0 (off)", b: "3 (optimizer state, gradients and weights sharded)" },
      { what: "recompute", a: "2 ops recomputed", b: "2 ops recomputed", detail: ["+ `c`", "− `a`"] },
      { what: "precision", a: "f32", b: "bf16" },
    ]);
    expect(scaleChanges(b, { ...b, pipeline: undefined })[0]).toEqual({ what: "pipeline", a: "3 stages (2 per device group), 8 micro-batches, interleaved", b: "none" });
  });
});
