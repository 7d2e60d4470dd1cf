// Moving regions between buffers. A buffer holds one region of a tensor in row-major
// order; these helpers copy the part `r` (global coordinates) between buffers whose own
// regions contain it.

import { regionShape, type Region } from "../core/region.js";

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
 * Calls fn(offsetInHolder, k) for every element of `r` (k = row-major index within r),
 * where the holder buffer covers `holder`. Runs along the last axis in contiguous spans.
 */
function forEachSpan(holder: Region, r: Region, fn: (offset: number, k: number, len: number) => void): void {
  const rank = r.lo.length;
  const rs = regionShape(r);
  if (rs.some((x) => x <= 0)) return;
  if (rank === 0) {
    fn(0, 0, 1);
    return;
  }
  const hs = strides(regionShape(holder));
  const len = rs[rank - 1];
  const rows = rs.slice(0, -1).reduce((a, b) => a * b, 1);
  const idx = new Array<number>(rank - 1).fill(0);
  for (let row = 0; row < rows; row++) {
    let off = r.lo[rank - 1] - holder.lo[rank - 1];
    for (let i = 0; i < rank - 1; i++) off += (r.lo[i] + idx[i] - holder.lo[i]) * hs[i];
    fn(off, row * len, len);
    for (let i = rank - 2; i >= 0; i--) {
      if (++idx[i] < rs[i]) break;
      idx[i] = 0;
    }
  }
}

/** The elements of `r` out of a buffer holding `holder`, as a dense row-major array. */
export function extract(data: BufferData, holder: Region, r: Region): Float32Array {
  const n = regionShape(r).reduce((a, b) => a * b, 1);
  const out = new Float32Array(Math.max(0, n));
  forEachSpan(holder, r, (off, k, len) => {
    for (let j = 0; j < len; j++) out[k + j] = data[off + j];
  });
  return out;
}

/** Writes (or adds) the dense array `src` covering `r` into a buffer holding `holder`. */
export function insert(data: BufferData, holder: Region, r: Region, src: ArrayLike<number>, accumulate: boolean): void {
  forEachSpan(holder, r, (off, k, len) => {
    if (accumulate) for (let j = 0; j < len; j++) data[off + j] += src[k + j];
    else for (let j = 0; j < len; j++) data[off + j] = src[k + j];
  });
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
