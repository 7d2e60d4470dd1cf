// Join and cut ops: concat, split, slice. They move data and compute nothing, so their FLOPs
// are 0 and the cost model charges them by bytes. Each task's kernel works on its own
// regions only: every forward derives its output shape from shard.outputRegions, never
// from the whole.

import type { TensorType } from "../core/tensor.js";
import { checkInputs } from "./attrs.js";
import { normalizeAxis } from "./axes.js";
import type { AxisMap, OpEntry } from "./contract.js";
import { activationSpace, FULL, fmtShape, identityMaps, noFlops, outShape } from "./common.js";

export const concat: OpEntry = {
  name: "concat",
  family: "shape",
  doc: "Joins the inputs along `axis`; all other axes must agree.",
  inputs: [{ name: "xs", variadic: true, dtype: "any" }],
  attrs: [{ name: "axis", kind: "int", doc: "the axis to join along (negative counts from the end)" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const first = inputs[0];
    const rank = first.shape.length;
    const axis = normalizeAxis(attrs.axis as number, rank, "concat", ctx);
    if (axis === undefined) return undefined;
    for (const [i, t] of inputs.entries()) {
      const agrees = t.shape.length === rank && t.shape.every((s, j) => j === axis || s === first.shape[j]) && t.dtype === first.dtype;
      if (!agrees) {
        ctx.diagnostics.error("PAR2107", `\`concat\`: input ${i} ${fmtShape(t.shape)} (${t.dtype}) does not match input 0 ${fmtShape(first.shape)} (${first.dtype}) off axis ${axis}`, {
          pos: ctx.pos,
          expected: `rank ${rank}, dtype ${first.dtype}, sizes ${fmtShape(first.shape.map((s, j) => (j === axis ? -1 : s)))} (-1: any)`,
        });
        return undefined;
      }
    }
    const shape = [...first.shape];
    shape[axis] = inputs.reduce((s, t) => s + t.shape[axis], 0);
    const out: TensorType = { dtype: first.dtype, shape, dims: [...first.dims] };
    // The concat axis is one iteration dim that no input addresses piecewise: unsplittable.
    const space = activationSpace(out).map((d, i) => (i === axis ? { ...d, splittable: false } : d));
    return {
      outputs: [out],
      params: [],
      space,
      inputMaps: inputs.map(() => identityMaps(rank).map((m, j) => (j === axis ? FULL : m))),
      paramMaps: [],
      outputMaps: [identityMaps(rank)],
      flops: noFlops,
    };
  },
  forward: (tf, { inputs, attrs }) => {
    const rank = inputs[0].shape.length;
    const a = attrs.axis as number;
    return [tf.concat(inputs, a < 0 ? a + rank : a)];
  },
};

/** The part sizes of a split (validated in infer). */
function splitSizes(size: number, attrs: { parts?: unknown; sizes?: unknown }): number[] {
  const sizes = attrs.sizes as number[];
  if (sizes.length > 0) return [...sizes];
  const parts = attrs.parts as number;
  return new Array<number>(parts).fill(size / parts);
}

export const split: OpEntry = {
  name: "split",
  family: "shape",
  doc: "Splits along `axis` into `parts` equal pieces or pieces of `sizes`; one output per piece.",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [
    { name: "axis", kind: "int", default: 0, doc: "the axis to split (negative counts from the end)" },
    { name: "parts", kind: "int", default: 0, doc: "number of equal pieces (give parts or sizes)" },
    { name: "sizes", kind: "ints", default: [], doc: "size of each piece (give parts or sizes)" },
  ],
  outputNames: ["ys"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const rank = x.shape.length;
    const axis = normalizeAxis(attrs.axis as number, rank, "split", ctx);
    if (axis === undefined) return undefined;
    const n = x.shape[axis];
    const parts = attrs.parts as number;
    const sizes = attrs.sizes as number[];
    const bad = (why: string, expected: string): undefined => {
      ctx.diagnostics.error("PAR2135", `\`split\` of axis ${axis} (size ${n}): ${why}`, { pos: ctx.pos, expected });
      return undefined;
    };
    if ((parts > 0) === (sizes.length > 0)) return bad("give exactly one of `parts` and `sizes`", "parts = N or sizes = [..]");
    if (parts < 0) return bad(`parts = ${parts}`, "a positive number of parts");
    if (parts > 0 && n % parts !== 0) return bad(`${parts} equal parts do not divide ${n}`, `a divisor of ${n}`);
    if (sizes.some((s) => s < 1)) return bad(`sizes [${sizes.join(", ")}] has a non-positive entry`, "positive sizes");
    if (sizes.length > 0 && sizes.reduce((s, v) => s + v, 0) !== n) return bad(`sizes [${sizes.join(", ")}] add up to ${sizes.reduce((s, v) => s + v, 0)}`, `sizes adding up to ${n}`);
    const pieces = splitSizes(n, attrs);
    const space = activationSpace(x).map((d, i) => (i === axis ? { ...d, splittable: false } : d));
    let offset = 0;
    const outputMaps: AxisMap[][] = [];
    for (const s of pieces) {
      // Piece k covers input positions [offset, offset + s) of the split axis: a window
      // of kernel 1 shifted by `offset`, so the dim stays addressed (not a reduction).
      const m: AxisMap = { kind: "window", dim: axis, stride: 1, dilation: 1, kernel: 1, padLo: offset, size: s };
      outputMaps.push(identityMaps(rank).map((im, j) => (j === axis ? m : im)));
      offset += s;
    }
    return {
      outputs: pieces.map((s) => {
        const shape = [...x.shape];
        shape[axis] = s;
        return { dtype: x.dtype, shape, dims: [...x.dims] };
      }),
      params: [],
      space,
      inputMaps: [identityMaps(rank)],
      paramMaps: [],
      outputMaps,
      flops: noFlops,
    };
  },
  forward: (tf, { inputs, attrs }) => {
    const x = inputs[0];
    const rank = x.shape.length;
    const a = attrs.axis as number;
    const axis = a < 0 ? a + rank : a;
    // Slices rather than tf.split: SplitV's gradient fails for a single piece.
    let offset = 0;
    return splitSizes(x.shape[axis], attrs).map((s) => {
      // Fresh arrays per slice: tfjs keeps them as the kernel's attrs for the gradient.
      const begin = x.shape.map((_, j) => (j === axis ? offset : 0));
      const size = x.shape.map((v, j) => (j === axis ? s : v));
      offset += s;
      return tf.slice(x, begin, size);
    });
  },
};

/** Python-style slice bounds on an axis of size n: [start, end) clamped, and the count. */
function sliceBounds(n: number, start: number, end: number, step: number): { start: number; count: number } {
  const clamp = (v: number): number => Math.min(n, Math.max(0, v < 0 ? v + n : v));
  const s = clamp(start);
  const e = clamp(end);
  return { start: s, count: e > s ? Math.ceil((e - s) / step) : 0 };
}

export const slice: OpEntry = {
  name: "slice",
  family: "shape",
  doc: "x[start:end:step] along one axis (Python bounds: negative counts from the end, clamped); chain slices for several axes.",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [
    { name: "axis", kind: "int", default: 0, doc: "the sliced axis" },
    { name: "start", kind: "int", default: 0, doc: "first index" },
    { name: "end", kind: "int", doc: "one past the last index (clamped to the axis)" },
    { name: "step", kind: "int", default: 1, min: 1, doc: "stride (positive)" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const rank = x.shape.length;
    const axis = normalizeAxis(attrs.axis as number, rank, "slice", ctx);
    if (axis === undefined) return undefined;
    const step = attrs.step as number;
    const { start, count } = sliceBounds(x.shape[axis], attrs.start as number, attrs.end as number, step);
    if (count === 0) {
      ctx.diagnostics.error("PAR2136", `\`slice\` [${attrs.start}:${attrs.end}:${step}] of axis ${axis} (size ${x.shape[axis]}) selects nothing`, {
        pos: ctx.pos,
        expected: "start < end after normalising negative bounds",
      });
      return undefined;
    }
    const shape = [...x.shape];
    shape[axis] = count;
    const out: TensorType = { dtype: x.dtype, shape, dims: [...x.dims] };
    // Output position o reads input start + o·step: a kernel-1 window with that stride.
    // Every box reads a non-empty in-range block, so the sliced axis splits too.
    const win: AxisMap = { kind: "window", dim: axis, stride: step, dilation: 1, kernel: 1, padLo: -start, size: x.shape[axis] };
    return {
      outputs: [out],
      params: [],
      space: activationSpace(out),
      inputMaps: [identityMaps(rank).map((m, j) => (j === axis ? win : m))],
      paramMaps: [],
      outputMaps: [identityMaps(rank)],
      flops: noFlops,
    };
  },
  forward: (tf, { inputs, attrs, shard }) => {
    const rank = inputs[0].shape.length;
    const a = attrs.axis as number;
    const axis = a < 0 ? a + rank : a;
    // Handed the whole tensor rather than its region (the whole op run on full inputs):
    // cut the region out first.
    const region = shard.inputRegions[0];
    const extent = region.hi[axis] - region.lo[axis];
    const x = inputs[0].shape[axis] === extent ? inputs[0] : tf.slice(inputs[0], region.lo.map((l, j) => (j === axis ? l : 0)), inputs[0].shape.map((s, j) => (j === axis ? extent : s)));
    const step = attrs.step as number;
    if (step === 1) return [tf.clone(x)];
    // The task holds input positions first..last of its outputs (every step-th one): pad to
    // a multiple of step, fold the axis into [count, step] and keep column 0. Pad and
    // reshape have gradients on every backend (strided slice has none).
    const count = outShape(shard)[axis];
    const len = x.shape[axis];
    const pads = x.shape.map((_, j): [number, number] => (j === axis ? [0, count * step - len] : [0, 0]));
    const padded = tf.pad(x, pads);
    const folded = tf.reshape(padded, [...x.shape.slice(0, axis), count, step, ...x.shape.slice(axis + 1)]);
    const begin = folded.shape.map(() => 0);
    const size = [...folded.shape];
    size[axis + 1] = 1;
    return [tf.reshape(tf.slice(folded, begin, size), outShape(shard))];
  },
};


export const JOIN_OPS: OpEntry[] = [concat, split, slice];
