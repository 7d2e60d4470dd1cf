// Element-wise float32 addition into a destination array, for the ring all-reduce's sums,
// accumulating receives, and shared views outside the arena. A JS loop `d[i] += s[i]`
// runs at ~3 ns per element (1.9 GB/s on 2 MiB); the SIMD module of wasm-add-module.ts
// adds at ~70 GB/s within a private memory, so the operands are copied in
// (Float32Array.set: memcpy speed for plain arrays) in chunks that stay in cache, added
// four lanes at a time and copied out: 7–8 GB/s on 2 MiB (docs/runtime.md). Results are
// bit-identical to the JS loop (f32x4.add is IEEE single-precision addition, as is a JS
// add rounded to float32), with the operands in the same order (the left one is kept
// left), except that a NaN's payload may differ. Without WebAssembly SIMD the JS loop
// is used.

import { instantiateAdd, newMemory, type AddExports } from "./api.js";

/** Memory pages (64 KiB each) of the module's private memory. */
const PAGES = 2;
/** Floats of each operand per call into the module: the two operands fill its memory. */
export const ADD_CHUNK = (PAGES * 65536) / 8;
/** Below this many floats the JS loop wins (the copies have a fixed cost). */
const MIN_SIMD_FLOATS = 64;

/** Byte offsets of the two operands in the module's memory. */
const A = 0;
const B = ADD_CHUNK * 4;

/** Bytes of the whole 16-byte vectors covering `n` floats: the lanes past n add leftovers that are never copied out. */
function vectorBytes(n: number): number {
  return ((n + 3) & ~3) * 4;
}

interface SimdAdd extends AddExports {
  /** The module's memory as floats: operand A at [0, ADD_CHUNK), B at [ADD_CHUNK, 2·ADD_CHUNK). */
  mem: Float32Array;
}

let simd: SimdAdd | null | undefined;

function simdAdd(): SimdAdd | null {
  if (simd !== undefined) return simd;
  const memory = newMemory(PAGES, false);
  const m = memory && instantiateAdd("private", memory);
  // The memory never grows, so this view stays attached.
  simd = memory && m ? { mem: new Float32Array(memory.buffer), add: m.add, copy: m.copy } : null;
  return simd;
}

/** Whether the SIMD path is in use on this thread (false: the JS loop). */
export function simdAddAvailable(): boolean {
  return simdAdd() !== null;
}

/**
 * The reference: for i < count, d[dOff+i] = s[sOff+i] + d[dOff+i] when `srcLeft`, else
 * d[dOff+i] + s[sOff+i] (JS adds in double and the store rounds to float32, which for a
 * sum of two floats is exactly the float32 sum).
 */
export function addIntoJs(d: Float32Array, dOff: number, s: Float32Array, sOff: number, count: number, srcLeft = false): void {
  if (srcLeft) for (let i = 0; i < count; i++) d[dOff + i] = s[sOff + i] + d[dOff + i];
  else for (let i = 0; i < count; i++) d[dOff + i] += s[sOff + i];
}

/** addIntoJs's result, through the SIMD module where available. `s` and `d` may be shared memory. */
export function addInto(d: Float32Array, dOff: number, s: Float32Array, sOff: number, count: number, srcLeft = false): void {
  const m = count >= MIN_SIMD_FLOATS ? simdAdd() : null;
  if (!m) {
    addIntoJs(d, dOff, s, sOff, count, srcLeft);
    return;
  }
  const mem = m.mem;
  for (let k = 0; k < count; k += ADD_CHUNK) {
    const n = Math.min(ADD_CHUNK, count - k);
    mem.set(s.subarray(sOff + k, sOff + k + n), 0);
    mem.set(d.subarray(dOff + k, dOff + k + n), ADD_CHUNK);
    const bytes = vectorBytes(n);
    if (srcLeft) m.add(B, A, B, bytes);
    else m.add(B, B, A, bytes);
    d.set(mem.subarray(ADD_CHUNK, ADD_CHUNK + n), dOff + k);
  }
}

/**
 * For lo ≤ i < hi: views[0][i] + views[1][i] + ... + views[n−1][i], added left to right
 * in float32 (the sum so far is the left operand), written into EVERY view at i. The
 * shared-memory all-reduce: one member sums its slice of all members' buffers into all.
 */
export function sumInto(views: readonly Float32Array[], lo: number, hi: number): void {
  const count = hi - lo;
  if (views.length < 2 || count <= 0) return;
  const m = count >= MIN_SIMD_FLOATS ? simdAdd() : null;
  if (!m) {
    const acc = views[0].slice(lo, hi);
    for (let v = 1; v < views.length; v++) addIntoJs(acc, 0, views[v], lo, count);
    for (const v of views) v.set(acc, lo);
    return;
  }
  const mem = m.mem;
  for (let k = 0; k < count; k += ADD_CHUNK) {
    const n = Math.min(ADD_CHUNK, count - k);
    const at = lo + k;
    const bytes = vectorBytes(n);
    mem.set(views[0].subarray(at, at + n), 0);
    for (let v = 1; v < views.length; v++) {
      mem.set(views[v].subarray(at, at + n), ADD_CHUNK);
      m.add(A, A, B, bytes);
    }
    const sum = mem.subarray(0, n);
    for (const v of views) v.set(sum, at);
  }
}
