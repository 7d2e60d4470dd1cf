// conv2d over NCHW images (PyTorch nn.Conv2d): y[n, o, i, j] = b[o] + Σ x[n, c, i·s - p + u·d, j·s - p + v·d] · w[o, c, u, v].
// Parallel dims: sample (N), channel (out, parameter: each task holds a row block of w),
// height/width (attribute: output positions; input axes are `window` maps so each task
// reads its halo) and in_channel (C/groups, a reduction: partial sums).
//
// Kernels run in NHWC (the wasm backend's only layout) on the task's input region, padded
// explicitly with the zeros the global padding puts at the tensor's borders, then a
// 'valid' convolution. Dilation is applied to the filter (zeros between taps) so that the
// kernels only ever see dilation 1: tfjs forbids stride > 1 together with dilation > 1, and
// wasm's Conv2DBackpropInput has no dilation. The backward is explicit because wasm lacks
// Conv2DBackpropFilter: the filter gradient is a convolution of x with dy with the batch
// and channel axes swapped (dilation = stride), the input gradient a transposed conv.

import type { Tensor, Tensor4D } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AttrValue, AxisMap, BackwardArgs, ForwardArgs, Gradients, InferContext, OpEntry, ParallelDim, ShardContext, TF } from "./contract.js";
import { fmtShape, product } from "./common.js";
import { windowPadding } from "./regions.js";

const iter = (dim: number): AxisMap => ({ kind: "iter", dim });
type WindowMap = Extract<AxisMap, { kind: "window" }>;

/** An `ints` attribute of 1 or 2 values as [h, w], or undefined with a PAR2110 diagnostic. */
export function spatialPair(op: string, name: string, v: AttrValue, ctx: InferContext): [number, number] | undefined {
  const xs = v as number[];
  if (xs.length === 1) return [xs[0], xs[0]];
  if (xs.length === 2) return [xs[0], xs[1]];
  ctx.diagnostics.error("PAR2110", `attribute \`${name}\` of \`${op}\` must list 1 or 2 values ([h, w]), got ${xs.length}`, {
    pos: ctx.pos,
    expected: `${name} = [k] or [kh, kw]`,
  });
  return undefined;
}

/** The pair for a kernel-side attribute, already validated by infer. */
export function pairOf(v: AttrValue): [number, number] {
  const xs = v as number[];
  return [xs[0], xs.length > 1 ? xs[1] : xs[0]];
}

/** Output extent of a sliding window (floor mode, as PyTorch). */
export function windowOut(size: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

export function windowMap(dim: number, size: number, kernel: number, stride: number, pad: number, dilation: number): WindowMap {
  return { kind: "window", dim, stride, dilation, kernel, padLo: pad, size };
}

/**
 * Crops an NCHW input to the extent of the task's input region along H and W (the whole
 * op may be handed the whole tensor although its windows never reach the last rows) and
 * returns it in NHWC, padded with `value` where the window runs off the tensor.
 */
export function paddedNHWC(tf: TF, x: Tensor, maps: AxisMap[], shard: ShardContext, value = 0): Tensor4D {
  const region = shard.inputRegions[0];
  const eh = region.hi[2] - region.lo[2];
  const ew = region.hi[3] - region.lo[3];
  const cropped = x.shape[2] === eh && x.shape[3] === ew ? x : tf.slice(x, [0, 0, 0, 0], [-1, -1, eh, ew]);
  const [pt, pb] = windowPadding(maps[2] as WindowMap, shard.box);
  const [pl, pr] = windowPadding(maps[3] as WindowMap, shard.box);
  const nhwc = tf.transpose(cropped, [0, 2, 3, 1]) as Tensor4D;
  if (pt + pb + pl + pr === 0) return nhwc;
  return tf.pad(nhwc, [[0, 0], [pt, pb], [pl, pr], [0, 0]], value);
}

/** Inverse of paddedNHWC for gradients: strip the padding, back to NCHW, zero-fill cropped rows. */
export function unpadToInput(tf: TF, dxp: Tensor4D, x: Tensor, maps: AxisMap[], shard: ShardContext): Tensor {
  const [pt] = windowPadding(maps[2] as WindowMap, shard.box);
  const [pl] = windowPadding(maps[3] as WindowMap, shard.box);
  const region = shard.inputRegions[0];
  const eh = region.hi[2] - region.lo[2];
  const ew = region.hi[3] - region.lo[3];
  const dx = tf.transpose(tf.slice(dxp, [0, pt, pl, 0], [-1, eh, ew, -1]), [0, 3, 1, 2]);
  const [hx, wx] = [x.shape[2] as number, x.shape[3] as number];
  return hx === eh && wx === ew ? dx : tf.pad(dx, [[0, 0], [0, 0], [0, hx - eh], [0, wx - ew]]);
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

/** torch [out, in, kh, kw] → dilated HWIO [(kh-1)·dh+1, (kw-1)·dw+1, in, out]. */
function hwioDilated(tf: TF, w: Tensor, dh: number, dw: number): Tensor4D {
  return dilateAxis(tf, dilateAxis(tf, tf.transpose(w, [2, 3, 1, 0]), 0, dh), 1, dw) as Tensor4D;
}

/** One group's piece of a task: rows [wLo, wHi) of the local weight read local x channels [xLo, xHi). */
interface GroupPiece {
  wLo: number;
  wHi: number;
  xLo: number;
  xHi: number;
}

/**
 * The groups a task's channel block touches. With groups == 1 there is one piece: the
 * task's whole weight shard against its whole input (channel) region.
 */
function groupPieces(args: ForwardArgs): GroupPiece[] {
  const { shard, attrs, inputs, params } = args;
  const groups = attrs.groups as number;
  const localOut = params[0].shape[0] as number;
  if (groups === 1) return [{ wLo: 0, wHi: localOut, xLo: 0, xHi: inputs[0].shape[1] as number }];
  const out = attrs.out as number;
  const perOut = out / groups;
  const perIn = shard.spaceSizes[4];
  const [olo, ohi] = [shard.box.lo[1], shard.box.hi[1]];
  const xOrigin = shard.inputRegions[0].lo[1];
  const pieces: GroupPiece[] = [];
  for (let g = Math.floor(olo / perOut); g * perOut < ohi; g++) {
    const lo = Math.max(olo, g * perOut);
    const hi = Math.min(ohi, (g + 1) * perOut);
    pieces.push({ wLo: lo - olo, wHi: hi - olo, xLo: g * perIn - xOrigin, xHi: (g + 1) * perIn - xOrigin });
  }
  return pieces;
}

const sliceAxis = (tf: TF, t: Tensor, axis: number, lo: number, hi: number): Tensor =>
  tf.slice(t, t.shape.map((_, i) => (i === axis ? lo : 0)), t.shape.map((s, i) => (i === axis ? hi - lo : (s as number))));

export const conv2d: OpEntry = {
  name: "conv2d",
  family: "convolution",
  doc: "2-D convolution over x[N, C, H, W] (PyTorch nn.Conv2d: weight [out, C/groups, kh, kw], symmetric zero padding).",
  inputs: [{ name: "x" }],
  attrs: [
    { name: "out", kind: "int", min: 1, doc: "output channels" },
    { name: "kernel", kind: "ints", min: 1, doc: "kernel size: [k] or [kh, kw]" },
    { name: "stride", kind: "ints", min: 1, default: [1], doc: "stride: [s] or [sh, sw]" },
    { name: "padding", kind: "ints", min: 0, default: [0], doc: "zero padding on both sides: [p] or [ph, pw]" },
    { name: "dilation", kind: "ints", min: 1, default: [1], doc: "spacing between kernel taps: [d] or [dh, dw]" },
    { name: "groups", kind: "int", min: 1, default: 1, doc: "channel groups (groups == C == out: depthwise)" },
    { name: "bias", kind: "bool", default: true, doc: "add a learned bias" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (x.shape.length !== 4) {
      ctx.diagnostics.error("PAR2108", `\`conv2d\` needs an NCHW input of rank 4, got ${fmtShape(x.shape)}`, {
        pos: ctx.pos,
        expected: "a tensor [batch, channels, height, width]",
        hint: x.shape.length === 3 ? "add a batch axis of size 1" : undefined,
      });
      return undefined;
    }
    const k = spatialPair("conv2d", "kernel", attrs.kernel, ctx);
    const s = spatialPair("conv2d", "stride", attrs.stride, ctx);
    const p = spatialPair("conv2d", "padding", attrs.padding, ctx);
    const d = spatialPair("conv2d", "dilation", attrs.dilation, ctx);
    if (!k || !s || !p || !d) return undefined;
    const [N, C, H, W] = x.shape;
    const out = attrs.out as number;
    const groups = attrs.groups as number;
    if (C % groups !== 0 || out % groups !== 0) {
      ctx.diagnostics.error("PAR2111", `\`conv2d\` groups = ${groups} must divide both the input channels (${C}) and \`out\` (${out})`, {
        pos: ctx.pos,
        expected: `channels and out divisible by ${groups}`,
      });
      return undefined;
    }
    for (let a = 0; a < 2; a++) {
      const extent = d[a] * (k[a] - 1) + 1;
      if (p[a] >= extent) {
        ctx.diagnostics.error("PAR2112", `\`conv2d\` padding ${p[a]} along ${a === 0 ? "height" : "width"} is not smaller than the kernel's extent ${extent}`, {
          pos: ctx.pos,
          expected: `padding < ${extent}`,
        });
        return undefined;
      }
    }
    const OH = windowOut(H, k[0], s[0], p[0], d[0]);
    const OW = windowOut(W, k[1], s[1], p[1], d[1]);
    if (OH < 1 || OW < 1) {
      ctx.diagnostics.error("PAR2109", `\`conv2d\` kernel ${fmtShape(k)} does not fit the padded input ${H + 2 * p[0]}×${W + 2 * p[1]} (output ${OH}×${OW})`, {
        pos: ctx.pos,
        expected: "a kernel no larger than the padded input",
      });
      return undefined;
    }
    const cin = C / groups;
    const perOut = out / groups;
    // Grouped conv: an output channel block reads its groups' input channels. That is a
    // window over the channel axis when each group has one output channel (depthwise
    // with multiplier 1, the common case); otherwise the channel dim stays whole.
    const channelSplittable = groups === 1 || perOut === 1;
    const channelMap: AxisMap = groups === 1 ? iter(4) : perOut === 1 ? (cin === 1 ? iter(1) : windowMap(1, C, cin, cin, 0, 1)) : { kind: "full" };
    const space: ParallelDim[] = [
      { name: "sample", cls: "sample", size: N },
      { name: "channel", cls: "parameter", size: out, splittable: channelSplittable },
      { name: "height", cls: "attribute", size: OH },
      { name: "width", cls: "attribute", size: OW },
      // Grouped conv: an in_channel block would be a strided set of input channels.
      { name: "in_channel", cls: "reduction", size: cin, splittable: groups === 1 },
    ];
    const useBias = attrs.bias as boolean;
    const bound = 1 / Math.sqrt(cin * k[0] * k[1]);
    const macs = 2 * k[0] * k[1];
    return {
      outputs: [{ dtype: x.dtype, shape: [N, out, OH, OW], dims: [x.dims[0], `${ctx.opName}.out`, `${ctx.opName}.h`, `${ctx.opName}.w`] }],
      params: [
        { name: "weight", shape: [out, cin, k[0], k[1]], dims: ["out", "in", "kh", "kw"], init: { kind: "uniform", bound } },
        ...(useBias ? [{ name: "bias", shape: [out], dims: ["out"], init: { kind: "uniform" as const, bound } }] : []),
      ],
      space,
      inputMaps: [[iter(0), channelMap, windowMap(2, H, k[0], s[0], p[0], d[0]), windowMap(3, W, k[1], s[1], p[1], d[1])]],
      paramMaps: [[iter(1), iter(4), { kind: "full" }, { kind: "full" }], ...(useBias ? [[iter(1)]] : [])],
      outputMaps: [[iter(0), iter(1), iter(2), iter(3)]],
      // 2·kh·kw FLOPs per (output element, input channel); backward = dX + dW, twice that.
      // Linear in every extent, so shards sum to the whole (halos cost transfers, not FLOPs).
      flops: (e) => ({ forward: macs * product(e), backward: 2 * macs * product(e) }),
    };
  },
  forward(tf, args) {
    const { inputs, params, attrs, sig, shard } = args;
    const [x] = inputs;
    const [w, b] = params;
    const [sh, sw] = pairOf(attrs.stride);
    const [dh, dw] = pairOf(attrs.dilation);
    const xp = paddedNHWC(tf, x, sig.inputMaps[0], shard);
    const wd = hwioDilated(tf, w, dh, dw);
    const pieces = groupPieces(args);
    const ys = pieces.map((pc) =>
      tf.conv2d(
        pieces.length === 1 && pc.xLo === 0 && pc.xHi === xp.shape[3] ? xp : (sliceAxis(tf, xp, 3, pc.xLo, pc.xHi) as Tensor4D),
        pieces.length === 1 ? wd : (sliceAxis(tf, wd, 3, pc.wLo, pc.wHi) as Tensor4D),
        [sh, sw],
        "valid",
      ),
    );
    let y: Tensor = ys.length === 1 ? ys[0] : tf.concat(ys, 3);
    // A bias is added once: only by the task that is first along in_channel.
    if (attrs.bias && b && shard.firstAlongReductions) y = tf.add(y, b);
    return [tf.transpose(y, [0, 3, 1, 2])];
  },
  backward(tf, args: BackwardArgs): Gradients {
    const { inputs, params, attrs, sig, shard, dOutputs } = args;
    const [x] = inputs;
    const [w] = params;
    const [sh, sw] = pairOf(attrs.stride);
    const [dh, dw] = pairOf(attrs.dilation);
    const xp = paddedNHWC(tf, x, sig.inputMaps[0], shard);
    const wd = hwioDilated(tf, w, dh, dw);
    const dy = tf.transpose(dOutputs[0], [0, 2, 3, 1]) as Tensor4D;
    const pieces = groupPieces(args);
    const dxParts: Tensor[] = [];
    const dwParts: Tensor[] = [];
    let xCursor = 0;
    for (const pc of pieces) {
      const xg = sliceAxis(tf, xp, 3, pc.xLo, pc.xHi) as Tensor4D;
      const wg = sliceAxis(tf, wd, 3, pc.wLo, pc.wHi) as Tensor4D;
      const dyg = sliceAxis(tf, dy, 3, pc.wLo, pc.wHi) as Tensor4D;
      // Input channels of the region that no piece reads get a zero gradient.
      if (pc.xLo > xCursor) dxParts.push(tf.zeros([xp.shape[0], xp.shape[1], xp.shape[2], pc.xLo - xCursor]));
      dxParts.push(tf.conv2dTranspose(dyg, wg, xg.shape, [sh, sw], "valid"));
      xCursor = pc.xHi;
      // dW[u, v, c, o] = Σ_{n,i,j} xp[n, i·s + u, j·s + v, c] · dy[n, i, j, o]: a 'valid'
      // conv of xᵀ [c, H, W, n] with dyᵀ [i, j, n, o] at dilation = stride.
      const full = tf.conv2d(tf.transpose(xg, [3, 1, 2, 0]) as Tensor4D, tf.transpose(dyg, [1, 2, 0, 3]) as Tensor4D, 1, "valid", "NHWC", [sh, sw]);
      const [eh, ew] = [wd.shape[0], wd.shape[1]];
      const dwd = tf.transpose(tf.slice(full, [0, 0, 0, 0], [-1, eh, ew, -1]), [1, 2, 0, 3]);
      // Undo the filter dilation: keep every d-th tap.
      const dwg = dh === 1 && dw === 1 ? dwd : tf.stridedSlice(dwd, [0, 0, 0, 0], [eh, ew, dwd.shape[2], dwd.shape[3]], [dh, dw, 1, 1]);
      dwParts.push(tf.transpose(dwg, [3, 2, 0, 1]));
    }
    if (xCursor < (xp.shape[3] as number)) dxParts.push(tf.zeros([xp.shape[0], xp.shape[1], xp.shape[2], (xp.shape[3] as number) - xCursor]));
    const dxp = (dxParts.length === 1 ? dxParts[0] : tf.concat(dxParts, 3)) as Tensor4D;
    const dParams: Tensor[] = [dwParts.length === 1 ? dwParts[0] : tf.concat(dwParts, 0)];
    if (params.length > 1) {
      const db = tf.sum(dOutputs[0], [0, 2, 3]);
      dParams.push(shard.firstAlongReductions ? db : tf.zerosLike(db));
    }
    return { dInputs: [unpadToInput(tf, dxp, x, sig.inputMaps[0], shard)], dParams };
  },
};

export const CONV_OPS: OpEntry[] = [conv2d];
