// Moving regions between buffers. A buffer holds one region of a tensor in row-major
// order; these helpers copy the part `r` (global coordinates) between buffers whose own
// regions contain it.

import { regionShape, type Region } from "../../core/region.js";

export type BufferData = Float32Array | Int32Array;

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * Where each row of `r` starts in a buffer holding `holder`: a row is a run of `len`
 * elements along the last axis, contiguous in the buffer; rows are in row-major order of
 * `r`, so row i covers elements i·len .. (i+1)·len − 1 of `r`'s dense form. Empty for an
 * empty region; one row of one element for a scalar.
 */
function rowOffsets(holder: Region, r: Region): { rows: Int32Array | number[]; len: number } {
  const rank = r.lo.length;
  const rs = regionShape(r);
  if (rs.some((x) => x <= 0)) return { rows: [], len: 0 };
  if (rank === 0) return { rows: [0], len: 1 };
  const hs = strides(regionShape(holder));
  const len = rs[rank - 1];
  const n = rs.slice(0, -1).reduce((a, b) => a * b, 1);
  const rows = new Int32Array(n);
  const idx = new Array<number>(rank - 1).fill(0);
  for (let row = 0; row < n; row++) {
    let off = r.lo[rank - 1] - holder.lo[rank - 1];
    for (let i = 0; i < rank - 1; i++) off += (r.lo[i] + idx[i] - holder.lo[i]) * hs[i];
    rows[row] = off;
    for (let i = rank - 2; i >= 0; i--) {
      if (++idx[i] < rs[i]) break;
      idx[i] = 0;
    }
  }
  return { rows, len };
}

// Rows are copied with TypedArray.set (a memcpy, converting between element types where
// they differ), not element by element: a JS element loop costs ~2 ns per element, ten
// times a copy, and a plan's local copies and receives move whole activations.

/** The elements of `r` out of a buffer holding `holder`, as a dense row-major array. */
export function extract(data: BufferData, holder: Region, r: Region): Float32Array {
  const n = regionShape(r).reduce((a, b) => a * b, 1);
  const out = new Float32Array(Math.max(0, n));
  const { rows, len } = rowOffsets(holder, r);
  for (let i = 0; i < rows.length; i++) out.set(data.subarray(rows[i], rows[i] + len), i * len);
  return out;
}

/** Writes (or adds) the dense array `src` covering `r` into a buffer holding `holder`. */
export function insert(data: BufferData, holder: Region, r: Region, src: ArrayLike<number>, accumulate: boolean): void {
  const { rows, len } = rowOffsets(holder, r);
  const typed = ArrayBuffer.isView(src) ? (src as Float32Array | Int32Array) : undefined;
  for (let i = 0; i < rows.length; i++) {
    const off = rows[i];
    const k = i * len;
    if (accumulate) for (let j = 0; j < len; j++) data[off + j] += src[k + j];
    else if (typed) data.set(typed.subarray(k, k + len), off);
    else for (let j = 0; j < len; j++) data[off + j] = src[k + j];
  }
}

/**
 * Copies (or adds) region `r` from a buffer holding `srcHolder` into one holding
 * `dstHolder` (both contain `r`), row by row without an intermediate array: the same
 * result as insert(dst, dstHolder, r, extract(src, srcHolder, r), accumulate).
 */
export function copyRegion(src: BufferData, srcHolder: Region, dst: BufferData, dstHolder: Region, r: Region, accumulate: boolean): void {
  const from = rowOffsets(srcHolder, r);
  const to = rowOffsets(dstHolder, r);
  const len = from.len;
  for (let i = 0; i < from.rows.length; i++) {
    const a = from.rows[i];
    const b = to.rows[i];
    // Through float32, as extract's dense array goes: the same sums, bit for bit.
    if (accumulate) for (let j = 0; j < len; j++) dst[b + j] += Math.fround(src[a + j]);
    else dst.set(src.subarray(a, a + len), b);
  }
}

/** Calls fn(globalFlatIndex, k) for every element of `r` of a tensor shaped `shape`. */
export function forEachGlobal(shape: readonly number[], r: Region, fn: (global: number, k: number, coords: number[]) => void): void {
  const rank = shape.length;
  const rs = regionShape(r);
  const n = rs.reduce((a, b) => a * b, 1);
  if (n <= 0) return;
  const gs = strides(shape);
  const idx = new Array<number>(rank).fill(0);
  const coords = [...r.lo];
  for (let k = 0; k < n; k++) {
    let g = 0;
    for (let i = 0; i < rank; i++) {
      coords[i] = r.lo[i] + idx[i];
      g += coords[i] * gs[i];
    }
    fn(g, k, coords);
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < rs[i]) break;
      idx[i] = 0;
    }
  }
}
