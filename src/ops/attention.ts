// Multi-head self-attention (torch nn.MultiheadAttention / GPT-2 semantics) on
// x[batch, seq, d_model]:  Q = x·Wq + bq, K = x·Wk + bk, V = x·Wv + bv (weights stored
// [in, out] like `linear`), per head softmax(Q_h·K_hᵀ/√(d/heads) [+ causal mask])·V_h,
// heads concatenated, y = concat·Wo + bo.
//
// Parallel dims:
//  - sample (S): batch.
//  - length (A): query positions. A task reads the WHOLE sequence of x (keys and values
//    come from every position) and recomputes K and V for it; that recompute is the
//    price of the split and shows up in `flops` (see attentionFlops). The causal mask
//    uses the task's query offset, shard.box.lo[length].
//  - heads (R): a task holds its heads' columns of Wq/Wk/Wv (and bq/bk/bv) and its heads'
//    rows of Wo, so its y is a partial sum over heads: no output axis maps to `heads`.
//    The output bias is added only by the task first along heads (firstAlongReductions).
// Q, K and V have separate [d, d] weights (not one packed [d, 3d]) so that a heads shard
// is one contiguous column block of each: the `block` axis map (head i owns columns
// [i·d/heads, (i+1)·d/heads)).

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AxisMap, OpEntry, ParamSpec, TF } from "./contract.js";
import { fmtShape, iter } from "./common.js";
import { divisors } from "../core/integers.js";

/** Indices of the iteration dims. */
const SAMPLE = 0;
const LENGTH = 1;
const HEADS = 2;

export const attention: OpEntry = {
  name: "attention",
  family: "attention",
  doc: "Multi-head self-attention on x[batch, seq, d_model]: separate Q/K/V projections [d, d], scaled dot-product attention per head (optionally causal), output projection [d, d].",
  // It holds its own Q/K/V and output projections, so a `heads` split is Megatron's whole
  // attention block: column-parallel Q/K/V, row-parallel output projection.
  roles: ["sequence", "attention-heads"],
  inputs: [{ name: "x" }],
  attrs: [
    { name: "heads", kind: "int", min: 1, doc: "number of attention heads (must divide d_model)" },
    { name: "causal", kind: "bool", default: false, doc: "mask out keys after the query position (decoder self-attention)" },
    { name: "bias", kind: "bool", default: true, doc: "learned biases on the Q/K/V and output projections" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (x.shape.length !== 3) {
      ctx.diagnostics.error("PAR2108", `\`attention\` needs an input of rank 3 ([batch, seq, d_model]), got ${fmtShape(x.shape)}`, {
        pos: ctx.pos,
        expected: "a tensor [batch, seq, d_model]",
      });
      return undefined;
    }
    const [batch, seq, d] = x.shape;
    const heads = attrs.heads as number;
    if (d % heads !== 0) {
      const ok = divisors(d).filter((v) => v <= 64);
      ctx.diagnostics.error("PAR2150", `\`attention\` needs \`heads\` to divide d_model: ${heads} does not divide ${d}`, {
        pos: ctx.pos,
        expected: `heads dividing ${d} (${ok.join(", ")}${ok.length < divisors(d).length ? ", ..." : ""})`,
        hint: "each head takes d_model / heads contiguous features",
      });
      return undefined;
    }
    const hd = d / heads;
    const useBias = attrs.bias as boolean;
    const full: AxisMap = { kind: "full" };
    const headCols: AxisMap = { kind: "block", dim: HEADS, blockSize: hd };
    // torch nn.MultiheadAttention: xavier-uniform in_proj over the packed [3d, d] weight
    // (bound sqrt(6 / (d + 3d))), zero biases, out_proj Linear init (bound 1/sqrt(d)).
    const inBound = Math.sqrt(6 / (4 * d));
    const proj = (n: string): ParamSpec => ({ name: `${n}_weight`, shape: [d, d], dims: ["in", "out"], init: { kind: "uniform", bound: inBound } });
    const bias = (n: string): ParamSpec => ({ name: `${n}_bias`, shape: [d], dims: ["out"], init: { kind: "zeros" } });
    const params: ParamSpec[] = [
      proj("q"),
      proj("k"),
      proj("v"),
      { name: "out_weight", shape: [d, d], dims: ["in", "out"], init: { kind: "uniform", bound: 1 / Math.sqrt(d) } },
      ...(useBias ? [bias("q"), bias("k"), bias("v"), bias("out")] : []),
    ];
    const paramMaps: AxisMap[][] = [
      [full, headCols],
      [full, headCols],
      [full, headCols],
      [headCols, full],
      ...(useBias ? [[headCols], [headCols], [headCols], [full]] : []),
    ];
    const causal = attrs.causal as boolean;
    return {
      outputs: [{ dtype: x.dtype, shape: [batch, seq, d], dims: [...x.dims] }],
      params,
      space: [
        { name: "sample", cls: "sample", size: batch },
        { name: "length", cls: "attribute", size: seq },
        { name: "heads", cls: "reduction", size: heads },
      ],
      // Every query needs every key/value position: the seq axis of x is read whole.
      inputMaps: [[iter(SAMPLE), full, full]],
      paramMaps,
      outputMaps: [[iter(SAMPLE), iter(LENGTH), full]],
      flops: (e) => attentionFlops(e[SAMPLE], e[LENGTH], e[HEADS], seq, d, hd, causal),
    };
  },
  forward(tf, { inputs, params, attrs, shard }) {
    const [x] = inputs;
    const [wq, wk, wv, wo, bq, bk, bv, bo] = params;
    const [batch, seq, d] = x.shape as [number, number, number];
    const hd = d / (attrs.heads as number);
    // This task's heads and query rows (x arrives with the whole sequence).
    const width = wq.shape[1] as number;
    const nh = width / hd;
    const q0 = shard.box.lo[LENGTH] - shard.inputRegions[0].lo[1];
    const sq = shard.box.hi[LENGTH] - shard.box.lo[LENGTH];
    const useBias = attrs.bias as boolean;

    const project = (rows: Tensor, n: number, w: Tensor, b: Tensor | undefined): Tensor => {
      let p = tf.matMul(tf.reshape(rows, [batch * n, d]), w);
      if (useBias && b) p = tf.add(p, b);
      // [batch·n, nh·hd] → [batch, nh, n, hd]
      return tf.transpose(tf.reshape(p, [batch, n, nh, hd]), [0, 2, 1, 3]);
    };
    const xq = sq === seq ? x : tf.slice(x, [0, q0, 0], [batch, sq, d]);
    const q = project(xq, sq, wq, bq);
    const k = project(x, seq, wk, bk);
    const v = project(x, seq, wv, bv);
    let scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)); // [batch, nh, sq, seq]
    if (attrs.causal) scores = tf.add(scores, causalMask(tf, shard.box.lo[LENGTH], sq, seq));
    const probs = tf.softmax(scores, -1);
    const ctxv = tf.matMul(probs, v); // [batch, nh, sq, hd]
    const merged = tf.reshape(tf.transpose(ctxv, [0, 2, 1, 3]), [batch * sq, width]);
    let y = tf.matMul(merged, wo);
    // The output bias is added once: only by the task first along heads (partial sums).
    if (useBias && bo && shard.firstAlongReductions) y = tf.add(y, bo);
    return [tf.reshape(y, [batch, sq, d])];
  },
};

/**
 * Additive mask [sq, seq] for queries at global positions offset..offset+sq-1: 0 where the
 * key position j ≤ the query position, a large negative number elsewhere (exp gives 0;
 * a finite value keeps the softmax gradient free of inf·0).
 */
function causalMask(tf: TF, offset: number, sq: number, seq: number): Tensor {
  const m = new Float32Array(sq * seq);
  for (let i = 0; i < sq; i++) for (let j = offset + i + 1; j < seq; j++) m[i * seq + j] = -1e9;
  return tf.tensor2d(m, [sq, seq]);
}


/**
 * FLOPs of an attention task over `b` samples, `sq` query positions and `nh` heads, with
 * the whole sequence `seq` as keys/values. Multiply-adds count 2; bias adds are ignored
 * (as in `linear`). Forward:
 *   Q projection  2·b·sq·d·(nh·hd)
 *   K, V          2·2·b·seq·d·(nh·hd)   ← over the WHOLE sequence, for any query range
 *   Q·Kᵀ, P·V     2·2·b·nh·sq·seq·hd
 *   softmax       5 per score (scale, max-subtract, exp, sum, divide), +1 with the causal mask
 *   output proj   2·b·sq·(nh·hd)·d
 * Backward: twice every matMul term (gradients of both operands) and 3 per score for the
 * softmax. Sample and heads splits sum exactly to the whole; a length split into p parts
 * recomputes K and V p times: the shards sum to the whole plus (p-1)·(the K,V term) forward
 * and (p-1)·2·(the K,V term) backward.
 */
export function attentionFlops(b: number, sq: number, nh: number, seq: number, d: number, hd: number, causal: boolean): { forward: number; backward: number } {
  const w = nh * hd;
  const qProj = 2 * b * sq * d * w;
  const kvProj = 4 * b * seq * d * w;
  const scoresMm = 4 * b * nh * sq * seq * hd;
  const outProj = 2 * b * sq * w * d;
  const scores = b * nh * sq * seq;
  const mm = qProj + kvProj + scoresMm + outProj;
  return { forward: mm + (causal ? 6 : 5) * scores, backward: 2 * mm + 3 * scores };
}

export const ATTENTION_OPS: OpEntry[] = [attention];
