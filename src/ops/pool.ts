// Pooling over channel-first tensors with 1, 2 or 3 spatial axes: pool1d, pool2d, pool3d
// (PyTorch MaxPool/AvgPool 1d/2d/3d, ONNX MaxPool/AveragePool). The spatial dims are
// output positions whose input axes are `window` maps (halos); the kernel pads the task's
// region explicitly (−∞ for max, 0 for avg) and pools it 'valid', channels-last.
//
// - ceil_mode rounds the output extent up, as torch does: the extra window may run past
//   the end, but must start inside the input or the left padding.
// - Average pooling divides by the window's size (count_include_pad, torch's default) or
//   by the real elements it covers (count_include_pad = false, ONNX's default); in both
//   cases positions past the end padding (ceil mode) are not counted, as in torch. The
//   divisor depends on the global output position only, so a task computes its own.
// - Max pooling may be dilated; its backward is explicit (wasm's MaxPoolGrad routes
//   gradients to wrong positions, and tfjs pools have no dilation).
// global_pool averages every spatial position: [N, C, H, W] → [N, C, 1, 1] (ONNX
// GlobalAveragePool, torch AdaptiveAvgPool2d(1)); its spatial dims are reductions, and
// each task divides its partial sum by the GLOBAL count so that partials add to the mean.

import type { Tensor, Tensor4D, Tensor5D } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import { autodiffBackward } from "./autodiff.js";
import type { Attrs, AxisMap, BackwardArgs, Gradients, InferContext, OpEntry, ParallelDim, ShardContext, TF } from "./contract.js";
import { fmtShape, iter, product } from "./common.js";
import { channelsFirst, dilateAxis, fromThreeSpatial, checkSpatialRank, paddedChannelsLast, spatialNames, spatialValues, toThreeSpatial, unpadToInput, valuesOf, windowMap, type WindowMap } from "./windows.js";

/** `stride` defaults to the kernel (PyTorch); an empty list stands for that default. */
function strideOf(stride: number[], kernel: number[]): number[] {
  return stride.length === 0 ? kernel : stride;
}

/** The per-axis geometry of a pool instance (validated by infer). */
interface PoolGeometry {
  kernel: number[];
  stride: number[];
  dilation: number[];
  padLo: number[];
  padHi: number[];
}

function geometryOf(attrs: Attrs, n: number): PoolGeometry {
  const kernel = valuesOf(attrs.kernel, n);
  const padLo = valuesOf(attrs.padding, n);
  const end = attrs.padding_end as number[];
  return {
    kernel,
    stride: valuesOf(strideOf(attrs.stride as number[], attrs.kernel as number[]), n),
    dilation: valuesOf(attrs.dilation, n),
    padLo,
    padHi: end.length === 0 ? padLo : valuesOf(end, n),
  };
}

/**
 * Output extent along one axis, as torch computes it: floor or ceil of the window count,
 * and in ceil mode the last window dropped when it would start past the input and the
 * left padding (it would cover padding only).
 */
export function poolOut(size: number, k: number, s: number, d: number, padLo: number, padHi: number, ceil: boolean): number {
  const span = size + padLo + padHi - d * (k - 1) - 1;
  if (!ceil) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= size + padLo) out--;
  return out;
}

/**
 * Per output position along one axis (global positions [lo, hi)), the factor that turns
 * the window's mean over all its k taps into the mean torch takes: k / (the taps counted).
 */
function divisorFactors(lo: number, hi: number, size: number, k: number, s: number, padLo: number, padHi: number, includePad: boolean): number[] {
  const out: number[] = [];
  for (let o = lo; o < hi; o++) {
    const start = o * s - padLo;
    const end = Math.min(start + k, size + padHi);
    const counted = includePad ? end - start : Math.min(end, size) - Math.max(start, 0);
    out.push(k / counted);
  }
  return out;
}

const MODE_ATTRS = (n: number) => [
  { name: "mode", kind: "string" as const, choices: ["max", "avg"], doc: "max or average pooling" },
  { name: "kernel", kind: "ints" as const, min: 1, doc: n === 1 ? "window size: [k]" : `window size: [k] or one per axis (${spatialNames(n).join(", ")})` },
  { name: "stride", kind: "ints" as const, min: 1, default: [], doc: "stride: [s] or one per axis; empty = the kernel size" },
  { name: "padding", kind: "ints" as const, min: 0, default: [0], doc: "padding before each axis (and after, unless padding_end is given): −∞ for max, 0 for avg; at most half the window" },
  { name: "padding_end", kind: "ints" as const, min: 0, default: [], doc: "padding after each axis (ONNX's end pads); empty = the same as padding" },
  { name: "dilation", kind: "ints" as const, min: 1, default: [1], doc: "spacing between window taps (max pooling only)" },
  { name: "ceil_mode", kind: "bool" as const, default: false, doc: "round the output extent up (torch ceil_mode): a last, partial window" },
  { name: "count_include_pad", kind: "bool" as const, default: true, doc: "avg: divide by the whole window, padding included (torch's default), or by its real elements (false, ONNX's default)" },
];

/** Checks of a pool instance beyond the attribute table; the geometry, or undefined after a diagnostic. */
function checkGeometry(op: string, x: readonly number[], attrs: Attrs, n: number, ctx: InferContext): PoolGeometry | undefined {
  const k = spatialValues(op, "kernel", attrs.kernel, n, ctx);
  // The stride defaults to the kernel: a bad kernel is reported once.
  if (!k) return undefined;
  const s = spatialValues(op, "stride", strideOf(attrs.stride as number[], attrs.kernel as number[]), n, ctx);
  const p = spatialValues(op, "padding", attrs.padding, n, ctx);
  const d = spatialValues(op, "dilation", attrs.dilation, n, ctx);
  const end = attrs.padding_end as number[];
  const e = end.length === 0 ? p : spatialValues(op, "padding_end", end, n, ctx);
  if (!k || !s || !p || !d || !e) return undefined;
  const names = spatialNames(n);
  if (attrs.mode === "avg" && d.some((v) => v !== 1)) {
    ctx.diagnostics.error("PAR2104", `\`${op}\`: average pooling takes no dilation, got [${d.join(", ")}]`, { pos: ctx.pos, expected: "dilation = [1]", hint: "only max pooling is dilated (torch, ONNX opset ≤ 18)" });
    return undefined;
  }
  for (let a = 0; a < n; a++) {
    // PyTorch's rule (on the dilated window); it also keeps every window on a real element.
    const extent = d[a] * (k[a] - 1) + 1;
    if (2 * Math.max(p[a], e[a]) > extent) {
      ctx.diagnostics.error("PAR2112", `\`${op}\` padding ${Math.max(p[a], e[a])} along ${names[a]} exceeds half the window (${extent})`, {
        pos: ctx.pos,
        expected: `padding ≤ ${Math.floor(extent / 2)}`,
      });
      return undefined;
    }
    if (poolOut(x[a + 2], k[a], s[a], d[a], p[a], e[a], attrs.ceil_mode as boolean) < 1) {
      ctx.diagnostics.error("PAR2109", `\`${op}\` window ${extent} does not fit the padded ${names[a]} ${x[a + 2] + p[a] + e[a]}`, {
        pos: ctx.pos,
        expected: "a window no larger than the padded input",
      });
      return undefined;
    }
  }
  return { kernel: k, stride: s, dilation: d, padLo: p, padHi: e };
}

function poolEntry(n: number): OpEntry {
  const name = `pool${n}d`;
  const rank = n + 2;
  const names = spatialNames(n);
  const entry: OpEntry = {
    name,
    family: "pooling",
    doc: `Max or average pooling over x[N, C, ${names.map((a) => a[0].toUpperCase()).join(", ")}] (PyTorch MaxPool${n}d/AvgPool${n}d, ONNX MaxPool/AveragePool: ceil_mode, count_include_pad, dilation, end pads).`,
    inputs: [{ name: "x" }],
    attrs: MODE_ATTRS(n),
    outputNames: ["y"],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [x] = inputs;
      if (!checkSpatialRank(name, x, n, ctx)) return undefined;
      const g = checkGeometry(name, x.shape, attrs, n, ctx);
      if (!g) return undefined;
      const ceil = attrs.ceil_mode as boolean;
      const outSpatial = x.shape.slice(2).map((size, a) => poolOut(size, g.kernel[a], g.stride[a], g.dilation[a], g.padLo[a], g.padHi[a], ceil));
      const space: ParallelDim[] = [
        { name: "sample", cls: "sample", size: x.shape[0] },
        { name: "channel", cls: "attribute", size: x.shape[1] },
        ...outSpatial.map((size, a): ParallelDim => ({ name: names[a], cls: "attribute", size })),
      ];
      const taps = product(g.kernel);
      return {
        outputs: [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...outSpatial], dims: [x.dims[0], x.dims[1], ...names.map((a) => `${ctx.opName}.${a[0]}`)] }],
        params: [],
        space,
        // The window map pads only before; a window past the end (end pads, ceil mode) is
        // padded by windowPadding, which pads whatever runs off the tensor.
        inputMaps: [[iter(0), iter(1), ...x.shape.slice(2).map((size, a) => windowMap(a + 2, size, g.kernel[a], g.stride[a], g.padLo[a], g.dilation[a]))]],
        paramMaps: [],
        outputMaps: [Array.from({ length: rank }, (_, i) => iter(i))],
        // One compare/add per tap and output element; backward routes/spreads the same taps.
        // Per output position, so shards sum to the whole (halos cost transfers, not FLOPs).
        flops: (e) => ({ forward: taps * product(e), backward: taps * product(e) }),
      };
    },
    forward(tf, { inputs, attrs, sig, shard }) {
      const g = geometryOf(attrs, n);
      const max = attrs.mode === "max";
      const xp = toThreeSpatial(tf, paddedChannelsLast(tf, inputs[0], sig.inputMaps[0], shard, max ? -Infinity : 0)) as Tensor5D;
      const [k, s, d] = [lift(g.kernel), lift(g.stride), lift(g.dilation)];
      let y: Tensor;
      if (max) {
        y = d.every((v) => v === 1) ? nativePool(tf, xp, k, s, "max") : dilatedMax(tf, xp, k, s, d);
      } else {
        y = nativePool(tf, xp, k, s, "avg");
        const factors = avgFactors(tf, sig.inputMaps[0], shard, g, attrs.count_include_pad as boolean);
        if (factors) y = tf.mul(y, factors);
      }
      return [channelsFirst(tf, fromThreeSpatial(tf, y, n))];
    },
    backward(tf, args) {
      return args.attrs.mode === "max" ? maxPoolBackward(tf, args, n) : autodiffBackward(entry, tf, args);
    },
  };
  return entry;
}

/** Per-axis values for three spatial axes (1s in front for 1-D and 2-D). */
const lift = (xs: number[]): [number, number, number] => [...new Array<number>(3 - xs.length).fill(1), ...xs] as [number, number, number];

/**
 * tfjs's own pooling of [N, D, H, W, C] ('valid'). Max pooling over depth is the maximum
 * of 2-D pools of the depth taps' strided slices: wasm's MaxPool3D is wrong for 1×1
 * spatial windows and for −∞ padding (found by the cpu-vs-wasm test), its 2-D MaxPool is not.
 */
function nativePool(tf: TF, xp: Tensor5D, k: [number, number, number], s: [number, number, number], mode: "max" | "avg"): Tensor {
  const [nb, dd, hh, ww, cc] = xp.shape;
  if (mode === "avg" && (dd > 1 || k[0] > 1)) return tf.avgPool3d(xp, k, s, "valid");
  const od = Math.floor((dd - k[0]) / s[0]) + 1;
  const pool2 = (t: Tensor): Tensor => {
    const x4 = tf.reshape(t, [nb * od, hh, ww, cc]) as Tensor4D;
    const y = mode === "max" ? tf.maxPool(x4, [k[1], k[2]], [s[1], s[2]], "valid") : tf.avgPool(x4, [k[1], k[2]], [s[1], s[2]], "valid");
    return tf.reshape(y, [nb, od, ...y.shape.slice(1)]);
  };
  if (dd === 1) return pool2(xp);
  let y: Tensor | undefined;
  for (let u = 0; u < k[0]; u++) {
    const slab = tf.stridedSlice(xp, [0, u, 0, 0, 0], [nb, u + (od - 1) * s[0] + 1, hh, ww, cc], [1, s[0], 1, 1, 1]);
    const p = pool2(slab);
    y = y === undefined ? p : tf.maximum(y, p);
  }
  return y!;
}

/** The strided view of the padded input that window tap (u, v, w) sees: [N, oD, oH, oW, C]. */
function tapView(tf: TF, xp: Tensor5D, tap: [number, number, number], out: [number, number, number], s: [number, number, number]): Tensor {
  const [nb, , , , cc] = xp.shape;
  const begin = [0, ...tap, 0];
  const end = [nb, ...tap.map((t, a) => t + (out[a] - 1) * s[a] + 1), cc];
  return tf.stridedSlice(xp, begin, end, [1, ...s, 1]);
}

/** Window taps of a kernel with dilation d, in row-major order: their offsets into the padded input. */
function taps(k: [number, number, number], d: [number, number, number]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let u = 0; u < k[0]; u++) for (let v = 0; v < k[1]; v++) for (let w = 0; w < k[2]; w++) out.push([u * d[0], v * d[1], w * d[2]]);
  return out;
}

/** Output extents of a 'valid' dilated pool over the padded input. */
function outExtents(xp: Tensor5D, k: [number, number, number], s: [number, number, number], d: [number, number, number]): [number, number, number] {
  return [1, 2, 3].map((a, i) => Math.floor(((xp.shape[a] as number) - d[i] * (k[i] - 1) - 1) / s[i]) + 1) as [number, number, number];
}

/** Dilated max pooling: the maximum over the taps' strided views (tfjs pools have no dilation). */
function dilatedMax(tf: TF, xp: Tensor5D, k: [number, number, number], s: [number, number, number], d: [number, number, number]): Tensor {
  const out = outExtents(xp, k, s, d);
  return taps(k, d).map((t) => tapView(tf, xp, t, out, s)).reduce((m, v) => tf.maximum(m, v));
}

/**
 * The factors [1, oD, oH, oW, 1] that turn each window's mean over all its taps into the
 * mean torch takes, for the task's output positions; undefined when all are 1.
 */
function avgFactors(tf: TF, maps: readonly AxisMap[], shard: ShardContext, g: PoolGeometry, includePad: boolean): Tensor | undefined {
  const n = g.kernel.length;
  const perAxis = g.kernel.map((k, a) => {
    const m = maps[a + 2] as WindowMap;
    return divisorFactors(shard.box.lo[a + 2], shard.box.hi[a + 2], m.size, k, g.stride[a], g.padLo[a], g.padHi[a], includePad);
  });
  if (perAxis.every((f) => f.every((v) => v === 1))) return undefined;
  const shape = [1, ...new Array<number>(3 - n).fill(1), ...perAxis.map((f) => f.length), 1];
  const data = new Float32Array(product(perAxis.map((f) => f.length)));
  let i = 0;
  const rec = (a: number, acc: number): void => {
    if (a === n) {
      data[i++] = acc;
      return;
    }
    for (const f of perAxis[a]) rec(a + 1, acc * f);
  };
  rec(0, 1);
  return tf.tensor(data, shape);
}

/**
 * Max-pool input gradient: dy flows to the first tap (row-major) of each window that
 * attains the max, as PyTorch does. On backends whose tensors live in this thread's memory
 * (wasm, cpu) it is one pass over the windows in JS; elsewhere it is built from elementary
 * kernels (about ten per tap). Both add the contributions to an input position in tap
 * order, so they give the same bits.
 */
function maxPoolBackward(tf: TF, args: BackwardArgs, n: number): Gradients {
  const { inputs, attrs, sig, shard, outputs, dOutputs } = args;
  const g = geometryOf(attrs, n);
  const padded = paddedChannelsLast(tf, inputs[0], sig.inputMaps[0], shard, -Infinity);
  const xp = toThreeSpatial(tf, padded) as Tensor5D;
  const y = toThreeSpatial(tf, tf.transpose(outputs[0], [0, ...Array.from({ length: n }, (_, i) => i + 2), 1])) as Tensor5D;
  const dy = toThreeSpatial(tf, tf.transpose(dOutputs[0], [0, ...Array.from({ length: n }, (_, i) => i + 2), 1])) as Tensor5D;
  const backend = tf.getBackend();
  const hostMemory = backend === "wasm" || backend === "cpu";
  const [k, s, d] = [lift(g.kernel), lift(g.stride), lift(g.dilation)];
  const dxp = hostMemory ? maxPoolRouteHost(tf, xp, y, dy, k, s, d) : maxPoolRouteKernels(tf, xp, y, dy, k, s, d);
  return { dInputs: [unpadToInput(tf, tf.reshape(dxp, padded.shape), inputs[0], sig.inputMaps[0], shard)], dParams: [] };
}

/** The routing as one JS pass over [N, D, H, W, C] arrays: tap-major, so each input sums in tap order. */
export function maxPoolRouteHost(tf: TF, xp: Tensor5D, y: Tensor5D, dy: Tensor5D, k: [number, number, number], s: [number, number, number], d: [number, number, number]): Tensor5D {
  const [nb, dp, hp, wp, c] = xp.shape;
  const [od, oh, ow] = [y.shape[1], y.shape[2], y.shape[3]];
  const x = xp.dataSync() as Float32Array;
  const yv = y.dataSync() as Float32Array;
  const gy = dy.dataSync() as Float32Array;
  const out = new Float32Array(x.length);
  const taken = new Uint8Array(yv.length);
  for (const [tu, tv, tw] of taps(k, d)) {
    for (let b = 0; b < nb; b++) {
      for (let i = 0; i < od; i++) {
        for (let j = 0; j < oh; j++) {
          const xRow = (((b * dp + i * s[0] + tu) * hp + j * s[1] + tv) * wp + tw) * c;
          const oRow = ((b * od + i) * oh + j) * ow * c;
          for (let l = 0; l < ow; l++) {
            const xo = xRow + l * s[2] * c;
            const oo = oRow + l * c;
            for (let ch = 0; ch < c; ch++) {
              const o = oo + ch;
              if (taken[o] === 0 && x[xo + ch] === yv[o]) {
                taken[o] = 1;
                out[xo + ch] += gy[o];
              }
            }
          }
        }
      }
    }
  }
  return tf.tensor5d(out, [nb, dp, hp, wp, c]);
}

/** The routing from elementary kernels: per tap, the strided view it sees, dilated and shifted back. */
export function maxPoolRouteKernels(tf: TF, xp: Tensor5D, y: Tensor5D, dy: Tensor5D, k: [number, number, number], s: [number, number, number], d: [number, number, number]): Tensor5D {
  const out: [number, number, number] = [y.shape[1], y.shape[2], y.shape[3]];
  const span = out.map((o, a) => (o - 1) * s[a] + 1);
  let taken: Tensor = tf.zerosLike(y);
  let dxp: Tensor = tf.zeros(xp.shape);
  for (const t of taps(k, d)) {
    const hit = tf.mul(tf.cast(tf.equal(tapView(tf, xp, t, out, s), y), "float32"), tf.sub(1, taken));
    taken = tf.add(taken, hit);
    let spread = tf.mul(hit, dy);
    for (let a = 0; a < 3; a++) spread = dilateAxis(tf, spread, a + 1, s[a]);
    const pads: [number, number][] = [[0, 0], ...t.map((o, a): [number, number] => [o, (xp.shape[a + 1] as number) - o - span[a]]), [0, 0]];
    dxp = tf.add(dxp, tf.pad(spread, pads));
  }
  return dxp as Tensor5D;
}

export const pool1d = poolEntry(1);
export const pool2d = poolEntry(2);
export const pool3d = poolEntry(3);

export const globalPool: OpEntry = {
  name: "global_pool",
  family: "pooling",
  doc: "Global average pool: x[N, C, spatial...] → [N, C, 1, ...] (ONNX GlobalAveragePool, torch AdaptiveAvgPool2d(1)).",
  inputs: [{ name: "x" }],
  attrs: [],
  outputNames: ["y"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (x.shape.length < 3) {
      ctx.diagnostics.error("PAR2108", `\`global_pool\` needs an input [batch, channels, spatial...] of rank ≥ 3, got ${fmtShape(x.shape)}`, {
        pos: ctx.pos,
        expected: "a tensor [batch, channels, height, width]",
      });
      return undefined;
    }
    const spatial = x.shape.slice(2);
    const names = spatialNames(spatial.length);
    const space: ParallelDim[] = [
      { name: "sample", cls: "sample", size: x.shape[0] },
      { name: "channel", cls: "attribute", size: x.shape[1] },
      // Summed over: a split gives partial averages that add up.
      ...spatial.map((size, i): ParallelDim => ({ name: names[i], cls: "reduction", size })),
    ];
    return {
      outputs: [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...spatial.map(() => 1)], dims: [x.dims[0], x.dims[1], ...spatial.map((_, i) => `${ctx.opName}.${names[i]}`)] }],
      params: [],
      space,
      inputMaps: [x.shape.map((_, i) => iter(i))],
      paramMaps: [],
      outputMaps: [[iter(0), iter(1), ...spatial.map((): AxisMap => ({ kind: "full" }))]],
      flops: (e) => ({ forward: product(e), backward: product(e) }),
    };
  },
  forward(tf, { inputs, shard }) {
    const [x] = inputs;
    const axes = x.shape.slice(2).map((_, i) => i + 2);
    // Divide by the global count, not the task's, so that partial sums add to the mean.
    const count = product(shard.spaceSizes.slice(2));
    return [tf.div(tf.sum(x, axes, true), count)];
  },
};

export const POOL_OPS: OpEntry[] = [pool1d, pool2d, pool3d, globalPool];
