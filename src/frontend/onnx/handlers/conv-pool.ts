// Convolution and pooling over channel-first tensors with 1, 2 or 3 spatial axes.

import type { Attrs } from "../../../ops/contract.js";
import type { HandlerTable, NodeContext, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { constDims } from "../values.js";

const AUTO_PADS = ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"];

/** The node's auto_pad, one of ONNX's four values; PAR6016 otherwise. */
function autoPad(cx: NodeContext): string {
  const auto = cx.attr.string("auto_pad", "NOTSET");
  if (!AUTO_PADS.includes(auto)) throw new Unmappable("PAR6016", `${cx.node.opType} auto_pad ${JSON.stringify(auto)}`, `ONNX's auto_pad is one of ${AUTO_PADS.join(", ")}`);
  return auto;
}

/** The node's explicit pads (zeros when absent): a begin and an end per spatial axis; PAR6016 otherwise. */
function givenPads(cx: NodeContext, n: number): { begin: number[]; end: number[] } {
  const pads = cx.attr.ints("pads") ?? new Array<number>(2 * n).fill(0);
  if (pads.length !== 2 * n) throw new Unmappable("PAR6016", `${cx.node.opType} pads [${pads.join(", ")}] for ${n} spatial axes`, "ONNX lists a begin and an end per spatial axis");
  return { begin: pads.slice(0, n), end: pads.slice(n) };
}

/** A per-axis attribute (kernel_shape, strides, dilations, output_padding) of n values; PAR6016 otherwise. */
function perAxis(cx: NodeContext, name: string, n: number, fallback: number[] | undefined): number[] {
  const v = cx.attr.ints(name) ?? fallback;
  if (!v) throw new Unmappable("PAR6016", `${cx.node.opType} without ${name}`, `ONNX requires ${name} here`);
  if (v.length !== n) throw new Unmappable("PAR6016", `${cx.node.opType} ${name} [${v.join(", ")}] for ${n} spatial axes`, `one value per spatial axis (${n})`);
  return v;
}

/** ONNX pads [x1_begin, x2_begin, ..., x1_end, x2_end] of a conv/pool with n spatial axes, auto_pad resolved. */
function explicitPads(cx: NodeContext, spatial: number[], kernel: number[], strides: number[], dilations: number[]): { begin: number[]; end: number[] } {
  const n = spatial.length;
  const auto = autoPad(cx);
  if (auto === "NOTSET") return givenPads(cx, n);
  if (auto === "VALID") return { begin: new Array<number>(n).fill(0), end: new Array<number>(n).fill(0) };
  const begin: number[] = [];
  const end: number[] = [];
  spatial.forEach((size, a) => {
    const outSize = Math.ceil(size / strides[a]);
    const total = Math.max(0, (outSize - 1) * strides[a] + (kernel[a] - 1) * dilations[a] + 1 - size);
    const small = Math.floor(total / 2);
    if (auto === "SAME_UPPER") {
      begin.push(small);
      end.push(total - small);
    } else {
      begin.push(total - small);
      end.push(small);
    }
  });
  return { begin, end };
}

/** The par attributes of ONNX begin/end pads: `padding`, and `padding_end` only when they differ. */
function padAttrs(p: { begin: number[]; end: number[] }): Attrs {
  return p.begin.join(",") === p.end.join(",") ? { padding: p.begin } : { padding: p.begin, padding_end: p.end };
}

/** par's op for n spatial axes (conv1d, pool3d, ...), or PAR6016. */
function byRank(cx: NodeContext, family: string, x: string): string {
  const n = cx.rank(x) - 2;
  if (n < 1 || n > 3) throw new Unmappable("PAR6016", `${cx.node.opType} over a rank-${cx.rank(x)} input (par has ${family}1d, ${family}2d and ${family}3d over [N, C, spatial...])`);
  return `${family}${n}d`;
}

const conv: OnnxOpHandler = (plain) => {
  const cx = plain.asWeightOwner();
  let x = cx.tensorIn(0, "X");
  const wv = cx.inputs[1];
  if (!wv || wv.kind !== "const") throw new Unmappable("PAR6016", "Conv weight must be an initializer (par's conv owns its filter)");
  const op = byRank(cx, "conv", x);
  const wd = constDims(wv);
  const n = cx.rank(x) - 2;
  const kernel = perAxis(cx, "kernel_shape", n, wd.slice(2));
  const strides = perAxis(cx, "strides", n, new Array<number>(n).fill(1));
  const dilations = perAxis(cx, "dilations", n, new Array<number>(n).fill(1));
  const group = cx.attr.int("group", 1);
  let pads = explicitPads(cx, cx.shape(x).slice(2), kernel, strides, dilations);
  const extent = kernel.map((k, a) => dilations[a] * (k - 1) + 1);
  if ([...pads.begin, ...pads.end].some((p, i) => p >= extent[i % n])) {
    // par's conv pads by less than the kernel's extent (a window of padding only is
    // PAR2112); an explicit zero pad first gives the same windows.
    const zeros = [0, 0];
    const p = cx.emit("pad", { pads: [...zeros, ...pads.begin, ...zeros, ...pads.end] }, [x], `${cx.base}_pad`);
    if (!p) return false;
    x = p[0];
    pads = { begin: new Array<number>(n).fill(0), end: new Array<number>(n).fill(0) };
  }
  const bv = cx.inputs[2];
  const ids = cx.emit(op, { out: wd[0], kernel, stride: strides, ...padAttrs(pads), dilation: dilations, groups: group, bias: bv !== undefined }, [x]);
  if (!ids) return false;
  const owner = cx.producer(ids[0]);
  cx.setWeight(owner, "weight", wv, "Conv W");
  cx.setWeight(owner, "bias", bv, "Conv B");
  return cx.out(ids);
};

/**
 * ConvTranspose: the weight [C, out/group, k...] is par's; pads follow ONNX's rules, where
 * an output_shape (or auto_pad SAME_*: in·stride) fixes the total padding and the pads split
 * it, SAME_UPPER putting the odd one at the end.
 */
const convTranspose: OnnxOpHandler = (plain) => {
  const cx = plain.asWeightOwner();
  const x = cx.tensorIn(0, "X");
  const wv = cx.inputs[1];
  if (!wv || wv.kind !== "const") throw new Unmappable("PAR6016", "ConvTranspose weight must be an initializer (par's conv_transpose owns its filter)");
  const op = byRank(cx, "conv_transpose", x);
  const wd = constDims(wv);
  const n = cx.rank(x) - 2;
  const spatial = cx.shape(x).slice(2);
  const group = cx.attr.int("group", 1);
  const kernel = perAxis(cx, "kernel_shape", n, wd.slice(2));
  const strides = perAxis(cx, "strides", n, new Array<number>(n).fill(1));
  const dilations = perAxis(cx, "dilations", n, new Array<number>(n).fill(1));
  const outputPadding = perAxis(cx, "output_padding", n, new Array<number>(n).fill(0));
  const auto = autoPad(cx);
  const outputShape = cx.attr.ints("output_shape") ?? (auto === "SAME_UPPER" || auto === "SAME_LOWER" ? spatial.map((v, a) => v * strides[a]) : undefined);
  let pads: { begin: number[]; end: number[] };
  if (outputShape) {
    const shape = outputShape.slice(-n);
    const total = spatial.map((v, a) => strides[a] * (v - 1) + outputPadding[a] + (kernel[a] - 1) * dilations[a] + 1 - shape[a]);
    if (total.some((t) => t < 0)) throw new Unmappable("PAR6016", `ConvTranspose output_shape [${shape.join(", ")}] is larger than the input upsampled by the kernel`);
    const upper = auto === "SAME_UPPER";
    pads = { begin: total.map((t) => (upper ? Math.floor(t / 2) : t - Math.floor(t / 2))), end: total.map((t) => (upper ? t - Math.floor(t / 2) : Math.floor(t / 2))) };
  } else {
    // VALID or NOTSET: SAME_* always brings an output shape.
    pads = auto === "VALID" ? { begin: new Array<number>(n).fill(0), end: new Array<number>(n).fill(0) } : givenPads(cx, n);
  }
  const bv = cx.inputs[2];
  const ids = cx.emit(op, { out: wd[1] * group, kernel, stride: strides, ...padAttrs(pads), output_padding: outputPadding, dilation: dilations, groups: group, bias: bv !== undefined }, [x]);
  if (!ids) return false;
  const owner = cx.producer(ids[0]);
  cx.setWeight(owner, "weight", wv, "ConvTranspose W");
  cx.setWeight(owner, "bias", bv, "ConvTranspose B");
  return cx.out(ids);
};

const pool =
  (mode: "max" | "avg"): OnnxOpHandler =>
  (cx) => {
    cx.rejectUsed(1);
    const x = cx.tensorIn(0);
    const op = byRank(cx, "pool", x);
    const n = cx.rank(x) - 2;
    const kernel = perAxis(cx, "kernel_shape", n, undefined);
    const strides = perAxis(cx, "strides", n, new Array<number>(n).fill(1));
    // AveragePool has no dilations before opset 19.
    const dilations = perAxis(cx, "dilations", n, new Array<number>(n).fill(1));
    const pads = explicitPads(cx, cx.shape(x).slice(2), kernel, strides, dilations);
    const attrs: Attrs = { mode, kernel, stride: strides, ...padAttrs(pads), ceil_mode: cx.attr.int("ceil_mode", 0) === 1 };
    if (mode === "max") attrs.dilation = dilations;
    // ONNX's default excludes the padding from the divisor; torch exports say which they want.
    else attrs.count_include_pad = cx.attr.int("count_include_pad", 0) === 1;
    return cx.out(cx.emit(op, attrs, [x]));
  };

/** GlobalMaxPool: the maximum over every spatial axis, kept as size 1 (reduce_max). */
const globalMaxPool: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0);
  return cx.out(cx.emit("reduce_max", { axes: cx.shape(x).slice(2).map((_, i) => i + 2), keepdims: true }, [x]));
};

const globalAveragePool: OnnxOpHandler = (cx) => cx.out(cx.emit("global_pool", {}, [cx.tensorIn(0)]));

export const CONV_POOL_HANDLERS: HandlerTable = {
  Conv: { map: conv, par: "`conv1d`/`conv2d`/`conv3d` by rank (weight [out, in/groups, k...] as ONNX; group, dilations, strides; pads and auto_pad as `padding`/`padding_end`; pads as wide as the kernel → `pad` first)" },
  ConvTranspose: { map: convTranspose, par: "`conv_transpose1d`/`2d`/`3d` (weight [in, out/groups, k...]; group, dilations, output_padding; pads, or output_shape/auto_pad splitting the total padding)" },
  MaxPool: { map: pool("max"), par: "`pool1d`/`pool2d`/`pool3d`, mode max (ceil_mode, dilations, begin/end pads, auto_pad); the Indices output is PAR6016" },
  AveragePool: { map: pool("avg"), par: "`pool1d`/`pool2d`/`pool3d`, mode avg (ceil_mode, count_include_pad, begin/end pads, auto_pad)" },
  GlobalAveragePool: { map: globalAveragePool, par: "`global_pool`" },
  GlobalMaxPool: { map: globalMaxPool, par: "`reduce_max` over the spatial axes, kept" },
};
