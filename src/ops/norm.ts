// Normalisation. batchnorm (training mode, PyTorch BatchNorm1d/2d/3d over x[N, C, ...]) is
// a composite: its statistics reduce over N and the spatial axes, so a sample or spatial
// split of one kernel would normalise with the wrong statistics. It expands into three
// sub-ops, each expressible as partial sums (a sample split is sync-BN: the partials are
// all-reduced):
//   moments:          x → mean [C]: per-task partial SUMS of x divided by the GLOBAL
//                     count, so splits of sample/spatial dims add up exactly;
//   central_moment:   (x, mean) → var [C] = E[(x − mean)²], partial sums in the same way
//                     (two-pass: no E[x²] − E[x]² cancellation when var ≪ mean²);
//   batchnorm_apply:  (x, mean, var) → (x − mean)·rsqrt(var + eps)·w + b, every dim splittable.
// Running statistics are buffers, not parameters (torchvision counting), and are not kept.
// layernorm normalises over the last `axes` dims, which stay whole; other dims split freely.

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AxisMap, InferContext, OpEntry, ParallelDim, TF } from "./contract.js";
import type { TensorType } from "../core/tensor.js";
import { activationDimNames, fmtShape, identityMaps, iter, product } from "./common.js";

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

/** Per-channel statistics inputs (each [C]) must match x's channel count. */
function checkPerChannel(op: string, x: TensorType, stats: { name: string; t: TensorType }[], ctx: InferContext): boolean {
  const C = x.shape[1];
  for (const { name, t } of stats) {
    if (t.shape.length === 1 && t.shape[0] === C) continue;
    ctx.diagnostics.error("PAR2107", `\`${op}\` needs ${name} [${C}] for x ${fmtShape(x.shape)}, got ${fmtShape(t.shape)}`, {
      pos: ctx.pos,
      expected: `${name} [${C}]`,
    });
    return false;
  }
  return true;
}

/** [1, C, 1, ...]: a per-channel vector broadcast against a channel-first tensor. */
function perChannel(tf: TF, v: Tensor, rank: number): Tensor {
  return tf.reshape(v, [1, v.shape[0] as number, ...new Array<number>(rank - 2).fill(1)]);
}

/** Every axis but the channel: the axes the statistics reduce over. */
const statAxes = (x: Tensor): number[] => x.shape.map((_, i) => i).filter((i) => i !== 1);

/**
 * Σx per channel (over every axis but the channel): [C], within about an ulp of the exact
 * sum however the terms are ordered or split into partial sums. The statistics are long
 * sums (N·H·W terms: 12 482 for Inception v3's first batch norm at batch 2), and tfjs-wasm
 * 4.22's Sum accumulates in float32 in index order, off by up to √n·ε relative (1e-5), a
 * different 1e-5 for each split of the terms; deep nets amplify that through their batch
 * norms (Inception v3: to 1e-3 at Mixed_7b) or flip a ReLU whose input is that close to 0
 * (R3D-18), so a sharded plan did not train as one device on wasm (the cpu backend sums
 * in float64 and was unaffected). Here: pairwise sums that carry each addition's rounding
 * error exactly (TwoSum, error-free in IEEE float32 on every backend) to the end.
 */
export function channelSum(tf: TF, x: Tensor): Tensor {
  const c = x.shape[1] as number;
  let hi = tf.reshape(tf.transpose(x, [1, 0, ...x.shape.slice(2).map((_, i) => i + 2)]), [c, -1]);
  let lo: Tensor | undefined;
  while ((hi.shape[1] as number) > 1) {
    if ((hi.shape[1] as number) % 2 === 1) {
      hi = tf.pad(hi, [[0, 0], [0, 1]]);
      if (lo) lo = tf.pad(lo, [[0, 0], [0, 1]]);
    }
    const half = (hi.shape[1] as number) / 2;
    const first = (t: Tensor) => tf.slice(t, [0, 0], [c, half]);
    const second = (t: Tensor) => tf.slice(t, [0, half], [c, half]);
    const [a, b] = [first(hi), second(hi)];
    const s = tf.add(a, b);
    // TwoSum: s + err == a + b exactly.
    const bv = tf.sub(s, a);
    const err = tf.add(tf.sub(a, tf.sub(s, bv)), tf.sub(b, bv));
    lo = lo ? tf.add(tf.add(first(lo), second(lo)), err) : err;
    hi = s;
  }
  return tf.reshape(lo ? tf.add(hi, lo) : hi, [c]);
}

/** Σx over every axis but the channel, divided by `count`: shape [C]. */
function meanKernel(tf: TF, x: Tensor, count: number): Tensor {
  return tf.div(channelSum(tf, x), count);
}

/** Σ(x − mean)² over every axis but the channel, divided by `count`: shape [C]. */
function centralKernel(tf: TF, x: Tensor, mean: Tensor, count: number): Tensor {
  return tf.div(channelSum(tf, tf.square(tf.sub(x, perChannel(tf, mean, x.rank)))), count);
}

function applyKernel(tf: TF, x: Tensor, mean: Tensor, variance: Tensor, w: Tensor, b: Tensor, eps: number): Tensor {
  const scale = tf.mul(tf.rsqrt(tf.add(variance, eps)), w);
  const r = x.rank;
  return tf.add(tf.mul(tf.sub(x, perChannel(tf, mean, r)), perChannel(tf, scale, r)), perChannel(tf, b, r));
}

/** The count the statistics divide by: every iteration dim but the channel, GLOBAL sizes. */
const globalCount = (spaceSizes: readonly number[]): number => product([...spaceSizes]) / spaceSizes[1];

const affineParams = (c: number[], dims: string[]) => [
  { name: "weight", shape: c, dims, init: { kind: "ones" as const } },
  { name: "bias", shape: c, dims, init: { kind: "zeros" as const } },
];

const epsAttr = { name: "eps", kind: "float" as const, default: 1e-5, doc: "added to the variance" };

// FLOPs per element (documented estimates): moments 1 forward (add) and 1 backward
// (broadcast dmean/count); central_moment 3 forward (sub, square, add) and 4 backward
// (dx = 2(x − mean)/count·dvar: sub, two muls; dmean = −Σdx: add); apply 4 forward (sub,
// two muls, add) and 8 backward (dx, dw, db, dmean, dvar).
const MEAN_FLOPS = { forward: 1, backward: 1 };
const VAR_FLOPS = { forward: 3, backward: 4 };
const APPLY_FLOPS = { forward: 4, backward: 8 };

/**
 * The iteration space of a norm over the last `axes` dims of x (layernorm, rms_norm): the
 * normalised dims are carried by the weights but must stay whole (their statistics need
 * them all); the leading dims split freely. Reports PAR2113 when `axes` exceeds the rank.
 */
export function trailingNormSpace(
  op: string,
  x: TensorType,
  axes: number,
  ctx: InferContext,
): { r: number; first: number; space: ParallelDim[]; normShape: number[] } | undefined {
  const r = x.shape.length;
  if (axes > r) {
    ctx.diagnostics.error("PAR2113", `\`${op}\` normalises the last ${axes} dims but the input ${fmtShape(x.shape)} has rank ${r}`, {
      pos: ctx.pos,
      expected: `axes between 1 and ${r}`,
    });
    return undefined;
  }
  const first = r - axes;
  const names = activationDimNames(r);
  const space: ParallelDim[] = x.shape.map((size, i) => ({
    name: names[i],
    cls: i >= first ? "parameter" : i === 0 ? "sample" : "attribute",
    size,
    splittable: i < first,
  }));
  return { r, first, space, normShape: x.shape.slice(first) };
}

/** The iteration space of a statistic: sample (a structural reduction), channel, spatial reductions. */
function statSpace(x: TensorType): ParallelDim[] {
  const names = channelFirstNames(x.shape.length);
  return x.shape.map((size, i) => ({ name: names[i], cls: i === 0 ? "sample" : i === 1 ? "attribute" : "reduction", size }));
}

export const moments: OpEntry = {
  name: "moments",
  family: "normalization",
  doc: "Per-channel batch mean of x[N, C, ...]: [C]; sample and spatial splits give partial sums (divided by the global count).",
  inputs: [{ name: "x" }],
  attrs: [],
  outputNames: ["mean"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (!checkChannelFirst("moments", x, ctx)) return undefined;
    return {
      outputs: [{ dtype: x.dtype, shape: [x.shape[1]], dims: [x.dims[1]] }],
      params: [],
      space: statSpace(x),
      inputMaps: [identityMaps(x.shape.length)],
      paramMaps: [],
      // No output axis addresses sample or the spatial dims: they are summed over.
      outputMaps: [[iter(1)]],
      flops: (e) => ({ forward: MEAN_FLOPS.forward * product(e), backward: MEAN_FLOPS.backward * product(e) }),
    };
  },
  forward(tf, { inputs, shard }) {
    // The global count (N·H·W), not the task's: partial results add up to the mean.
    return [meanKernel(tf, inputs[0], globalCount(shard.spaceSizes))];
  },
  // Explicit: autodiff would differentiate channelSum's compensation (the same gradient, in
  // a hundred kernels).
  backward(tf, { inputs, shard, dOutputs }) {
    const x = inputs[0];
    const dx = tf.mul(tf.onesLike(x), perChannel(tf, tf.div(dOutputs[0], globalCount(shard.spaceSizes)), x.rank));
    return { dInputs: [dx], dParams: [] };
  },
};

export const centralMoment: OpEntry = {
  name: "central_moment",
  family: "normalization",
  doc: "Per-channel centred second moment E[(x − mean)²] of x[N, C, ...] about a given mean [C] (the biased batch variance): [C]; sample and spatial splits give partial sums.",
  inputs: [{ name: "x" }, { name: "mean" }],
  attrs: [],
  outputNames: ["var"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x, mean] = inputs;
    if (!checkChannelFirst("central_moment", x, ctx)) return undefined;
    if (!checkPerChannel("central_moment", x, [{ name: "mean", t: mean }], ctx)) return undefined;
    return {
      outputs: [{ dtype: x.dtype, shape: [x.shape[1]], dims: [x.dims[1]] }],
      params: [],
      space: statSpace(x),
      inputMaps: [identityMaps(x.shape.length), [iter(1)]],
      paramMaps: [],
      outputMaps: [[iter(1)]],
      flops: (e) => ({ forward: VAR_FLOPS.forward * product(e), backward: VAR_FLOPS.backward * product(e) }),
    };
  },
  forward(tf, { inputs, shard }) {
    return [centralKernel(tf, inputs[0], inputs[1], globalCount(shard.spaceSizes))];
  },
  // Explicit, as moments': dx = 2(x − mean)·dvar/count, dmean = −Σdx.
  backward(tf, { inputs, shard, dOutputs }) {
    const [x, mean] = inputs;
    const scale = perChannel(tf, tf.div(tf.mul(dOutputs[0], 2), globalCount(shard.spaceSizes)), x.rank);
    const dx = tf.mul(tf.sub(x, perChannel(tf, mean, x.rank)), scale);
    return { dInputs: [dx, tf.neg(tf.sum(dx, statAxes(x)))], dParams: [] };
  },
};

export const batchnormApply: OpEntry = {
  name: "batchnorm_apply",
  family: "normalization",
  doc: "Normalises x[N, C, ...] with a given per-channel mean [C] and variance [C], then scales and shifts per channel.",
  inputs: [{ name: "x" }, { name: "mean" }, { name: "var" }],
  attrs: [epsAttr],
  outputNames: ["y"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x, mean, variance] = inputs;
    if (!checkChannelFirst("batchnorm_apply", x, ctx)) return undefined;
    if (!checkPerChannel("batchnorm_apply", x, [{ name: "mean", t: mean }, { name: "var", t: variance }], ctx)) return undefined;
    const C = x.shape[1];
    const names = channelFirstNames(x.shape.length);
    const space: ParallelDim[] = x.shape.map((size, i) => ({ name: names[i], cls: i === 0 ? "sample" : i === 1 ? "parameter" : "attribute", size }));
    const r = x.shape.length;
    return {
      outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
      params: affineParams([C], ["channel"]),
      space,
      inputMaps: [identityMaps(r), [iter(1)], [iter(1)]],
      paramMaps: [[iter(1)], [iter(1)]],
      outputMaps: [identityMaps(r)],
      flops: (e) => ({ forward: APPLY_FLOPS.forward * product(e), backward: APPLY_FLOPS.backward * product(e) }),
    };
  },
  forward(tf, { inputs, params, attrs }) {
    return [applyKernel(tf, inputs[0], inputs[1], inputs[2], params[0], params[1], attrs.eps as number)];
  },
  // Explicit, for the same reason as the statistics: the per-channel sums of the backward
  // (dmean, dvar, dw, db; partial sums under a sample or spatial split) go through
  // channelSum, not wasm's float32 Sum.
  backward(tf, { inputs, params, attrs, dOutputs }) {
    const [x, mean, variance] = inputs;
    const [w] = params;
    const dy = dOutputs[0];
    const r = x.rank;
    const s = tf.rsqrt(tf.add(variance, attrs.eps as number));
    const centred = tf.sub(x, perChannel(tf, mean, r));
    const sumDy = channelSum(tf, dy);
    const sumDyCentred = channelSum(tf, tf.mul(dy, centred));
    const ws = tf.mul(w, s);
    return {
      dInputs: [
        tf.mul(dy, perChannel(tf, ws, r)),
        tf.neg(tf.mul(ws, sumDy)),
        // d rsqrt(v + eps)/dv = −s³/2.
        tf.mul(tf.mul(tf.mul(w, tf.pow(s, 3)), -0.5), sumDyCentred),
      ],
      dParams: [tf.mul(s, sumDyCentred), sumDy],
    };
  },
};

export const batchnorm: OpEntry = {
  name: "batchnorm",
  family: "normalization",
  doc: "Batch normalisation in training mode over x[N, C, ...] (batch statistics per channel); expands to moments + central_moment + batchnorm_apply.",
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
    const per = {
      forward: MEAN_FLOPS.forward + VAR_FLOPS.forward + APPLY_FLOPS.forward,
      backward: MEAN_FLOPS.backward + VAR_FLOPS.backward + APPLY_FLOPS.backward,
    };
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
  expansion: [
    { suffix: "mean", op: "moments", inputs: [0] },
    { suffix: "var", op: "central_moment", inputs: [0, { op: 0, output: 0 }] },
    { suffix: "", op: "batchnorm_apply", inputs: [0, { op: 0, output: 0 }, { op: 1, output: 0 }], attrs: ["eps"] },
  ],
  forward(tf, { inputs, params, attrs }) {
    const [x] = inputs;
    const count = globalCount(x.shape as number[]);
    const mean = meanKernel(tf, x, count);
    return [applyKernel(tf, x, mean, centralKernel(tf, x, mean, count), params[0], params[1], attrs.eps as number)];
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
    const trailing = trailingNormSpace("layernorm", x, attrs.axes as number, ctx);
    if (!trailing) return undefined;
    const { r, first, space, normShape } = trailing;
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

/**
 * group_norm (torch nn.GroupNorm; nn.InstanceNorm with affine, ONNX InstanceNormalization, is
 * groups = C): per sample and group of C/groups channels, normalise over those channels and
 * every spatial position, then scale and shift per channel. Statistics need their group
 * whole, so the spatial dims are unsplittable; the dim over groups splits in whole groups
 * (`block` maps of C/groups channels on x, y and the per-channel weight and bias).
 */
export const groupNorm: OpEntry = {
  name: "group_norm",
  family: "normalization",
  doc: "Group normalisation over x[N, C, spatial...] (torch nn.GroupNorm; groups = C is instance norm): per sample and group of channels, then a per-channel weight and bias.",
  inputs: [{ name: "x" }],
  attrs: [{ name: "groups", kind: "int", min: 1, doc: "channel groups (C: instance norm, 1: over all channels)" }, epsAttr],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (!checkChannelFirst("group_norm", x, ctx)) return undefined;
    const groups = attrs.groups as number;
    const C = x.shape[1];
    if (C % groups !== 0) {
      ctx.diagnostics.error("PAR2111", `\`group_norm\` groups = ${groups} must divide the channels (${C})`, { pos: ctx.pos, expected: `a divisor of ${C}` });
      return undefined;
    }
    const names = channelFirstNames(x.shape.length);
    const per = C / groups;
    const space: ParallelDim[] = [
      { name: "sample", cls: "sample", size: x.shape[0] },
      // The weights carry the channels: a group block holds their slice.
      { name: "group", cls: "parameter", size: groups },
      ...x.shape.slice(2).map((size, i): ParallelDim => ({ name: names[i + 2], cls: "attribute", size, splittable: false })),
    ];
    const channelMap: AxisMap = per === 1 ? iter(1) : { kind: "block", dim: 1, blockSize: per };
    const maps = x.shape.map((_, i) => (i === 1 ? channelMap : iter(i)));
    return {
      outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
      params: affineParams([C], ["channel"]),
      space,
      inputMaps: [maps],
      paramMaps: [[channelMap], [channelMap]],
      outputMaps: [maps],
      // Per element, as layernorm: mean, centre, square, mean, scale, weight, bias = 7;
      // backward (dx through the statistics, dw, db) ≈ 10. The space counts groups, so a
      // unit of it is C/groups channels.
      flops: (e) => ({ forward: 7 * per * product(e), backward: 10 * per * product(e) }),
    };
  },
  forward(tf, { inputs, params, attrs, shard }) {
    const [x] = inputs;
    const [w, b] = params;
    const per = (x.shape[1] as number) / (shard.box.hi[1] - shard.box.lo[1]);
    const [n, c] = [x.shape[0] as number, x.shape[1] as number];
    const grouped = tf.reshape(x, [n, c / per, -1]);
    const centred = tf.sub(grouped, tf.mean(grouped, 2, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), 2, true), attrs.eps as number));
    const normed = tf.reshape(tf.mul(centred, rstd), x.shape);
    return [tf.add(tf.mul(normed, perChannel(tf, w, x.rank)), perChannel(tf, b, x.rank))];
  },
};

export const NORM_OPS: OpEntry[] = [batchnorm, moments, centralMoment, batchnormApply, layernorm, groupNorm];
