// Resizing the spatial axes of a channel-first tensor (ONNX Resize; torch F.interpolate and
// nn.Upsample with mode nearest, linear, bilinear or trilinear): each output position o
// along a spatial axis reads the input at a source coordinate x(o) given by the coordinate
// transformation, and takes the nearest input there or interpolates its two neighbours.
//
// Resizing is separable, so the kernel applies one interpolation matrix per spatial axis
// (rows: the task's output positions; columns: its input region; one or two non-zeros per
// row), as a matMul along that axis: exact, and differentiable on every backend.
//
// What a task reads decides how an axis splits. With an integer factor r, the taps of output
// block [i·r, (i + 1)·r) (upsampling) or of output o (downsampling) lie within a few inputs
// of input i (or o·r), at offsets found by going through every output:
// - upsampling by r: the dim counts INPUT positions, the output axis is a `block` map of r,
//   the input axis a `window` over the offsets (a halo of one input for linear);
// - downsampling by r (and r = 1): the dim counts output positions and the input axis is a
//   `window` of stride r over the offsets.
// Any other factor reads an irregular set of inputs per output block: the dim is
// unsplittable and the input axis read whole. The taps depend only on global positions, so
// any split gives the same values.

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { Attrs, AxisMap, InferContext, OpEntry, OpSignature, ParallelDim, ShardContext, TF } from "./contract.js";
import { fmtShape, iter, product } from "./common.js";
import { spatialNames, cropToRegion } from "./windows.js";

type Coordinate = "half_pixel" | "pytorch_half_pixel" | "align_corners" | "asymmetric";
type NearestMode = "round_prefer_floor" | "round_prefer_ceil" | "floor" | "ceil";

/** The source coordinate of output position o (ONNX Resize's coordinate_transformation_mode). */
function sourceCoordinate(o: number, inSize: number, outSize: number, scale: number, mode: Coordinate): number {
  switch (mode) {
    case "half_pixel":
      return (o + 0.5) / scale - 0.5;
    case "pytorch_half_pixel":
      return outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case "align_corners":
      return outSize === 1 ? 0 : (o * (inSize - 1)) / (outSize - 1);
    case "asymmetric":
      return o / scale;
  }
}

function nearestIndex(x: number, mode: NearestMode): number {
  switch (mode) {
    case "floor":
      return Math.floor(x);
    case "ceil":
      return Math.ceil(x);
    // Halves go down (prefer floor) or up (prefer ceil); other values to the nearest.
    case "round_prefer_floor":
      return x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x);
    case "round_prefer_ceil":
      return Math.round(x);
  }
}

interface AxisResize {
  inSize: number;
  outSize: number;
  scale: number;
}

/** The input taps (index, weight) of output position o along one axis; indices clamped to the input. */
export function taps(o: number, ax: AxisResize, attrs: Attrs): [number, number][] {
  const x = sourceCoordinate(o, ax.inSize, ax.outSize, ax.scale, attrs.coordinate as Coordinate);
  const last = ax.inSize - 1;
  if (attrs.mode === "nearest") return [[Math.min(last, Math.max(0, nearestIndex(x, attrs.nearest_mode as NearestMode))), 1]];
  // Linear: the source coordinate clamped to the input, then its two neighbours.
  const c = Math.min(last, Math.max(0, x));
  const i0 = Math.floor(c);
  const frac = c - i0;
  return frac === 0 || i0 === last ? [[i0, 1]] : [[i0, 1 - frac], [i0 + 1, frac]];
}

/** How an axis splits (see the header): by input blocks, by outputs with a window, or not at all. */
type AxisSplit = { kind: "up"; r: number; lo: number; hi: number } | { kind: "down"; r: number; lo: number; hi: number } | { kind: "whole" };

/**
 * The split of one axis with an integer factor r: the smallest and largest offset of any
 * output's taps from its base input (⌊o/r⌋ upsampling, o·r downsampling), found by going
 * through every output, so the window holds every tap (also where the borders clamp them).
 */
function axisSplit(ax: AxisResize, attrs: Attrs): AxisSplit {
  const { inSize: L, outSize: O } = ax;
  const offsets = (base: (o: number) => number): { lo: number; hi: number } => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let o = 0; o < O; o++) {
      for (const [i] of taps(o, ax, attrs)) {
        lo = Math.min(lo, i - base(o));
        hi = Math.max(hi, i - base(o));
      }
    }
    return { lo, hi };
  };
  if (O % L === 0) {
    const r = O / L;
    return { kind: "up", r, ...offsets((o) => Math.floor(o / r)) };
  }
  if (L % O === 0) {
    const r = L / O;
    return { kind: "down", r, ...offsets((o) => o * r) };
  }
  return { kind: "whole" };
}

/** The axes' geometry of an instance: sizes and scales (validated by infer). */
function axesOf(x: readonly number[], attrs: Attrs): AxisResize[] {
  const size = attrs.size as number[];
  const scale = attrs.scale as number[];
  return size.map((outSize, a) => {
    const inSize = x[a + 2];
    return { inSize, outSize, scale: scale.length ? scale[a] : outSize / inSize };
  });
}

/** The interpolation matrix [outputs, inputs] of one axis for global outputs [lo, hi) over inputs [ilo, ihi). */
function interpolationMatrix(tf: TF, ax: AxisResize, attrs: Attrs, lo: number, hi: number, ilo: number, ihi: number): Tensor {
  const cols = ihi - ilo;
  const m = new Float32Array((hi - lo) * cols);
  for (let o = lo; o < hi; o++) {
    for (const [i, w] of taps(o, ax, attrs)) {
      if (i < ilo || i >= ihi) throw new RangeError(`resize: output ${o} reads input ${i} outside the region [${ilo}, ${ihi})`);
      m[(o - lo) * cols + (i - ilo)] += w;
    }
  }
  return tf.tensor2d(m, [hi - lo, cols]);
}

function checkAttrs(op: string, x: readonly number[], attrs: Attrs, ctx: InferContext): boolean {
  const n = x.length - 2;
  const size = attrs.size as number[];
  const scale = attrs.scale as number[];
  if (n < 1 || size.length !== n || (scale.length !== 0 && scale.length !== n)) {
    ctx.diagnostics.error("PAR2110", `\`${op}\` of ${fmtShape(x)} needs one size${scale.length ? " and one scale" : ""} per spatial axis (${Math.max(0, n)}), got size [${size.join(", ")}]${scale.length ? `, scale [${scale.join(", ")}]` : ""}`, {
      pos: ctx.pos,
      expected: n >= 1 ? `size = [${spatialNames(n).join(", ")}]` : "an input [batch, channels, spatial...]",
    });
    return false;
  }
  if (scale.some((s) => s <= 0)) {
    ctx.diagnostics.error("PAR2104", `\`${op}\`: scales must be positive, got [${scale.join(", ")}]`, { pos: ctx.pos, expected: "scale > 0" });
    return false;
  }
  return true;
}

export const resize: OpEntry = {
  name: "resize",
  family: "resize",
  doc: "Resizes the spatial axes of x[N, C, spatial...] to `size` (ONNX Resize, torch F.interpolate): nearest or (bi/tri)linear, with ONNX's coordinate transformations.",
  inputs: [{ name: "x" }],
  attrs: [
    { name: "size", kind: "ints", min: 1, doc: "the output extent of each spatial axis" },
    { name: "scale", kind: "floats", default: [], doc: "the scale of each spatial axis in the coordinate transformation; empty = size / input (ONNX: the given scales, which may differ from the sizes' ratio)" },
    { name: "mode", kind: "string", default: "nearest", choices: ["nearest", "linear"], doc: "take the nearest input or interpolate the two neighbours (per axis)" },
    { name: "coordinate", kind: "string", default: "half_pixel", choices: ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"], doc: "the source coordinate of an output position (ONNX coordinate_transformation_mode)" },
    { name: "nearest_mode", kind: "string", default: "round_prefer_floor", choices: ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"], doc: "how nearest rounds the source coordinate" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (!checkAttrs("resize", x.shape, attrs, ctx)) return undefined;
    const n = x.shape.length - 2;
    const names = spatialNames(n);
    const axes = axesOf(x.shape, attrs);
    const splits = axes.map((ax) => axisSplit(ax, attrs));
    const full: AxisMap = { kind: "full" };
    const space: ParallelDim[] = [
      { name: "sample", cls: "sample", size: x.shape[0] },
      { name: "channel", cls: "attribute", size: x.shape[1] },
      ...splits.map((sp, a): ParallelDim => ({ name: names[a], cls: "attribute", size: sp.kind === "up" ? axes[a].inSize : axes[a].outSize, splittable: sp.kind !== "whole" })),
    ];
    const inMaps = splits.map((sp, a): AxisMap => {
      if (sp.kind === "whole") return full;
      return { kind: "window", dim: a + 2, stride: sp.kind === "up" ? 1 : sp.r, dilation: 1, kernel: sp.hi - sp.lo + 1, padLo: 0 - sp.lo, size: axes[a].inSize };
    });
    const outMaps = splits.map((sp, a): AxisMap => (sp.kind === "up" ? { kind: "block", dim: a + 2, blockSize: sp.r } : iter(a + 2)));
    // Per output element: a copy (nearest) or, per axis, two multiplies and an add (linear).
    const perOutput = attrs.mode === "nearest" ? 1 : 3 * n;
    const outputsPerUnit = product(splits.map((sp) => (sp.kind === "up" ? sp.r : 1)));
    return {
      outputs: [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...axes.map((ax) => ax.outSize)], dims: [x.dims[0], x.dims[1], ...names.map((a) => `${ctx.opName}.${a[0]}`)] }],
      params: [],
      space,
      inputMaps: [[iter(0), iter(1), ...inMaps]],
      paramMaps: [],
      outputMaps: [[iter(0), iter(1), ...outMaps]],
      flops: (e) => ({ forward: perOutput * outputsPerUnit * product(e), backward: perOutput * outputsPerUnit * product(e) }),
    };
  },
  forward(tf, { inputs, attrs, sig, shard }) {
    return [resizeKernel(tf, cropToRegion(tf, inputs[0], shard), attrs, sig, shard)];
  },
};

/**
 * The whole input's spatial sizes, which the taps depend on (clamping, align_corners): a
 * split axis's window map records it; an unsplit axis is read whole, so its region is it.
 */
function inputSizes(sig: OpSignature, shard: ShardContext): number[] {
  return sig.inputMaps[0].map((m, a) => (m.kind === "window" ? m.size : shard.inputRegions[0].hi[a]));
}

/** The task's outputs: one interpolation matrix per spatial axis, applied along that axis. */
function resizeKernel(tf: TF, x: Tensor, attrs: Attrs, sig: OpSignature, shard: ShardContext): Tensor {
  const region = shard.inputRegions[0];
  const out = shard.outputRegions[0];
  const axes = axesOf(inputSizes(sig, shard), attrs);
  let y = x;
  axes.forEach((ax, a) => {
    const axis = a + 2;
    const m = interpolationMatrix(tf, ax, attrs, out.lo[axis], out.hi[axis], region.lo[axis], region.hi[axis]);
    // Move the axis last, multiply by the matrix's transpose, move it back.
    const r = y.rank;
    const perm = Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis);
    perm.push(axis);
    const moved = tf.transpose(y, perm);
    const lead = moved.shape.slice(0, -1) as number[];
    const mixed = tf.reshape(tf.matMul(tf.reshape(moved, [-1, moved.shape[r - 1] as number]), m, false, true), [...lead, m.shape[0] as number]);
    const inv = new Array<number>(r);
    perm.forEach((p, i) => (inv[p] = i));
    y = tf.transpose(mixed, inv);
  });
  return y;
}

export const RESIZE_OPS: OpEntry[] = [resize];
