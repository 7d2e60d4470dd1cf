// The SIMD adds (f32-add.ts) give the JS loop's bits: f32x4.add is IEEE single-precision
// addition per lane, as a JS add stored into a Float32Array is. Special values included;
// only a NaN's payload may differ, so NaNs are compared as NaN-ness.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ADD_CHUNK, addInto, addIntoJs, simdAddAvailable, sumInto } from "../../../src/runtime/wasm/f32-add.js";
import { addModuleBytes } from "../../../src/runtime/wasm/add-module.js";
import { assertProperty } from "../../support/property.js";

/** Bits of `a`, with every NaN as one canonical pattern. */
function bits(a: Float32Array): number[] {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  return Array.from(a, (x, i) => (Number.isNaN(x) ? 0x7fc00000 : u[i]));
}

const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 1.4e-45, -1.4e-45, 1.17549435e-38, -1.1754942e-38, 3.4028234663852886e38, -3.4028234663852886e38, 1, -1, 16777216, 16777217];

/** Float32 values: anything fast-check's float gives (subnormals, ±0, ±Inf, NaN), or a special one. */
const f32 = fc.oneof(fc.float(), fc.constantFrom(...SPECIAL), fc.float({ min: Math.fround(-1e-36), max: Math.fround(1e-36), noNaN: true }));

function filled(n: number, values: number[], shared: boolean): Float32Array {
  const a = shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = values.length ? values[i % values.length] : 0;
  return a;
}

describe("SIMD float32 adds", () => {
  it("the hand-written module validates (private and shared memory) and the SIMD path is in use on this Node", () => {
    const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(wasm.validate(addModuleBytes("private"))).toBe(true);
    expect(wasm.validate(addModuleBytes("shared"))).toBe(true);
    expect(simdAddAvailable()).toBe(true);
  });

  it("addInto equals the JS loop bit for bit, in both operand orders, at any offsets and lengths (across chunks), from plain or shared memory", () => {
    const arb = fc.record({
      n: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: ADD_CHUNK - 5, max: 2 * ADD_CHUNK + 9 })),
      dOff: fc.integer({ min: 0, max: 7 }),
      sOff: fc.integer({ min: 0, max: 7 }),
      dVals: fc.array(f32, { minLength: 1, maxLength: 97 }),
      sVals: fc.array(f32, { minLength: 1, maxLength: 89 }),
      srcLeft: fc.boolean(),
      sharedSrc: fc.boolean(),
    });
    assertProperty(
      fc.property(arb, ({ n, dOff, sOff, dVals, sVals, srcLeft, sharedSrc }) => {
        const d1 = filled(n + dOff + 3, dVals, false);
        const d2 = Float32Array.from(d1);
        const s = filled(n + sOff + 2, sVals, sharedSrc);
        addInto(d1, dOff, s, sOff, n, srcLeft);
        addIntoJs(d2, dOff, s, sOff, n, srcLeft);
        // Elements outside [dOff, dOff + n) are untouched as well.
        expect(bits(d1)).toEqual(bits(d2));
      }),
      150,
    );
  });

  it("sumInto writes the left-to-right float32 sum of all views into each, only within [lo, hi)", () => {
    const arb = fc.record({
      views: fc.integer({ min: 2, max: 4 }),
      len: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: ADD_CHUNK - 3, max: ADD_CHUNK + 70 })),
      cut: fc.tuple(fc.nat(), fc.nat()),
      vals: fc.array(fc.array(f32, { minLength: 1, maxLength: 53 }), { minLength: 4, maxLength: 4 }),
      shared: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    });
    assertProperty(
      fc.property(arb, ({ views, len, cut, vals, shared }) => {
        const vs = Array.from({ length: views }, (_, m) => filled(len, vals[m], shared[m]));
        const want = vs.map((v) => Float32Array.from(v));
        const lo = cut[0] % (len + 1);
        const hi = lo + (cut[1] % (len - lo + 1));
        const acc = want[0].slice(lo, hi);
        for (let m = 1; m < views; m++) addIntoJs(acc, 0, want[m], lo, hi - lo);
        for (const w of want) w.set(acc, lo);
        sumInto(vs, lo, hi);
        vs.forEach((v, m) => expect(bits(v), `view ${m}`).toEqual(bits(want[m])));
      }),
      120,
    );
  });

  it("the JS loop is float32 addition (the reference is right): Math.fround of the double sum", () => {
    assertProperty(
      fc.property(f32, f32, (a, b) => {
        const d = Float32Array.of(a);
        addIntoJs(d, 0, Float32Array.of(b), 0, 1, false);
        const want = Float32Array.of(Math.fround(Math.fround(a) + Math.fround(b)));
        expect(bits(d)).toEqual(bits(want));
      }),
      500,
    );
  });
});
