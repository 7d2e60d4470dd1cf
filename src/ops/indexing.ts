// Indexing with integer tensors: take (ONNX Gather on any tensor along any axis),
// take_along_axis (GatherElements, torch.gather), scatter_nd (ScatterND, slice assignment
// `y[:, 1] = v` in torch), one_hot and arg_max / arg_min. Indices may be negative (counted
// from the end, as in ONNX). Integer inputs take no gradient.
//
// An axis that indices point into is read whole by every task (any position may be
// picked); the other axes split as usual. Scatters and the gradients of gathers are
// one-hot matMuls (wasm lacks UnsortedSegmentSum, which tfjs's gather gradient needs).

import type { Tensor } from "@tensorflow/tfjs-core";
import { isFloat, type TensorType } from "../core/tensor.js";
import { checkInputs } from "./attrs.js";
import { normalizeAxis } from "./axes.js";
import type { Attrs, AxisMap, BackwardArgs, Gradients, InferContext, OpEntry, ParallelDim, TF } from "./contract.js";
import { activationDimNames, activationSpace, fmtShape, FULL, identityMaps, iter, product } from "./common.js";


/** take and take_along_axis: x, integer indices into x's `axis`. */
const GATHER_IO: Pick<OpEntry, "inputs" | "attrs"> = {
  inputs: [{ name: "x", dtype: "any" }, { name: "indices", dtype: "int", role: "indices" }],
  attrs: [{ name: "axis", kind: "int", default: 0, doc: "the axis indexed" }],
};

/** The `axis` attribute (checked by infer) made non-negative for a tensor of this rank. */
function axisAttr(attrs: Attrs, rank: number): number {
  const a = attrs.axis as number;
  return a < 0 ? a + rank : a;
}

/** Indices counted from the end made non-negative for an axis of `size`. */
function nonNegative(tf: TF, idx: Tensor, size: number): Tensor {
  const i = tf.cast(idx, "int32");
  // Int32 scalars: a plain number would make tfjs upcast the indices to float32.
  return tf.where(tf.less(i, tf.scalar(0, "int32")), tf.add(i, tf.scalar(size, "int32")), i);
}

/** [n, size] float rows with a 1 where column = index (an equal, not tfjs's OneHot, whose wasm output is wrong for floats). */
function oneHotRows(tf: TF, idx: Tensor, size: number): Tensor {
  return tf.cast(tf.equal(tf.expandDims(tf.reshape(idx, [-1]), 1), tf.expandDims(tf.range(0, size, 1, "int32"), 0)), "float32");
}

function checkIndices(op: string, t: TensorType, ctx: InferContext): boolean {
  if (!isFloat(t.dtype)) return true;
  ctx.diagnostics.error("PAR2106", `\`${op}\` needs integer indices, got ${t.dtype}`, { pos: ctx.pos, expected: "i32 or i64 indices", hint: "cast the indices to int" });
  return false;
}

/**
 * take(x, indices, axis): x[..., indices[...], ...] along `axis` (ONNX Gather, numpy.take):
 * the output is x.shape[:axis] + indices.shape + x.shape[axis + 1:]. Its dims are the
 * output's axes; x's `axis` is read whole.
 */
export const take: OpEntry = {
  name: "take",
  family: "indexing",
  doc: "x[..., indices, ...] along `axis`: shape x[:axis] + indices + x[axis+1:] (ONNX Gather on any tensor, numpy.take; negative indices count from the end).",
  ...GATHER_IO,
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x, ix] = inputs;
    const a = normalizeAxis(attrs.axis as number, x.shape.length, "take", ctx);
    if (a === undefined) return undefined;
    const q = ix.shape.length;
    const shape = [...x.shape.slice(0, a), ...ix.shape, ...x.shape.slice(a + 1)];
    const out: TensorType = { dtype: x.dtype, shape, dims: [...x.dims.slice(0, a), ...ix.dims, ...x.dims.slice(a + 1)] };
    return {
      outputs: [out],
      params: [],
      space: activationSpace(out),
      inputMaps: [x.shape.map((_, i) => (i < a ? iter(i) : i === a ? FULL : iter(i - 1 + q))), ix.shape.map((_, k) => iter(a + k))],
      paramMaps: [],
      outputMaps: [identityMaps(shape.length)],
      // A copy per output element; backward a scatter-add, as embedding.
      flops: (e) => ({ forward: product(e), backward: isFloat(x.dtype) ? product(e) : 0 }),
    };
  },
  forward(tf, { inputs, attrs }) {
    const [x, ix] = inputs;
    const a = axisAttr(attrs, x.rank);
    const size = x.shape[a] as number;
    const y = tf.gather(x, tf.reshape(nonNegative(tf, ix, size), [-1]), a);
    return [tf.reshape(y, [...(x.shape.slice(0, a) as number[]), ...(ix.shape as number[]), ...(x.shape.slice(a + 1) as number[])])];
  },
  backward(tf, { inputs, attrs, dOutputs }: BackwardArgs): Gradients {
    const [x, ix] = inputs;
    if (x.dtype !== "float32") return { dInputs: [null, null], dParams: [] };
    const a = axisAttr(attrs, x.rank);
    const size = x.shape[a] as number;
    const p = product(x.shape.slice(0, a) as number[]);
    const qAfter = product(x.shape.slice(a + 1) as number[]);
    const m = ix.size;
    // dx[p, l, q] = Σ_k [idx_k = l]·dy[p, k, q]: dy as [p·q, m] times the [m, L] one-hot.
    const dy = tf.reshape(tf.transpose(tf.reshape(dOutputs[0], [p, m, qAfter]), [0, 2, 1]), [p * qAfter, m]);
    const dx = tf.matMul(dy, oneHotRows(tf, nonNegative(tf, ix, size), size));
    return { dInputs: [tf.reshape(tf.transpose(tf.reshape(dx, [p, qAfter, size]), [0, 2, 1]), x.shape), null], dParams: [] };
  },
};

/**
 * take_along_axis(x, indices, axis): y[..., i, ...] = x[..., indices[..., i, ...], ...]
 * along `axis`, shaped like indices (ONNX GatherElements, torch.gather). x's other axes may
 * be longer than indices': their first positions are used (a kernel-1 window from 0). The
 * output's axes are the dims; x's `axis` is read whole. Computed as a one-hot product summed
 * over the axis, so autodiff gives the scatter-add on every backend (memory: indices × axis).
 */
export const takeAlongAxis: OpEntry = {
  name: "take_along_axis",
  family: "indexing",
  doc: "y = x[..., indices, ...] elementwise along `axis`, shaped like indices (ONNX GatherElements, torch.gather).",
  ...GATHER_IO,
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x, ix] = inputs;
    const a = normalizeAxis(attrs.axis as number, x.shape.length, "take_along_axis", ctx);
    if (a === undefined) return undefined;
    if (ix.shape.length !== x.shape.length || ix.shape.some((s, i) => i !== a && s > x.shape[i])) {
      ctx.diagnostics.error("PAR2107", `\`take_along_axis\`: indices ${fmtShape(ix.shape)} must have the rank of x ${fmtShape(x.shape)} and no longer axes (but ${a})`, {
        pos: ctx.pos,
        expected: `indices of rank ${x.shape.length}, each axis but ${a} at most x's`,
      });
      return undefined;
    }
    const out: TensorType = { dtype: x.dtype, shape: [...ix.shape], dims: ix.shape.map((s, i) => (s === x.shape[i] ? x.dims[i] : ix.dims[i])) };
    const xMaps = x.shape.map((s, i): AxisMap => (i === a ? FULL : s === ix.shape[i] ? iter(i) : { kind: "window", dim: i, stride: 1, dilation: 1, kernel: 1, padLo: 0, size: s }));
    return {
      outputs: [out],
      params: [],
      space: activationSpace(out),
      inputMaps: [xMaps, identityMaps(ix.shape.length)],
      paramMaps: [],
      outputMaps: [identityMaps(ix.shape.length)],
      // A compare and a multiply-add per (output element, axis position); the same back.
      flops: (e) => ({ forward: 3 * x.shape[a] * product(e), backward: isFloat(x.dtype) ? 2 * x.shape[a] * product(e) : 0 }),
    };
  },
  forward(tf, { inputs, attrs, shard }) {
    const [x, ix] = inputs;
    const r = x.rank;
    const a = axisAttr(attrs, r);
    const size = x.shape[a] as number;
    // x's other axes cut to the indices' extents (the whole op is handed all of x).
    const region = shard.inputRegions[0];
    const xs = x.shape.map((s, i) => (i === a ? (s as number) : region.hi[i] - region.lo[i]));
    const xr = xs.every((s, i) => s === x.shape[i]) ? x : tf.slice(x, x.shape.map(() => 0), xs);
    const perm = [...Array.from({ length: r }, (_, i) => i).filter((i) => i !== a), a];
    const inv = new Array<number>(r);
    perm.forEach((p, i) => (inv[p] = i));
    const idx = tf.transpose(nonNegative(tf, ix, size), perm);
    const hot = tf.cast(tf.equal(tf.expandDims(idx, r), tf.reshape(tf.range(0, size, 1, "int32"), [...new Array<number>(r).fill(1), size])), x.dtype);
    // [.., m, L] · [.., 1, L] summed over L → [.., m].
    const picked = tf.sum(tf.mul(hot, tf.expandDims(tf.transpose(xr, perm), r - 1)), r);
    return [tf.transpose(picked, inv)];
  },
};

/**
 * scatter_nd(data, indices, updates): data with the slices that `indices` names replaced by
 * (or, with reduction add, increased by) `updates` (ONNX ScatterND; a slice assignment
 * `y[:, 1] = v` in torch). indices [..., q] address data's first q axes, which any slice may
 * hit and so are unsplittable; the trailing axes split, updates read along them. A
 * one-hot matMul scatters, so autodiff gives both gradients.
 */
export const scatterNd: OpEntry = {
  name: "scatter_nd",
  family: "indexing",
  doc: "data with the slices at `indices` replaced by (reduction add: increased by) `updates` (ONNX ScatterND).",
  inputs: [{ name: "data" }, { name: "indices", dtype: "int", role: "indices" }, { name: "updates" }],
  attrs: [{ name: "reduction", kind: "string", default: "none", choices: ["none", "add"], doc: "replace the slices, or add to them" }],
  outputNames: ["y"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [data, ix, upd] = inputs;
    const q = ix.shape[ix.shape.length - 1];
    const want = [...ix.shape.slice(0, -1), ...data.shape.slice(q ?? 0)];
    if (ix.shape.length < 1 || q > data.shape.length || upd.shape.join(",") !== want.join(",")) {
      ctx.diagnostics.error("PAR2107", `\`scatter_nd\`: indices ${fmtShape(ix.shape)} and updates ${fmtShape(upd.shape)} do not fit data ${fmtShape(data.shape)}`, {
        pos: ctx.pos,
        expected: `indices [..., q ≤ ${data.shape.length}] and updates indices.shape[:-1] + data.shape[q:]${q !== undefined && q <= data.shape.length ? ` = ${fmtShape(want)}` : ""}`,
      });
      return undefined;
    }
    const names = activationDimNames(data.shape.length);
    const space: ParallelDim[] = data.shape.map((size, i) => ({ name: names[i], cls: i === 0 ? "sample" : "attribute", size, splittable: i >= q }));
    const lead = ix.shape.length - 1;
    return {
      outputs: [{ ...data, shape: [...data.shape], dims: [...data.dims] }],
      params: [],
      space,
      inputMaps: [identityMaps(data.shape.length), ix.shape.map(() => FULL), upd.shape.map((_, j) => (j < lead ? FULL : iter(q + j - lead)))],
      paramMaps: [],
      outputMaps: [identityMaps(data.shape.length)],
      // Per output element: the select and, per scattered slice, a multiply-add (the one-hot
      // product); backward the same for data and updates.
      flops: (e) => ({ forward: (2 + 2 * product(ix.shape.slice(0, -1))) * product(e), backward: (1 + 2 * product(ix.shape.slice(0, -1))) * product(e) }),
    };
  },
  forward(tf, { inputs, attrs }) {
    const [data, ix, upd] = inputs;
    const q = ix.shape[ix.rank - 1] as number;
    const prefix = data.shape.slice(0, q) as number[];
    const p = product(prefix);
    const rest = product(data.shape.slice(q) as number[]);
    // The linear position of each indexed slice among the first q axes.
    const strides = prefix.map((_, i) => product(prefix.slice(i + 1)));
    const idx = tf.reshape(nonNegativeLast(tf, ix, prefix), [-1, q]);
    const lin = tf.sum(tf.mul(idx, tf.tensor1d(strides, "int32")), 1);
    const hot = oneHotRows(tf, lin, p);
    const scattered = tf.matMul(hot, tf.reshape(upd, [-1, rest]), true, false);
    const flat = tf.reshape(data, [p, rest]);
    if (attrs.reduction === "add") return [tf.reshape(tf.add(flat, scattered), data.shape)];
    const untouched = tf.cast(tf.equal(tf.sum(hot, 0), 0), "float32");
    return [tf.reshape(tf.add(tf.mul(flat, tf.expandDims(untouched, 1)), scattered), data.shape)];
  },
};

/** Indices [..., q] into axes of sizes `sizes`, each made non-negative for its axis. */
function nonNegativeLast(tf: TF, ix: Tensor, sizes: number[]): Tensor {
  const i = tf.cast(ix, "int32");
  return tf.where(tf.less(i, tf.scalar(0, "int32")), tf.add(i, tf.tensor1d(sizes, "int32")), i);
}

/**
 * one_hot(indices, depth, axis = -1, on = 1, off = 0): a new axis of `depth` at `axis`,
 * `on` where its position equals the index, `off` elsewhere (ONNX OneHot; negative indices
 * count from the end). Every output axis splits, the new one included (a task compares its
 * indices with its own positions).
 */
export const oneHot: OpEntry = {
  name: "one_hot",
  family: "indexing",
  doc: "A new axis of `depth` at `axis`: `on` at each index, `off` elsewhere (ONNX OneHot).",
  inputs: [{ name: "indices", dtype: "int", role: "indices", classes: { attr: "depth" } }],
  attrs: [
    { name: "depth", kind: "int", min: 1, doc: "the new axis's size (the number of classes)" },
    { name: "axis", kind: "int", default: -1, doc: "where the new axis goes in the output" },
    { name: "on", kind: "float", default: 1, doc: "the value at the index" },
    { name: "off", kind: "float", default: 0, doc: "the value elsewhere" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [ix] = inputs;
    const r = ix.shape.length + 1;
    const a = normalizeAxis(attrs.axis as number, r, "one_hot", ctx);
    if (a === undefined) return undefined;
    const depth = attrs.depth as number;
    const shape = [...ix.shape.slice(0, a), depth, ...ix.shape.slice(a)];
    const out: TensorType = { dtype: "f32", shape, dims: [...ix.dims.slice(0, a), `${ctx.opName}.classes`, ...ix.dims.slice(a)] };
    return {
      outputs: [out],
      params: [],
      space: activationSpace(out),
      inputMaps: [ix.shape.map((_, i) => iter(i < a ? i : i + 1))],
      paramMaps: [],
      outputMaps: [identityMaps(r)],
      flops: (e) => ({ forward: product(e), backward: 0 }),
    };
  },
  forward(tf, { inputs, attrs, shard }) {
    const [ix] = inputs;
    const r = ix.rank + 1;
    const a = axisAttr(attrs, r);
    const depth = attrs.depth as number;
    const [lo, hi] = [shard.outputRegions[0].lo[a], shard.outputRegions[0].hi[a]];
    const positions = tf.reshape(tf.range(lo, hi, 1, "int32"), Array.from({ length: r }, (_, i) => (i === a ? hi - lo : 1)));
    const hit = tf.equal(tf.expandDims(nonNegative(tf, ix, depth), a), positions);
    return [tf.where(hit, tf.fill(hit.shape, attrs.on as number), tf.fill(hit.shape, attrs.off as number))];
  },
  backward: (_tf, { inputs }) => ({ dInputs: inputs.map(() => null), dParams: [] }),
};

/**
 * arg_max / arg_min(x, axis, keepdims, select_last_index): the position of the first (or
 * last) extreme along `axis`, as i32 (ONNX ArgMax/ArgMin, torch.argmax). The axis is read
 * whole (unsplittable); no gradient.
 */
function argEntry(kind: "max" | "min"): OpEntry {
  const name = `arg_${kind}`;
  return {
    name,
    family: "indexing",
    doc: `The position of the ${kind === "max" ? "largest" : "smallest"} element along \`axis\` (i32; the first, or the last with select_last_index) (ONNX Arg${kind === "max" ? "Max" : "Min"}).`,
    inputs: [{ name: "x", dtype: "any" }],
    attrs: [
      { name: "axis", kind: "int", default: 0, doc: "the axis searched" },
      { name: "keepdims", kind: "bool", default: true, doc: "keep the axis with size 1 (ONNX's default)" },
      { name: "select_last_index", kind: "bool", default: false, doc: "on ties, the last position rather than the first" },
    ],
    outputNames: ["y"],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [x] = inputs;
      const a = normalizeAxis(attrs.axis as number, x.shape.length, name, ctx);
      if (a === undefined) return undefined;
      const keep = attrs.keepdims as boolean;
      const shape = x.shape.flatMap((s, i) => (i !== a ? [s] : keep ? [1] : []));
      const dims = x.dims.flatMap((d, i) => (i !== a ? [d] : keep ? [`${ctx.opName}.d${i}`] : []));
      return {
        outputs: [{ dtype: "i32", shape, dims }],
        params: [],
        // The axis is read whole: an extreme of a piece says nothing about the whole.
        space: activationSpace(x).map((d, i) => (i === a ? { ...d, cls: "reduction" as const, splittable: false } : d)),
        inputMaps: [identityMaps(x.shape.length)],
        paramMaps: [],
        outputMaps: [x.shape.flatMap((_, i): AxisMap[] => (i !== a ? [iter(i)] : keep ? [FULL] : []))],
        flops: (e) => ({ forward: product(e), backward: 0 }),
      };
    },
    forward(tf, { inputs, attrs }) {
      const [x] = inputs;
      const a = axisAttr(attrs, x.rank);
      const size = x.shape[a] as number;
      const pick = (t: Tensor): Tensor => (kind === "max" ? tf.argMax(t, a) : tf.argMin(t, a));
      // tfjs returns the first extreme; the last one is the first of the reversed axis.
      let y = attrs.select_last_index ? tf.sub(size - 1, pick(tf.reverse(x, a))) : pick(x);
      if (attrs.keepdims) y = tf.expandDims(y, a);
      return [tf.cast(y, "int32")];
    },
    backward: (_tf, { inputs }) => ({ dInputs: inputs.map(() => null), dParams: [] }),
  };
}

export const argMax = argEntry("max");
export const argMin = argEntry("min");

export const INDEXING_OPS: OpEntry[] = [take, takeAlongAxis, scatterNd, oneHot, argMax, argMin];
