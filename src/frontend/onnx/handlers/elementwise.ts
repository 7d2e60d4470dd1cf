// Elementwise ONNX ops of one tensor, and the ops that pass a tensor through unchanged.

import type { Attrs } from "../../../ops/contract.js";
import type { HandlerTable, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { constDims } from "../values.js";

const F32_MAX = 3.4028234663852886e38;

/**
 * An ONNX op that is exactly the par elementwise op `parOp`, with the float attributes
 * `floats` (ONNX name → par name) passed on when the node sets them.
 */
const unary =
  (parOp: string, floats: Readonly<Record<string, string>> = {}): OnnxOpHandler =>
  (cx) => {
    const attrs: Attrs = {};
    for (const [onnx, par] of Object.entries(floats)) {
      const v = cx.attr.float(onnx);
      if (v !== undefined) attrs[par] = v;
    }
    return cx.out(cx.emit(parOp, attrs, [cx.operand(0)]));
  };

/** PRelu: a slope initializer broadcast against x (per channel [C, 1, 1], or shared [1]) is the learned parameter of par's prelu. */
const prelu: OnnxOpHandler = (plain) => {
  const cx = plain.asWeightOwner();
  const x = cx.operand(0, "X");
  const sv = cx.inputs[1];
  if (!sv || sv.kind !== "const") throw new Unmappable("PAR6016", "PRelu with a computed slope (par's prelu learns its slope as a parameter)");
  let shape = constDims(sv);
  // Leading size-1 axes only broadcast; a rank above x's cannot be a parameter of x's shape.
  while (shape.length > 1 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length === 0) shape = [1];
  const ids = cx.emit("prelu", { shape }, [x]);
  if (!ids) return false;
  cx.setWeight(cx.producer(ids[0]), "slope", sv, cx.weightData(sv, "PRelu slope"));
  return cx.out(ids);
};

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

const dropout: OnnxOpHandler = (cx) => {
  cx.rejectUsed(1);
  const x = cx.tensorIn(0);
  // Opset 12 moved the ratio from an attribute to a (constant) input.
  const p = cx.opset >= 12 ? cx.constIn(1, "ratio")?.data[0] ?? 0.5 : cx.attr.float("ratio", 0.5);
  if (p === 0) return cx.alias(x);
  return cx.out(cx.emit("dropout", { p }, [x]));
};

/** Trilu: k is an optional constant input (0 when left out). */
const trilu: OnnxOpHandler = (cx) => cx.out(cx.emit("trilu", { upper: cx.attr.int("upper", 1) === 1, k: cx.constIn(1, "k")?.data[0] ?? 0 }, [cx.operand(0)]));

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
  Dropout: dropout,
  HardSigmoid: unary("hard_sigmoid", { alpha: "alpha", beta: "beta" }),
  HardSwish: unary("hard_swish"),
  Elu: unary("elu", { alpha: "alpha" }),
  Selu: unary("selu", { alpha: "alpha", gamma: "gamma" }),
  Celu: unary("celu", { alpha: "alpha" }),
  Softplus: unary("softplus"),
  Softsign: unary("softsign"),
  ThresholdedRelu: unary("thresholded_relu", { alpha: "alpha" }),
  Shrink: unary("shrink", { bias: "bias", lambd: "lambd" }),
  PRelu: prelu,
  Reciprocal: unary("reciprocal"),
  Sin: unary("sin"),
  Cos: unary("cos"),
  Tan: unary("tan"),
  Asin: unary("asin"),
  Acos: unary("acos"),
  Atan: unary("atan"),
  Sinh: unary("sinh"),
  Cosh: unary("cosh"),
  Asinh: unary("asinh"),
  Acosh: unary("acosh"),
  Atanh: unary("atanh"),
  Floor: unary("floor"),
  Ceil: unary("ceil"),
  Round: unary("round"),
  Sign: unary("sign"),
  Trilu: trilu,
};
