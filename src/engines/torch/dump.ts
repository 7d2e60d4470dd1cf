// Reading the weights and last-step gradients the engine dumps after a run (`--dump DIR`:
// per rank, rank<r>.json names each param/param_grad buffer's tensor, region, offset and
// count in rank<r>.bin, little-endian f32) and stitching the shards into whole tensors,
// as src/runtime/exec/run-inprocess.ts does for the tfjs runtime.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parError } from "../../core/diagnostics.js";
import { regionShape, type Region } from "../../core/region.js";
import type { Plan } from "../../plan/plan.js";

export interface DumpedTensors {
  /** Whole weights after the last step. */
  params: Map<string, Float32Array>;
  /** Whole weight gradients of the last step (after the replicas' all-reduce), of the trainable params only (as run-inprocess.ts). */
  grads: Map<string, Float32Array>;
}

interface Entry {
  tensor: string;
  kind: "param" | "param_grad";
  region: Region;
  offset: number;
  count: number;
  /** A ZeRO slice buffer: elements [lo, hi) of the region's row-major order. */
  slice?: [number, number];
}

/** Calls `row(globalOffset, regionOffset, length)` for each contiguous row of `region` in a tensor of `shape`. */
function forEachRow(shape: readonly number[], region: Region, row: (at: number, from: number, len: number) => void): void {
  const rs = regionShape(region);
  const rank = shape.length;
  if (rank === 0) {
    row(0, 0, 1);
    return;
  }
  const strides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const len = rs[rank - 1];
  const rows = rs.reduce((a, b) => a * b, 1) / Math.max(1, len);
  const idx = new Array<number>(Math.max(0, rank - 1)).fill(0);
  for (let r = 0; r < rows; r++) {
    let off = region.lo[rank - 1];
    for (let i = 0; i < rank - 1; i++) off += (region.lo[i] + idx[i]) * strides[i];
    row(off, r * len, len);
    for (let i = rank - 2; i >= 0; i--) {
      if (++idx[i] < rs[i]) break;
      idx[i] = 0;
    }
  }
}

/** Writes `values` (region-shaped, row-major) into `target` holding the whole `shape`. */
function place(target: Float32Array, shape: readonly number[], region: Region, values: Float32Array): void {
  forEachRow(shape, region, (at, from, len) => target.set(values.subarray(from, from + len), at));
}

/** The elements of `region` of `source` (holding the whole `shape`), row-major. */
function take(source: Float32Array, shape: readonly number[], region: Region): Float32Array {
  const out = new Float32Array(regionShape(region).reduce((a, b) => a * b, 1));
  forEachRow(shape, region, (at, from, len) => out.set(source.subarray(at, at + len), from));
  return out;
}

export function readDump(plan: Plan, dir: string): DumpedTensors {
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  const params = new Map<string, Float32Array>();
  const grads = new Map<string, Float32Array>();
  for (const p of plan.params) {
    const n = tensors.get(p.tensor)!.shape.reduce((a, b) => a * b, 1);
    params.set(p.tensor, new Float32Array(n));
    if (p.trainable !== false) grads.set(p.tensor, new Float32Array(n));
  }
  const manifests = readdirSync(dir).filter((f) => /^rank\d+\.json$/.test(f));
  if (manifests.length === 0) throw parError("PAR8012", `the torch engine wrote no dump into ${dir}`);
  for (const m of manifests) {
    const manifest = JSON.parse(readFileSync(join(dir, m), "utf8")) as { entries: Entry[] };
    const bytes = readFileSync(join(dir, m.replace(/\.json$/, ".bin")));
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    for (const e of manifest.entries) {
      const target = (e.kind === "param" ? params : grads).get(e.tensor);
      const t = tensors.get(e.tensor);
      if (!target || !t || e.count === 0) continue;
      const values = all.subarray(e.offset, e.offset + e.count);
      if (e.slice) {
        const region = take(target, t.shape, e.region);
        region.set(values, e.slice[0]);
        place(target, t.shape, e.region, region);
      } else place(target, t.shape, e.region, values);
    }
  }
  return { params, grads };
}
