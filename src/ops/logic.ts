// Comparisons, boolean logic, selection and casts: the ops imported graphs use to build and
// apply masks (attention padding masks, causal masks, `masked_fill`, position ids).
//
// par has no bool dtype at run time: a boolean is an i32 tensor of 0 and 1 (ONNX BOOL
// imports as i32). Comparisons and logical ops output i32 0/1; logical ops and `where`
// read any non-zero integer as true. Every op here is elementwise over the NumPy-broadcast
// output, so its iteration space is the output's axes, all splittable, and a size-1 or
// missing input axis is read whole (as in the binary elementwise ops).
//
// Gradients: a comparison or a logical op is piecewise constant, so it takes no gradient
// (its backward returns null for every input: the runtime leaves those gradients zero).
// `where` passes dy to the selected operand; `cast` passes dy through float → float only.

import type { Tensor } from "@tensorflow/tfjs-core";
import { isFloat, type DType, type TensorType } from "../core/tensor.js";
import { checkInputs } from "./attrs.js";
import type { AxisMap, BackwardArgs, Gradients, InferContext, OpEntry, OpSignature, TF } from "./contract.js";
import { activationSpace, fmtShape, identityMaps, product } from "./common.js";
import { broadcastMaps, broadcastShapes, checkSameKind } from "./elementwise.js";

/** Broadcast of several shapes (NumPy rules), or the first pair that does not broadcast. */
function broadcastAll(shapes: readonly (readonly number[])[]): { shape: number[] } | { bad: [number, number] } {
  let shape = [...shapes[0]];
  for (let i = 1; i < shapes.length; i++) {
    const r = broadcastShapes(shape, shapes[i]);
    if ("axis" in r) return { bad: [0, i] };
    shape = r.shape;
  }
  return { shape };
}

/** Dim names of a broadcast output: those of the longest input that has the axis at full size. */
function outputDims(inputs: readonly TensorType[], shape: readonly number[]): string[] {
  return shape.map((size, i) => {
    for (const t of inputs) {
      const j = i - (shape.length - t.shape.length);
      if (j >= 0 && t.shape[j] === size) return t.dims[j];
    }
    return `d${i}`;
  });
}

/** The signature of an elementwise op over broadcast inputs, with output dtype `dtype`. */
function broadcastSignature(op: string, inputs: readonly TensorType[], dtype: DType, perElement: { forward: number; backward: number }, ctx: InferContext): OpSignature | undefined {
  const r = broadcastAll(inputs.map((t) => t.shape));
  if ("bad" in r) {
    ctx.diagnostics.error("PAR2107", `\`${op}\` cannot broadcast ${inputs.map((t) => fmtShape(t.shape)).join(" with ")}`, {
      pos: ctx.pos,
      expected: "shapes whose axes (right-aligned) are equal or 1",
    });
    return undefined;
  }
  const out: TensorType = { dtype, shape: r.shape, dims: outputDims(inputs, r.shape) };
  return {
    outputs: [out],
    params: [],
    space: activationSpace(out),
    inputMaps: inputs.map((t): AxisMap[] => broadcastMaps(t.shape, r.shape)),
    paramMaps: [],
    outputMaps: [identityMaps(r.shape.length)],
    flops: (e) => ({ forward: perElement.forward * product(e), backward: perElement.backward * product(e) }),
  };
}

/** The backward of an op whose output is piecewise constant in its inputs: no gradient. */
function noGradient(_tf: TF, { inputs }: BackwardArgs): Gradients {
  return { dInputs: inputs.map(() => null), dParams: [] };
}

/** A boolean as i32 0/1, par's representation. */
const asInt = (tf: TF, b: Tensor): Tensor => tf.cast(b, "int32");
/** An i32 (or float) tensor read as a boolean: non-zero is true. */
const truthy = (tf: TF, t: Tensor): Tensor => (t.dtype === "bool" ? t : tf.notEqual(t, 0));

interface CompareDef {
  name: string;
  doc: string;
  fn: (tf: TF, a: Tensor, b: Tensor) => Tensor;
}

const COMPARE: CompareDef[] = [
  { name: "equal", doc: "1 where a = b, else 0 (i32)", fn: (tf, a, b) => tf.equal(a, b) },
  { name: "less", doc: "1 where a < b, else 0 (i32)", fn: (tf, a, b) => tf.less(a, b) },
  { name: "less_equal", doc: "1 where a ≤ b, else 0 (i32)", fn: (tf, a, b) => tf.lessEqual(a, b) },
  { name: "greater", doc: "1 where a > b, else 0 (i32)", fn: (tf, a, b) => tf.greater(a, b) },
  { name: "greater_equal", doc: "1 where a ≥ b, else 0 (i32)", fn: (tf, a, b) => tf.greaterEqual(a, b) },
];

function compareEntry(def: CompareDef): OpEntry {
  return {
    name: def.name,
    family: "logic",
    doc: `${def.doc}; float or integer operands of one kind, broadcasting`,
    inputs: [{ name: "a", dtype: "any" }, { name: "b", dtype: "any" }],
    attrs: [],
    outputNames: ["y"],
    infer(inputs, _attrs, ctx) {
      if (!checkInputs(this, inputs, ctx) || !checkSameKind(def.name, inputs, ctx)) return undefined;
      return broadcastSignature(def.name, inputs, "i32", { forward: 1, backward: 0 }, ctx);
    },
    forward: (tf, { inputs }) => [asInt(tf, def.fn(tf, inputs[0], inputs[1]))],
    backward: noGradient,
  };
}

interface LogicalDef {
  name: string;
  doc: string;
  fn: (tf: TF, a: Tensor, b: Tensor) => Tensor;
}

const LOGICAL: LogicalDef[] = [
  { name: "logical_and", doc: "1 where a and b are both non-zero (i32)", fn: (tf, a, b) => tf.logicalAnd(a, b) },
  { name: "logical_or", doc: "1 where a or b is non-zero (i32)", fn: (tf, a, b) => tf.logicalOr(a, b) },
  { name: "logical_xor", doc: "1 where exactly one of a and b is non-zero (i32)", fn: (tf, a, b) => tf.logicalXor(a, b) },
];

function logicalEntry(def: LogicalDef): OpEntry {
  return {
    name: def.name,
    family: "logic",
    doc: `${def.doc}; integer operands (booleans are i32 0/1), broadcasting`,
    inputs: [{ name: "a", dtype: "int" }, { name: "b", dtype: "int" }],
    attrs: [],
    outputNames: ["y"],
    infer(inputs, _attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      return broadcastSignature(def.name, inputs, "i32", { forward: 1, backward: 0 }, ctx);
    },
    forward: (tf, { inputs }) => [asInt(tf, def.fn(tf, truthy(tf, inputs[0]), truthy(tf, inputs[1])))],
    backward: noGradient,
  };
}

/** A one-input op from `dtype` inputs to i32 0/1, elementwise. */
function unaryTest(name: string, doc: string, dtype: "int" | "float", fn: (tf: TF, x: Tensor, attrs: Record<string, unknown>) => Tensor, attrs: OpEntry["attrs"] = []): OpEntry {
  return {
    name,
    family: "logic",
    doc,
    inputs: [{ name: "x", dtype }],
    attrs,
    outputNames: ["y"],
    infer(inputs, _attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      return broadcastSignature(name, inputs, "i32", { forward: 1, backward: 0 }, ctx);
    },
    forward: (tf, { inputs, attrs: a }) => [asInt(tf, fn(tf, inputs[0], a))],
    backward: noGradient,
  };
}

export const logicalNot = unaryTest("logical_not", "1 where x is 0, else 0 (i32)", "int", (tf, x) => tf.logicalNot(truthy(tf, x)));
export const isNan = unaryTest("is_nan", "1 where x is NaN, else 0 (i32)", "float", (tf, x) => tf.isNaN(x));
export const isInf = unaryTest(
  "is_inf",
  "1 where x is +∞ (when detect_positive) or −∞ (when detect_negative), else 0 (i32)",
  "float",
  (tf, x, a) => {
    const pos = a.detect_positive ? tf.equal(x, Infinity) : tf.zerosLike(x).cast("bool");
    const neg = a.detect_negative ? tf.equal(x, -Infinity) : tf.zerosLike(x).cast("bool");
    return tf.logicalOr(pos, neg);
  },
  [
    { name: "detect_positive", kind: "bool", default: true, doc: "count +∞" },
    { name: "detect_negative", kind: "bool", default: true, doc: "count −∞" },
  ],
);

/**
 * where(cond, x, y): x where cond is non-zero, else y, all three broadcast to one shape
 * (ONNX Where, torch.where; masked_fill is where(mask, value, x)). x and y are of one kind,
 * which the output takes. Backward: autodiff of a select over explicitly broadcast
 * operands (tfjs's Select gradient does not sum over broadcast axes; broadcastTo's does),
 * so dx = dy where cond and dy = dy elsewhere, summed over each operand's broadcast axes.
 * A select rather than cond·x + (1 − cond)·y, which would turn a −∞ in the unselected
 * operand into NaN.
 */
export const where: OpEntry = {
  name: "where",
  family: "logic",
  doc: "x where cond is non-zero, else y (broadcasting all three; x and y of one kind)",
  inputs: [{ name: "cond", dtype: "int" }, { name: "x", dtype: "any" }, { name: "y", dtype: "any" }],
  attrs: [],
  outputNames: ["y"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx) || !checkSameKind("where", inputs.slice(1), ctx)) return undefined;
    // A select per element; backward a select per float operand.
    return broadcastSignature("where", inputs, inputs[1].dtype, { forward: 1, backward: isFloat(inputs[1].dtype) ? 2 : 0 }, ctx);
  },
  forward(tf, { inputs, shard }) {
    const shape = shard.outputRegions[0].hi.map((h, i) => h - shard.outputRegions[0].lo[i]);
    const to = (t: Tensor): Tensor => (t.shape.length === shape.length && t.shape.every((s, i) => s === shape[i]) ? t : tf.broadcastTo(t, shape));
    return [tf.where(to(truthy(tf, inputs[0])), to(inputs[1]), to(inputs[2]))];
  },
};

const CAST_DTYPES: Record<string, DType> = { float: "f32", int: "i32", bool: "i32" };

/**
 * cast(x, to): to "float" (f32), "int" (i32, truncating towards 0 as ONNX, C and torch do)
 * or "bool" (i32 1 where x is non-zero, else 0). Float → float passes the gradient through;
 * any cast to or from an integer takes none (a truncation is piecewise constant).
 */
export const cast: OpEntry = {
  name: "cast",
  family: "logic",
  doc: "x converted to `to`: float (f32), int (i32, truncating towards 0) or bool (i32 0/1, non-zero is 1)",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "to", kind: "string", choices: ["float", "int", "bool"], doc: "the target kind" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const floatToFloat = isFloat(x.dtype) && attrs.to === "float";
    return broadcastSignature("cast", inputs, CAST_DTYPES[attrs.to as string], { forward: 1, backward: floatToFloat ? 1 : 0 }, ctx);
  },
  forward(tf, { inputs, attrs }) {
    const [x] = inputs;
    switch (attrs.to) {
      case "float":
        return [x.dtype === "float32" ? tf.clone(x) : tf.cast(x, "float32")];
      case "bool":
        return [asInt(tf, tf.notEqual(x, 0))];
      default:
        // tfjs's float → int32 cast truncates towards 0.
        return [x.dtype === "int32" ? tf.clone(x) : tf.cast(x, "int32")];
    }
  },
  backward(tf, { inputs, attrs, dOutputs }) {
    const floatToFloat = inputs[0].dtype === "float32" && attrs.to === "float";
    return { dInputs: [floatToFloat ? tf.clone(dOutputs[0]) : null], dParams: [] };
  },
};

export const LOGIC_OPS: OpEntry[] = [...COMPARE.map(compareEntry), ...LOGICAL.map(logicalEntry), logicalNot, isNan, isInf, where, cast];
