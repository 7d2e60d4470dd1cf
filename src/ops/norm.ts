// Normalisation. batchnorm (training mode, PyTorch BatchNorm1d/2d/3d over x[N, C, ...]) is
// a composite: its statistics reduce over N and the spatial axes, so a sample or spatial
// split of one kernel would normalise with the wrong statistics. It expands into
//   moments:          x → [2, C] = (mean, mean of squares), per-task partial SUMS divided
//                     by the GLOBAL count, so splits of sample/spatial dims add up exactly
//                     (a sample split is sync-BN: the partials are all-reduced);
//   batchnorm_apply:  (x, moments) → (x - m)·rsqrt(m2 - m² + eps)·w + b, every dim splittable.
// Running statistics are buffers, not parameters (torchvision counting), and are not kept.
// layernorm normalises over the last `axes` dims, which stay whole; other dims split freely.

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { Attrs, AxisMap, ExpandedOp, InferContext, OpEntry, ParallelDim, TF } from "./contract.js";
import type { TensorType } from "../core/tensor.js";
import { activationDimNames, fmtShape, identityMaps, product } from "./common.js";

const iter = (dim: number): AxisMap => ({ kind: "iter", dim });

/** Dim names of a channel-first activation: [N, C, L], [N, C, H, W], [N, C, D, H, W]. */
function channelFirstNames(rank: number): string[] {
  const spatial = rank - 2;
  const names = spatial === 1 ? ["length"] : spatial === 2 ? ["height", "width"] : spatial === 3 ? ["depth", "height", "width"] : Array.from({ length: spatial }, (_, i) => `attr${i + 1}`);
  return ["sample", "channel", ...names];
}

function checkChannelFirst(op: string, x: TensorType, ctx: InferContext): boolean {
  if (x.shape.length >= 2) return true;
  ctx.diagnostics.error("PAR2108", `\`${op}\` needs an input [batch, channels, ...] of rank ≥ 2, got ${fmtShape(x.shape)}`, {
    pos: ctx.pos,
    expected: "a tensor [batch, channels] or [batch, channels, spatial...]",
  });
  return false;
}

/** [1, C, 1, ...]: a per-channel vector broadcast against a channel-first tensor. */
function perChannel(tf: TF, v: Tensor, rank: number): Tensor {
  return tf.reshape(v, [1, v.shape[0] as number, ...new Array<number>(rank - 2).fill(1)]);
}

/** (Σx, Σx²) over every axis but the channel, divided by `count`: shape [2, C]. */
function momentsKernel(tf: TF, x: Tensor, count: number): Tensor {
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  return tf.div(tf.stack([tf.sum(x, axes), tf.sum(tf.square(x), axes)]), count);
}

function applyKernel(tf: TF, x: Tensor, m: Tensor, w: Tensor, b: Tensor, eps: number): Tensor {
  const [mean, meanSq] = tf.unstack(m);
  // E[x²] - E[x]² keeps the statistics additive across shards; eps also absorbs the tiny
  // negative values cancellation can produce.
  const rstd = tf.rsqrt(tf.add(tf.sub(meanSq, tf.square(mean)), eps));
  const scale = tf.mul(rstd, w);
  const r = x.rank;
  return tf.add(tf.mul(tf.sub(x, perChannel(tf, mean, r)), perChannel(tf, scale, r)), perChannel(tf, b, r));
}

const affineParams = (c: number[], dims: string[]) => [
  { name: "weight", shape: c, dims, init: { kind: "ones" as const } },
  { name: "bias", shape: c, dims, init: { kind: "zeros" as const } },
];

const epsAttr = { name: "eps", kind: "float" as const, default: 1e-5, doc: "added to the variance" };

// FLOPs per element (documented estimates): moments 3 forward (square, two adds) and 4
// backward; apply 4 forward (sub, two muls, add) and 8 backward (dx, dw, db, dmoments).
const MOMENTS_FLOPS = { forward: 3, backward: 4 };
const APPLY_FLOPS = { forward: 4, backward: 8 };

export const moments: OpEntry = {
  name: "moments",
  family: "normalization",
  doc: "Per-channel batch statistics of x[N, C, ...]: [2, C] = (mean, mean of squares); sample and spatial splits give partial sums.",
  inputs: [{ name: "x" }],
  attrs: [],
  outputNames: ["m"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (!checkChannelFirst("moments", x, ctx)) return undefined;
    const names = channelFirstNames(x.shape.length);
    const space: ParallelDim[] = x.shape.map((size, i) => ({ name: names[i], cls: i === 0 ? "sample" : i === 1 ? "attribute" : "reduction", size }));
    return {
      outputs: [{ dtype: x.dtype, shape: [2, x.shape[1]], dims: [`${ctx.opName}.stat`, x.dims[1]] }],
      params: [],
      space,
      inputMaps: [identityMaps(x.shape.length)],
      paramMaps: [],
      // No output axis addresses sample or the spatial dims: they are summed over.
      outputMaps: [[{ kind: "full" }, iter(1)]],
      flops: (e) => ({ forward: MOMENTS_FLOPS.forward * product(e), backward: MOMENTS_FLOPS.backward * product(e) }),
    };
  },
  forward(tf, { inputs, shard }) {
    // The global count (N·H·W), not the task's: partial results add up to the moments.
    const count = product(shard.spaceSizes) / shard.spaceSizes[1];
    return [momentsKernel(tf, inputs[0], count)];
  },
};

export const batchnormApply: OpEntry = {
  name: "batchnorm_apply",
  family: "normalization",
  doc: "Normalises x[N, C, ...] with given moments [2, C] = (mean, mean of squares), then scales and shifts per channel.",
  inputs: [{ name: "x" }, { name: "moments" }],
  attrs: [epsAttr],
  outputNames: ["y"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x, m] = inputs;
    if (!checkChannelFirst("batchnorm_apply", x, ctx)) return undefined;
    const C = x.shape[1];
    if (m.shape.length !== 2 || m.shape[0] !== 2 || m.shape[1] !== C) {
      ctx.diagnostics.error("PAR2107", `\`batchnorm_apply\` needs moments [2, ${C}] for x ${fmtShape(x.shape)}, got ${fmtShape(m.shape)}`, {
        pos: ctx.pos,
        expected: `moments [2, ${C}]`,
      });
      return undefined;
    }
    const names = channelFirstNames(x.shape.length);
    const space: ParallelDim[] = x.shape.map((size, i) => ({ name: names[i], cls: i === 0 ? "sample" : i === 1 ? "parameter" : "attribute", size }));
    const r = x.shape.length;
    return {
      outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
      params: affineParams([C], ["channel"]),
      space,
      inputMaps: [identityMaps(r), [{ kind: "full" }, iter(1)]],
      paramMaps: [[iter(1)], [iter(1)]],
      outputMaps: [identityMaps(r)],
      flops: (e) => ({ forward: APPLY_FLOPS.forward * product(e), backward: APPLY_FLOPS.backward * product(e) }),
    };
  },
  forward(tf, { inputs, params, attrs }) {
    return [applyKernel(tf, inputs[0], inputs[1], params[0], params[1], attrs.eps as number)];
  },
};

export const batchnorm: OpEntry = {
  name: "batchnorm",
  family: "normalization",
  doc: "Batch normalisation in training mode over x[N, C, ...] (batch statistics per channel); expands to moments + batchnorm_apply.",
  inputs: [{ name: "x" }],
  attrs: [epsAttr],
  outputNames: ["y"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (!checkChannelFirst("batchnorm", x, ctx)) return undefined;
    const names = channelFirstNames(x.shape.length);
    // Unexpanded, one kernel computes the statistics: only a channel split is exact.
    const space: ParallelDim[] = x.shape.map((size, i) => ({ name: names[i], cls: i === 0 ? "sample" : i === 1 ? "parameter" : "attribute", size, splittable: i === 1 }));
    const r = x.shape.length;
    const per = { forward: MOMENTS_FLOPS.forward + APPLY_FLOPS.forward, backward: MOMENTS_FLOPS.backward + APPLY_FLOPS.backward };
    return {
      outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
      params: affineParams([x.shape[1]], ["channel"]),
      space,
      inputMaps: [identityMaps(r)],
      paramMaps: [[iter(1)], [iter(1)]],
      outputMaps: [identityMaps(r)],
      flops: (e) => ({ forward: per.forward * product(e), backward: per.backward * product(e) }),
    };
  },
  expand(_inputs, attrs): ExpandedOp[] {
    return [
      { suffix: "moments", op: "moments", inputs: [0], attrs: {} },
      { suffix: "", op: "batchnorm_apply", inputs: [0, { op: 0, output: 0 }], attrs: { eps: attrs.eps ?? 1e-5 } as Attrs },
    ];
  },
  forward(tf, { inputs, params, attrs }) {
    const [x] = inputs;
    const count = product(x.shape as number[]) / (x.shape[1] as number);
    return [applyKernel(tf, x, momentsKernel(tf, x, count), params[0], params[1], attrs.eps as number)];
  },
};

export const layernorm: OpEntry = {
  name: "layernorm",
  family: "normalization",
  doc: "Layer normalisation over the last `axes` dims (PyTorch nn.LayerNorm with elementwise affine weight and bias of that shape).",
  inputs: [{ name: "x" }],
  attrs: [
    { name: "axes", kind: "int", min: 1, default: 1, doc: "number of trailing dims normalised over" },
    epsAttr,
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const axes = attrs.axes as number;
    const r = x.shape.length;
    if (axes > r) {
      ctx.diagnostics.error("PAR2113", `\`layernorm\` normalises the last ${axes} dims but the input ${fmtShape(x.shape)} has rank ${r}`, {
        pos: ctx.pos,
        expected: `axes between 1 and ${r}`,
      });
      return undefined;
    }
    const first = r - axes;
    const names = activationDimNames(r);
    // The normalised dims are carried by the weights but must stay whole (statistics).
    const space: ParallelDim[] = x.shape.map((size, i) => ({
      name: names[i],
      cls: i >= first ? "parameter" : i === 0 ? "sample" : "attribute",
      size,
      splittable: i < first,
    }));
    const normShape = x.shape.slice(first);
    return {
      outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
      params: affineParams(normShape, x.dims.slice(first)),
      space,
      inputMaps: [identityMaps(r)],
      paramMaps: [normShape.map((_, i) => iter(first + i)), normShape.map((_, i) => iter(first + i))],
      outputMaps: [identityMaps(r)],
      // Per element (estimates): mean, centre, square, mean, scale, weight, bias = 7;
      // backward (dx through the statistics, dw, db) ≈ 10.
      flops: (e) => ({ forward: 7 * product(e), backward: 10 * product(e) }),
    };
  },
  forward(tf, { inputs, params, attrs }) {
    const [x] = inputs;
    const axes = attrs.axes as number;
    const dims = Array.from({ length: axes }, (_, i) => x.rank - axes + i);
    const centred = tf.sub(x, tf.mean(x, dims, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), dims, true), attrs.eps as number));
    return [tf.add(tf.mul(tf.mul(centred, rstd), params[0]), params[1])];
  },
};

export const NORM_OPS: OpEntry[] = [batchnorm, moments, batchnormApply, layernorm];
