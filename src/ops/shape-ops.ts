// Shape ops: reshape, flatten, transpose, concat, split, slice, squeeze, unsqueeze,
// expand/broadcast_to, pad. They move data and compute nothing, so their FLOPs are 0
// (expand's backward sums over the broadcast axes: one add per output element); the cost
// model charges them by bytes. Each task's kernel works on its own regions only: every
// forward derives its output shape from shard.outputRegions, never from the whole.

import type { Tensor } from "@tensorflow/tfjs-core";
import { regionShape } from "../core/region.js";
import type { TensorType } from "../core/tensor.js";
import { checkInputs } from "./attrs.js";
import { normalizeAxes, normalizeAxis } from "./axes.js";
import type { AxisMap, InferContext, OpEntry, OpSignature, ParallelDim, TF } from "./contract.js";
import { activationDimNames, activationSpace, fmtShape, identityMaps, product } from "./common.js";
import { broadcastMaps, broadcastShapes } from "./elementwise.js";

const FULL: AxisMap = { kind: "full" };
const iter = (dim: number): AxisMap => ({ kind: "iter", dim });
const noFlops = (): { forward: number; backward: number } => ({ forward: 0, backward: 0 });

/** The kernel's output shape: the task's output region (the whole op gets the full shape). */
function outShape(shard: { outputRegions: { lo: number[]; hi: number[] }[] }, i = 0): number[] {
  return regionShape(shard.outputRegions[i]);
}

/**
 * When `to[0]` is the product of `from[0..j)` for some j ≥ 2 (the leading axes of `from`
 * merged into one), returns j; rows of the merged axis then follow from[0] in blocks.
 */
function leadingMerge(from: readonly number[], to: readonly number[]): number | undefined {
  if (from.length < 2 || to.length < 1) return undefined;
  let p = from[0];
  for (let j = 1; j < from.length; j++) {
    p *= from[j];
    if (p === to[0]) return j + 1;
    if (p > to[0]) return undefined;
  }
  return undefined;
}

/**
 * Reshape signature. The leading axes that input and output share unchanged (same sizes,
 * same positions) keep their row-major layout, so they are splittable iteration dims and
 * the remaining axes are read and written whole. Otherwise, when one side's first axis
 * merges the other's leading axes ([n, l, c] ↔ [n·l, c]), `sample` splits in blocks.
 * Otherwise nothing can be split: the space is the output's first axis, unsplittable.
 */
function reshapeSignature(x: TensorType, shape: number[], ctx: InferContext): OpSignature {
  let k = 0;
  while (k < x.shape.length && k < shape.length && x.shape[k] === shape[k]) k++;
  const names = activationDimNames(x.shape.length);
  let space: ParallelDim[];
  let inMaps: AxisMap[];
  let outMaps: AxisMap[];
  if (k > 0) {
    space = shape.slice(0, k).map((size, i) => ({ name: names[i], cls: i === 0 ? "sample" : "attribute", size }));
    inMaps = x.shape.map((_, i) => (i < k ? iter(i) : FULL));
    outMaps = shape.map((_, i) => (i < k ? iter(i) : FULL));
  } else if (leadingMerge(x.shape, shape) !== undefined) {
    // [n, l, ...] → [n·l, ...]: sample block i owns output rows [i·P, (i+1)·P).
    space = [{ name: "sample", cls: "sample", size: x.shape[0] }];
    inMaps = x.shape.map((_, i) => (i === 0 ? iter(0) : FULL));
    outMaps = shape.map((_, i) => (i === 0 ? { kind: "block", dim: 0, blockSize: shape[0] / x.shape[0] } : FULL));
  } else if (leadingMerge(shape, x.shape) !== undefined) {
    // [n·l, ...] → [n, l, ...]: the inverse, the block is on the input.
    space = [{ name: "sample", cls: "sample", size: shape[0] }];
    inMaps = x.shape.map((_, i) => (i === 0 ? { kind: "block", dim: 0, blockSize: x.shape[0] / shape[0] } : FULL));
    outMaps = shape.map((_, i) => (i === 0 ? iter(0) : FULL));
  } else if (shape.length > 0) {
    space = [{ name: "sample", cls: "sample", size: shape[0], splittable: false }];
    inMaps = x.shape.map(() => FULL);
    outMaps = shape.map((_, i) => (i === 0 ? iter(0) : FULL));
  } else {
    space = [];
    inMaps = x.shape.map(() => FULL);
    outMaps = [];
  }
  return {
    outputs: [{ dtype: x.dtype, shape, dims: shape.map((_, i) => (i < k ? x.dims[i] : `${ctx.opName}.d${i}`)) }],
    params: [],
    space,
    inputMaps: [inMaps],
    paramMaps: [],
    outputMaps: [outMaps],
    flops: noFlops,
  };
}

const reshapeForward = (tf: TF, { inputs, shard }: { inputs: Tensor[]; shard: { outputRegions: { lo: number[]; hi: number[] }[] } }): Tensor[] => [
  tf.reshape(inputs[0], outShape(shard)),
];

export const reshape: OpEntry = {
  name: "reshape",
  family: "shape",
  doc: "Row-major reshape to `shape`; one entry may be -1 (inferred).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "shape", kind: "ints", doc: "target shape; one -1 allowed" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const target = attrs.shape as number[];
    const total = product(x.shape);
    const bad = (why: string): undefined => {
      ctx.diagnostics.error("PAR2132", `\`reshape\` cannot reshape ${fmtShape(x.shape)} to ${fmtShape(target)}: ${why}`, {
        pos: ctx.pos,
        expected: `positive sizes (one may be -1) whose product is ${total}`,
      });
      return undefined;
    };
    const holes = target.filter((s) => s === -1).length;
    if (holes > 1) return bad("more than one -1");
    if (target.some((s) => s === 0 || s < -1)) return bad("sizes must be positive or -1");
    const known = product(target.filter((s) => s !== -1));
    let shape = [...target];
    if (holes === 1) {
      if (total % known !== 0) return bad(`${total} elements do not divide into blocks of ${known}`);
      shape = target.map((s) => (s === -1 ? total / known : s));
    } else if (known !== total) {
      return bad(`${total} elements vs ${known}`);
    }
    return reshapeSignature(x, shape, ctx);
  },
  forward: reshapeForward,
};

export const flatten: OpEntry = {
  name: "flatten",
  family: "shape",
  doc: "Flattens to 2-D [prod(shape[:axis]), prod(shape[axis:])], like ONNX Flatten (torch.flatten(x, 1) for axis 1).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "axis", kind: "int", default: 1, doc: "first axis of the second output dim, in [-rank, rank]" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const rank = x.shape.length;
    const given = attrs.axis as number;
    // ONNX: axis may equal rank ([total, 1]); negative axes count from the end.
    const a = given < 0 ? given + rank : given;
    if (a < 0 || a > rank) {
      ctx.diagnostics.error("PAR2131", `\`flatten\`: axis ${given} is out of range for rank ${rank}`, { pos: ctx.pos, expected: `an axis in [${-rank}, ${rank}]` });
      return undefined;
    }
    return reshapeSignature(x, [product(x.shape.slice(0, a)), product(x.shape.slice(a))], ctx);
  },
  forward: reshapeForward,
};

export const transpose: OpEntry = {
  name: "transpose",
  family: "shape",
  doc: "Permutes the axes: output axis i is input axis perm[i] (torch.permute).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "perm", kind: "ints", doc: "a permutation of the input's axes" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const rank = x.shape.length;
    const given = attrs.perm as number[];
    const perm = given.map((p) => (p < 0 ? p + rank : p));
    if (perm.length !== rank || perm.some((p) => p < 0 || p >= rank) || new Set(perm).size !== rank) {
      ctx.diagnostics.error("PAR2133", `\`transpose\`: perm [${given.join(", ")}] is not a permutation of the ${rank} axes of ${fmtShape(x.shape)}`, {
        pos: ctx.pos,
        expected: `each of 0..${rank - 1} exactly once`,
      });
      return undefined;
    }
    return {
      outputs: [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]), dims: perm.map((p) => x.dims[p]) }],
      params: [],
      // The space follows the input's axes; output axis i addresses dim perm[i].
      space: activationSpace(x),
      inputMaps: [identityMaps(rank)],
      paramMaps: [],
      outputMaps: [perm.map((p) => iter(p))],
      flops: noFlops,
    };
  },
  forward: (tf, { inputs, attrs }) => {
    const rank = inputs[0].shape.length;
    return [tf.transpose(inputs[0], (attrs.perm as number[]).map((p) => (p < 0 ? p + rank : p)))];
  },
};

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

export const squeeze: OpEntry = {
  name: "squeeze",
  family: "shape",
  doc: "Removes size-1 axes: those in `axes`, or all of them when `axes` is empty.",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "axes", kind: "ints", default: [], doc: "axes to remove (each of size 1); empty: every size-1 axis" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const rank = x.shape.length;
    const given = attrs.axes as number[];
    const axes = given.length === 0 ? x.shape.flatMap((s, i) => (s === 1 ? [i] : [])) : normalizeAxes(given, rank, "squeeze", ctx);
    if (axes === undefined) return undefined;
    const wrong = axes.find((a) => x.shape[a] !== 1);
    if (wrong !== undefined) {
      ctx.diagnostics.error("PAR2137", `\`squeeze\`: axis ${wrong} of ${fmtShape(x.shape)} has size ${x.shape[wrong]}, not 1`, {
        pos: ctx.pos,
        expected: "axes of size 1",
        hint: "use reshape to merge axes",
      });
      return undefined;
    }
    const kept = x.shape.flatMap((_, i) => (axes.includes(i) ? [] : [i]));
    const out: TensorType = { dtype: x.dtype, shape: kept.map((i) => x.shape[i]), dims: kept.map((i) => x.dims[i]) };
    return {
      outputs: [out],
      params: [],
      space: activationSpace(out),
      inputMaps: [x.shape.map((_, i) => (axes.includes(i) ? FULL : iter(kept.indexOf(i))))],
      paramMaps: [],
      outputMaps: [identityMaps(kept.length)],
      flops: noFlops,
    };
  },
  forward: reshapeForward,
};

export const unsqueeze: OpEntry = {
  name: "unsqueeze",
  family: "shape",
  doc: "Inserts size-1 axes at positions `axes` of the output (ONNX Unsqueeze).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "axes", kind: "ints", doc: "positions of the new axes in the output" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const given = attrs.axes as number[];
    const rank = x.shape.length + given.length;
    const axes = normalizeAxes(given, rank, "unsqueeze", ctx);
    if (axes === undefined) return undefined;
    const shape: number[] = [];
    const dims: string[] = [];
    const outMaps: AxisMap[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) {
      if (axes.includes(i)) {
        shape.push(1);
        dims.push(`${ctx.opName}.d${i}`);
        outMaps.push(FULL);
      } else {
        shape.push(x.shape[j]);
        dims.push(x.dims[j]);
        outMaps.push(iter(j));
        j++;
      }
    }
    return {
      outputs: [{ dtype: x.dtype, shape, dims }],
      params: [],
      space: activationSpace(x),
      inputMaps: [identityMaps(x.shape.length)],
      paramMaps: [],
      outputMaps: [outMaps],
      flops: noFlops,
    };
  },
  forward: reshapeForward,
};

function expandEntry(name: string): OpEntry {
  return {
    name,
    family: "shape",
    doc: "Broadcasts x to `shape` (NumPy rules, as ONNX Expand: the result is the broadcast of both shapes).",
    inputs: [{ name: "x", dtype: "any" }],
    attrs: [{ name: "shape", kind: "ints", min: 1, doc: "target shape" }],
    outputNames: ["y"],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [x] = inputs;
      const target = attrs.shape as number[];
      const r = broadcastShapes(x.shape, target);
      if ("axis" in r) {
        ctx.diagnostics.error("PAR2138", `\`${name}\` cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(target)}`, {
          pos: ctx.pos,
          expected: "each input axis equal to the target's or 1 (right-aligned)",
        });
        return undefined;
      }
      const shape = r.shape;
      const off = shape.length - x.shape.length;
      const out: TensorType = { dtype: x.dtype, shape, dims: shape.map((_, i) => (i >= off && x.shape[i - off] === shape[i] ? x.dims[i - off] : `${ctx.opName}.d${i}`)) };
      return {
        outputs: [out],
        params: [],
        space: activationSpace(out),
        inputMaps: [broadcastMaps(x.shape, shape)],
        paramMaps: [],
        outputMaps: [identityMaps(shape.length)],
        // Forward copies; backward sums the gradient over the broadcast axes.
        flops: (e) => ({ forward: 0, backward: product(e) }),
      };
    },
    // x + zeros rather than tf.broadcastTo: Tile's gradient stops at rank 4, Add's does not.
    forward: (tf, { inputs, shard }) => [tf.add(inputs[0], tf.zeros(outShape(shard), inputs[0].dtype))],
  };
}

export const expand = expandEntry("expand");
export const broadcastTo = expandEntry("broadcast_to");

export const pad: OpEntry = {
  name: "pad",
  family: "shape",
  doc: "Constant zero padding; `pads` = [before_0, ..., before_{r-1}, after_0, ..., after_{r-1}] (ONNX order).",
  inputs: [{ name: "x" }],
  attrs: [{ name: "pads", kind: "ints", min: 0, doc: "zeros before each axis, then after each axis" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const rank = x.shape.length;
    const pads = attrs.pads as number[];
    if (pads.length !== 2 * rank) {
      ctx.diagnostics.error("PAR2139", `\`pad\` of rank-${rank} ${fmtShape(x.shape)} needs ${2 * rank} pads, got ${pads.length}`, {
        pos: ctx.pos,
        expected: `[before × ${rank}, after × ${rank}]`,
      });
      return undefined;
    }
    const padded = (i: number): boolean => pads[i] + pads[i + rank] > 0;
    const shape = x.shape.map((s, i) => s + pads[i] + pads[i + rank]);
    const out: TensorType = { dtype: x.dtype, shape, dims: [...x.dims] };
    // Padded axes are unsplittable: a task lying wholly in the padding would read an
    // empty input region. Unpadded axes split as in any elementwise op.
    return {
      outputs: [out],
      params: [],
      space: activationSpace(out).map((d, i) => (padded(i) ? { ...d, splittable: false } : d)),
      inputMaps: [x.shape.map((_, i) => (padded(i) ? FULL : iter(i)))],
      paramMaps: [],
      outputMaps: [identityMaps(rank)],
      flops: noFlops,
    };
  },
  forward: (tf, { inputs, attrs }) => {
    const x = inputs[0];
    const rank = x.shape.length;
    const pads = attrs.pads as number[];
    return [tf.pad(x, x.shape.map((_, i): [number, number] => [pads[i], pads[i + rank]]))];
  },
};

/**
 * tile(repeats): x repeated along each axis (ONNX Tile, torch Tensor.repeat). Output
 * position o along an axis reads x at o mod the axis's size, so a repeated axis is read
 * whole by every task (`full`) and an axis repeated once is the identity; every output
 * axis splits. Computed as a broadcast over a new axis in front of each repeated one
 * (x + zeros, whose gradient sums the copies at any rank; tfjs's Tile gradient stops at
 * rank 4), then cut to the task's output region.
 */
export const tile: OpEntry = {
  name: "tile",
  family: "shape",
  doc: "x repeated `repeats[i]` times along axis i (ONNX Tile, torch Tensor.repeat).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "repeats", kind: "ints", min: 1, doc: "copies along each axis (one per axis)" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const reps = attrs.repeats as number[];
    if (reps.length !== x.shape.length) {
      ctx.diagnostics.error("PAR2139", `\`tile\` of rank-${x.shape.length} ${fmtShape(x.shape)} needs ${x.shape.length} repeats, got ${reps.length}`, {
        pos: ctx.pos,
        expected: `repeats = [one per axis × ${x.shape.length}]`,
      });
      return undefined;
    }
    const shape = x.shape.map((s, i) => s * reps[i]);
    const out: TensorType = { dtype: x.dtype, shape, dims: x.dims.map((d, i) => (reps[i] === 1 ? d : `${ctx.opName}.d${i}`)) };
    return {
      outputs: [out],
      params: [],
      space: activationSpace(out),
      inputMaps: [x.shape.map((_, i) => (reps[i] === 1 ? iter(i) : FULL))],
      paramMaps: [],
      outputMaps: [identityMaps(shape.length)],
      // Forward copies; backward sums the gradient of the copies.
      flops: (e) => ({ forward: 0, backward: product(e) }),
    };
  },
  forward(tf, { inputs, attrs, shard }) {
    const x = inputs[0];
    const reps = attrs.repeats as number[];
    const region = shard.outputRegions[0];
    let y = x;
    for (let a = 0; a < reps.length; a++) {
      if (reps[a] === 1) continue;
      // [.., L, ..] → [.., r, L, ..] → [.., r·L, ..], then the task's range along a.
      const s = y.shape as number[];
      const spread = [...s.slice(0, a), reps[a], ...s.slice(a)];
      const copies = tf.add(tf.reshape(y, [...s.slice(0, a), 1, ...s.slice(a)]), tf.zeros(spread, y.dtype));
      const whole = tf.reshape(copies, [...s.slice(0, a), reps[a] * s[a], ...s.slice(a + 1)]);
      y = tf.slice(whole, whole.shape.map((_, i) => (i === a ? region.lo[a] : 0)), whole.shape.map((v, i) => (i === a ? region.hi[a] - region.lo[a] : (v as number))));
    }
    return [reps.every((r) => r === 1) ? tf.clone(y) : y];
  },
};

/**
 * depth_to_space(blocksize, mode) (ONNX DepthToSpace; torch PixelShuffle is mode CRD):
 * [N, C, H, W] → [N, C/b², H·b, W·b]. Output channel c' takes input channels
 * [c'·b², (c' + 1)·b²) in CRD, every (C/b²)-th channel in DCR. The spatial dims count INPUT
 * positions: input row i makes output rows [i·b, (i + 1)·b) (`block` maps). The channel dim
 * counts output channels and splits in CRD (a `block` map of b² input channels); in DCR a
 * channel block reads a strided set of input channels, so it stays whole.
 */
export const depthToSpace: OpEntry = {
  name: "depth_to_space",
  family: "shape",
  doc: "[N, C, H, W] → [N, C/b², H·b, W·b], channel blocks moved into space (ONNX DepthToSpace; torch PixelShuffle = mode CRD).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [
    { name: "blocksize", kind: "int", min: 1, doc: "b: the upscaling factor" },
    { name: "mode", kind: "string", default: "DCR", choices: ["DCR", "CRD"], doc: "channel order: depth-column-row (ONNX's default) or column-row-depth (PixelShuffle)" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const b = attrs.blocksize as number;
    if (!checkSpaceDepth("depth_to_space", x, ctx)) return undefined;
    const [N, C, H, W] = x.shape;
    if (C % (b * b) !== 0) {
      ctx.diagnostics.error("PAR2111", `\`depth_to_space\`: channels ${C} are not divisible by blocksize² = ${b * b}`, { pos: ctx.pos, expected: `channels divisible by ${b * b}` });
      return undefined;
    }
    const crd = attrs.mode === "CRD";
    const space: ParallelDim[] = [
      { name: "sample", cls: "sample", size: N },
      { name: "channel", cls: "attribute", size: C / (b * b), splittable: crd },
      { name: "height", cls: "attribute", size: H },
      { name: "width", cls: "attribute", size: W },
    ];
    const block = (dim: number, blockSize: number): AxisMap => (blockSize === 1 ? iter(dim) : { kind: "block", dim, blockSize });
    return {
      outputs: [{ dtype: x.dtype, shape: [N, C / (b * b), H * b, W * b], dims: [x.dims[0], `${ctx.opName}.c`, `${ctx.opName}.h`, `${ctx.opName}.w`] }],
      params: [],
      space,
      inputMaps: [[iter(0), crd ? block(1, b * b) : FULL, iter(2), iter(3)]],
      paramMaps: [],
      outputMaps: [[iter(0), iter(1), block(2, b), block(3, b)]],
      flops: noFlops,
    };
  },
  forward(tf, { inputs, attrs }) {
    const x = inputs[0];
    const b = attrs.blocksize as number;
    const [n, c, h, w] = x.shape as number[];
    const oc = c / (b * b);
    const crd = attrs.mode === "CRD";
    const split = tf.reshape(x, crd ? [n, oc, b, b, h, w] : [n, b, b, oc, h, w]);
    const moved = tf.transpose(split, crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2]);
    return [tf.reshape(moved, [n, oc, h * b, w * b])];
  },
};

/**
 * space_to_depth(blocksize) (ONNX SpaceToDepth): [N, C, H, W] → [N, C·b², H/b, W/b], output
 * channel (i·b + j)·C + c holding x[c, y·b + i, x·b + j]. The spatial dims count output
 * positions, each reading a b×b input block (`block` maps); an output channel block reads a
 * strided set of input channels, so the channel dim stays whole.
 */
export const spaceToDepth: OpEntry = {
  name: "space_to_depth",
  family: "shape",
  doc: "[N, C, H, W] → [N, C·b², H/b, W/b], b×b blocks moved into channels (ONNX SpaceToDepth).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "blocksize", kind: "int", min: 1, doc: "b: the downscaling factor" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const b = attrs.blocksize as number;
    if (!checkSpaceDepth("space_to_depth", x, ctx)) return undefined;
    const [N, C, H, W] = x.shape;
    if (H % b !== 0 || W % b !== 0) {
      ctx.diagnostics.error("PAR2111", `\`space_to_depth\`: height ${H} and width ${W} must be divisible by blocksize ${b}`, { pos: ctx.pos, expected: `spatial sizes divisible by ${b}` });
      return undefined;
    }
    const space: ParallelDim[] = [
      { name: "sample", cls: "sample", size: N },
      { name: "channel", cls: "attribute", size: C * b * b, splittable: false },
      { name: "height", cls: "attribute", size: H / b },
      { name: "width", cls: "attribute", size: W / b },
    ];
    const block = (dim: number): AxisMap => (b === 1 ? iter(dim) : { kind: "block", dim, blockSize: b });
    return {
      outputs: [{ dtype: x.dtype, shape: [N, C * b * b, H / b, W / b], dims: [x.dims[0], `${ctx.opName}.c`, `${ctx.opName}.h`, `${ctx.opName}.w`] }],
      params: [],
      space,
      inputMaps: [[iter(0), FULL, block(2), block(3)]],
      paramMaps: [],
      outputMaps: [identityMaps(4)],
      flops: noFlops,
    };
  },
  forward(tf, { inputs, attrs }) {
    const x = inputs[0];
    const b = attrs.blocksize as number;
    const [n, c, h, w] = x.shape as number[];
    const split = tf.reshape(x, [n, c, h / b, b, w / b, b]);
    return [tf.reshape(tf.transpose(split, [0, 3, 5, 1, 2, 4]), [n, c * b * b, h / b, w / b])];
  },
};

function checkSpaceDepth(op: string, x: TensorType, ctx: InferContext): boolean {
  if (x.shape.length === 4) return true;
  ctx.diagnostics.error("PAR2108", `\`${op}\` needs an input [N, C, H, W] of rank 4, got ${fmtShape(x.shape)}`, { pos: ctx.pos, expected: "a tensor [batch, channels, height, width]" });
  return false;
}

export const SHAPE_OPS: OpEntry[] = [reshape, flatten, transpose, concat, split, slice, squeeze, unsqueeze, expand, broadcastTo, pad, tile, depthToSpace, spaceToDepth];
