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
  cx.setWeight(cx.producer(ids[0]), "slope", sv, "PRelu slope");
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
  Relu: { map: unary("relu"), par: "`relu`" },
  Sigmoid: { map: unary("sigmoid"), par: "`sigmoid`" },
  Tanh: { map: unary("tanh"), par: "`tanh`" },
  Erf: { map: unary("erf"), par: "`erf`" },
  Exp: { map: unary("exp"), par: "`exp`" },
  Log: { map: unary("log"), par: "`log`" },
  Sqrt: { map: unary("sqrt"), par: "`sqrt`" },
  Neg: { map: unary("neg"), par: "`neg`" },
  Abs: { map: unary("abs"), par: "`abs`" },
  Gelu: { map: gelu, par: "`gelu` (exact erf form; approximate = tanh is PAR6016); also com.microsoft Gelu" },
  LeakyRelu: { map: leakyRelu, par: "`leaky_relu` (alpha)" },
  Clip: { map: clip, par: "`clip` (constant min/max), or `relu` for min 0 without max" },
  Identity: { map: identity, par: "alias" },
  Dropout: { map: dropout, par: "`dropout` (ratio 0 → alias); the mask output is PAR6016" },
  HardSigmoid: { map: unary("hard_sigmoid", { alpha: "alpha", beta: "beta" }), par: "`hard_sigmoid` (alpha, beta)" },
  HardSwish: { map: unary("hard_swish"), par: "`hard_swish`" },
  Elu: { map: unary("elu", { alpha: "alpha" }), par: "`elu` (alpha)" },
  Selu: { map: unary("selu", { alpha: "alpha", gamma: "gamma" }), par: "`selu` (alpha, gamma)" },
  Celu: { map: unary("celu", { alpha: "alpha" }), par: "`celu` (alpha)" },
  Softplus: { map: unary("softplus"), par: "`softplus`" },
  Softsign: { map: unary("softsign"), par: "`softsign`" },
  ThresholdedRelu: { map: unary("thresholded_relu", { alpha: "alpha" }), par: "`thresholded_relu` (alpha)" },
  Shrink: { map: unary("shrink", { bias: "bias", lambd: "lambd" }), par: "`shrink` (bias, lambd)" },
  PRelu: { map: prelu, par: "`prelu` holding the slope initializer (per channel [C, 1, 1] or shared); a computed slope is PAR6016" },
  Reciprocal: { map: unary("reciprocal"), par: "`reciprocal`" },
  Sin: { map: unary("sin"), par: "`sin`" },
  Cos: { map: unary("cos"), par: "`cos`" },
  Tan: { map: unary("tan"), par: "`tan`" },
  Asin: { map: unary("asin"), par: "`asin`" },
  Acos: { map: unary("acos"), par: "`acos`" },
  Atan: { map: unary("atan"), par: "`atan`" },
  Sinh: { map: unary("sinh"), par: "`sinh`" },
  Cosh: { map: unary("cosh"), par: "`cosh`" },
  Asinh: { map: unary("asinh"), par: "`asinh`" },
  Acosh: { map: unary("acosh"), par: "`acosh`" },
  Atanh: { map: unary("atanh"), par: "`atanh`" },
  Floor: { map: unary("floor"), par: "`floor`" },
  Ceil: { map: unary("ceil"), par: "`ceil`" },
  Round: { map: unary("round"), par: "`round` (halves to even)" },
  Sign: { map: unary("sign"), par: "`sign`" },
  Trilu: { map: trilu, par: "`trilu` (upper, constant k)" },
};
