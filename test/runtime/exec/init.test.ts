import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fullRegion, partition } from "../../../src/core/region.js";
import type { InitSpec } from "../../../src/ops/contract.js";
import { initRegion, initValue } from "../../../src/runtime/exec/init.js";
import { insert } from "../../../src/runtime/exec/regions.js";
import { assertProperty } from "../../support/property.js";

const SPECS: InitSpec[] = [{ kind: "zeros" }, { kind: "ones" }, { kind: "uniform", bound: 0.3 }, { kind: "normal", std: 2 }];

describe("parameter init", () => {
  it("sharded init stitched == whole init, for any shape, split and spec", async () => {
    const arb = fc
      .array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 3 })
      .chain((shape) => fc.tuple(fc.constant(shape), fc.tuple(...shape.map((s) => fc.integer({ min: 1, max: s }))), fc.constantFrom(...SPECS), fc.integer()));
    await assertProperty(
      fc.property(arb, ([shape, degrees, spec, seed]) => {
        const whole = initRegion(spec, seed, "w", shape, fullRegion(shape));
        const stitched = new Float32Array(whole.length);
        for (const r of partition(shape, degrees as number[])) insert(stitched, fullRegion(shape), r, initRegion(spec, seed, "w", shape, r), false);
        expect(stitched).toEqual(whole);
      }),
      200,
    );
  });

  it("has the requested distribution (moments) and depends on seed and param", () => {
    const n = 20000;
    const u = Array.from({ length: n }, (_, i) => initValue({ kind: "uniform", bound: 0.5 }, 1, "a", i));
    expect(Math.max(...u)).toBeLessThanOrEqual(0.5);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-0.5);
    expect(Math.abs(u.reduce((a, b) => a + b, 0) / n)).toBeLessThan(0.01);
    const z = Array.from({ length: n }, (_, i) => initValue({ kind: "normal", std: 2 }, 1, "a", i));
    const mean = z.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(sd).toBeGreaterThan(1.9);
    expect(sd).toBeLessThan(2.1);
    expect(initValue({ kind: "uniform", bound: 1 }, 1, "a", 5)).not.toBe(initValue({ kind: "uniform", bound: 1 }, 2, "a", 5));
    expect(initValue({ kind: "uniform", bound: 1 }, 1, "a", 5)).not.toBe(initValue({ kind: "uniform", bound: 1 }, 1, "b", 5));
  });
});
