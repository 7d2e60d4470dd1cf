// Ops that move or select elements without arithmetic. Their shape operands (Reshape
// targets, Slice bounds, axes, pads) must be constants, usually folded from Shape chains.

import type { Attrs } from "../../../ops/contract.js";
import type { HandlerTable, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { broadcast, normAxis, resolveReshape, sliceBounds } from "../fold.js";

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.join(",") === b.join(",");

/** A constant operand (a learned token, a fixed table) is an op of its own (NodeContext.operand). */
const concat: OnnxOpHandler = (cx) => {
  const xs = cx.node.inputs.map((_, i) => cx.operand(i));
  if (xs.length === 1) return cx.alias(xs[0]);
  return cx.out(cx.emit("concat", { axis: normAxis(cx.attr.int("axis", 0), cx.rank(xs[0])) }, xs));
};

const split: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0);
  const axis = normAxis(cx.attr.int("axis", 0), cx.rank(x));
  // Opset 13 moved the sizes from an attribute to a (constant) input; without them, equal parts.
  const sizes = cx.opset >= 13 ? cx.constIn(1, "split")?.data : cx.attr.ints("split");
  const attrs: Attrs = sizes ? { axis, sizes: [...sizes] } : { axis, parts: cx.node.outputs.length };
  const ids = cx.emit("split", attrs, [x]);
  if (!ids) return false;
  cx.node.outputs.forEach((_, i) => cx.bind(i, ids[i]));
  return true;
};

/** One par slice per sliced axis (par's slice takes one axis). */
const slice: OnnxOpHandler = (cx) => {
  let x = cx.tensorIn(0);
  // Since opset 10 the bounds are (constant) inputs.
  const starts = cx.opset >= 10 ? cx.constIn(1, "starts")!.data : cx.attr.ints("starts")!;
  const ends = cx.opset >= 10 ? cx.constIn(2, "ends")!.data : cx.attr.ints("ends")!;
  const axes = (cx.opset >= 10 ? cx.constIn(3, "axes")?.data : cx.attr.ints("axes")) ?? starts.map((_, i) => i);
  const steps = (cx.opset >= 10 ? cx.constIn(4, "steps")?.data : undefined) ?? starts.map(() => 1);
  for (let k = 0; k < starts.length; k++) {
    const axis = normAxis(axes[k], cx.rank(x));
    const dim = cx.shape(x)[axis];
    if (steps[k] < 1) throw new Unmappable("PAR6016", `Slice with step ${steps[k]} (par slices with positive steps)`);
    const bd = sliceBounds(dim, starts[k], ends[k], steps[k]);
    if (bd.start === 0 && bd.count === dim && steps[k] === 1) continue;
    const ids = cx.emit("slice", { axis, start: bd.start, end: bd.start + (bd.count - 1) * steps[k] + 1, step: steps[k] }, [x], starts.length > 1 ? `${cx.base}_${axis}` : cx.base);
    if (!ids) return false;
    x = ids[0];
  }
  return cx.alias(x);
};

const flatten: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0);
  return cx.out(cx.emit("flatten", { axis: normAxis(cx.attr.int("axis", 1), cx.rank(x)) }, [x]));
};

const reshape: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0);
  const target = cx.constIn(1, "shape");
  if (!target) throw new Unmappable("PAR6017", "Reshape without a shape");
  const shape = resolveReshape(cx.shape(x), target.data, cx.attr.int("allowzero", 0) === 1);
  if (typeof shape === "string") throw new Unmappable("PAR6016", `Reshape of [${cx.shape(x).join(", ")}] to [${target.data.join(", ")}]: ${shape}`);
  if (sameShape(shape, cx.shape(x))) return cx.alias(x);
  return cx.out(cx.emit("reshape", { shape }, [x]));
};

const transpose: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0);
  const r = cx.rank(x);
  // No perm: reverse the axes.
  const perm = cx.attr.ints("perm") ?? cx.shape(x).map((_, i) => r - 1 - i);
  if (perm.every((p, i) => p === i)) return cx.alias(x);
  return cx.out(cx.emit("transpose", { perm }, [x]));
};

const squeeze: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0);
  // Opset 13 moved the axes from an attribute to a (constant) input.
  const given = cx.opset >= 13 ? cx.constIn(1, "axes")?.data : cx.attr.ints("axes");
  const axes = given ? given.map((a) => normAxis(a, cx.rank(x))) : [];
  return cx.out(cx.emit("squeeze", { axes }, [x]));
};

const unsqueeze: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0);
  const given = cx.opset >= 13 ? cx.constIn(1, "axes")?.data : cx.attr.ints("axes");
  if (!given) throw new Unmappable("PAR6017", "Unsqueeze without axes");
  // Negative axes count from the end of the output.
  const r = cx.rank(x) + given.length;
  return cx.out(cx.emit("unsqueeze", { axes: given.map((a) => normAxis(a, r)).sort((p, q) => p - q) }, [x]));
};

const expand: OnnxOpHandler = (cx) => {
  const x = cx.operand(0);
  const target = cx.constIn(1, "shape")!;
  const shape = broadcast(cx.shape(x), target.data);
  if (!shape) throw new Unmappable("PAR6016", `Expand of [${cx.shape(x).join(", ")}] to [${target.data.join(", ")}] does not broadcast`);
  if (sameShape(shape, cx.shape(x))) return cx.alias(x);
  return cx.out(cx.emit("expand", { shape }, [x]));
};

/** ONNX's pad modes; what each but the constant one does instead of padding with a value. */
const PAD_MODES: Readonly<Record<string, string | undefined>> = { constant: undefined, reflect: "mirrors the tensor", edge: "repeats the border", wrap: "wraps around" };

const pad: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0);
  const mode = cx.attr.string("mode", "constant");
  if (!Object.hasOwn(PAD_MODES, mode)) throw new Unmappable("PAR6016", `Pad mode ${JSON.stringify(mode)}`, `ONNX's modes are ${Object.keys(PAD_MODES).join(", ")}`);
  const unlike = PAD_MODES[mode];
  if (unlike !== undefined) throw new Unmappable("PAR6016", `Pad mode ${mode}, which ${unlike} (par pads with zeros)`);
  // Opset 11 moved pads and value to (constant) inputs; opset 18 added axes.
  const pads = cx.opset >= 11 ? cx.constIn(1, "pads")!.data : cx.attr.ints("pads")!;
  const value = cx.opset >= 11 ? cx.constIn(2, "constant_value")?.data[0] ?? 0 : cx.attr.float("value", 0);
  if (value !== 0) throw new Unmappable("PAR6016", `Pad with value ${value} (par pads with zeros)`);
  const axesIn = cx.opset >= 18 ? cx.constIn(3, "axes")?.data : undefined;
  let full = [...pads];
  if (axesIn) {
    const r = cx.rank(x);
    full = new Array<number>(2 * r).fill(0);
    axesIn.forEach((a, k) => {
      full[normAxis(a, r)] = pads[k];
      full[r + normAxis(a, r)] = pads[axesIn.length + k];
    });
  }
  if (full.some((p) => p < 0)) throw new Unmappable("PAR6016", "Pad with negative pads (cropping)");
  if (full.every((p) => p === 0)) return cx.alias(x);
  return cx.out(cx.emit("pad", { pads: full }, [x]));
};

/** Tile: the repeats are a constant input; a learned tensor tiled stays one parameter (NodeContext.operand). */
const tile: OnnxOpHandler = (cx) => {
  const x = cx.operand(0);
  const reps = cx.constIn(1, "repeats");
  if (!reps) throw new Unmappable("PAR6017", "Tile without repeats");
  if (reps.data.every((r) => r === 1)) return cx.alias(x);
  return cx.out(cx.emit("tile", { repeats: [...reps.data] }, [x]));
};

const depthToSpace: OnnxOpHandler = (cx) => {
  const mode = cx.attr.string("mode", "DCR");
  if (mode !== "DCR" && mode !== "CRD") throw new Unmappable("PAR6016", `DepthToSpace mode ${JSON.stringify(mode)}`, "ONNX's modes are DCR and CRD");
  return cx.out(cx.emit("depth_to_space", { blocksize: cx.attr.int("blocksize", 1), mode }, [cx.tensorIn(0)]));
};

const spaceToDepth: OnnxOpHandler = (cx) => cx.out(cx.emit("space_to_depth", { blocksize: cx.attr.int("blocksize", 1) }, [cx.tensorIn(0)]));

export const SHAPE_HANDLERS: HandlerTable = {
  Concat: { map: concat, par: "`concat` (a constant operand becomes a `param` or `constant`)" },
  Split: { map: split, par: "`split`" },
  Slice: { map: slice, par: "one `slice` per sliced axis (positive steps)" },
  Flatten: { map: flatten, par: "`flatten`" },
  Reshape: { map: reshape, par: "`reshape` (0 and −1 resolved; the same shape is an alias)" },
  Transpose: { map: transpose, par: "`transpose`" },
  Squeeze: { map: squeeze, par: "`squeeze`" },
  Unsqueeze: { map: unsqueeze, par: "`unsqueeze`" },
  Expand: { map: expand, par: "`expand` (a learned initializer expanded stays one `param`)" },
  Pad: { map: pad, par: "`pad` (constant 0 only)" },
  Tile: { map: tile, par: "`tile`" },
  DepthToSpace: { map: depthToSpace, par: "`depth_to_space` (DCR, CRD)" },
  SpaceToDepth: { map: spaceToDepth, par: "`space_to_depth`" },
};
