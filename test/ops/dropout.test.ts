import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { partition, type Region } from "../../src/core/region.js";
import type { TF } from "../../src/ops/contract.js";
import { dropout, dropoutMask, dropoutUniform } from "../../src/ops/dropout.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { assertProperty } from "../support/property.js";
import { degreesFor, dimSummary, errorCodes, expectFlopsAdd, expectKernelShapes, expectShardedEqualsWhole, f32, resolved, shapeArb, sigOf } from "./_ops-b-helpers.js";

/** The whole tensor's mask, stitched from the masks of the parts of a partition. */
function stitched(shape: number[], degrees: number[], p: number, seed: number): Float32Array {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(NaN);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  for (const r of partition(shape, degrees)) {
    const m = dropoutMask(shape, r, p, seed);
    let k = 0;
    const walk = (axis: number, off: number): void => {
      if (axis === shape.length) {
        out[off] = m[k++];
        return;
      }
      for (let i = r.lo[axis]; i < r.hi[axis]; i++) walk(axis + 1, off + i * strides[axis]);
    };
    walk(0, 0);
  }
  return out;
}

const whole = (shape: number[]): Region => ({ lo: shape.map(() => 0), hi: [...shape] });

describe("dropout: shapes, FLOPs, mask", () => {
  it("keeps the shape, splits every axis, validates p", () => {
    const sig = sigOf(dropout, [f32(4, 3)], { p: 0.1 });
    expect(sig.outputs[0].shape).toEqual([4, 3]);
    expect(dimSummary(sig)).toEqual(["sample:sample:4", "channel:attribute:3"]);
    expect(sig.flops([4, 3])).toEqual({ forward: 60, backward: 12 });
    expect(resolved(dropout, {})).toEqual({ p: 0.5, seed: 0 });
    expect(dropout.seeded).toBe(true);
    expect(errorCodes(dropout, [f32(3)], { p: 1 })).toEqual(["PAR2140"]);
    expect(errorCodes(dropout, [f32(3)], { p: -0.1 })).toEqual(["PAR2104"]);
    expect(errorCodes(dropout, [f32(3)], { p: 0.5, seed: 1.5 })).toEqual(["PAR2103"]);
  });

  it("the mask is identical under any partition", () => {
    assertProperty(
      fc.property(shapeArb(1, 4, 6), fc.double({ min: 0, max: 0.9, noNaN: true }), fc.nat(), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 4, maxLength: 4 }), (shape, p, seed, ds) => {
        const degrees = shape.map((s, i) => Math.min(s, ds[i]));
        expect(stitched(shape, degrees, p, seed)).toEqual(dropoutMask(shape, whole(shape), p, seed));
      }),
      25,
    );
  });

  it("keeps ≈ 1-p of 10k elements, scaled by 1/(1-p); seeds give different masks", () => {
    for (const p of [0.1, 0.5, 0.8]) {
      const m = dropoutMask([100, 100], whole([100, 100]), p, 7);
      const kept = m.filter((v) => v !== 0);
      // 4 standard deviations of a binomial(10000, 1-p) fraction.
      expect(Math.abs(kept.length / 1e4 - (1 - p))).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / 1e4));
      kept.forEach((v) => expect(v).toBeCloseTo(1 / (1 - p), 5));
    }
    const a = dropoutMask([1000], whole([1000]), 0.5, 1);
    const b = dropoutMask([1000], whole([1000]), 0.5, 2);
    expect(a.filter((v, i) => v !== b[i]).length).toBeGreaterThan(300);
    expect(dropoutUniform(3, 2 ** 33 + 5)).not.toBe(dropoutUniform(3, 5));
  });

  it("FLOPs of shards sum to the whole", () => {
    const sig = sigOf(dropout, [f32(5, 3, 4)], { p: 0.3 });
    expectFlopsAdd(sig, [3, 2, 3]);
  });
});

for (const backend of BACKENDS) {
  describe(`dropout on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("shape inference agrees with the kernel", () => {
      expectKernelShapes(tf, dropout, [f32(2, 3, 4)], { p: 0.3, seed: 5 });
    });

    it("sharded equals whole (forward and backward), any partition", () => {
      const arb = fc
        .record({ shape: shapeArb(1, 4, 5), p: fc.constantFrom(0, 0.25, 0.5, 0.9), dseed: fc.integer({ min: -5, max: 1000 }), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreesFor(sigOf(dropout, [f32(...c.shape)], { p: c.p, seed: c.dseed }))));
      assertProperty(
        fc.property(arb, ([c, deg]) => expectShardedEqualsWhole(tf, dropout, [f32(...c.shape)], { p: c.p, seed: c.dseed }, deg, c.seed)),
        25,
      );
    });
  });
}
