// Pooling over NCHW images. pool2d (PyTorch MaxPool2d / AvgPool2d, floor mode): the
// height/width dims are output positions whose input axes are `window` maps (halos), and
// the kernel pads the task's region explicitly (-∞ for max, 0 for avg) before a 'valid'
// pool in NHWC. Average pooling counts the padding in the divisor (PyTorch's default
// count_include_pad=True), which explicit zero padding gives for free.
// global_pool averages every spatial position: [N, C, H, W] → [N, C, 1, 1] (ONNX
// GlobalAveragePool, torch AdaptiveAvgPool2d(1)); its spatial dims are reductions, and
// each task divides its partial sum by the GLOBAL count so that partials add to the mean.

import type { Tensor, Tensor4D } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import { autodiffBackward } from "./autodiff.js";
import type { AxisMap, BackwardArgs, Gradients, OpEntry, ParallelDim, TF } from "./contract.js";
import { fmtShape, product } from "./common.js";
import { dilateAxis, pairOf, paddedNHWC, spatialPair, unpadToInput, windowMap, windowOut } from "./conv.js";

const iter = (dim: number): AxisMap => ({ kind: "iter", dim });

/** `stride` defaults to the kernel (PyTorch); an empty list stands for that default. */
function strideOf(stride: number[], kernel: number[]): number[] {
  return stride.length === 0 ? kernel : stride;
}

export const pool2d: OpEntry = {
  name: "pool2d",
  family: "pooling",
  doc: "Max or average pooling over x[N, C, H, W] (PyTorch MaxPool2d/AvgPool2d, floor mode, count_include_pad=True).",
  inputs: [{ name: "x" }],
  attrs: [
    { name: "mode", kind: "string", choices: ["max", "avg"], doc: "max or average pooling" },
    { name: "kernel", kind: "ints", min: 1, doc: "window size: [k] or [kh, kw]" },
    { name: "stride", kind: "ints", min: 1, default: [], doc: "stride: [s] or [sh, sw]; empty = the kernel size" },
    { name: "padding", kind: "ints", min: 0, default: [0], doc: "padding on both sides (-∞ for max, 0 for avg), at most half the kernel" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (x.shape.length !== 4) {
      ctx.diagnostics.error("PAR2108", `\`pool2d\` needs an NCHW input of rank 4, got ${fmtShape(x.shape)}`, {
        pos: ctx.pos,
        expected: "a tensor [batch, channels, height, width]",
      });
      return undefined;
    }
    const k = spatialPair("pool2d", "kernel", attrs.kernel, ctx);
    const s = spatialPair("pool2d", "stride", strideOf(attrs.stride as number[], attrs.kernel as number[]), ctx);
    const p = spatialPair("pool2d", "padding", attrs.padding, ctx);
    if (!k || !s || !p) return undefined;
    for (let a = 0; a < 2; a++) {
      // PyTorch's rule; it also keeps every window on at least one real element.
      if (2 * p[a] > k[a]) {
        ctx.diagnostics.error("PAR2112", `\`pool2d\` padding ${p[a]} along ${a === 0 ? "height" : "width"} exceeds half the kernel (${k[a]})`, {
          pos: ctx.pos,
          expected: `padding ≤ ${Math.floor(k[a] / 2)}`,
        });
        return undefined;
      }
    }
    const [N, C, H, W] = x.shape;
    const OH = windowOut(H, k[0], s[0], p[0], 1);
    const OW = windowOut(W, k[1], s[1], p[1], 1);
    if (OH < 1 || OW < 1) {
      ctx.diagnostics.error("PAR2109", `\`pool2d\` kernel ${fmtShape(k)} does not fit the padded input ${H + 2 * p[0]}×${W + 2 * p[1]}`, {
        pos: ctx.pos,
        expected: "a kernel no larger than the padded input",
      });
      return undefined;
    }
    const space: ParallelDim[] = [
      { name: "sample", cls: "sample", size: N },
      { name: "channel", cls: "attribute", size: C },
      { name: "height", cls: "attribute", size: OH },
      { name: "width", cls: "attribute", size: OW },
    ];
    const taps = k[0] * k[1];
    return {
      outputs: [{ dtype: x.dtype, shape: [N, C, OH, OW], dims: [x.dims[0], x.dims[1], `${ctx.opName}.h`, `${ctx.opName}.w`] }],
      params: [],
      space,
      inputMaps: [[iter(0), iter(1), windowMap(2, H, k[0], s[0], p[0], 1), windowMap(3, W, k[1], s[1], p[1], 1)]],
      paramMaps: [],
      outputMaps: [[iter(0), iter(1), iter(2), iter(3)]],
      // One compare/add per tap and output element; backward routes/spreads the same taps.
      // Per output position, so shards sum to the whole (halos cost transfers, not FLOPs).
      flops: (e) => ({ forward: taps * product(e), backward: taps * product(e) }),
    };
  },
  forward(tf, { inputs, attrs, sig, shard }) {
    const max = attrs.mode === "max";
    const k = pairOf(attrs.kernel);
    const s = pairOf(strideOf(attrs.stride as number[], attrs.kernel as number[]));
    const xp = paddedNHWC(tf, inputs[0], sig.inputMaps[0], shard, max ? -Infinity : 0);
    const y = max ? tf.maxPool(xp, k, s, "valid") : tf.avgPool(xp, k, s, "valid");
    return [tf.transpose(y, [0, 3, 1, 2])];
  },
  backward(tf, args) {
    return args.attrs.mode === "max" ? maxPoolBackward(tf, args) : autodiffBackward(pool2d, tf, args);
  },
};

/**
 * Max-pool input gradient (the wasm backend's MaxPoolGrad routes gradients to wrong
 * positions). dy flows to the first tap (row-major) of each window that attains the max,
 * as PyTorch does. On backends whose tensors live in this thread's memory (wasm, cpu) it is
 * one pass over the windows in JS; elsewhere it is built from elementary kernels (about
 * ten per tap, which on wasm cost 20–40× the forward). Both add the contributions to an
 * input position in tap order, so they give the same bits.
 */
function maxPoolBackward(tf: TF, args: BackwardArgs): Gradients {
  const { inputs, attrs, sig, shard, outputs, dOutputs } = args;
  const [kh, kw] = pairOf(attrs.kernel);
  const [sh, sw] = pairOf(strideOf(attrs.stride as number[], attrs.kernel as number[]));
  const xp = paddedNHWC(tf, inputs[0], sig.inputMaps[0], shard, -Infinity);
  const y = tf.transpose(outputs[0], [0, 2, 3, 1]);
  const dy = tf.transpose(dOutputs[0], [0, 2, 3, 1]);
  const backend = tf.getBackend();
  const hostMemory = backend === "wasm" || backend === "cpu";
  const dxp = hostMemory ? maxPoolRouteHost(tf, xp, y, dy, kh, kw, sh, sw) : maxPoolRouteKernels(tf, xp, y, dy, kh, kw, sh, sw);
  return { dInputs: [unpadToInput(tf, dxp, inputs[0], sig.inputMaps[0], shard)], dParams: [] };
}

/** The routing as one JS pass over NHWC arrays: tap-major, so each input sums in tap order. */
export function maxPoolRouteHost(tf: TF, xp: Tensor4D, y: Tensor, dy: Tensor, kh: number, kw: number, sh: number, sw: number): Tensor4D {
  const [n, hp, wp, c] = xp.shape;
  const [oh, ow] = [y.shape[1] as number, y.shape[2] as number];
  const x = xp.dataSync() as Float32Array;
  const yv = y.dataSync() as Float32Array;
  const g = dy.dataSync() as Float32Array;
  const out = new Float32Array(x.length);
  const taken = new Uint8Array(yv.length);
  for (let u = 0; u < kh; u++) {
    for (let v = 0; v < kw; v++) {
      for (let b = 0; b < n; b++) {
        for (let i = 0; i < oh; i++) {
          const xRow = ((b * hp + i * sh + u) * wp + v) * c;
          const oRow = (b * oh + i) * ow * c;
          for (let j = 0; j < ow; j++) {
            const xo = xRow + j * sw * c;
            const oo = oRow + j * c;
            for (let ch = 0; ch < c; ch++) {
              const o = oo + ch;
              if (taken[o] === 0 && x[xo + ch] === yv[o]) {
                taken[o] = 1;
                out[xo + ch] += g[o];
              }
            }
          }
        }
      }
    }
  }
  return tf.tensor4d(out, [n, hp, wp, c]);
}

/** The routing from elementary kernels: per tap, the strided view it sees, dilated and shifted back. */
export function maxPoolRouteKernels(tf: TF, xp: Tensor4D, y: Tensor, dy: Tensor, kh: number, kw: number, sh: number, sw: number): Tensor4D {
  const [n, hp, wp, c] = xp.shape;
  const [oh, ow] = [y.shape[1] as number, y.shape[2] as number];
  const spanH = (oh - 1) * sh + 1;
  const spanW = (ow - 1) * sw + 1;
  let taken: Tensor = tf.zerosLike(y);
  let dxp: Tensor = tf.zeros(xp.shape);
  for (let u = 0; u < kh; u++) {
    for (let v = 0; v < kw; v++) {
      const patch = tf.stridedSlice(xp, [0, u, v, 0], [n, u + spanH, v + spanW, c], [1, sh, sw, 1]);
      const hit = tf.mul(tf.cast(tf.equal(patch, y), "float32"), tf.sub(1, taken));
      taken = tf.add(taken, hit);
      const spread = dilateAxis(tf, dilateAxis(tf, tf.mul(hit, dy), 1, sh), 2, sw);
      dxp = tf.add(dxp, tf.pad(spread, [[0, 0], [u, hp - u - spanH], [v, wp - v - spanW], [0, 0]]));
    }
  }
  return dxp as Tensor4D;
}

function spatialNames(n: number): string[] {
  if (n === 1) return ["length"];
  if (n === 2) return ["height", "width"];
  if (n === 3) return ["depth", "height", "width"];
  return Array.from({ length: n }, (_, i) => `attr${i + 1}`);
}

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

export const POOL_OPS: OpEntry[] = [pool2d, globalPool];
