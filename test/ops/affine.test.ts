import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { TensorType } from "../../src/core/tensor.js";
import { biasAdd, prelu, scale, scaleShift } from "../../src/ops/affine.js";
import { wholeShard } from "../support/sharded.js";
import type { TF } from "../../src/ops/contract.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, inferOrThrow, kernelShapes, shardFlops } from "../support/sharded.js";
import { assertProperty, degreeFor } from "../support/property.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });

describe("affine ops: shapes and maps", () => {
  it("bias_add carries the channel axis as a parameter dim", () => {
    const sig = inferOrThrow(biasAdd, [f32(4, 3, 5)], { shape: [5] });
    expect(sig.params[0].shape).toEqual([5]);
    expect(sig.space.map((d) => d.cls)).toEqual(["sample", "attribute", "parameter"]);
    expect(sig.paramMaps[0]).toEqual([{ kind: "iter", dim: 2 }]);
    expect(shardFlops(sig, [2, 3, 5])).toEqual(sig.flops(sig.space.map((d) => d.size)));
  });
  it("a size-1 parameter axis is read whole", () => {
    const sig = inferOrThrow(scale, [f32(2, 6, 4, 4)], { shape: [6, 1, 1] });
    expect(sig.paramMaps[0]).toEqual([{ kind: "iter", dim: 1 }, { kind: "full" }, { kind: "full" }]);
  });
  it("prelu: a per-channel slope [C, 1, 1] is a parameter dim on the channel; it starts at 0 (a ReLU)", () => {
    const sig = inferOrThrow(prelu, [f32(2, 6, 4, 4)], { shape: [6, 1, 1] });
    expect(sig.params[0]).toMatchObject({ name: "slope", shape: [6, 1, 1], init: { kind: "zeros" } });
    expect(sig.space.map((d) => d.cls)).toEqual(["sample", "parameter", "attribute", "attribute"]);
    expect(sig.flops([2, 6, 4, 4])).toEqual({ forward: 3 * 192, backward: 3 * 192 });
  });
  it("rejects a parameter that does not broadcast (PAR2107) or a zero dim (PAR2109)", () => {
    const d = new Diagnostics();
    expect(biasAdd.infer([f32(2, 3)], { shape: [4] }, { opName: "b", diagnostics: d })).toBeUndefined();
    expect(scale.infer([f32(2, 3)], { shape: [0] }, { opName: "s", diagnostics: d })).toBeUndefined();
    expect(d.items.map((x) => x.code)).toEqual(["PAR2107", "PAR2109"]);
  });
});

for (const backend of BACKENDS) {
  describe(`affine ops on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });
    it("shape inference agrees with the kernels", () => {
      expect(kernelShapes(tf, scaleShift, [f32(2, 3)], { scale: 2, shift: 1 }).actual).toEqual([[2, 3]]);
      expect(kernelShapes(tf, biasAdd, [f32(2, 3)], { shape: [3] }).actual).toEqual([[2, 3]]);
    });
    it("prelu: x for x > 0, slope·x otherwise (torch.nn.PReLU)", () => {
      const sig = inferOrThrow(prelu, [f32(1, 2, 2)], { shape: [2, 1] });
      const x = tf.tensor([-1, 2, -3, 4], [1, 2, 2]);
      const y = prelu.forward(tf, { inputs: [x], params: [tf.tensor([0.5, 0.25], [2, 1])], attrs: { shape: [2, 1] }, sig, shard: wholeShard(sig, [f32(1, 2, 2)]) })[0];
      expect(Array.from(y.dataSync())).toEqual([-0.5, 2, -0.75, 4]);
    });
    for (const entry of [biasAdd, scale, prelu]) {
      it(`${entry.name}: sharded equals whole (forward and backward)`, () => {
        const arb = fc
          .record({ n: fc.integer({ min: 1, max: 5 }), l: fc.integer({ min: 1, max: 4 }), c: fc.integer({ min: 1, max: 6 }), ones: fc.boolean(), seed: fc.nat() })
          .chain((c) => fc.tuple(fc.constant(c), degreeFor(c.n), degreeFor(c.l), degreeFor(c.c)));
        assertProperty(
          fc.property(arb, ([c, dn, dl, dc]) => {
            const shape = c.ones ? [c.l, 1] : [c.c];
            const res = checkShardedEqualsWhole(tf, { entry, inputs: [f32(c.n, c.l, c.c)], attrs: { shape }, degrees: [dn, dl, dc], seed: c.seed });
            expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
          }),
          25,
        );
      });
    }
    it("scale_shift: sharded equals whole", () => {
      const res = checkShardedEqualsWhole(tf, { entry: scaleShift, inputs: [f32(4, 6)], attrs: { scale: -0.5, shift: 2 }, degrees: [2, 3], seed: 3 });
      expect(res.ok).toBe(true);
    });
  });
}
