import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { TF } from "../../src/ops/contract.js";
import { mse } from "../../src/ops/losses.js";
import { reductionDims, taskRegions } from "../../src/ops/regions.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { assertProperty } from "../support/property.js";
import { wholeShard } from "../support/sharded.js";
import { degreesFor, dimSummary, errorCodes, expectFlopsAdd, expectKernelShapes, expectShardedEqualsWhole, f32, shapeArb, sigOf } from "./_ops-b-helpers.js";

describe("mse: shapes, FLOPs, regions", () => {
  it("a scalar loss; every dim is a reduction", () => {
    const sig = sigOf(mse, [f32(4, 3), f32(4, 3)]);
    expect(mse.isLoss).toBe(true);
    expect(sig.outputs[0].shape).toEqual([]);
    expect(dimSummary(sig)).toEqual(["sample:sample:4", "channel:attribute:3"]);
    expect(reductionDims(sig)).toEqual([0, 1]);
    const r = taskRegions(sig, [[4, 3], [4, 3]], { lo: [2, 1], hi: [4, 2] });
    expect(r.inputs).toEqual([{ lo: [2, 1], hi: [4, 2] }, { lo: [2, 1], hi: [4, 2] }]);
    expect(r.outputs[0]).toEqual({ lo: [], hi: [] });
    expect(sig.flops([4, 3])).toEqual({ forward: 36, backward: 36 });
    expectFlopsAdd(sig, [3, 2]);
  });

  it("rejects mismatched shapes, integer targets and a missing input", () => {
    expect(errorCodes(mse, [f32(4, 3), f32(4, 2)])).toEqual(["PAR2107"]);
    expect(errorCodes(mse, [f32(4, 3), f32(4, 3, 1)])).toEqual(["PAR2107"]);
    expect(errorCodes(mse, [f32(4, 3), { dtype: "i32", shape: [4, 3], dims: ["a", "b"] }])).toEqual(["PAR2106"]);
    expect(errorCodes(mse, [f32(4, 3)])).toEqual(["PAR2105"]);
  });
});

for (const backend of BACKENDS) {
  describe(`mse on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("computes the mean over all elements", () => {
      const sig = sigOf(mse, [f32(2, 2), f32(2, 2)]);
      const y = mse.forward(tf, { inputs: [tf.tensor([1, 2, 3, 4], [2, 2]), tf.tensor([1, 0, 3, 0], [2, 2])], params: [], attrs: {}, sig, shard: wholeShard(sig, [f32(2, 2), f32(2, 2)]) })[0];
      expect(y.dataSync()[0]).toBeCloseTo((4 + 16) / 4, 5);
      expectKernelShapes(tf, mse, [f32(2, 3, 4), f32(2, 3, 4)]);
    });

    it("sharded equals whole (forward and backward, both inputs), any partition", () => {
      const arb = fc
        .record({ shape: shapeArb(1, 4, 5), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreesFor(sigOf(mse, [f32(...c.shape), f32(...c.shape)]))));
      assertProperty(
        fc.property(arb, ([c, deg]) => expectShardedEqualsWhole(tf, mse, [f32(...c.shape), f32(...c.shape)], {}, deg, c.seed)),
        25,
      );
    });
  });
}
