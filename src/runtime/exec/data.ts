// Synthetic training data: every value is a pure function of (seed, tensor id, global
// index, step), so each device feeds exactly the region its tasks read and no data ever
// moves between devices. So that training can make progress (the loss falls), labels and
// regression targets are not noise: they are a fixed function (the "teacher") of the row
// of a float input at the same sample, which a device regenerates itself from the same
// hash. Each label reads at most TEACHER_TAPS elements of that row (all of a shorter
// row): reading all of it made a segmentation model's targets cost rows × positions
// hashes, 151 M per sample of a 3×64×64 image, far more than the model's own step.
// See PlanFeed in src/plan/plan.ts and docs/runtime.md.

import type { Region } from "../../core/region.js";
import type { PlanTensor } from "../../plan/plan.js";
import { hashKey, mix32, strHash, symmetric } from "./hash.js";
import { forEachGlobal, type BufferData } from "./regions.js";
import { DATASET_BATCHES } from "../../plan/memory.js";

/** Batches in the synthetic dataset before it repeats (see `synthesize`): one count for the data and the memory account. */
export { DATASET_BATCHES };

const FLOAT = 0;
const CLASS_WEIGHT = 1;
const TARGET_WEIGHT = 2;
const NO_TEACHER = 3;
const TAP = 4;

/** Most elements of the teacher's row one label or target reads. */
export const TEACHER_TAPS = 64;

/** Element `index` of a uniform float input at `step`: U(-1, 1). */
export function uniformValue(seed: number, tensor: string, index: number, step: number): number {
  return symmetric(hashKey(seed, strHash(tensor), index, step, FLOAT));
}

// Fast paths with exactly hashKey's values: its keys are folded in left to right, so the
// state after the leading constant keys (seed, tensor) is computed once, and the
// projection weights, which do not depend on the step or the sample, are cached.

/** One key folded into the state, as hashKey does. */
function fold(h: number, k: number): number {
  const hi = Math.floor(k / 4294967296);
  h = mix32(h ^ (k >>> 0));
  if (hi !== 0) h = mix32(h ^ (hi >>> 0));
  return h;
}

/** hashKey's state after the keys `seed, id`. */
function prefix(seed: number, id: number): number {
  return fold(fold(0x2545f491, seed), id);
}

/** uniformValue with the (seed, tensor) prefix precomputed. */
function uniformFrom(pre: number, index: number, step: number): number {
  return symmetric(fold(fold(fold(pre, index), step), FLOAT));
}

/** Cached projection weights, by key; bounded (cleared when full). */
const weightCache = new Map<string, Float64Array>();
let cachedFloats = 0;

function cachedWeights(key: string, n: number, make: (w: Float64Array) => void): Float64Array {
  let w = weightCache.get(key);
  if (!w) {
    w = new Float64Array(n);
    make(w);
    if (cachedFloats + n > 1 << 23) {
      weightCache.clear();
      cachedFloats = 0;
    }
    weightCache.set(key, w);
    cachedFloats += n;
  }
  return w;
}

function rowSize(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** Row `i` (sample i, all other axes flattened) of a uniform float input. */
function teacherRow(seed: number, teacher: PlanTensor, i: number, step: number): Float64Array {
  const n = rowSize(teacher.shape);
  const row = new Float64Array(n);
  const pre = prefix(seed, strHash(teacher.id));
  for (let k = 0; k < n; k++) row[k] = uniformFrom(pre, i * n + k, step);
  return row;
}

/**
 * The data of `region` of graph input `tensor` at `step`. `teacher` is the tensor named
 * by its feed's `teacher` (a uniform float input with the same batch size).
 */
export function synthesize(tensor: PlanTensor, teacher: PlanTensor | undefined, seed: number, trainingStep: number, region: Region): BufferData {
  // The synthetic dataset has DATASET_BATCHES batches, cycled like epochs: a model sees
  // each batch again, so a few steps visibly lower the loss (fresh noise every step would
  // hide learning behind sampling variance for dozens of steps).
  const step = trainingStep % DATASET_BATCHES;
  let n = 1;
  for (let i = 0; i < region.lo.length; i++) n *= Math.max(0, region.hi[i] - region.lo[i]);
  const feed = tensor.feed ?? (tensor.dtype === "f32" ? { kind: "uniform" as const } : { kind: "classes" as const, classes: 2, teacher: null });
  const out: BufferData = tensor.dtype === "i32" ? new Int32Array(n) : new Float32Array(n);
  const id = strHash(tensor.id);
  const rest = rowSize(tensor.shape);
  // Rows of the teacher are shared by every element of one sample: compute each once.
  const rows = new Map<number, Float64Array>();
  const rowOf = (i: number): Float64Array => {
    let r = rows.get(i);
    if (!r) {
      r = teacherRow(seed, teacher!, i, step);
      rows.set(i, r);
    }
    return r;
  };
  const idPre = prefix(seed, id);
  // Position j reads taps k < n of the teacher's row: elements k of a row of n ≤ TEACHER_TAPS,
  // else n = TEACHER_TAPS elements hashKey(seed, id, j, k, TAP) mod the row's length.
  const tapsOf = (j: number, len: number): Float64Array | undefined =>
    len <= TEACHER_TAPS
      ? undefined
      : cachedWeights(`q|${seed}|${tensor.id}|${len}|${j}`, TEACHER_TAPS, (t) => {
          for (let k = 0; k < TEACHER_TAPS; k++) t[k] = hashKey(seed, id, j, k, TAP) % len;
        });
  // Class projection weights of position j: w[c * n + k] = symmetric(hashKey(seed, id, c, k, j, CLASS_WEIGHT)).
  const classWeights = (j: number, classes: number, n: number) =>
    cachedWeights(`c|${seed}|${tensor.id}|${classes}|${n}|${j}`, classes * n, (w) => {
      for (let c = 0; c < classes; c++) for (let k = 0; k < n; k++) w[c * n + k] = symmetric(hashKey(seed, id, c, k, j, CLASS_WEIGHT));
    });
  const targetWeights = (j: number, n: number) =>
    cachedWeights(`t|${seed}|${tensor.id}|${n}|${j}`, n, (w) => {
      for (let k = 0; k < n; k++) w[k] = symmetric(hashKey(seed, id, k, j, TARGET_WEIGHT));
    });
  forEachGlobal(tensor.shape, region, (g, k) => {
    if (feed.kind === "uniform") {
      out[k] = uniformFrom(idPre, g, step);
      return;
    }
    const useTeacher = feed.teacher !== null && teacher !== undefined && tensor.shape.length > 0;
    if (!useTeacher) {
      const h = hashKey(seed, id, g, step, NO_TEACHER);
      out[k] = feed.kind === "classes" ? h % feed.classes : symmetric(h);
      return;
    }
    // Sample i and position j within the sample (the other axes, flattened).
    const i = Math.floor(g / rest);
    const j = g - i * rest;
    const row = rowOf(i);
    const taps = tapsOf(j, row.length);
    const n = taps ? taps.length : row.length;
    if (feed.kind === "classes") {
      // argmax over classes of a fixed random projection of the teacher's taps.
      const w = classWeights(j, feed.classes, n);
      let best = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < feed.classes; c++) {
        let s = 0;
        const o = c * n;
        for (let t = 0; t < n; t++) s += row[taps ? taps[t] : t] * w[o + t];
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      out[k] = best;
    } else {
      // A fixed linear function of the taps, scaled to unit variance and squashed by tanh.
      const w = targetWeights(j, n);
      let s = 0;
      for (let t = 0; t < n; t++) s += row[taps ? taps[t] : t] * w[t];
      out[k] = Math.tanh((3 * s) / Math.sqrt(n));
    }
  });
  return out;
}
