// The "sharded equals whole" check for one op instance: run the op whole, then run every
// task of a partition of its iteration space on its own input regions and weight shard,
// stitch outputs (adding partial sums) and input/weight gradients (adding overlaps), and
// compare. This is the algebra the runtime will rely on, tested op by op.
import type { Tensor } from "@tensorflow/tfjs-core";
import { partition, regionShape, type Region } from "../../src/core/region.js";
import { volume, type TensorType } from "../../src/core/tensor.js";
import type { Attrs, OpEntry, OpSignature, ShardContext, TF } from "../../src/ops/contract.js";
import { backwardOf } from "../../src/ops/autodiff.js";
import { isFirstAlongReductions, spaceSizes, taskRegions } from "../../src/ops/regions.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { fullRegion } from "../../src/core/region.js";
import { mulberry32, mulberry32 as rng } from "../../src/core/random.js";

export { mulberry32 as rng };

export function inferOrThrow(entry: OpEntry, inputs: TensorType[], attrs: Attrs): OpSignature {
  const diagnostics = new Diagnostics();
  const sig = entry.infer(inputs, attrs, { opName: "op", diagnostics });
  if (!sig) throw new Error(`infer failed: ${diagnostics.items.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return sig;
}

/**
 * Random data for a tensor type. Integer tensors get values in [0, intHigh) (class labels,
 * token ids); floats are uniform in [-1, 1).
 */
export function randomTensor(tf: TF, t: TensorType, next: () => number, intHigh = 2): Tensor {
  const n = volume(t.shape);
  if (t.dtype === "i32" || t.dtype === "i64") {
    const v = new Int32Array(n);
    for (let i = 0; i < n; i++) v[i] = Math.floor(next() * intHigh);
    return tf.tensor(v, t.shape, "int32");
  }
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = next() * 2 - 1;
  return tf.tensor(v, t.shape, "float32");
}

function sliceRegion(tf: TF, t: Tensor, r: Region): Tensor {
  if (t.shape.length === 0) return t;
  return tf.slice(t, r.lo, regionShape(r));
}

/** Adds `data` (shaped like region r) into `buf` (shaped `shape`). */
function addInto(buf: Float32Array, shape: readonly number[], r: Region, data: Float32Array | Int32Array | Uint8Array): void {
  const rs = regionShape(r);
  const n = volume(rs);
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let i = 0; i < rank; i++) off += (r.lo[i] + idx[i]) * strides[i];
    buf[off] += data[k];
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < rs[i]) break;
      idx[i] = 0;
    }
  }
}

export interface Comparison {
  maxAbs: number;
  maxRel: number;
  ok: boolean;
  where: string;
}

/** Max abs error and max error relative to the largest magnitude of the reference. */
export function compare(expected: ArrayLike<number>, actual: ArrayLike<number>, where: string, tol = { abs: 1e-4, rel: 1e-4 }): Comparison {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    // Equal values agree, infinities included (a max-pool window over padding only is −∞).
    if (expected[i] !== actual[i]) maxAbs = Math.max(maxAbs, Math.abs(expected[i] - actual[i]));
    if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  }
  const maxRel = maxAbs / Math.max(scale, 1e-12);
  const okLength = expected.length === actual.length;
  return { maxAbs, maxRel, ok: okLength && (maxAbs <= tol.abs || maxRel <= tol.rel), where };
}

export interface ShardedCase {
  entry: OpEntry;
  inputs: TensorType[];
  attrs: Attrs;
  /** One degree per iteration dim. */
  degrees: number[];
  seed: number;
  /** Upper bound for integer inputs (class count, vocabulary). */
  intHigh?: number;
  tolerance?: { abs: number; rel: number };
}

export interface ShardedResult {
  comparisons: Comparison[];
  ok: boolean;
  sig: OpSignature;
}

/** Full-tensor shard context (the whole op as one task). */
export function wholeShard(sig: OpSignature, inputs: readonly TensorType[]): ShardContext {
  const box = fullRegion(spaceSizes(sig));
  const regions = taskRegions(sig, inputs.map((t) => t.shape), box);
  return { box, spaceSizes: spaceSizes(sig), inputRegions: regions.inputs, outputRegions: regions.outputs, firstAlongReductions: true };
}

/** Runs fn in a tfjs scope (disposing its tensors) and returns its plain-data result. */
function withScope<T>(tf: TF, fn: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = fn();
  });
  return out as T;
}

export function checkShardedEqualsWhole(tf: TF, c: ShardedCase): ShardedResult {
  const sig = inferOrThrow(c.entry, c.inputs, c.attrs);
  return withScope(tf, () => {
    const next = rng(c.seed);
    const xs = c.inputs.map((t) => randomTensor(tf, t, next, c.intHigh ?? 2));
    const ws = sig.params.map((p) => randomTensor(tf, { dtype: p.dtype ?? "f32", shape: p.shape, dims: p.dims }, next));
    const dys = sig.outputs.map((o) => randomTensor(tf, o, next));
    const whole = wholeShard(sig, c.inputs);
    const args = { inputs: xs, params: ws, attrs: c.attrs, sig, shard: whole };
    const ys = c.entry.forward(tf, args);
    const g = backwardOf(c.entry, tf, { ...args, outputs: ys, dOutputs: dys });

    const outBufs = sig.outputs.map((o) => new Float32Array(volume(o.shape)));
    const dInBufs = c.inputs.map((t) => new Float32Array(volume(t.shape)));
    const dParBufs = sig.params.map((p) => new Float32Array(volume(p.shape)));
    const sizes = spaceSizes(sig);
    for (const box of partition(sizes, c.degrees)) {
      const r = taskRegions(sig, c.inputs.map((t) => t.shape), box);
      const shard: ShardContext = {
        box,
        spaceSizes: sizes,
        inputRegions: r.inputs,
        outputRegions: r.outputs,
        firstAlongReductions: isFirstAlongReductions(sig, box),
      };
      const txs = xs.map((x, i) => sliceRegion(tf, x, r.inputs[i]));
      const tws = ws.map((w, i) => sliceRegion(tf, w, r.params[i]));
      const targs = { inputs: txs, params: tws, attrs: c.attrs, sig, shard };
      const tys = c.entry.forward(tf, targs);
      tys.forEach((y, i) => addInto(outBufs[i], sig.outputs[i].shape, r.outputs[i], y.dataSync() as Float32Array));
      const tdys = dys.map((dy, i) => sliceRegion(tf, dy, r.outputs[i]));
      const tg = backwardOf(c.entry, tf, { ...targs, outputs: tys, dOutputs: tdys });
      tg.dInputs.forEach((d, i) => d && addInto(dInBufs[i], c.inputs[i].shape, r.inputs[i], d.dataSync() as Float32Array));
      tg.dParams.forEach((d, i) => addInto(dParBufs[i], sig.params[i].shape, r.params[i], d.dataSync() as Float32Array));
    }
    const tol = c.tolerance ?? { abs: 1e-4, rel: 1e-4 };
    const comparisons: Comparison[] = [];
    ys.forEach((y, i) => comparisons.push(compare(y.dataSync(), outBufs[i], `output ${i}`, tol)));
    g.dInputs.forEach((d, i) => d && comparisons.push(compare(d.dataSync(), dInBufs[i], `d input ${i}`, tol)));
    g.dParams.forEach((d, i) => comparisons.push(compare(d.dataSync(), dParBufs[i], `d param ${sig.params[i].name}`, tol)));
    return { comparisons, ok: comparisons.every((x) => x.ok), sig };
  });
}

/** Shape inference agrees with what the kernel returns on the whole op. */
export function kernelShapes(tf: TF, entry: OpEntry, inputs: TensorType[], attrs: Attrs, seed = 1, intHigh = 2): { inferred: number[][]; actual: number[][] } {
  const sig = inferOrThrow(entry, inputs, attrs);
  return withScope(tf, () => {
    const next = rng(seed);
    const xs = inputs.map((t) => randomTensor(tf, t, next, intHigh));
    const ws = sig.params.map((p) => randomTensor(tf, { dtype: p.dtype ?? "f32", shape: p.shape, dims: p.dims }, next));
    const ys = entry.forward(tf, { inputs: xs, params: ws, attrs, sig, shard: wholeShard(sig, inputs) });
    return { inferred: sig.outputs.map((o) => o.shape), actual: ys.map((y) => [...y.shape]) };
  });
}

/** Sum over tasks of the per-task FLOPs, to compare with the whole op's. */
export function shardFlops(sig: OpSignature, degrees: number[]): { forward: number; backward: number } {
  let forward = 0;
  let backward = 0;
  for (const box of partition(spaceSizes(sig), degrees)) {
    const f = sig.flops(regionShape(box));
    forward += f.forward;
    backward += f.backward;
  }
  return { forward, backward };
}
