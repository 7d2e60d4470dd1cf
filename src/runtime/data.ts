// Synthetic training data: every value is a pure function of (seed, tensor id, global
// index, step), so each device feeds exactly the region its tasks read and no data ever
// moves between devices. So that training can make progress (the loss falls), labels and
// regression targets are not noise: they are a fixed function (the "teacher") of the row
// of a float input at the same sample, which a device regenerates itself from the same
// hash. See PlanFeed in src/codegen/plan.ts and docs/runtime.md.

import type { Region } from "../core/region.js";
import type { PlanTensor } from "../codegen/plan.js";
import { hashKey, strHash, symmetric } from "./hash.js";
import { forEachGlobal, type BufferData } from "./regions.js";

const FLOAT = 0;
const CLASS_WEIGHT = 1;
const TARGET_WEIGHT = 2;
const NO_TEACHER = 3;

/** Element `index` of a uniform float input at `step`: U(-1, 1). */
export function uniformValue(seed: number, tensor: string, index: number, step: number): number {
  return symmetric(hashKey(seed, strHash(tensor), index, step, FLOAT));
}

function rowSize(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** Row `i` (sample i, all other axes flattened) of a uniform float input. */
function teacherRow(seed: number, teacher: PlanTensor, i: number, step: number): Float64Array {
  const n = rowSize(teacher.shape);
  const row = new Float64Array(n);
  for (let k = 0; k < n; k++) row[k] = uniformValue(seed, teacher.id, i * n + k, step);
  return row;
}

/**
 * The data of `region` of graph input `tensor` at `step`. `teacher` is the tensor named
 * by its feed's `teacher` (a uniform float input with the same batch size).
 */
export function synthesize(tensor: PlanTensor, teacher: PlanTensor | undefined, seed: number, step: number, region: Region): BufferData {
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
  forEachGlobal(tensor.shape, region, (g, k) => {
    if (feed.kind === "uniform") {
      out[k] = uniformValue(seed, tensor.id, g, step);
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
    if (feed.kind === "classes") {
      // argmax over classes of a fixed random projection of the teacher's row.
      let best = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < feed.classes; c++) {
        let s = 0;
        for (let q = 0; q < row.length; q++) s += row[q] * symmetric(hashKey(seed, id, c, q, j, CLASS_WEIGHT));
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      out[k] = best;
    } else {
      // A fixed linear function of the row, scaled to unit variance and squashed by tanh.
      let s = 0;
      for (let q = 0; q < row.length; q++) s += row[q] * symmetric(hashKey(seed, id, q, j, TARGET_WEIGHT));
      out[k] = Math.tanh((3 * s) / Math.sqrt(row.length));
    }
  });
  return out;
}
