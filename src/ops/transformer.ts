// The pieces of a LLaMA-style decoder layer that the other families lack (Hugging Face
// LlamaRMSNorm, apply_rotary_pos_emb, SiLU and scaled dot-product attention with grouped
// key/value heads), so that a config.json (src/frontend/llm/) becomes ordinary ops:
//
//   rms_norm  x · rsqrt(mean(x²) + eps) · weight over the last `axes` dims (no centring,
//             no bias); the normalised dims stay whole, the others split freely.
//   rotary    rotary position embedding on x[batch, seq, heads·head_dim]: each head's two
//             halves rotated by angles p·θ^(−2j/head_dim), p the GLOBAL sequence position
//             (shard.box.lo along seq + the local row), so any seq split rotates like the
//             whole. sample, length and heads split; a head's features stay together.
//   sdpa      softmax(q·kᵀ·scale [+ causal mask])·v per head on the [batch, seq, heads·head_dim]
//             layout the projections produce (no reshapes between linear and attention, so
//             a column-parallel projection feeds a heads split directly). Grouped-query
//             attention: k and v carry kv_heads heads, each serving heads/kv_heads query
//             heads (query head h reads kv head ⌊h·kv_heads/heads⌋, HF's repeat_kv), without
//             materialising the repeated k/v. Like a fused (flash) kernel it keeps no
//             [seq, seq] score tensor as an activation. The `heads` dim iterates over the
//             kv heads: a task owns kv heads [lo, hi) and their query heads.
//   silu      x·sigmoid(x), an elementwise entry (the gate of SwiGLU: silu(gate)·up).

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AxisMap, InferContext, OpEntry, TF } from "./contract.js";
import type { TensorType } from "../core/tensor.js";
import { fmtShape, FULL, identityMaps, iter, product } from "./common.js";
import { unaryEntry } from "./elementwise.js";
import { trailingNormSpace } from "./norm.js";


// ---------------------------------------------------------------------------------------
// rms_norm

export const rmsNorm: OpEntry = {
  name: "rms_norm",
  family: "normalization",
  doc: "Root-mean-square normalisation over the last `axes` dims: x·rsqrt(mean(x²) + eps)·weight (LLaMA's RMSNorm; a weight, no bias, no centring).",
  inputs: [{ name: "x" }],
  attrs: [
    { name: "axes", kind: "int", min: 1, default: 1, doc: "number of trailing dims normalised over" },
    { name: "eps", kind: "float", default: 1e-6, doc: "added to the mean square (HF rms_norm_eps)" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const trailing = trailingNormSpace("rms_norm", x, attrs.axes as number, ctx);
    if (!trailing) return undefined;
    const { r, first, space, normShape } = trailing;
    return {
      outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
      params: [{ name: "weight", shape: normShape, dims: x.dims.slice(first), init: { kind: "ones" } }],
      space,
      inputMaps: [identityMaps(r)],
      paramMaps: [normShape.map((_, i) => iter(first + i))],
      outputMaps: [identityMaps(r)],
      // Per element (estimates): square, sum, scale by rstd, weight = 4 forward; backward
      // (dx through the mean square, dw) ≈ 7.
      flops: (e) => ({ forward: 4 * product(e), backward: 7 * product(e) }),
    };
  },
  forward(tf, { inputs, params, attrs }) {
    const [x] = inputs;
    const axes = attrs.axes as number;
    const dims = Array.from({ length: axes }, (_, i) => x.rank - axes + i);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(x), dims, true), attrs.eps as number));
    return [tf.mul(tf.mul(x, rstd), params[0])];
  },
};

// ---------------------------------------------------------------------------------------
// rotary

/** Rejects a `[batch, seq, channels]` input other than rank 3. */
function checkRank3(op: string, what: string, t: TensorType, ctx: InferContext): boolean {
  if (t.shape.length === 3) return true;
  ctx.diagnostics.error("PAR2108", `\`${op}\` needs ${what} of rank 3 ([batch, seq, heads·head_dim]), got ${fmtShape(t.shape)}`, {
    pos: ctx.pos,
    expected: `${what} [batch, seq, heads·head_dim]`,
    hint: "the projections' output layout: linear(x, out = heads * head_dim)",
  });
  return false;
}

/**
 * cos and sin of the rotation angles for global positions offset..offset+n-1, [n, half]
 * each: angle(p, j) = p·theta^(−2j/headDim), computed in float64 and rounded once to
 * float32 (the torch kernel does the same, so both engines rotate by the same numbers).
 */
export function rotaryTables(offset: number, n: number, headDim: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(n * half);
  const sin = new Float32Array(n * half);
  for (let i = 0; i < n; i++) {
    const p = offset + i;
    for (let j = 0; j < half; j++) {
      const a = p * Math.pow(theta, (-2 * j) / headDim);
      cos[i * half + j] = Math.cos(a);
      sin[i * half + j] = Math.sin(a);
    }
  }
  return { cos, sin };
}

export const rotary: OpEntry = {
  name: "rotary",
  family: "attention",
  doc: "Rotary position embedding (RoPE, HF LLaMA's rotate-half form) on x[batch, seq, heads·head_dim]: each head's halves (x1, x2) become (x1·cos − x2·sin, x2·cos + x1·sin) at angles p·theta^(−2j/head_dim), p the global position.",
  inputs: [{ name: "x" }],
  attrs: [
    { name: "head_dim", kind: "int", min: 2, doc: "features per head (even; divides the last axis)" },
    { name: "theta", kind: "float", default: 10000, doc: "the frequency base (HF rope_theta)" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (!checkRank3("rotary", "x", x, ctx)) return undefined;
    const hd = attrs.head_dim as number;
    const [batch, seq, c] = x.shape;
    if (hd % 2 !== 0 || c % hd !== 0) {
      ctx.diagnostics.error("PAR2160", `\`rotary\` needs an even head_dim that divides the last axis: head_dim ${hd}, x ${fmtShape(x.shape)}`, {
        pos: ctx.pos,
        expected: `an even head_dim dividing ${c}`,
        hint: "each head's features are rotated in two halves",
      });
      return undefined;
    }
    const heads = c / hd;
    return {
      outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
      params: [],
      space: [
        { name: "sample", cls: "sample", size: batch },
        { name: "length", cls: "attribute", size: seq },
        { name: "heads", cls: "attribute", size: heads },
      ],
      inputMaps: [[iter(0), iter(1), { kind: "block", dim: 2, blockSize: hd }]],
      paramMaps: [],
      outputMaps: [[iter(0), iter(1), { kind: "block", dim: 2, blockSize: hd }]],
      // Per element: two multiplies and an add, forward and backward (the tables are constants).
      flops: (e) => ({ forward: 3 * product(e) * hd, backward: 3 * product(e) * hd }),
    };
  },
  forward(tf, { inputs, attrs, shard }) {
    const [x] = inputs;
    const [b, s, c] = x.shape as [number, number, number];
    const hd = attrs.head_dim as number;
    const half = hd / 2;
    const nh = c / hd;
    const { cos, sin } = rotaryTables(shard.box.lo[1], s, hd, attrs.theta as number);
    const cosT = tf.tensor(cos, [1, s, 1, half]);
    const sinT = tf.tensor(sin, [1, s, 1, half]);
    const heads = tf.reshape(x, [b, s, nh, hd]);
    const x1 = tf.slice(heads, [0, 0, 0, 0], [b, s, nh, half]);
    const x2 = tf.slice(heads, [0, 0, 0, half], [b, s, nh, half]);
    const y1 = tf.sub(tf.mul(x1, cosT), tf.mul(x2, sinT));
    const y2 = tf.add(tf.mul(x2, cosT), tf.mul(x1, sinT));
    return [tf.reshape(tf.concat([y1, y2], 3), [b, s, c])];
  },
};

// ---------------------------------------------------------------------------------------
// sdpa

/** Iteration dims of sdpa. */
const SAMPLE = 0;
const LENGTH = 1;
const HEADS = 2;

/**
 * Additive causal mask [sq, sk] for queries at global positions offset..offset+sq-1 (HF and
 * torch's is_causal: query i sees keys j ≤ i): 0 or −1e9 (finite, as `attention`'s, so the
 * softmax gradient has no inf·0).
 */
function causalMask(tf: TF, offset: number, sq: number, sk: number): Tensor {
  const m = new Float32Array(sq * sk);
  for (let i = 0; i < sq; i++) for (let j = offset + i + 1; j < sk; j++) m[i * sk + j] = -1e9;
  return tf.tensor2d(m, [sq, sk]);
}

/**
 * FLOPs of an sdpa task over `b` samples, `sq` queries and `nh` query heads, against `sk`
 * keys: q·kᵀ and p·v are 2·2·b·nh·sq·sk·hd (multiply-adds count 2); softmax 5 per score
 * (scale, max-subtract, exp, sum, divide), 6 with the causal mask. Backward: twice the
 * matMuls and 3 per score. Every split sums exactly to the whole (k and v are inputs: a
 * length split recomputes nothing).
 */
export function sdpaFlops(b: number, sq: number, nh: number, sk: number, hd: number, causal: boolean): { forward: number; backward: number } {
  const mm = 4 * b * nh * sq * sk * hd;
  const scores = b * nh * sq * sk;
  return { forward: mm + (causal ? 6 : 5) * scores, backward: 2 * mm + 3 * scores };
}

export const sdpa: OpEntry = {
  name: "sdpa",
  family: "attention",
  doc: "Scaled dot-product attention per head on q[batch, seq, heads·head_dim], k and v[batch, kv_seq, kv_heads·head_dim] (grouped-query when kv_heads < heads), optionally causal; no weights (the projections are `linear`s).",
  // A heads split is Megatron's attention split (the projections around it are linears).
  roles: ["sequence", "attention-heads"],
  inputs: [{ name: "q" }, { name: "k" }, { name: "v" }],
  attrs: [
    { name: "heads", kind: "int", min: 1, doc: "query heads (divides q's last axis)" },
    { name: "kv_heads", kind: "int", min: 0, default: 0, doc: "key/value heads, dividing heads (0: as many as heads, plain multi-head attention)" },
    { name: "causal", kind: "bool", default: false, doc: "query i sees keys j ≤ i only (decoder self-attention)" },
    { name: "scale", kind: "float", default: 0, doc: "multiplies q·kᵀ (0: 1/√head_dim)" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [q, k, v] = inputs;
    if (!checkRank3("sdpa", "q", q, ctx) || !checkRank3("sdpa", "k", k, ctx) || !checkRank3("sdpa", "v", v, ctx)) return undefined;
    const heads = attrs.heads as number;
    const kvHeads = (attrs.kv_heads as number) || heads;
    const [batch, sq, qc] = q.shape;
    const [kb, sk, kc] = k.shape;
    if (qc % heads !== 0 || heads % kvHeads !== 0) {
      ctx.diagnostics.error("PAR2161", `\`sdpa\` needs heads dividing q's last axis and kv_heads dividing heads: heads ${heads}, kv_heads ${kvHeads}, q ${fmtShape(q.shape)}`, {
        pos: ctx.pos,
        expected: `heads dividing ${qc}, kv_heads dividing heads`,
        hint: "grouped-query attention: each kv head serves heads / kv_heads query heads",
      });
      return undefined;
    }
    const hd = qc / heads;
    if (kb !== batch || kc !== kvHeads * hd || v.shape[0] !== kb || v.shape[1] !== sk || v.shape[2] !== kc) {
      ctx.diagnostics.error("PAR2107", `\`sdpa\` needs k and v [${batch}, kv_seq, ${kvHeads * hd}] (kv_heads ${kvHeads} × head_dim ${hd}) for q ${fmtShape(q.shape)}, got k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`, {
        pos: ctx.pos,
        expected: `k and v of one shape [${batch}, kv_seq, ${kvHeads * hd}]`,
      });
      return undefined;
    }
    const group = heads / kvHeads;
    const causal = attrs.causal as boolean;
    const qCols: AxisMap = { kind: "block", dim: HEADS, blockSize: group * hd };
    const kvCols: AxisMap = { kind: "block", dim: HEADS, blockSize: hd };
    return {
      outputs: [{ dtype: q.dtype, shape: [batch, sq, qc], dims: [...q.dims] }],
      params: [],
      space: [
        { name: "sample", cls: "sample", size: batch },
        { name: "length", cls: "attribute", size: sq },
        { name: "heads", cls: "attribute", size: kvHeads },
      ],
      // Every query reads every key and value position: their seq axis is read whole.
      inputMaps: [
        [iter(SAMPLE), iter(LENGTH), qCols],
        [iter(SAMPLE), FULL, kvCols],
        [iter(SAMPLE), FULL, kvCols],
      ],
      paramMaps: [],
      outputMaps: [[iter(SAMPLE), iter(LENGTH), qCols]],
      flops: (e) => sdpaFlops(e[SAMPLE], e[LENGTH], e[HEADS] * group, sk, hd, causal),
    };
  },
  forward(tf, { inputs, attrs, sig, shard }) {
    const [q, k, v] = inputs;
    const heads = attrs.heads as number;
    const kvHeads = (attrs.kv_heads as number) || heads;
    const hd = sig.outputs[0].shape[2] / heads;
    const group = heads / kvHeads;
    const [b, sq] = q.shape as [number, number, number];
    const sk = k.shape[1] as number;
    const nkv = (k.shape[2] as number) / hd;
    const scale = (attrs.scale as number) || 1 / Math.sqrt(hd);
    // [b, s, nkv·group·hd] → [b·nkv, group·s, hd]: one batched product per kv head.
    const qh = tf.reshape(tf.transpose(tf.reshape(q, [b, sq, nkv, group, hd]), [0, 2, 3, 1, 4]), [b * nkv, group * sq, hd]);
    const kvh = (t: Tensor): Tensor => tf.reshape(tf.transpose(tf.reshape(t, [b, sk, nkv, hd]), [0, 2, 1, 3]), [b * nkv, sk, hd]);
    let scores = tf.mul(tf.matMul(qh, kvh(k), false, true), scale); // [b·nkv, group·sq, sk]
    if (attrs.causal) {
      const mask = causalMask(tf, shard.box.lo[LENGTH], sq, sk);
      scores = tf.add(scores, group === 1 ? mask : tf.tile(mask, [group, 1]));
    }
    const out = tf.matMul(tf.softmax(scores, -1), kvh(v)); // [b·nkv, group·sq, hd]
    return [tf.reshape(tf.transpose(tf.reshape(out, [b, nkv, group, sq, hd]), [0, 3, 1, 2, 4]), [b, sq, nkv * group * hd])];
  },
};

// ---------------------------------------------------------------------------------------
// silu

export const silu: OpEntry = unaryEntry({ name: "silu", doc: "x·sigmoid(x) (SiLU / swish; SwiGLU's gate)", fwd: 5, bwd: 6, fn: (tf, x) => tf.mul(x, tf.sigmoid(x)) });

export const TRANSFORMER_OPS: OpEntry[] = [rmsNorm, rotary, sdpa, silu];
