// Reductions and normalisations over axes: softmax, log_softmax (the axis is read whole,
// so it is not splittable), reduce_sum, reduce_mean (reduced axes are reduction dims:
// tasks return partial sums that add up to the whole), reduce_max, reduce_min, reduce_prod
// and reduce_log_sum_exp (partial results do not add, so their reduced axes are
// unsplittable), and cumsum (a running sum: its axis is unsplittable).

import type { Tensor } from "@tensorflow/tfjs-core";
import type { TensorType } from "../core/tensor.js";
import { checkInputs } from "./attrs.js";
import { normalizeAxes, normalizeAxis } from "./axes.js";
import type { AxisMap, OpEntry, OpSignature, TF } from "./contract.js";
import { activationSpace, identityMaps, product } from "./common.js";

/** Applies `fn` (which works on the last axis) along `axis` by moving it last and back. */
function alongAxis(tf: TF, x: Tensor, axis: number, fn: (t: Tensor) => Tensor): Tensor {
  const rank = x.shape.length;
  if (axis === rank - 1) return fn(x);
  const perm = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis);
  perm.push(axis);
  const inv = new Array<number>(rank);
  perm.forEach((p, i) => (inv[p] = i));
  return tf.transpose(fn(tf.transpose(x, perm)), inv);
}

/**
 * The signature of an op shaped like x that reads `axis` whole (softmax, cumsum): every
 * output along the axis depends on the whole axis, the other axes split freely.
 */
function wholeAxisInfer(x: TensorType, axis: number, flops: OpSignature["flops"]): OpSignature {
  const rank = x.shape.length;
  return {
    outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
    params: [],
    space: activationSpace(x).map((d, i) => (i === axis ? { ...d, splittable: false } : d)),
    inputMaps: [identityMaps(rank)],
    paramMaps: [],
    outputMaps: [identityMaps(rank)],
    flops,
  };
}

function softmaxEntry(name: string, doc: string, fwd: number, bwd: number, fn: (tf: TF, t: Tensor) => Tensor): OpEntry {
  return {
    name,
    family: "normalization",
    doc,
    inputs: [{ name: "x" }],
    attrs: [{ name: "axis", kind: "int", default: -1, doc: "the normalised axis" }],
    outputNames: ["y"],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [x] = inputs;
      const rank = x.shape.length;
      const axis = normalizeAxis(attrs.axis as number, rank, name, ctx);
      if (axis === undefined) return undefined;
      // The max and the sum need the whole axis.
      return wholeAxisInfer(x, axis, (e) => ({ forward: fwd * product(e), backward: bwd * product(e) }));
    },
    forward(tf, { inputs, attrs }) {
      const x = inputs[0];
      const rank = x.shape.length;
      const a = attrs.axis as number;
      return [alongAxis(tf, x, a < 0 ? a + rank : a, (t) => fn(tf, t))];
    },
  };
}

// softmax: max, subtract, exp (4), sum, divide (4) ≈ 11 per element; backward
// y·(dy - sum(dy·y)) ≈ 4. log_softmax: max, subtract, exp, sum, log, subtract ≈ 8;
// backward dy - exp(y)·sum(dy) ≈ 7.
export const softmax = softmaxEntry("softmax", "exp(x) / sum(exp(x)) along `axis`.", 11, 4, (tf, t) => tf.softmax(t));
export const logSoftmax = softmaxEntry("log_softmax", "x - log(sum(exp(x))) along `axis`.", 8, 7, (tf, t) => tf.logSoftmax(t));

type ReduceKind = "sum" | "mean" | "max" | "min" | "prod" | "log_sum_exp";

/** Kinds whose partial results over a piece of a reduced axis do not add up: the axis stays whole. */
const WHOLE_AXES: ReadonlySet<ReduceKind> = new Set(["max", "min", "prod", "log_sum_exp"]);

const REDUCE_DOCS: Record<ReduceKind, string> = {
  sum: "Sum over `axes` (all axes when empty).",
  mean: "Mean over `axes` (all axes when empty).",
  max: "Maximum over `axes` (all axes when empty).",
  min: "Minimum over `axes` (all axes when empty).",
  prod: "Product over `axes` (all axes when empty).",
  log_sum_exp: "log Σ exp(x) over `axes` (all axes when empty), computed stably about the maximum.",
};

/**
 * Per input element: one add (or compare, or multiply) forward, plus for log_sum_exp the
 * exp and the max-subtraction; backward: 0 for sum, a multiply (mean), a compare and a
 * select (max, min), a divide (prod: y/x·dy), the softmax weight (log_sum_exp).
 */
const REDUCE_FLOPS: Record<ReduceKind, { forward: number; backward: number }> = {
  sum: { forward: 1, backward: 0 },
  mean: { forward: 1, backward: 1 },
  max: { forward: 1, backward: 2 },
  min: { forward: 1, backward: 2 },
  prod: { forward: 1, backward: 5 },
  log_sum_exp: { forward: 7, backward: 6 },
};

/** The reduced axes of a reduce op (attrs validated in infer); empty `axes` means all. */
function reducedAxes(rank: number, given: number[]): number[] {
  if (given.length === 0) return Array.from({ length: rank }, (_, i) => i);
  return given.map((a) => (a < 0 ? a + rank : a));
}

function reduceEntry(kind: ReduceKind): OpEntry {
  const name = `reduce_${kind}`;
  return {
    name,
    family: "reduction",
    doc: REDUCE_DOCS[kind],
    inputs: [{ name: "x" }],
    attrs: [
      { name: "axes", kind: "ints", default: [], doc: "reduced axes; empty: all" },
      { name: "keepdims", kind: "bool", default: false, doc: "keep reduced axes with size 1" },
    ],
    outputNames: ["y"],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [x] = inputs;
      const rank = x.shape.length;
      const given = attrs.axes as number[];
      const axes = given.length === 0 ? reducedAxes(rank, given) : normalizeAxes(given, rank, name, ctx);
      if (axes === undefined) return undefined;
      const keep = attrs.keepdims as boolean;
      const shape: number[] = [];
      const dims: string[] = [];
      const outMaps: AxisMap[] = [];
      x.shape.forEach((s, i) => {
        if (!axes.includes(i)) {
          shape.push(s);
          dims.push(x.dims[i]);
          outMaps.push({ kind: "iter", dim: i });
        } else if (keep) {
          shape.push(1);
          dims.push(`${ctx.opName}.d${i}`);
          // A kept size-1 axis is written whole; the dim stays a reduction.
          outMaps.push({ kind: "full" });
        }
      });
      const out: TensorType = { dtype: x.dtype, shape, dims };
      const space = activationSpace(x).map((d, i) =>
        axes.includes(i) ? { ...d, cls: "reduction" as const, ...(WHOLE_AXES.has(kind) ? { splittable: false } : {}) } : d,
      );
      const { forward: fwd, backward: bwd } = REDUCE_FLOPS[kind];
      return {
        outputs: [out],
        params: [],
        space,
        inputMaps: [identityMaps(rank)],
        paramMaps: [],
        outputMaps: [outMaps],
        flops: (e) => ({ forward: fwd * product(e), backward: bwd * product(e) }),
      };
    },
    forward(tf, { inputs, attrs, shard }) {
      const x = inputs[0];
      const rank = x.shape.length;
      const axes = reducedAxes(rank, attrs.axes as number[]);
      const keep = attrs.keepdims as boolean;
      if (axes.length === 0) return [tf.clone(x)];
      if (kind === "max") return [tf.max(x, axes, keep)];
      if (kind === "min") return [tf.min(x, axes, keep)];
      if (kind === "prod") return [tf.prod(x, axes, keep)];
      if (kind === "log_sum_exp") return [tf.logSumExp(x, axes, keep)];
      const s = tf.sum(x, axes, keep);
      if (kind === "sum") return [s];
      // Partial sums divided by the GLOBAL count add up to the mean.
      const count = product(axes.map((a) => shard.spaceSizes[a]));
      return [tf.div(s, count)];
    },
  };
}

export const reduceSum = reduceEntry("sum");
export const reduceMean = reduceEntry("mean");
export const reduceMax = reduceEntry("max");
export const reduceMin = reduceEntry("min");
export const reduceProd = reduceEntry("prod");
export const reduceLogSumExp = reduceEntry("log_sum_exp");

/**
 * cumsum(x, axis, exclusive, reverse): running sums along `axis` (ONNX CumSum,
 * torch.cumsum), leaving the element itself out (exclusive) or running from the end
 * (reverse). Position t needs every earlier position, so the axis is unsplittable; the
 * others split. Integer x (position ids from a mask) is summed as integers.
 */
export const cumsum: OpEntry = {
  name: "cumsum",
  family: "reduction",
  doc: "Running sums along `axis` (ONNX CumSum, torch.cumsum): exclusive leaves the element out, reverse runs from the end.",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [
    { name: "axis", kind: "int", default: 0, doc: "the axis summed along" },
    { name: "exclusive", kind: "bool", default: false, doc: "sum the positions before, not including, each one" },
    { name: "reverse", kind: "bool", default: false, doc: "sum from the end of the axis" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const rank = x.shape.length;
    const axis = normalizeAxis(attrs.axis as number, rank, "cumsum", ctx);
    if (axis === undefined) return undefined;
    // An add per element; backward the reversed running sum of dy.
    return wholeAxisInfer(x, axis, (e) => ({ forward: product(e), backward: product(e) }));
  },
  forward(tf, { inputs, attrs }) {
    const x = inputs[0];
    const a = attrs.axis as number;
    // Along the last axis only: tfjs's Cumsum gradient returns a transposed shape for others.
    return [alongAxis(tf, x, a < 0 ? a + x.rank : a, (t) => tf.cumsum(t, t.rank - 1, attrs.exclusive as boolean, attrs.reverse as boolean))];
  },
};

export const REDUCE_OPS: OpEntry[] = [softmax, logSoftmax, reduceSum, reduceMean, reduceMax, reduceMin, reduceProd, reduceLogSumExp, cumsum];
