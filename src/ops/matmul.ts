// matmul and batch_matmul: y[..., m, n] = a[..., m, k] · b[..., k, n] with leading batch
// dims broadcast NumPy-style (a size-1 batch axis is read whole by every task).
// Parallel dims: the leading batch dims (sample, attr1, ...), rows (m), cols (n) and
// inner (k, a reduction: splitting it gives partial sums).

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AxisMap, InferContext, OpEntry, OpSignature, ParallelDim, TF } from "./contract.js";
import { fmtShape, product } from "./common.js";
import type { TensorType } from "../core/tensor.js";

const iter = (dim: number): AxisMap => ({ kind: "iter", dim });

/** Names of the leading (batch) dims of a matmul's iteration space. */
function leadNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? "sample" : `attr${i}`));
}

/**
 * The signature shared by both entries. `b` is either rank 2 (shared across every batch
 * index, like a weight) or of a's rank; `transposeB` reads b as [..., n, k].
 */
function matmulSignature(name: string, a: TensorType, b: TensorType, transposeB: boolean, ctx: InferContext): OpSignature | undefined {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const L = ra - 2;
  const [m, k] = a.shape.slice(-2);
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    ctx.diagnostics.error("PAR2107", `\`${name}\` inner dims differ: a ${fmtShape(a.shape)} has k = ${k}, b ${fmtShape(b.shape)} has k = ${kb}`, {
      pos: ctx.pos,
      expected: transposeB ? `b shaped [..., n, ${k}]` : `b shaped [..., ${k}, n]`,
    });
    return undefined;
  }
  // Leading dims: b's (when batched) broadcast against a's.
  const lead: number[] = [];
  for (let i = 0; i < L; i++) {
    const da = a.shape[i];
    const db = rb === 2 ? da : b.shape[i];
    if (da !== db && da !== 1 && db !== 1) {
      ctx.diagnostics.error("PAR2107", `\`${name}\` cannot broadcast batch dims of a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)}: axis ${i} is ${da} vs ${db}`, {
        pos: ctx.pos,
        expected: `equal sizes or 1 at batch axis ${i}`,
      });
      return undefined;
    }
    lead.push(Math.max(da, db));
  }
  const names = leadNames(L);
  const space: ParallelDim[] = [
    ...lead.map((size, i): ParallelDim => ({ name: names[i], cls: i === 0 ? "sample" : "attribute", size })),
    // Without batch dims the rows of a are the samples (a flattened batch).
    { name: "rows", cls: L === 0 ? "sample" : "attribute", size: m },
    // A rank-2 b is shared like a weight: a cols split holds a column block of it.
    { name: "cols", cls: rb === 2 ? "parameter" : "attribute", size: n },
    { name: "inner", cls: "reduction", size: k },
  ];
  const leadMaps = (t: TensorType): AxisMap[] => lead.map((size, i) => (t.shape[i] === size ? iter(i) : { kind: "full" }));
  const bCore = transposeB ? [iter(L + 1), iter(L + 2)] : [iter(L + 2), iter(L + 1)];
  const outDims = [...a.dims.slice(0, L), a.dims[L], rb === 2 || transposeB ? `${ctx.opName}.n` : b.dims[rb - 1]];
  return {
    outputs: [{ dtype: a.dtype, shape: [...lead, m, n], dims: outDims }],
    params: [],
    space,
    inputMaps: [
      [...leadMaps(a), iter(L), iter(L + 2)],
      rb === 2 ? bCore : [...leadMaps(b), ...bCore],
    ],
    paramMaps: [],
    outputMaps: [[...lead.map((_, i) => iter(i)), iter(L), iter(L + 1)]],
    // 2 FLOPs per multiply-add; backward computes da and db, each as costly as forward.
    flops: (e) => ({ forward: 2 * product(e), backward: 4 * product(e) }),
  };
}

/** The kernel on one task's pieces: broadcasting batch dims, then one (batched) matMul. */
function matmulKernel(tf: TF, a: Tensor, b: Tensor, transposeB: boolean): Tensor {
  const ra = a.rank;
  const [m, k] = a.shape.slice(-2) as number[];
  const n = (transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]) as number;
  const lead = a.shape.slice(0, -2) as number[];
  if (b.rank === 2) {
    // b shared by every batch index: one 2-D product over the flattened rows.
    const y = tf.matMul(tf.reshape(a, [-1, k]), b, false, transposeB);
    return tf.reshape(y, [...lead, m, n]);
  }
  const outLead = lead.map((d, i) => Math.max(d, b.shape[i] as number));
  const bLead = b.shape.slice(0, -2) as number[];
  const aFull = lead.every((d, i) => d === outLead[i]) ? a : tf.broadcastTo(a, [...outLead, m, k]);
  const bFull = bLead.every((d, i) => d === outLead[i]) ? b : tf.broadcastTo(b, [...outLead, ...(b.shape.slice(-2) as number[])]);
  const batch = product(outLead);
  const y = tf.matMul(
    tf.reshape(aFull, [batch, m, k]),
    tf.reshape(bFull, [batch, ...(b.shape.slice(-2) as number[])]),
    false,
    transposeB,
  );
  return ra === 3 ? y : tf.reshape(y, [...outLead, m, n]);
}

export const matmul: OpEntry = {
  name: "matmul",
  family: "linear algebra",
  doc: "Matrix product of two activations: a[..., m, k] · b[k, n] or b[..., k, n] (batch dims broadcast); `transpose_b` reads b as [n, k] (a tied LM head h·wteᵀ).",
  // b is usually a weight (a `param` op): a dense layer whose weight is shared.
  roles: ["fully-connected"],
  inputs: [{ name: "a" }, { name: "b" }],
  attrs: [{ name: "transpose_b", kind: "bool", default: false, doc: "multiply by the transpose of b's last two axes" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [a, b] = inputs;
    if (a.shape.length < 2 || (b.shape.length !== 2 && b.shape.length !== a.shape.length)) {
      ctx.diagnostics.error("PAR2108", `\`matmul\` needs a of rank ≥ 2 and b of rank 2 or a's rank, got a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}`, {
        pos: ctx.pos,
        expected: "a[..., m, k] with b[k, n] or b[..., k, n]",
        hint: a.shape.length < 2 ? "reshape a to at least [m, k]" : "reshape b to [k, n] or give it a's batch dims",
      });
      return undefined;
    }
    return matmulSignature("matmul", a, b, attrs.transpose_b === true, ctx);
  },
  forward: (tf, { inputs, attrs }) => [matmulKernel(tf, inputs[0], inputs[1], attrs.transpose_b === true)],
};

export const batchMatmul: OpEntry = {
  name: "batch_matmul",
  family: "linear algebra",
  doc: "Batched matrix product a[b..., m, k] · b[b..., k, n]; `transpose_b` reads b as [b..., n, k] (attention scores q·kᵀ).",
  inputs: [{ name: "a" }, { name: "b" }],
  attrs: [{ name: "transpose_b", kind: "bool", default: false, doc: "multiply by the transpose of b's last two axes" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [a, b] = inputs;
    if (a.shape.length < 3 || b.shape.length !== a.shape.length) {
      ctx.diagnostics.error("PAR2108", `\`batch_matmul\` needs a and b of the same rank ≥ 3, got a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}`, {
        pos: ctx.pos,
        expected: "a[batch..., m, k] and b[batch..., k, n]",
        hint: "use `matmul` to multiply by a 2-D b",
      });
      return undefined;
    }
    return matmulSignature("batch_matmul", a, b, attrs.transpose_b as boolean, ctx);
  },
  forward: (tf, { inputs, attrs }) => [matmulKernel(tf, inputs[0], inputs[1], attrs.transpose_b as boolean)],
};

export const MATMUL_OPS: OpEntry[] = [matmul, batchMatmul];
