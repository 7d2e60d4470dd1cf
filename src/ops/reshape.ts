// View ops: reshape, flatten, squeeze, unsqueeze (the same elements in row-major order,
// another shape). They move data and compute nothing, so their FLOPs
// are 0 and the cost model charges them by bytes. Each task's kernel works on its own
// regions only: every forward derives its output shape from shard.outputRegions, never
// from the whole.

import type { Tensor } from "@tensorflow/tfjs-core";
import type { TensorType } from "../core/tensor.js";
import { checkInputs } from "./attrs.js";
import { normalizeAxes } from "./axes.js";
import type { AxisMap, InferContext, OpEntry, OpSignature, ParallelDim, TF } from "./contract.js";
import { activationDimNames, activationSpace, FULL, fmtShape, identityMaps, iter, noFlops, outShape, product } from "./common.js";

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


export const RESHAPE_OPS: OpEntry[] = [reshape, flatten, squeeze, unsqueeze];
