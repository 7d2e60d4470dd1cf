// Convolution over channel-first tensors with 1, 2 or 3 spatial axes: conv1d, conv2d, conv3d
// (PyTorch nn.Conv1d/2d/3d, ONNX Conv): y[n, o, i] = b[o] + Σ x[n, c, i·s − p + u·d] · w[o, c, u]
// per spatial axis. Parallel dims: sample (N), channel (out, parameter: each task holds a
// row block of w), the output positions (attribute; input axes are `window` maps, so each
// task reads its halo) and in_channel (C/groups, a reduction: partial sums).
//
// Kernels run channels-last (the wasm backend's only layout) on the task's input region,
// padded explicitly with the zeros the global padding puts at the tensor's borders, then a
// 'valid' convolution. Kernel taps that read only padding for every output of the task are
// dropped first (liveTaps), with the padding only they read: they add exact zeros, and a
// dilated kernel on a small input (DeepLabV3's ASPP: 3×3 taps at dilation 36 and padding
// 36 on a 2×2 map) would otherwise be a 73×73 filter over a 74×74 input, nearly all of it
// zeros (minutes on the cpu backend, a 2.8 GB filter past the wasm heap). Dilation is
// applied to the filter (zeros between taps) so that the kernels only ever see dilation 1:
// tfjs forbids stride > 1 together with dilation > 1, and wasm's Conv2DBackpropInput has
// no dilation. A 1-D conv is a 2-D one of height 1. The 2-D backward is explicit because
// wasm lacks Conv2DBackpropFilter: the filter gradient is a convolution of x with dy with
// the batch and channel axes swapped (dilation = stride), the input gradient a transposed
// conv. A 3-D conv's backward is the sum of its depth taps' 2-D
// backwards (wasm's Conv3DBackprop kernels disagree with the cpu's).

import type { Tensor, Tensor4D, Tensor5D } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AttrSpec, AxisMap, BackwardArgs, ForwardArgs, Gradients, OpEntry, OpSignature, ParallelDim, ShardContext, TF } from "./contract.js";
import { fmtShape, FULL, iter, product } from "./common.js";
import { channelsFirst, channelsLast, cropToRegion, dilateAxis, everyNth, uncropFromRegion, checkSpatialRank, spatialNames, spatialValues, valuesOf, windowMap, windowOut } from "./windows.js";

/**
 * Along one spatial axis: the kernel taps [lo, hi] from the first to the last that reads a
 * real input position for some output i in [outLo, outHi) (tap u of output i reads
 * i·s − pad + u·d); undefined when every tap reads only padding.
 */
export function liveTapRange(size: number, kernel: number, stride: number, pad: number, dilation: number, outLo: number, outHi: number): [number, number] | undefined {
  const live = (u: number): boolean => {
    const c = u * dilation - pad;
    const i = Math.max(outLo, Math.ceil(-c / stride));
    return i < outHi && i * stride + c < size;
  };
  let lo = 0;
  while (lo < kernel && !live(lo)) lo++;
  if (lo === kernel) return undefined;
  let hi = kernel - 1;
  while (!live(hi)) hi--;
  return [lo, hi];
}

/**
 * One spatial axis of a task's conv with its dead taps dropped: the taps [tapLo, tapHi] it
 * keeps, the real input positions [realLo, realHi) (global) they read, and the zeros
 * before and after them that the kept taps still read.
 */
interface LiveAxis {
  tapLo: number;
  tapHi: number;
  realLo: number;
  realHi: number;
  padBefore: number;
  padAfter: number;
}

/** Per spatial axis, the task's live taps and what they read; undefined when some axis has none (the conv adds nothing). */
function liveTaps(sig: OpSignature, shard: ShardContext, n: number): LiveAxis[] | undefined {
  const axes: LiveAxis[] = [];
  for (let a = 0; a < n; a++) {
    const m = sig.inputMaps[0][a + 2] as Extract<AxisMap, { kind: "window" }>;
    const [outLo, outHi] = [shard.box.lo[m.dim], shard.box.hi[m.dim]];
    const taps = liveTapRange(m.size, m.kernel, m.stride, m.padLo, m.dilation, outLo, outHi);
    if (!taps) return undefined;
    const [tapLo, tapHi] = taps;
    // The kept taps of outputs outLo … outHi − 1 read global positions [begin, end).
    const begin = outLo * m.stride - m.padLo + tapLo * m.dilation;
    const end = begin + (outHi - outLo - 1) * m.stride + (tapHi - tapLo) * m.dilation + 1;
    axes.push({ tapLo, tapHi, realLo: Math.max(0, begin), realHi: Math.min(m.size, end), padBefore: Math.max(0, -begin), padAfter: Math.max(0, end - m.size) });
  }
  return axes;
}

/** The task's input as its live taps read it: channels-last, cut to what they read, zero-padded. */
function liveInput(tf: TF, x: Tensor, live: readonly LiveAxis[], shard: ShardContext): Tensor {
  const region = shard.inputRegions[0];
  const last = channelsLast(tf, cropToRegion(tf, x, shard));
  const shape = last.shape as number[];
  const begin = [0, ...live.map((l, a) => l.realLo - region.lo[a + 2]), 0];
  const size = [shape[0], ...live.map((l) => l.realHi - l.realLo), shape[shape.length - 1]];
  const cut = size.every((v, i) => v === shape[i]) ? last : tf.slice(last, begin, size);
  const pads: [number, number][] = [[0, 0], ...live.map((l): [number, number] => [l.padBefore, l.padAfter]), [0, 0]];
  return pads.every(([lo, hi]) => lo === 0 && hi === 0) ? cut : tf.pad(cut, pads);
}

/** The adjoint of liveInput: the gradient of its output back to x's shape, channel-first (zeros where no live tap reads). */
function liveInputGrad(tf: TF, dxp: Tensor, x: Tensor, live: readonly LiveAxis[], shard: ShardContext): Tensor {
  const region = shard.inputRegions[0];
  const begin = [0, ...live.map((l) => l.padBefore), 0];
  const size = [-1, ...live.map((l) => l.realHi - l.realLo), -1];
  const cut = live.every((l) => l.padBefore === 0 && l.padAfter === 0) ? dxp : tf.slice(dxp, begin, size);
  const pads: [number, number][] = [[0, 0], ...live.map((l, a): [number, number] => [l.realLo - region.lo[a + 2], region.hi[a + 2] - l.realHi]), [0, 0]];
  const whole = pads.every(([lo, hi]) => lo === 0 && hi === 0) ? cut : tf.pad(cut, pads);
  return uncropFromRegion(tf, channelsFirst(tf, whole), x, shard);
}

/** The live taps of the torch-layout filter [out, in, k...]. */
function liveFilter(tf: TF, w: Tensor, live: readonly LiveAxis[]): Tensor {
  if (live.every((l, a) => l.tapLo === 0 && l.tapHi === (w.shape[a + 2] as number) - 1)) return w;
  return tf.slice(w, [0, 0, ...live.map((l) => l.tapLo)], [-1, -1, ...live.map((l) => l.tapHi - l.tapLo + 1)]);
}

/** The adjoint of liveFilter: the live taps' gradient, zeros for the dead ones. */
function liveFilterGrad(tf: TF, dw: Tensor, w: Tensor, live: readonly LiveAxis[]): Tensor {
  const pads: [number, number][] = [[0, 0], [0, 0], ...live.map((l, a): [number, number] => [l.tapLo, (w.shape[a + 2] as number) - 1 - l.tapHi])];
  return pads.every(([lo, hi]) => lo === 0 && hi === 0) ? dw : tf.pad(dw, pads);
}

/** torch [out, in, k...] → the dilated filter, spatial axes first: [(k−1)·d + 1..., in, out]. */
function filterDilated(tf: TF, w: Tensor, d: readonly number[]): Tensor {
  const n = w.rank - 2;
  let f = tf.transpose(w, [...Array.from({ length: n }, (_, i) => i + 2), 1, 0]);
  d.forEach((v, a) => (f = dilateAxis(tf, f, a, v)));
  return f;
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
  // in_channel is the last iteration dim.
  const perIn = shard.spaceSizes[shard.spaceSizes.length - 1];
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

/** The 2-D view of a task: a 1-D conv is a 2-D one of height 1 (x [N, 1, L, C], w [out, in, 1, k]). */
interface Planar {
  xp: Tensor4D;
  w: Tensor;
  stride: [number, number];
  dilation: [number, number];
}

function planar(tf: TF, n: number, xp: Tensor, w: Tensor, stride: number[], dilation: number[]): Planar {
  if (n === 2) return { xp: xp as Tensor4D, w, stride: [stride[0], stride[1]], dilation: [dilation[0], dilation[1]] };
  const [nb, len, c] = xp.shape as number[];
  const [o, i, k] = w.shape as number[];
  return { xp: tf.reshape(xp, [nb, 1, len, c]) as Tensor4D, w: tf.reshape(w, [o, i, 1, k]), stride: [1, stride[0]], dilation: [1, dilation[0]] };
}

const CONV_ATTRS = (n: number): AttrSpec[] => {
  const axes = spatialNames(n).join(", ");
  const per = n === 1 ? "[v]" : `[v] or one per axis (${axes})`;
  return [
    { name: "out", kind: "int", min: 1, doc: "output channels" },
    { name: "kernel", kind: "ints", min: 1, doc: `kernel size: ${per}` },
    { name: "stride", kind: "ints", min: 1, default: [1], doc: `stride: ${per}` },
    { name: "padding", kind: "ints", min: 0, default: [0], doc: `zero padding before each axis (and after, unless padding_end is given): ${per}` },
    { name: "padding_end", kind: "ints", min: 0, default: [], doc: "zero padding after each axis (ONNX's end pads, SAME_UPPER); empty = the same as padding" },
    { name: "dilation", kind: "ints", min: 1, default: [1], doc: `spacing between kernel taps: ${per}` },
    { name: "groups", kind: "int", min: 1, default: 1, doc: "channel groups (groups == C == out: depthwise)" },
    { name: "bias", kind: "bool", default: true, doc: "add a learned bias" },
  ];
};

function convEntry(n: number): OpEntry {
  const name = `conv${n}d`;
  const rank = n + 2;
  const names = spatialNames(n);
  const entry: OpEntry = {
    name,
    family: "convolution",
    doc: `${n}-D convolution over x[N, C, ${names.map((a) => a[0].toUpperCase()).join(", ")}] (PyTorch nn.Conv${n}d: weight [out, C/groups, ${names.map((a) => `k${a[0]}`).join(", ")}]; zero padding, ONNX's asymmetric end pads too).`,
    inputs: [{ name: "x" }],
    attrs: CONV_ATTRS(n),
    outputNames: ["y"],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [x] = inputs;
      const hint = x.shape.length === rank - 1 ? "add a batch axis of size 1" : x.shape.length >= 3 && x.shape.length <= 5 ? `use conv${x.shape.length - 2}d` : undefined;
      if (!checkSpatialRank(name, x, n, ctx, hint)) return undefined;
      const k = spatialValues(name, "kernel", attrs.kernel, n, ctx);
      const s = spatialValues(name, "stride", attrs.stride, n, ctx);
      const p = spatialValues(name, "padding", attrs.padding, n, ctx);
      const end = attrs.padding_end as number[];
      const e = end.length === 0 ? p : spatialValues(name, "padding_end", end, n, ctx);
      const d = spatialValues(name, "dilation", attrs.dilation, n, ctx);
      if (!k || !s || !p || !e || !d) return undefined;
      const [N, C] = x.shape;
      const spatial = x.shape.slice(2);
      const out = attrs.out as number;
      const groups = attrs.groups as number;
      if (C % groups !== 0 || out % groups !== 0) {
        ctx.diagnostics.error("PAR2111", `\`${name}\` groups = ${groups} must divide both the input channels (${C}) and \`out\` (${out})`, {
          pos: ctx.pos,
          expected: `channels and out divisible by ${groups}`,
        });
        return undefined;
      }
      for (let a = 0; a < n; a++) {
        const extent = d[a] * (k[a] - 1) + 1;
        if (Math.max(p[a], e[a]) >= extent) {
          ctx.diagnostics.error("PAR2112", `\`${name}\` padding ${Math.max(p[a], e[a])} along ${names[a]} is not smaller than the kernel's extent ${extent}`, {
            pos: ctx.pos,
            expected: `padding < ${extent}`,
          });
          return undefined;
        }
      }
      const outSpatial = spatial.map((size, a) => windowOut(size, k[a], s[a], p[a], d[a], e[a]));
      if (outSpatial.some((o) => o < 1)) {
        ctx.diagnostics.error("PAR2109", `\`${name}\` kernel ${fmtShape(k)} does not fit the padded input ${spatial.map((v, a) => v + p[a] + e[a]).join("×")} (output ${outSpatial.join("×")})`, {
          pos: ctx.pos,
          expected: "a kernel no larger than the padded input",
        });
        return undefined;
      }
      const cin = C / groups;
      const perOut = out / groups;
      const inDim = rank;
      // Grouped conv: an output channel block reads its groups' input channels. That is a
      // window over the channel axis when each group has one output channel (depthwise
      // with multiplier 1, the common case); otherwise the channel dim stays whole.
      const channelSplittable = groups === 1 || perOut === 1;
      const channelMap: AxisMap = groups === 1 ? iter(inDim) : perOut === 1 ? (cin === 1 ? iter(1) : windowMap(1, C, cin, cin, 0, 1)) : FULL;
      const space: ParallelDim[] = [
        { name: "sample", cls: "sample", size: N },
        { name: "channel", cls: "parameter", size: out, splittable: channelSplittable },
        ...outSpatial.map((size, a): ParallelDim => ({ name: names[a], cls: "attribute", size })),
        // Grouped conv: an in_channel block would be a strided set of input channels.
        { name: "in_channel", cls: "reduction", size: cin, splittable: groups === 1 },
      ];
      const useBias = attrs.bias as boolean;
      const bound = 1 / Math.sqrt(cin * product(k));
      // The taps the whole op's kernel computes: those that read only padding for every
      // output are dropped (liveTaps), so ASPP's dilated 3×3 taps on a 2×2 map count one.
      const taps = spatial.map((size, a) => {
        const r = liveTapRange(size, k[a], s[a], p[a], d[a], 0, outSpatial[a]);
        return r ? r[1] - r[0] + 1 : 0;
      });
      const macs = 2 * product(taps);
      return {
        outputs: [{ dtype: x.dtype, shape: [N, out, ...outSpatial], dims: [x.dims[0], `${ctx.opName}.out`, ...names.map((a) => `${ctx.opName}.${a[0]}`)] }],
        params: [
          { name: "weight", shape: [out, cin, ...k], dims: ["out", "in", ...names.map((a) => `k${a[0]}`)], init: { kind: "uniform", bound } },
          ...(useBias ? [{ name: "bias", shape: [out], dims: ["out"], init: { kind: "uniform" as const, bound } }] : []),
        ],
        space,
        // The window maps pad only before; windowPadding pads what runs off the end (end pads).
        inputMaps: [[iter(0), channelMap, ...spatial.map((size, a) => windowMap(a + 2, size, k[a], s[a], p[a], d[a]))]],
        paramMaps: [[iter(1), iter(inDim), ...k.map(() => FULL)], ...(useBias ? [[iter(1)]] : [])],
        outputMaps: [Array.from({ length: rank }, (_, i) => iter(i))],
        // 2·∏(live taps) FLOPs per (output element, input channel); backward = dX + dW, twice that.
        // Linear in every extent, so shards sum to the whole (halos cost transfers, not FLOPs).
        flops: (ex) => ({ forward: macs * product(ex), backward: 2 * macs * product(ex) }),
      };
    },
    forward(tf, args) {
      const { inputs, params, attrs, sig, shard } = args;
      const [w, b] = params;
      const stride = valuesOf(attrs.stride, n);
      const dilation = valuesOf(attrs.dilation, n);
      const live = liveTaps(sig, shard, n);
      let y = live
        ? convCore(tf, n, liveInput(tf, inputs[0], live, shard), liveFilter(tf, w, live), stride, dilation, groupPieces(args))
        : tf.zeros([inputs[0].shape[0] as number, ...Array.from({ length: n }, (_, a) => shard.outputRegions[0].hi[a + 2] - shard.outputRegions[0].lo[a + 2]), w.shape[0] as number]);
      // A bias is added once: only by the task that is first along in_channel.
      if (attrs.bias && b && shard.firstAlongReductions) y = tf.add(y, b);
      return [tf.transpose(y, [0, rank - 1, ...Array.from({ length: n }, (_, i) => i + 1)])];
    },
    backward: (tf, args) => convBackward(tf, args, n),
  };
  return entry;
}

/** The 2-D 'valid' convolution of every group piece, channels concatenated: [N, OH, OW, out]. */
function conv2dPieces(tf: TF, v: Planar, pieces: GroupPiece[]): Tensor {
  const wd = filterDilated(tf, v.w, v.dilation) as Tensor4D;
  const ys = pieces.map((pc) =>
    tf.conv2d(
      pieces.length === 1 && pc.xLo === 0 && pc.xHi === v.xp.shape[3] ? v.xp : (sliceAxis(tf, v.xp, 3, pc.xLo, pc.xHi) as Tensor4D),
      pieces.length === 1 ? wd : (sliceAxis(tf, wd, 3, pc.wLo, pc.wHi) as Tensor4D),
      v.stride,
      "valid",
    ),
  );
  return ys.length === 1 ? ys[0] : tf.concat(ys, 3);
}

/** The 3-D 'valid' convolution of every group piece: [N, OD, OH, OW, out]. */
function conv3dPieces(tf: TF, xp: Tensor5D, w: Tensor, stride: number[], dilation: number[], pieces: GroupPiece[]): Tensor {
  const wd = filterDilated(tf, w, dilation) as Tensor5D;
  const st: [number, number, number] = [stride[0], stride[1], stride[2]];
  const ys = pieces.map((pc) =>
    tf.conv3d(
      pieces.length === 1 && pc.xLo === 0 && pc.xHi === xp.shape[4] ? xp : (sliceAxis(tf, xp, 4, pc.xLo, pc.xHi) as Tensor5D),
      pieces.length === 1 ? wd : (sliceAxis(tf, wd, 4, pc.wLo, pc.wHi) as Tensor5D),
      st,
      "valid",
    ),
  );
  return ys.length === 1 ? ys[0] : tf.concat(ys, 4);
}

/**
 * The input and filter gradients of a 2-D 'valid' conv of every group piece, channels-last:
 * xp [N, H, W, C], the torch-layout filter w [out, in, kh, kw], dy [N, OH, OW, out] →
 * dxp [N, H, W, C] and dw [out, in, kh, kw]. Explicit, because wasm lacks
 * Conv2DBackpropFilter: dX is a transposed conv; dW a 'valid' conv of xᵀ [c, H, W, n] with
 * dyᵀ [i, j, n, o] at dilation = stride (the batch and channel axes swapped).
 */
function planarGrads(tf: TF, xp: Tensor4D, w: Tensor, dy: Tensor4D, stride: [number, number], dilation: [number, number], pieces: GroupPiece[]): { dxp: Tensor; dw: Tensor } {
  const [sh, sw] = stride;
  const [dh, dw] = dilation;
  const wd = filterDilated(tf, w, dilation) as Tensor4D;
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
    // dW[u, v, c, o] = Σ_{n,i,j} xp[n, i·s + u, j·s + v, c] · dy[n, i, j, o].
    const whole = tf.conv2d(tf.transpose(xg, [3, 1, 2, 0]) as Tensor4D, tf.transpose(dyg, [1, 2, 0, 3]) as Tensor4D, 1, "valid", "NHWC", [sh, sw]);
    const [eh, ew] = [wd.shape[0], wd.shape[1]];
    const dwd = tf.transpose(tf.slice(whole, [0, 0, 0, 0], [-1, eh, ew, -1]), [1, 2, 0, 3]);
    // Undo the filter dilation: keep every d-th tap.
    const dwg = dh === 1 && dw === 1 ? dwd : tf.stridedSlice(dwd, [0, 0, 0, 0], [eh, ew, dwd.shape[2], dwd.shape[3]], [dh, dw, 1, 1]);
    dwParts.push(tf.transpose(dwg, [3, 2, 0, 1]));
  }
  if (xCursor < (xp.shape[3] as number)) dxParts.push(tf.zeros([xp.shape[0], xp.shape[1], xp.shape[2], (xp.shape[3] as number) - xCursor]));
  return { dxp: dxParts.length === 1 ? dxParts[0] : tf.concat(dxParts, 3), dw: dwParts.length === 1 ? dwParts[0] : tf.concat(dwParts, 0) };
}

/**
 * The explicit backward of every conv. A 1-D conv is a 2-D one of height 1. A 3-D conv is
 * the sum over its depth taps u of 2-D convs of the depth slices u·d + i·s: each tap's
 * gradients are 2-D ones, the input gradient spread back to its depth slices (wasm's
 * Conv3DBackprop kernels disagree with the cpu's; the cpu-vs-wasm test found this).
 */
function convBackward(tf: TF, args: BackwardArgs, n: number): Gradients {
  const { inputs, params, attrs, sig, shard, dOutputs } = args;
  const [x, w] = [inputs[0], params[0]];
  const live = liveTaps(sig, shard, n);
  const bias = params.length > 1 ? [biasGrad(tf, dOutputs[0], n, shard.firstAlongReductions)] : [];
  if (!live) return { dInputs: [tf.zerosLike(x)], dParams: [tf.zerosLike(w), ...bias] };
  const dyLast = tf.transpose(dOutputs[0], [0, ...Array.from({ length: n }, (_, i) => i + 2), 1]);
  const g = convGrads(tf, n, liveInput(tf, x, live, shard), liveFilter(tf, w, live), dyLast, valuesOf(attrs.stride, n), valuesOf(attrs.dilation, n), groupPieces(args));
  return { dInputs: [liveInputGrad(tf, g.dxp, x, live, shard)], dParams: [liveFilterGrad(tf, g.dw, w, live), ...bias] };
}

/** Σ dy over the batch and spatial axes on the first task along the reductions, zeros elsewhere. */
function biasGrad(tf: TF, dy: Tensor, n: number, first: boolean): Tensor {
  const db = tf.sum(dy, [0, ...Array.from({ length: n }, (_, i) => i + 2)]);
  return first ? db : tf.zerosLike(db);
}

/** A 'valid' conv of every group piece over a padded channels-last input: [N, out spatial..., out]. */
function convCore(tf: TF, n: number, xp: Tensor, w: Tensor, stride: number[], dilation: number[], pieces: GroupPiece[]): Tensor {
  if (n === 3) return conv3dPieces(tf, xp as Tensor5D, w, stride, dilation, pieces);
  const y = conv2dPieces(tf, planar(tf, n, xp, w, stride, dilation), pieces);
  return n === 1 ? tf.reshape(y, [y.shape[0] as number, y.shape[2] as number, y.shape[3] as number]) : y;
}

/**
 * The gradients of convCore: dxp (shaped like the padded input) and dw. A 1-D conv is a
 * 2-D one of height 1. A 3-D conv is the sum over its depth taps u of 2-D convs of the
 * depth slices u·d + i·s: each tap's gradients are 2-D ones, the input gradient spread back
 * to its depth slices (wasm's Conv3DBackprop kernels disagree with the cpu's; the
 * cpu-vs-wasm test found this).
 */
function convGrads(tf: TF, n: number, padded: Tensor, w: Tensor, dyLast: Tensor, stride: number[], dilation: number[], pieces: GroupPiece[]): { dxp: Tensor; dw: Tensor } {
  if (n < 3) {
    const v = planar(tf, n, padded, w, stride, dilation);
    const dy = (n === 1 ? tf.reshape(dyLast, [dyLast.shape[0] as number, 1, dyLast.shape[1] as number, dyLast.shape[2] as number]) : dyLast) as Tensor4D;
    const g = planarGrads(tf, v.xp, v.w, dy, v.stride, v.dilation, pieces);
    return { dxp: tf.reshape(g.dxp, padded.shape), dw: n === 1 ? tf.reshape(g.dw, w.shape) : g.dw };
  }
  const [nb, dp, hp, wp, c] = padded.shape as number[];
  const [, od, oh, ow, o] = dyLast.shape as number[];
  const dy4 = tf.reshape(dyLast, [nb * od, oh, ow, o]) as Tensor4D;
  const span = (od - 1) * stride[0] + 1;
  let acc: Tensor = tf.zeros(padded.shape);
  const dws: Tensor[] = [];
  for (let u = 0; u < (w.shape[2] as number); u++) {
    const at = u * dilation[0];
    const slab = tf.stridedSlice(padded, [0, at, 0, 0, 0], [nb, at + span, hp, wp, c], [1, stride[0], 1, 1, 1]);
    const wu = tf.reshape(tf.slice(w, [0, 0, u, 0, 0], [-1, -1, 1, -1, -1]), [w.shape[0], w.shape[1], w.shape[3], w.shape[4]] as number[]);
    const g = planarGrads(tf, tf.reshape(slab, [nb * od, hp, wp, c]) as Tensor4D, wu, dy4, [stride[1], stride[2]], [dilation[1], dilation[2]], pieces);
    const spread = dilateAxis(tf, tf.reshape(g.dxp, [nb, od, hp, wp, c]), 1, stride[0]);
    acc = tf.add(acc, tf.pad(spread, [[0, 0], [at, dp - at - span], [0, 0], [0, 0], [0, 0]]));
    dws.push(tf.expandDims(g.dw, 2));
  }
  return { dxp: acc, dw: dws.length === 1 ? dws[0] : tf.concat(dws, 2) };
}

export const conv1d = convEntry(1);
export const conv2d = convEntry(2);
export const conv3d = convEntry(3);

// ---------------------------------------------------------------------------------------
// Transposed convolution (PyTorch nn.ConvTranspose1d/2d/3d, ONNX ConvTranspose): the
// gradient of a conv with respect to its input, used to upsample. Along each spatial axis,
// output o = i·s − p_begin + j·d receives x[i]·w[j], and the output extent is
// (in − 1)·s + (k − 1)·d + 1 − p_begin − p_end + output_padding.
//
// It is computed as a direct convolution (convCore, so the explicit backward and the wasm
// workarounds of conv carry over): x dilated by s (s − 1 zeros between entries), padded by
// (k − 1)·d − p_begin before and (k − 1)·d − p_end + output_padding after (a negative pad
// crops), convolved at stride 1 and dilation d with the filter flipped along every spatial
// axis and its in/out axes swapped (per group).
//
// Which output positions a task computes decides what it reads:
// - stride 1: output o reads inputs o + p_begin − (k − 1)·d … o + p_begin, a `window` map
//   (padLo = (k − 1)·d − p_begin): the spatial dim is split into output blocks with halos;
// - kernel = stride, no dilation, no padding (U-Net's and video models' 2×2, stride-2
//   upsampling): input i alone makes outputs [i·s, (i + 1)·s), so the spatial dim counts
//   INPUT positions and the output axis is a `block` map of s;
// - otherwise an output block reads a strided, irregular set of inputs, which no axis map
//   describes: the spatial dim is unsplittable and the input axis read whole.
// Each task pads or crops its own dilated input from its global output range, so every
// split gives the whole op's values.

/** Per-axis geometry of a transposed conv (validated by infer). */
interface TransposeGeometry {
  k: number[];
  s: number[];
  d: number[];
  pb: number[];
  pe: number[];
  op: number[];
}

function transposeGeometry(attrs: Record<string, unknown>, n: number): TransposeGeometry {
  const pb = valuesOf(attrs.padding as number[], n);
  const end = attrs.padding_end as number[];
  return {
    k: valuesOf(attrs.kernel as number[], n),
    s: valuesOf(attrs.stride as number[], n),
    d: valuesOf(attrs.dilation as number[], n),
    pb,
    pe: end.length === 0 ? pb : valuesOf(end, n),
    op: valuesOf(attrs.output_padding as number[], n),
  };
}

/** How a task's output positions along one axis map to the inputs it reads (see above). */
type TransposeAxis = "window" | "block" | "whole";

function transposeAxis(g: TransposeGeometry, a: number): TransposeAxis {
  if (g.s[a] === 1) return "window";
  if (g.k[a] === g.s[a] && g.d[a] === 1 && g.pb[a] === 0 && g.pe[a] === 0 && g.op[a] === 0) return "block";
  return "whole";
}

const transposeOut = (g: TransposeGeometry, a: number, size: number): number => (size - 1) * g.s[a] + (g.k[a] - 1) * g.d[a] + 1 - g.pb[a] - g.pe[a] + g.op[a];

/**
 * The filter of the equivalent direct conv: w [C, out/g, k...] → [out, C/g, k...], flipped
 * along the spatial axes; and its inverse, for the filter gradient.
 */
function directFilter(tf: TF, w: Tensor, groups: number): Tensor {
  const [c, og, ...k] = w.shape as number[];
  const swapped = groups === 1 ? tf.transpose(w, [1, 0, ...k.map((_, i) => i + 2)]) : tf.reshape(tf.transpose(tf.reshape(w, [groups, c / groups, og, ...k]), [0, 2, 1, ...k.map((_, i) => i + 3)]), [groups * og, c / groups, ...k]);
  return tf.reverse(swapped, k.map((_, i) => i + 2));
}

function transposedFilterGrad(tf: TF, dwd: Tensor, groups: number): Tensor {
  const [o, cg, ...k] = dwd.shape as number[];
  const unflipped = tf.reverse(dwd, k.map((_, i) => i + 2));
  if (groups === 1) return tf.transpose(unflipped, [1, 0, ...k.map((_, i) => i + 2)]);
  return tf.reshape(tf.transpose(tf.reshape(unflipped, [groups, o / groups, cg, ...k]), [0, 2, 1, ...k.map((_, i) => i + 3)]), [groups * cg, o / groups, ...k]);
}

/** Pads (positive) or crops (negative) `before` and `after` entries of `axis`. */
function padOrCrop(tf: TF, t: Tensor, axis: number, before: number, after: number): Tensor {
  let r = t;
  const pads = (lo: number, hi: number): [number, number][] => r.shape.map((_, i) => (i === axis ? [lo, hi] : [0, 0]));
  if (before > 0 || after > 0) r = tf.pad(r, pads(Math.max(0, before), Math.max(0, after)));
  if (before < 0 || after < 0) {
    const len = r.shape[axis] as number;
    const lo = Math.max(0, -before);
    r = tf.slice(r, r.shape.map((_, i) => (i === axis ? lo : 0)), r.shape.map((v, i) => (i === axis ? len - lo - Math.max(0, -after) : (v as number))));
  }
  return r;
}

/** Per spatial axis, the pad (or crop) before and after the task's dilated input region. */
function transposeMargins(shard: ShardContext, g: TransposeGeometry, n: number): [number, number][] {
  const region = shard.inputRegions[0];
  const out = shard.outputRegions[0];
  return Array.from({ length: n }, (_, a) => {
    const [ra, rb] = [region.lo[a + 2], region.hi[a + 2]];
    const [lo, hi] = [out.lo[a + 2], out.hi[a + 2]];
    const padLo = (g.k[a] - 1) * g.d[a] - g.pb[a];
    // The task needs dilated-and-padded positions lo … hi − 1 + (k − 1)·d; its input covers
    // ra·s + padLo … (rb − 1)·s + padLo.
    return [ra * g.s[a] + padLo - lo, hi - 1 + (g.k[a] - 1) * g.d[a] - ((rb - 1) * g.s[a] + padLo)];
  });
}

/** The task's input as the direct conv reads it: its region, channels-last, dilated by s and padded or cropped. */
function transposeInput(tf: TF, x: Tensor, shard: ShardContext, g: TransposeGeometry, n: number): Tensor {
  let u = channelsLast(tf, cropToRegion(tf, x, shard));
  transposeMargins(shard, g, n).forEach(([before, after], a) => {
    u = padOrCrop(tf, dilateAxis(tf, u, a + 1, g.s[a]), a + 1, before, after);
  });
  return u;
}

/** The adjoint of transposeInput: the gradient of its output back to x's shape, channel-first. */
function transposeInputGrad(tf: TF, du: Tensor, x: Tensor, shard: ShardContext, g: TransposeGeometry, n: number): Tensor {
  let d = du;
  transposeMargins(shard, g, n).forEach(([before, after], a) => {
    d = everyNth(tf, padOrCrop(tf, d, a + 1, -before, -after), a + 1, g.s[a]);
  });
  return uncropFromRegion(tf, channelsFirst(tf, d), x, shard);
}

/** Group pieces of the direct conv: the task's whole filter (groups = 1), else one per group. */
function transposePieces(groups: number, out: number, channels: number): GroupPiece[] {
  const [og, cg] = [out / groups, channels / groups];
  return Array.from({ length: groups }, (_, gi) => ({ wLo: gi * og, wHi: (gi + 1) * og, xLo: gi * cg, xHi: (gi + 1) * cg }));
}

function transposeEntry(n: number): OpEntry {
  const name = `conv_transpose${n}d`;
  const rank = n + 2;
  const names = spatialNames(n);
  const per = n === 1 ? "[v]" : `[v] or one per axis (${names.join(", ")})`;
  const entry: OpEntry = {
    name,
    family: "convolution",
    doc: `${n}-D transposed convolution over x[N, C, ${names.map((a) => a[0].toUpperCase()).join(", ")}] (PyTorch nn.ConvTranspose${n}d: weight [C, out/groups, ${names.map((a) => `k${a[0]}`).join(", ")}]; output_padding; ONNX's end pads).`,
    inputs: [{ name: "x" }],
    attrs: [
      { name: "out", kind: "int", min: 1, doc: "output channels" },
      { name: "kernel", kind: "ints", min: 1, doc: `kernel size: ${per}` },
      { name: "stride", kind: "ints", min: 1, default: [1], doc: `stride (the upsampling factor): ${per}` },
      { name: "padding", kind: "ints", min: 0, default: [0], doc: `output positions dropped at the start of each axis (and at the end, unless padding_end is given): ${per}` },
      { name: "padding_end", kind: "ints", min: 0, default: [], doc: "output positions dropped at the end of each axis; empty = the same as padding" },
      { name: "output_padding", kind: "ints", min: 0, default: [0], doc: `positions added at the end of each axis (less than the stride or the dilation): ${per}` },
      { name: "dilation", kind: "ints", min: 1, default: [1], doc: `spacing between kernel taps: ${per}` },
      { name: "groups", kind: "int", min: 1, default: 1, doc: "channel groups" },
      { name: "bias", kind: "bool", default: true, doc: "add a learned bias" },
    ],
    outputNames: ["y"],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [x] = inputs;
      if (!checkSpatialRank(name, x, n, ctx)) return undefined;
      const given = ["kernel", "stride", "padding", "output_padding", "dilation"].map((a) => spatialValues(name, a, attrs[a], n, ctx));
      const end = attrs.padding_end as number[];
      if (given.some((v) => !v) || (end.length > 0 && !spatialValues(name, "padding_end", end, n, ctx))) return undefined;
      const g = transposeGeometry(attrs, n);
      const [N, C] = x.shape;
      const out = attrs.out as number;
      const groups = attrs.groups as number;
      if (C % groups !== 0 || out % groups !== 0) {
        ctx.diagnostics.error("PAR2111", `\`${name}\` groups = ${groups} must divide both the input channels (${C}) and \`out\` (${out})`, { pos: ctx.pos, expected: `channels and out divisible by ${groups}` });
        return undefined;
      }
      const badPad = g.op.findIndex((v, a) => v >= Math.max(g.s[a], g.d[a]));
      if (badPad >= 0) {
        ctx.diagnostics.error("PAR2104", `\`${name}\` output_padding ${g.op[badPad]} along ${names[badPad]} must be smaller than the stride or the dilation (${Math.max(g.s[badPad], g.d[badPad])})`, {
          pos: ctx.pos,
          expected: `output_padding < ${Math.max(g.s[badPad], g.d[badPad])}`,
          hint: "torch's rule: a larger output_padding adds positions no input reaches",
        });
        return undefined;
      }
      const spatial = x.shape.slice(2);
      const outSpatial = spatial.map((size, a) => transposeOut(g, a, size));
      if (outSpatial.some((o) => o < 1)) {
        ctx.diagnostics.error("PAR2109", `\`${name}\` padding removes every output position (output ${outSpatial.join("×")})`, { pos: ctx.pos, expected: "padding smaller than the upsampled extent" });
        return undefined;
      }
      const kinds = spatial.map((_, a) => transposeAxis(g, a));
      const grouped = groups > 1;
      const cg = C / groups;
      const inDim = rank;
      const space: ParallelDim[] = [
        { name: "sample", cls: "sample", size: N },
        // With groups, a channel block would read a strided set of the filter's rows.
        { name: "channel", cls: "parameter", size: out, splittable: !grouped },
        ...spatial.map((size, a): ParallelDim => ({ name: names[a], cls: "attribute", size: kinds[a] === "block" ? size : outSpatial[a], splittable: kinds[a] !== "whole" })),
        { name: "in_channel", cls: "reduction", size: cg, splittable: !grouped },
      ];
      const spatialIn = spatial.map((size, a): AxisMap => {
        if (kinds[a] === "window") return { kind: "window", dim: a + 2, stride: 1, dilation: g.d[a], kernel: g.k[a], padLo: (g.k[a] - 1) * g.d[a] - g.pb[a], size };
        return kinds[a] === "block" ? iter(a + 2) : FULL;
      });
      const spatialOut = spatial.map((_, a): AxisMap => (kinds[a] === "block" ? { kind: "block", dim: a + 2, blockSize: g.s[a] } : iter(a + 2)));
      const useBias = attrs.bias as boolean;
      // torch: kaiming-uniform with fan_in = weight.size(1)·∏k = (out/groups)·∏k.
      const bound = 1 / Math.sqrt((out / groups) * product(g.k));
      // Multiply-adds: every input element meets every tap and out/groups channels. Per unit
      // of each spatial dim that is in·k / (the dim's size), so any split sums to the whole.
      const perUnit = product(spatial.map((size, a) => (size * g.k[a]) / space[a + 2].size));
      return {
        outputs: [{ dtype: x.dtype, shape: [N, out, ...outSpatial], dims: [x.dims[0], `${ctx.opName}.out`, ...names.map((a) => `${ctx.opName}.${a[0]}`)] }],
        params: [
          { name: "weight", shape: [C, out / groups, ...g.k], dims: ["in", "out", ...names.map((a) => `k${a[0]}`)], init: { kind: "uniform", bound } },
          ...(useBias ? [{ name: "bias", shape: [out], dims: ["out"], init: { kind: "uniform" as const, bound } }] : []),
        ],
        space,
        inputMaps: [[iter(0), grouped ? FULL : iter(inDim), ...spatialIn]],
        paramMaps: [[grouped ? FULL : iter(inDim), grouped ? FULL : iter(1), ...g.k.map(() => FULL)], ...(useBias ? [[iter(1)]] : [])],
        outputMaps: [[iter(0), iter(1), ...spatialOut]],
        flops: (e) => ({ forward: 2 * perUnit * product(e), backward: 4 * perUnit * product(e) }),
      };
    },
    forward(tf, { inputs, params, attrs, shard }) {
      const g = transposeGeometry(attrs, n);
      const groups = attrs.groups as number;
      const [w, b] = params;
      const u = transposeInput(tf, inputs[0], shard, g, n);
      const pieces = transposePieces(groups, groups * (w.shape[1] as number), w.shape[0] as number);
      let y = convCore(tf, n, u, directFilter(tf, w, groups), g.k.map(() => 1), g.d, pieces);
      if (attrs.bias && b && shard.firstAlongReductions) y = tf.add(y, b);
      return [channelsFirst(tf, y)];
    },
    backward(tf, { inputs, params, attrs, shard, dOutputs }) {
      const g = transposeGeometry(attrs, n);
      const groups = attrs.groups as number;
      const [w] = params;
      const u = transposeInput(tf, inputs[0], shard, g, n);
      const pieces = transposePieces(groups, groups * (w.shape[1] as number), w.shape[0] as number);
      const grads = convGrads(tf, n, u, directFilter(tf, w, groups), channelsLast(tf, dOutputs[0]), g.k.map(() => 1), g.d, pieces);
      const dParams: Tensor[] = [transposedFilterGrad(tf, grads.dw, groups)];
      if (params.length > 1) dParams.push(biasGrad(tf, dOutputs[0], n, shard.firstAlongReductions));
      return { dInputs: [transposeInputGrad(tf, grads.dxp, inputs[0], shard, g, n)], dParams };
    },
  };
  return entry;
}

export const convTranspose1d = transposeEntry(1);
export const convTranspose2d = transposeEntry(2);
export const convTranspose3d = transposeEntry(3);

export const CONV_OPS: OpEntry[] = [conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d];
