import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Region } from "../../../src/core/region.js";
import { copyRegion, extract, insert } from "../../../src/runtime/exec/regions.js";
import { assertProperty } from "../../support/property.js";

/** Row-major offset of global coordinates `c` in a buffer holding `holder`. */
function offsetIn(holder: Region, c: readonly number[]): number {
  let off = 0;
  for (let i = 0; i < c.length; i++) off = off * (holder.hi[i] - holder.lo[i]) + (c[i] - holder.lo[i]);
  return off;
}

/** Every coordinate of `r` in row-major order (the reference the fast paths must match). */
function coordsOf(r: Region): number[][] {
  const out: number[][] = [];
  const walk = (axis: number, prefix: number[]) => {
    if (axis === r.lo.length) {
      out.push(prefix);
      return;
    }
    for (let x = r.lo[axis]; x < r.hi[axis]; x++) walk(axis + 1, [...prefix, x]);
  };
  walk(0, []);
  return out;
}

/** A tensor shape, two holder regions of it and a region inside both (possibly empty). */
const regionCase = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 })
  .chain((shape) => {
    const within = (lo: number[], hi: number[]) =>
      fc.tuple(...shape.map((_, i) => fc.tuple(fc.integer({ min: lo[i], max: hi[i] }), fc.integer({ min: lo[i], max: hi[i] })))).map((ps) => ({
        lo: ps.map(([a, b]) => Math.min(a, b)),
        hi: ps.map(([a, b]) => Math.max(a, b)),
      }));
    const zeros = shape.map(() => 0);
    return fc.tuple(fc.constant(shape), within(zeros, shape), within(zeros, shape)).chain(([s, a, b]) => {
      const lo = s.map((_, i) => Math.max(a.lo[i], b.lo[i]));
      const hi = s.map((_, i) => Math.max(lo[i], Math.min(a.hi[i], b.hi[i])));
      return fc.tuple(fc.constant(a), fc.constant(b), within(lo, hi), fc.boolean(), fc.boolean());
    });
  });

const volume = (r: Region) => r.lo.reduce((n, l, i) => n * (r.hi[i] - l), 1);
const filled = (n: number, salt: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7 + salt) % 13) - 6.5);

describe("region copies", () => {
  it("extract, insert and copyRegion agree with an element-by-element reference", () => {
    assertProperty(
      fc.property(regionCase, ([a, b, r, accumulate, ints]) => {
        const src: Float32Array | Int32Array = ints ? Int32Array.from(filled(volume(a), 1), Math.round) : filled(volume(a), 1);
        const coords = coordsOf(r);
        // extract: the dense row-major elements of r.
        const dense = extract(src, a, r);
        expect(Array.from(dense)).toEqual(coords.map((c) => Math.fround(src[offsetIn(a, c)])));
        // insert and copyRegion into the same starting buffer give the reference result.
        const want = filled(volume(b), 2);
        coords.forEach((c, k) => {
          const o = offsetIn(b, c);
          want[o] = accumulate ? want[o] + dense[k] : dense[k];
        });
        const viaInsert = filled(volume(b), 2);
        insert(viaInsert, b, r, dense, accumulate);
        const viaCopy = filled(volume(b), 2);
        copyRegion(src, a, viaCopy, b, r, accumulate);
        expect(Array.from(viaInsert)).toEqual(Array.from(want));
        expect(Array.from(viaCopy)).toEqual(Array.from(want));
      }),
      300,
    );
  });

  it("insert takes a plain array as well as a typed one", () => {
    const holder = { lo: [0, 0], hi: [2, 3] };
    const data = new Float32Array(6);
    insert(data, holder, { lo: [1, 1], hi: [2, 3] }, [5, 6], false);
    expect(Array.from(data)).toEqual([0, 0, 0, 0, 5, 6]);
  });
});
