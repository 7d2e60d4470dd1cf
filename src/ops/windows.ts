// Sliding windows over the spatial axes of channel-first tensors (conv, pool, resize), for
// any number of spatial axes: the attribute checks, output extents, `window` axis maps,
// and the kernels' view of a task's input, which is cropped to its region, moved to
// channels-last (the layout tfjs's convolutions and pools take, and wasm's only one) and
// padded with whatever the global padding puts at the tensor's borders.

import type { Tensor } from "@tensorflow/tfjs-core";
import type { AttrValue, AxisMap, InferContext, ShardContext, TF } from "./contract.js";
import { windowPadding } from "./regions.js";
import type { TensorType } from "../core/tensor.js";
import { fmtShape } from "./common.js";

export type WindowMap = Extract<AxisMap, { kind: "window" }>;

/** Names of n spatial axes: length · height, width · depth, height, width. */
export function spatialNames(n: number): string[] {
  if (n === 1) return ["length"];
  if (n === 2) return ["height", "width"];
  if (n === 3) return ["depth", "height", "width"];
  return Array.from({ length: n }, (_, i) => `attr${i + 1}`);
}

/**
 * An `ints` attribute of 1 or n values as n values (`kernel = 3` is 3 along every axis), or
 * undefined with a PAR2110 diagnostic.
 */
export function spatialValues(op: string, name: string, v: AttrValue, n: number, ctx: InferContext): number[] | undefined {
  const xs = v as number[];
  if (xs.length === 1) return new Array<number>(n).fill(xs[0]);
  if (xs.length === n) return [...xs];
  const axes = spatialNames(n).join(", ");
  ctx.diagnostics.error("PAR2110", `attribute \`${name}\` of \`${op}\` must list 1 or ${n} values ([${axes}]), got ${xs.length}`, {
    pos: ctx.pos,
    expected: n === 1 ? `${name} = [k]` : `${name} = [k] or [${axes}]`,
  });
  return undefined;
}

/**
 * Whether x is [batch, channels, spatial…] with n spatial axes, as conv/pool ops need;
 * reports PAR2108 (with the caller's hint, if any) when it is not.
 */
export function checkSpatialRank(op: string, x: TensorType, n: number, ctx: InferContext, hint?: string): boolean {
  const rank = n + 2;
  if (x.shape.length === rank) return true;
  const names = spatialNames(n).join(", ");
  ctx.diagnostics.error("PAR2108", `\`${op}\` needs an input [batch, channels, ${names}] of rank ${rank}, got ${fmtShape(x.shape)}`, {
    pos: ctx.pos,
    expected: `a tensor [batch, channels, ${names}]`,
    hint,
  });
  return false;
}

/** The n values of a spatial attribute already validated by infer. */
export function valuesOf(v: AttrValue, n: number): number[] {
  const xs = v as number[];
  return xs.length === n ? [...xs] : new Array<number>(n).fill(xs[0]);
}

/** Output extent of a sliding window in floor mode: ⌊(size + padLo + padHi − d(k−1) − 1)/s⌋ + 1. */
export function windowOut(size: number, kernel: number, stride: number, padLo: number, dilation: number, padHi = padLo): number {
  return Math.floor((size + padLo + padHi - dilation * (kernel - 1) - 1) / stride) + 1;
}

export function windowMap(dim: number, size: number, kernel: number, stride: number, pad: number, dilation: number): WindowMap {
  return { kind: "window", dim, stride, dilation, kernel, padLo: pad, size };
}

/** Moves axis 1 (channels) last: [N, C, s...] → [N, s..., C]. */
export function channelsLast(tf: TF, x: Tensor): Tensor {
  const r = x.rank;
  return tf.transpose(x, [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1]);
}

/** Moves the last axis (channels) to axis 1: [N, s..., C] → [N, C, s...]. */
export function channelsFirst(tf: TF, x: Tensor): Tensor {
  const r = x.rank;
  return tf.transpose(x, [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)]);
}

/**
 * Input `input` of a task (channel-first) as the kernel needs it: cropped to the extent of
 * its region along the spatial axes (the whole op may be handed the whole tensor although
 * its windows never reach the last rows), channels-last, and padded with `value` where a
 * `window` map runs off the tensor.
 */
export function paddedChannelsLast(tf: TF, x: Tensor, maps: readonly AxisMap[], shard: ShardContext, value = 0, input = 0): Tensor {
  const last = channelsLast(tf, cropToRegion(tf, x, shard, input));
  const pads: [number, number][] = [[0, 0]];
  for (let a = 2; a < x.rank; a++) {
    const m = maps[a];
    pads.push(m.kind === "window" ? windowPadding(m, shard.box) : [0, 0]);
  }
  pads.push([0, 0]);
  if (pads.every(([lo, hi]) => lo === 0 && hi === 0)) return last;
  return tf.pad(last, pads, value);
}

/**
 * A task's input cut to its region along the spatial axes. A task is handed its region; the
 * whole op is handed the whole tensor, whose region may start past 0 (a window that starts
 * inside the input) or end before its end (windows that never reach the last rows).
 */
export function cropToRegion(tf: TF, x: Tensor, shard: ShardContext, input = 0): Tensor {
  const region = shard.inputRegions[input];
  const extents = x.shape.map((s, a) => (a < 2 ? (s as number) : region.hi[a] - region.lo[a]));
  if (extents.every((e, a) => e === x.shape[a])) return x;
  return tf.slice(x, x.shape.map((s, a) => (a < 2 || s === extents[a] ? 0 : region.lo[a])), extents);
}

/** The adjoint of cropToRegion: a gradient over the region, zero-padded back to x's shape. */
export function uncropFromRegion(tf: TF, d: Tensor, x: Tensor, shard: ShardContext, input = 0): Tensor {
  const region = shard.inputRegions[input];
  const pads: [number, number][] = x.shape.map((s, a) => {
    const extra = (s as number) - (d.shape[a] as number);
    return extra === 0 ? [0, 0] : [region.lo[a], extra - region.lo[a]];
  });
  return pads.every(([lo, hi]) => lo === 0 && hi === 0) ? d : tf.pad(d, pads);
}

/**
 * The inverse of paddedChannelsLast for gradients: the padding stripped, channel-first, and
 * zeros for the rows the crop left out, so the result has x's shape.
 */
export function unpadToInput(tf: TF, dxp: Tensor, x: Tensor, maps: readonly AxisMap[], shard: ShardContext, input = 0): Tensor {
  const region = shard.inputRegions[input];
  const begin = [0];
  const size = [-1];
  for (let a = 2; a < x.rank; a++) {
    const m = maps[a];
    begin.push(m.kind === "window" ? windowPadding(m, shard.box)[0] : 0);
    size.push(region.hi[a] - region.lo[a]);
  }
  begin.push(0);
  size.push(-1);
  return uncropFromRegion(tf, channelsFirst(tf, tf.slice(dxp, begin, size)), x, shard, input);
}

/** Inserts d-1 zeros between consecutive entries along `axis` (filter taps, strided gradients). */
export function dilateAxis(tf: TF, w: Tensor, axis: number, d: number): Tensor {
  if (d === 1) return w;
  const s = w.shape as number[];
  const k = s[axis];
  const expanded = tf.reshape(w, [...s.slice(0, axis + 1), 1, ...s.slice(axis + 1)]);
  const padding: [number, number][] = expanded.shape.map((_, i) => (i === axis + 1 ? [0, d - 1] : [0, 0]));
  const spread = tf.reshape(tf.pad(expanded, padding), [...s.slice(0, axis), k * d, ...s.slice(axis + 1)]);
  const size = s.map((v, i) => (i === axis ? (k - 1) * d + 1 : -1));
  return tf.slice(spread, s.map(() => 0), size);
}

/**
 * Every s-th entry along `axis` from the first (the adjoint of dilateAxis): pad to a
 * multiple of s, fold the axis into [count, s] and keep column 0. Pad, reshape and slice
 * have gradients on every backend; a strided slice has none.
 */
export function everyNth(tf: TF, t: Tensor, axis: number, s: number): Tensor {
  if (s === 1) return t;
  const shape = t.shape as number[];
  const count = Math.ceil(shape[axis] / s);
  const padded = tf.pad(t, shape.map((_, i): [number, number] => (i === axis ? [0, count * s - shape[axis]] : [0, 0])));
  const folded = tf.reshape(padded, [...shape.slice(0, axis), count, s, ...shape.slice(axis + 1)]);
  const size = folded.shape.map((v, i) => (i === axis + 1 ? 1 : (v as number)));
  return tf.reshape(tf.slice(folded, folded.shape.map(() => 0), size), [...shape.slice(0, axis), count, ...shape.slice(axis + 1)]);
}

/** Lifts a channels-last tensor with n spatial axes to three ([N, 1, 1, L, C], [N, 1, H, W, C]). */
export function toThreeSpatial(tf: TF, t: Tensor): Tensor {
  const s = t.shape as number[];
  const n = s.length - 2;
  return n === 3 ? t : tf.reshape(t, [s[0], ...new Array<number>(3 - n).fill(1), ...s.slice(1)]);
}

/** The inverse of toThreeSpatial, back to n spatial axes. */
export function fromThreeSpatial(tf: TF, t: Tensor, n: number): Tensor {
  const s = t.shape as number[];
  return n === 3 ? t : tf.reshape(t, [s[0], ...s.slice(4 - n, 4), s[4]]);
}
