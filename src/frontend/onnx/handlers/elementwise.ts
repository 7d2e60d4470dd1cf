// Elementwise ONNX ops of one tensor, and the ops that pass a tensor through unchanged.

import type { HandlerTable, OnnxOpHandler } from "../context.js";
import { isFloatDType, isIntDType } from "../decode.js";
import { Unmappable } from "../errors.js";

const F32_MAX = 3.4028234663852886e38;

/** An ONNX op that is exactly the par elementwise op `parOp`. */
const unary =
  (parOp: string): OnnxOpHandler =>
  (cx) =>
    cx.out(cx.emit(parOp, {}, [cx.tensorIn(0)]));

const gelu: OnnxOpHandler = (cx) => {
  if (cx.attr.string("approximate", "none") !== "none") throw new Unmappable("PAR6016", "Gelu with approximate = tanh (par's gelu is the exact erf form)");
  return cx.out(cx.emit("gelu", {}, [cx.tensorIn(0)]));
};

const leakyRelu: OnnxOpHandler = (cx) => cx.out(cx.emit("leaky_relu", { alpha: cx.attr.float("alpha", 0.01) }, [cx.tensorIn(0)]));

const clip: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0);
  // Opset 11 moved min/max from attributes to (constant) inputs.
  const lo = cx.opset >= 11 ? cx.constIn(1, "min")?.data[0] : cx.attr.float("min");
  const hi = cx.opset >= 11 ? cx.constIn(2, "max")?.data[0] : cx.attr.float("max");
  if (lo === 0 && hi === undefined) return cx.out(cx.emit("relu", {}, [x]));
  return cx.out(cx.emit("clip", { min: lo ?? -F32_MAX, max: hi ?? F32_MAX }, [x]));
};

const identity: OnnxOpHandler = (cx) => cx.alias(cx.tensorIn(0));

/** par tensors are f32 or i32: a cast that keeps the kind (float/int) changes nothing. */
const cast: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0);
  const to = cx.attr.int("to", 1);
  const isF = cx.type(x).dtype === "f32";
  if (isF === isFloatDType(to) && (isF || isIntDType(to))) return cx.alias(x);
  throw new Unmappable("PAR6016", `Cast of a ${cx.type(x).dtype} tensor to data type ${to} (par casts only constants)`);
};

const dropout: OnnxOpHandler = (cx) => {
  cx.rejectUsed(1);
  const x = cx.tensorIn(0);
  // Opset 12 moved the ratio from an attribute to a (constant) input.
  const p = cx.opset >= 12 ? cx.constIn(1, "ratio")?.data[0] ?? 0.5 : cx.attr.float("ratio", 0.5);
  if (p === 0) return cx.alias(x);
  return cx.out(cx.emit("dropout", { p }, [x]));
};

export const ELEMENTWISE_HANDLERS: HandlerTable = {
  Relu: unary("relu"),
  Sigmoid: unary("sigmoid"),
  Tanh: unary("tanh"),
  Erf: unary("erf"),
  Exp: unary("exp"),
  Log: unary("log"),
  Sqrt: unary("sqrt"),
  Neg: unary("neg"),
  Abs: unary("abs"),
  Gelu: gelu,
  LeakyRelu: leakyRelu,
  Clip: clip,
  Identity: identity,
  Cast: cast,
  Dropout: dropout,
};
