import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Attrs, OpEntry, TF } from "../../src/ops/contract.js";
import { reductionDims, taskRegions } from "../../src/ops/regions.js";
import { cumsum, logSoftmax, reduceLogSumExp, reduceMax, reduceMean, reduceMin, reduceProd, reduceSum, softmax } from "../../src/ops/reduce.js";
import { i32 } from "./_ops-b-helpers.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { assertProperty } from "../support/property.js";
import { wholeShard } from "../support/sharded.js";
import { degreesFor, dimSummary, errorCodes, expectFlopsAdd, expectKernelShapes, expectShardedEqualsWhole, f32, resolved, shapeArb, sigOf } from "./_ops-b-helpers.js";

describe("softmax / log_softmax: shapes, FLOPs, regions", () => {
  it("the normalised axis is fixed and read whole; the others split", () => {
    for (const e of [softmax, logSoftmax]) {
      const sig = sigOf(e, [f32(4, 3, 5)]);
      expect(sig.outputs[0].shape).toEqual([4, 3, 5]);
      expect(dimSummary(sig)).toEqual(["sample:sample:4", "length:attribute:3", "channel:attribute:5:fixed"]);
      const r = taskRegions(sig, [[4, 3, 5]], { lo: [1, 1, 0], hi: [3, 2, 5] });
      expect(r.inputs[0]).toEqual({ lo: [1, 1, 0], hi: [3, 2, 5] });
      expect(dimSummary(sigOf(e, [f32(4, 3, 5)], { axis: 1 }))[1]).toBe("length:attribute:3:fixed");
      expect(errorCodes(e, [f32(4, 3)], { axis: 2 })).toEqual(["PAR2131"]);
      expect(errorCodes(e, [f32(4, 3)], { axis: -3 })).toEqual(["PAR2131"]);
    }
    expect(sigOf(softmax, [f32(2, 5)]).flops([2, 5])).toEqual({ forward: 110, backward: 40 });
    expect(sigOf(logSoftmax, [f32(2, 5)]).flops([1, 5])).toEqual({ forward: 40, backward: 35 });
  });
});

describe("reduce_*: shapes, FLOPs, regions", () => {
  it("reduced axes are reduction dims; the output keeps the others", () => {
    const sig = sigOf(reduceSum, [f32(4, 3, 5)], { axes: [-1, 1] });
    expect(sig.outputs[0].shape).toEqual([4]);
    expect(dimSummary(sig)).toEqual(["sample:sample:4", "length:reduction:3", "channel:reduction:5"]);
    expect(reductionDims(sig)).toEqual([1, 2]);
    const r = taskRegions(sig, [[4, 3, 5]], { lo: [1, 1, 2], hi: [3, 3, 4] });
    expect(r.inputs[0]).toEqual({ lo: [1, 1, 2], hi: [3, 3, 4] });
    expect(r.outputs[0]).toEqual({ lo: [1], hi: [3] });
    expect(sig.flops([4, 3, 5])).toEqual({ forward: 60, backward: 0 });
  });

  it("keepdims keeps size-1 axes (written whole); empty axes reduce everything", () => {
    const sig = sigOf(reduceMean, [f32(4, 3)], { axes: [0], keepdims: true });
    expect(sig.outputs[0].shape).toEqual([1, 3]);
    expect(reductionDims(sig)).toEqual([0]);
    expect(taskRegions(sig, [[4, 3]], { lo: [2, 1], hi: [4, 3] }).outputs[0]).toEqual({ lo: [0, 1], hi: [1, 3] });
    expect(sigOf(reduceMean, [f32(4, 3)]).outputs[0].shape).toEqual([]);
    expect(sigOf(reduceMean, [f32(4, 3)], { keepdims: true }).outputs[0].shape).toEqual([1, 1]);
    expect(sig.flops([4, 3])).toEqual({ forward: 12, backward: 12 });
  });

  it("reduce_max cannot split its reduced axes (maxima do not add)", () => {
    const sig = sigOf(reduceMax, [f32(4, 3)], { axes: [1] });
    expect(dimSummary(sig)).toEqual(["sample:sample:4", "channel:reduction:3:fixed"]);
  });

  it("reduce_min, reduce_prod and reduce_log_sum_exp keep their reduced axes whole; cumsum its axis", () => {
    for (const e of [reduceMin, reduceProd, reduceLogSumExp]) expect(dimSummary(sigOf(e, [f32(4, 3)], { axes: [1] }))).toEqual(["sample:sample:4", "channel:reduction:3:fixed"]);
    const c = sigOf(cumsum, [f32(4, 3)], { axis: -1 });
    expect(dimSummary(c)).toEqual(["sample:sample:4", "channel:attribute:3:fixed"]);
    expect(c.outputs[0].shape).toEqual([4, 3]);
    expect(sigOf(cumsum, [i32(4, 3)], { axis: 1 }).outputs[0].dtype).toBe("i32");
    expect(errorCodes(cumsum, [f32(4, 3)], { axis: 2 })).toEqual(["PAR2131"]);
  });

  it("rejects out-of-range and repeated axes", () => {
    expect(errorCodes(reduceSum, [f32(4, 3)], { axes: [2] })).toEqual(["PAR2131"]);
    expect(errorCodes(reduceSum, [f32(4, 3)], { axes: [1, -1] })).toEqual(["PAR2134"]);
    expect(errorCodes(reduceSum, [f32(4, 3)], { axes: [0], keepdims: 1 })).toEqual(["PAR2103"]);
  });
});

const CASES: { entry: OpEntry; arb: fc.Arbitrary<{ shape: number[]; attrs: Attrs }> }[] = [
  ...[softmax, logSoftmax].map((entry) => ({
    entry,
    arb: fc.tuple(shapeArb(1, 4, 5), fc.integer({ min: -4, max: 3 })).map(([shape, a]) => ({ shape, attrs: { axis: a < 0 ? Math.max(a, -shape.length) : a % shape.length } })),
  })),
  {
    entry: cumsum,
    arb: fc.tuple(shapeArb(1, 4, 5), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.boolean()).map(([shape, a, exclusive, reverse]) => ({ shape, attrs: { axis: a % shape.length, exclusive, reverse } })),
  },
  ...[reduceSum, reduceMean, reduceMax, reduceMin, reduceProd, reduceLogSumExp].map((entry) => ({
    entry,
    arb: fc
      .tuple(shapeArb(1, 4, 5), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.boolean(), fc.boolean())
      .map(([shape, pick, keepdims, all]) => ({ shape, attrs: { axes: all ? [] : shape.flatMap((_, i) => (pick[i] ? [i - (i % 2) * shape.length] : [])), keepdims } })),
  })),
];

describe("reductions: FLOPs of shards add up", () => {
  it("for every op and random partitions", () => {
    for (const c of CASES) {
      assertProperty(
        fc.property(c.arb.chain((k) => fc.tuple(fc.constant(k), degreesFor(sigOf(c.entry, [f32(...k.shape)], k.attrs), 4))), ([k, deg]) =>
          expectFlopsAdd(sigOf(c.entry, [f32(...k.shape)], k.attrs), deg),
        ),
        15,
      );
    }
  });
});

for (const backend of BACKENDS) {
  describe(`reductions on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    for (const c of CASES) {
      it(`${c.entry.name}: shape inference agrees with the kernel; sharded equals whole (forward and backward)`, () => {
        assertProperty(
          fc.property(c.arb.chain((k) => fc.tuple(fc.constant(k), degreesFor(sigOf(c.entry, [f32(...k.shape)], k.attrs)), fc.nat())), ([k, deg, seed]) => {
            expectKernelShapes(tf, c.entry, [f32(...k.shape)], k.attrs);
            expectShardedEqualsWhole(tf, c.entry, [f32(...k.shape)], k.attrs, deg, seed);
          }),
          20,
        );
      });
    }

    it("cumsum (exclusive, reverse, integer), reduce_prod, reduce_min and a stable log-sum-exp", () => {
      const run = (entry: OpEntry, data: number[], shape: number[], attrs: Attrs, dtype: "float32" | "int32" = "float32") => {
        const t = dtype === "int32" ? { ...f32(...shape), dtype: "i32" as const } : f32(...shape);
        const sig = sigOf(entry, [t], attrs);
        return Array.from(entry.forward(tf, { inputs: [tf.tensor(data, shape, dtype)], params: [], attrs: resolved(entry, attrs), sig, shard: wholeShard(sig, [t]) })[0].dataSync());
      };
      expect(run(cumsum, [1, 2, 3, 4], [4], { axis: 0 })).toEqual([1, 3, 6, 10]);
      expect(run(cumsum, [1, 2, 3, 4], [4], { axis: 0, exclusive: true })).toEqual([0, 1, 3, 6]);
      expect(run(cumsum, [1, 2, 3, 4], [4], { axis: 0, reverse: true })).toEqual([10, 9, 7, 4]);
      // RoBERTa's position ids: cumsum of a 0/1 mask of ints.
      expect(run(cumsum, [1, 1, 0, 1], [1, 4], { axis: 1 }, "int32")).toEqual([1, 2, 2, 3]);
      expect(run(reduceProd, [1, 2, 3, 4], [2, 2], { axes: [1] })).toEqual([2, 12]);
      expect(run(reduceMin, [1, -2, 3, 4], [2, 2], { axes: [0] })).toEqual([1, -2]);
      const lse = run(reduceLogSumExp, [1000, 1000, -1, 0], [2, 2], { axes: [1] });
      expect(lse[0]).toBeCloseTo(1000 + Math.log(2), 3);
      expect(lse[1]).toBeCloseTo(Math.log(Math.exp(-1) + 1), 5);
    });

    it("softmax along a middle axis sums to 1 along it; reduce_mean divides by the global count", () => {
      const x = tf.tensor([1, 2, 3, 4, 5, 6], [1, 3, 2]);
      const sig = sigOf(softmax, [f32(1, 3, 2)], { axis: 1 });
      const y = softmax.forward(tf, { inputs: [x], params: [], attrs: resolved(softmax, { axis: 1 }), sig, shard: wholeShard(sig, [f32(1, 3, 2)]) })[0];
      Array.from(tf.sum(y, 1).dataSync()).forEach((v) => expect(v).toBeCloseTo(1, 5));
      const ms = sigOf(reduceMean, [f32(2, 4)], { axes: [1] });
      // A task holding columns 0..1 of [[1,2,3,4],[5,6,7,8]] returns (1+2)/4 and (5+6)/4.
      const part = reduceMean.forward(tf, {
        inputs: [tf.tensor([1, 2, 5, 6], [2, 2])],
        params: [],
        attrs: resolved(reduceMean, { axes: [1] }),
        sig: ms,
        shard: { box: { lo: [0, 0], hi: [2, 2] }, spaceSizes: [2, 4], inputRegions: [{ lo: [0, 0], hi: [2, 2] }], outputRegions: [{ lo: [0], hi: [2] }], firstAlongReductions: true },
      })[0];
      expect(Array.from(part.dataSync())).toEqual([0.75, 2.75]);
    });
  });
}
