import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { TensorType } from "../../src/core/tensor.js";
import { linear } from "../../src/ops/linear.js";
import { taskRegions } from "../../src/ops/regions.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, inferOrThrow, kernelShapes, shardFlops } from "../support/sharded.js";
import { assertProperty, degreeFor } from "../support/property.js";
import type { TF } from "../../src/ops/contract.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });

describe("linear: shapes, FLOPs, regions", () => {
  it("infers [n, m] from [n, k] and creates W[k, m], b[m]", () => {
    const sig = inferOrThrow(linear, [f32(8, 5)], { out: 3, bias: true });
    expect(sig.outputs[0].shape).toEqual([8, 3]);
    expect(sig.params.map((p) => p.shape)).toEqual([[5, 3], [3]]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["sample:sample:8", "channel:parameter:3", "in_channel:reduction:5"]);
    expect(sig.flops([8, 3, 5])).toEqual({ forward: 2 * 8 * 3 * 5, backward: 4 * 8 * 3 * 5 });
  });

  it("a channel shard reads all of x and holds a column block of W", () => {
    const sig = inferOrThrow(linear, [f32(8, 5)], { out: 4, bias: true });
    const r = taskRegions(sig, [[8, 5]], { lo: [0, 2, 0], hi: [8, 4, 5] });
    expect(r.inputs[0]).toEqual({ lo: [0, 0], hi: [8, 5] });
    expect(r.params[0]).toEqual({ lo: [0, 2], hi: [5, 4] });
    expect(r.params[1]).toEqual({ lo: [2], hi: [4] });
    expect(r.outputs[0]).toEqual({ lo: [0, 2], hi: [8, 4] });
  });

  it("an in_channel shard reads a K block of x (partial sums)", () => {
    const sig = inferOrThrow(linear, [f32(8, 6)], { out: 4, bias: false });
    const r = taskRegions(sig, [[8, 6]], { lo: [0, 0, 3], hi: [4, 4, 6] });
    expect(r.inputs[0]).toEqual({ lo: [0, 3], hi: [4, 6] });
    expect(r.params[0]).toEqual({ lo: [3, 0], hi: [6, 4] });
  });

  it("rejects rank-1 input and a missing `out` with coded diagnostics", () => {
    const d = new Diagnostics();
    expect(linear.infer([f32(5)], { out: 3, bias: true }, { opName: "fc", diagnostics: d })).toBeUndefined();
    expect(d.items[0].code).toBe("PAR2108");
  });

  it("FLOPs of the shards sum to the whole", () => {
    const sig = inferOrThrow(linear, [f32(6, 4, 10)], { out: 7, bias: true });
    const whole = sig.flops(sig.space.map((d) => d.size));
    expect(shardFlops(sig, [3, 2, 3, 2])).toEqual(whole);
  });
});

for (const backend of BACKENDS) {
  describe(`linear on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("shape inference agrees with the kernel", () => {
      const { inferred, actual } = kernelShapes(tf, linear, [f32(2, 3, 5)], { out: 4, bias: true });
      expect(actual).toEqual(inferred);
    });

    it("sharded equals whole (forward and backward), any partition", () => {
      const arb = fc
        .record({ n: fc.integer({ min: 1, max: 6 }), l: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 7 }), m: fc.integer({ min: 1, max: 6 }), bias: fc.boolean(), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreeFor(c.n), degreeFor(c.l), degreeFor(c.m), degreeFor(c.k)));
      assertProperty(
        fc.property(arb, ([c, dn, dl, dm, dk]) => {
          const res = checkShardedEqualsWhole(tf, { entry: linear, inputs: [f32(c.n, c.l, c.k)], attrs: { out: c.m, bias: c.bias }, degrees: [dn, dl, dm, dk], seed: c.seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        40,
      );
    });
  });
}
