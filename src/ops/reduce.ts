// Reductions and normalisations over axes: softmax, log_softmax (the axis is read whole,
// so it is not splittable), reduce_sum, reduce_mean (reduced axes are reduction dims:
// tasks return partial sums that add up to the whole), reduce_max (partial maxima do not
// add, so its reduced axes are unsplittable).

import type { Tensor } from "@tensorflow/tfjs-core";
import type { TensorType } from "../core/tensor.js";
import { checkInputs } from "./attrs.js";
import { normalizeAxes, normalizeAxis } from "./axes.js";
import type { AxisMap, OpEntry, TF } from "./contract.js";
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
      return {
        outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
        params: [],
        // Every output along the axis depends on the whole axis (the max and the sum).
        space: activationSpace(x).map((d, i) => (i === axis ? { ...d, splittable: false } : d)),
        inputMaps: [identityMaps(rank)],
        paramMaps: [],
        outputMaps: [identityMaps(rank)],
        flops: (e) => ({ forward: fwd * product(e), backward: bwd * product(e) }),
      };
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

type ReduceKind = "sum" | "mean" | "max";

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
    doc:
      kind === "max"
        ? "Maximum over `axes` (all axes when empty)."
        : kind === "sum"
          ? "Sum over `axes` (all axes when empty)."
          : "Mean over `axes` (all axes when empty).",
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
        axes.includes(i) ? { ...d, cls: "reduction" as const, ...(kind === "max" ? { splittable: false } : {}) } : d,
      );
      // One add (or compare) per input element, plus a divide per output for the mean;
      // backward broadcasts dy back (one multiply per element for mean, a compare and a
      // select for max).
      const fwd = 1;
      const bwd = kind === "sum" ? 0 : kind === "mean" ? 1 : 2;
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

export const REDUCE_OPS: OpEntry[] = [softmax, logSoftmax, reduceSum, reduceMean, reduceMax];
