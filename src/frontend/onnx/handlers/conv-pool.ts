// 2-D convolution and pooling over NCHW images.

import type { HandlerTable, NodeContext, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { constDims } from "../values.js";

/** ONNX pads [h_begin, w_begin, h_end, w_end] for a conv/pool, auto_pad resolved. */
function explicitPads(cx: NodeContext, spatial: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const auto = cx.attr.string("auto_pad", "NOTSET");
  if (auto === "NOTSET") return cx.attr.ints("pads") ?? [0, 0, 0, 0];
  if (auto === "VALID") return [0, 0, 0, 0];
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
  return [...begin, ...end];
}

const conv: OnnxOpHandler = (plain) => {
  const cx = plain.asWeightOwner();
  let x = cx.tensorIn(0, "X");
  const wv = cx.inputs[1];
  if (!wv || wv.kind !== "const") throw new Unmappable("PAR6016", "Conv weight must be an initializer (par's conv2d owns its filter)");
  const wd = constDims(wv);
  if (wd.length !== 4 || cx.rank(x) !== 4) throw new Unmappable("PAR6016", `Conv of rank ${cx.rank(x)} (par's conv2d is 2-D over NCHW)`);
  const kernel = cx.attr.ints("kernel_shape") ?? wd.slice(2);
  const strides = cx.attr.ints("strides") ?? [1, 1];
  const dilations = cx.attr.ints("dilations") ?? [1, 1];
  const group = cx.attr.int("group", 1);
  const pads = explicitPads(cx, cx.shape(x).slice(2), kernel, strides, dilations);
  let padding = [pads[0], pads[1]];
  const extent = kernel.map((k, a) => dilations[a] * (k - 1) + 1);
  if (pads[0] !== pads[2] || pads[1] !== pads[3] || padding.some((p, a) => p >= extent[a])) {
    // par's conv2d pads symmetrically, by less than the kernel's extent; an explicit zero
    // pad first gives the same windows.
    const p = cx.emit("pad", { pads: [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]] }, [x], `${cx.base}_pad`);
    if (!p) return false;
    x = p[0];
    padding = [0, 0];
  }
  const bv = cx.inputs[2];
  const ids = cx.emit("conv2d", { out: wd[0], kernel, stride: strides, padding, dilation: dilations, groups: group, bias: bv !== undefined }, [x]);
  if (!ids) return false;
  const op = cx.producer(ids[0]);
  cx.setWeight(op, "weight", wv, "Conv W");
  cx.setWeight(op, "bias", bv, "Conv B");
  return cx.out(ids);
};

const pool =
  (mode: "max" | "avg"): OnnxOpHandler =>
  (cx) => {
    const op = cx.node.opType;
    cx.rejectUsed(1);
    const x = cx.tensorIn(0);
    if (cx.rank(x) !== 4) throw new Unmappable("PAR6016", `${op} over a rank-${cx.rank(x)} input (par pools NCHW images)`);
    const kernel = cx.attr.ints("kernel_shape") ?? [];
    const strides = cx.attr.ints("strides") ?? [1, 1];
    if (cx.attr.int("ceil_mode", 0) !== 0) throw new Unmappable("PAR6016", "ceil_mode = 1 (par pools in floor mode)");
    if ((cx.attr.ints("dilations") ?? [1, 1]).some((v) => v !== 1)) throw new Unmappable("PAR6016", "dilated pooling");
    const pads = explicitPads(cx, cx.shape(x).slice(2), kernel, strides, [1, 1]);
    if (pads[0] !== pads[2] || pads[1] !== pads[3]) throw new Unmappable("PAR6016", `asymmetric pooling pads [${pads.join(", ")}]`);
    if (mode === "avg" && cx.attr.int("count_include_pad", 0) === 0 && pads.some((p) => p > 0)) throw new Unmappable("PAR6016", "AveragePool with padding and count_include_pad = 0 (par counts the padding, as torch's default)");
    return cx.out(cx.emit("pool2d", { mode, kernel, stride: strides, padding: [pads[0], pads[1]] }, [x]));
  };

const globalAveragePool: OnnxOpHandler = (cx) => cx.out(cx.emit("global_pool", {}, [cx.tensorIn(0)]));

export const CONV_POOL_HANDLERS: HandlerTable = {
  Conv: conv,
  MaxPool: pool("max"),
  AveragePool: pool("avg"),
  GlobalAveragePool: globalAveragePool,
};
