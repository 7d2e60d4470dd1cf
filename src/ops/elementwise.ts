// Elementwise ops. Unary ops are one line each in UNARY; binary ops broadcast NumPy-style
// (right-aligned; a size-1 axis of an input is read whole by every task).
//
// FLOPs per element are documented estimates: +, -, *, max, compare count 1; a divide
// or square root counts 4; exp, log, tanh, sigmoid, erf count 4-5 (polynomial
// approximations). Backward counts the gradient formula, not the recomputed forward.

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AttrSpec, Attrs, AxisMap, InferContext, OpEntry, ParallelDim, TF } from "./contract.js";
import { activationSpace, fmtShape, identityMaps, product } from "./common.js";
import { isFloat, type TensorType } from "../core/tensor.js";

export interface UnaryDef {
  name: string;
  doc: string;
  /** FLOPs per element, forward and backward (documented estimates). */
  fwd: number;
  bwd: number;
  fn: (tf: TF, x: Tensor, attrs: Attrs) => Tensor;
  /** Attributes of a parameterised unary op (leaky_relu's alpha, clip's bounds). */
  attrs?: AttrSpec[];
  /** Checks between attributes that AttrSpec cannot express; reports and returns false. */
  check?: (attrs: Attrs, ctx: InferContext) => boolean;
}

const SQRT1_2 = Math.SQRT1_2;

function checkClip(attrs: Attrs, ctx: InferContext): boolean {
  const lo = attrs.min as number;
  const hi = attrs.max as number;
  if (lo > hi) {
    ctx.diagnostics.error("PAR2130", `\`clip\` needs min ≤ max, got min = ${lo}, max = ${hi}`, { pos: ctx.pos, expected: "min ≤ max", hint: "swap the two bounds" });
    return false;
  }
  return true;
}

const UNARY: UnaryDef[] = [
  { name: "relu", doc: "max(x, 0)", fwd: 1, bwd: 1, fn: (tf, x) => tf.relu(x) },
  // erf form, as torch.nn.GELU() by default: x·Φ(x) = x/2·(1 + erf(x/√2)).
  { name: "gelu", doc: "x·Φ(x) = x/2·(1 + erf(x/√2)) (exact, torch's default)", fwd: 8, bwd: 12, fn: (tf, x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1)) },
  { name: "tanh", doc: "tanh(x)", fwd: 4, bwd: 3, fn: (tf, x) => tf.tanh(x) },
  { name: "sigmoid", doc: "1 / (1 + exp(-x))", fwd: 4, bwd: 3, fn: (tf, x) => tf.sigmoid(x) },
  { name: "exp", doc: "exp(x)", fwd: 4, bwd: 1, fn: (tf, x) => tf.exp(x) },
  { name: "log", doc: "natural log (x > 0)", fwd: 4, bwd: 4, fn: (tf, x) => tf.log(x) },
  { name: "sqrt", doc: "√x (x ≥ 0)", fwd: 4, bwd: 5, fn: (tf, x) => tf.sqrt(x) },
  { name: "rsqrt", doc: "1/√x (x > 0)", fwd: 5, bwd: 7, fn: (tf, x) => tf.rsqrt(x) },
  { name: "neg", doc: "-x", fwd: 1, bwd: 1, fn: (tf, x) => tf.neg(x) },
  { name: "abs", doc: "|x|", fwd: 1, bwd: 2, fn: (tf, x) => tf.abs(x) },
  { name: "square", doc: "x²", fwd: 1, bwd: 2, fn: (tf, x) => tf.square(x) },
  {
    name: "leaky_relu", doc: "x for x > 0, alpha·x otherwise", fwd: 2, bwd: 2, fn: (tf, x, a) => tf.leakyRelu(x, a.alpha as number),
    attrs: [{ name: "alpha", kind: "float", default: 0.01, doc: "slope for x < 0 (torch default 0.01)" }],
  },
  {
    name: "clip", doc: "min(max(x, min), max)", fwd: 2, bwd: 2, fn: (tf, x, a) => tf.clipByValue(x, a.min as number, a.max as number),
    attrs: [{ name: "min", kind: "float", doc: "lower bound" }, { name: "max", kind: "float", doc: "upper bound" }], check: checkClip,
  },
  { name: "erf", doc: "the error function", fwd: 5, bwd: 6, fn: (tf, x) => tf.erf(x) },
  // A copy rather than the input itself, so that the output is a tensor of its own.
  { name: "identity", doc: "x (a copy)", fwd: 0, bwd: 0, fn: (tf, x) => tf.clone(x) },
  {
    name: "hard_sigmoid", doc: "max(0, min(1, alpha·x + beta)) (ONNX HardSigmoid; torch's hardsigmoid is alpha = 1/6)", fwd: 3, bwd: 2,
    fn: (tf, x, a) => tf.clipByValue(tf.add(tf.mul(x, a.alpha as number), a.beta as number), 0, 1),
    attrs: [{ name: "alpha", kind: "float", default: 0.2, doc: "slope (ONNX default 0.2)" }, { name: "beta", kind: "float", default: 0.5, doc: "offset" }],
  },
  { name: "hard_swish", doc: "x·max(0, min(1, x/6 + 1/2)) (torch hardswish, ONNX HardSwish)", fwd: 4, bwd: 4, fn: (tf, x) => tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, 1 / 6), 0.5), 0, 1)) },
  {
    name: "elu", doc: "x for x > 0, alpha·(exp(x) − 1) otherwise", fwd: 5, bwd: 3, fn: (tf, x, a) => eluOf(tf, x, a.alpha as number),
    attrs: [{ name: "alpha", kind: "float", default: 1, doc: "scale of the negative part" }],
  },
  {
    name: "selu", doc: "gamma·elu(x, alpha) (self-normalising; the defaults are torch's and ONNX's constants)", fwd: 6, bwd: 4,
    fn: (tf, x, a) => tf.mul(eluOf(tf, x, a.alpha as number), a.gamma as number),
    attrs: [
      { name: "alpha", kind: "float", default: 1.6732632423543772, doc: "scale of the negative part" },
      { name: "gamma", kind: "float", default: 1.0507009873554805, doc: "overall scale" },
    ],
  },
  {
    name: "celu", doc: "max(0, x) + min(0, alpha·(exp(x/alpha) − 1))", fwd: 6, bwd: 4, fn: (tf, x, a) => celuOf(tf, x, a.alpha as number),
    attrs: [{ name: "alpha", kind: "float", default: 1, doc: "scale (≠ 0)" }], check: checkNonZero("celu", "alpha"),
  },
  { name: "softplus", doc: "log(1 + exp(x))", fwd: 9, bwd: 4, fn: (tf, x) => tf.softplus(x) },
  { name: "softsign", doc: "x / (1 + |x|)", fwd: 6, bwd: 6, fn: (tf, x) => tf.div(x, tf.add(tf.abs(x), 1)) },
  { name: "mish", doc: "x·tanh(softplus(x))", fwd: 14, bwd: 12, fn: (tf, x) => tf.mul(x, tf.tanh(tf.softplus(x))) },
  {
    name: "thresholded_relu", doc: "x for x > alpha, 0 otherwise", fwd: 1, bwd: 1, fn: (tf, x, a) => tf.where(above(tf, x, a.alpha as number), x, tf.zerosLike(x)),
    attrs: [{ name: "alpha", kind: "float", default: 1, doc: "threshold" }],
  },
  {
    name: "shrink", doc: "x + bias for x < −lambd, x − bias for x > lambd, 0 otherwise", fwd: 3, bwd: 1, fn: (tf, x, a) => shrinkOf(tf, x, a.bias as number, a.lambd as number),
    attrs: [{ name: "bias", kind: "float", default: 0, doc: "moved towards 0 by this" }, { name: "lambd", kind: "float", default: 0.5, doc: "half-width of the zero band" }],
  },
  { name: "reciprocal", doc: "1/x (x ≠ 0)", fwd: 4, bwd: 5, fn: (tf, x) => tf.reciprocal(x) },
  { name: "sin", doc: "sin(x)", fwd: 4, bwd: 5, fn: (tf, x) => tf.sin(x) },
  { name: "cos", doc: "cos(x)", fwd: 4, bwd: 5, fn: (tf, x) => tf.cos(x) },
  { name: "tan", doc: "tan(x)", fwd: 5, bwd: 6, fn: (tf, x) => tf.tan(x) },
  { name: "asin", doc: "arcsin(x) (|x| ≤ 1)", fwd: 5, bwd: 7, fn: (tf, x) => tf.asin(x) },
  { name: "acos", doc: "arccos(x) (|x| ≤ 1)", fwd: 5, bwd: 7, fn: (tf, x) => tf.acos(x) },
  { name: "atan", doc: "arctan(x)", fwd: 5, bwd: 6, fn: (tf, x) => tf.atan(x) },
  { name: "sinh", doc: "sinh(x)", fwd: 5, bwd: 5, fn: (tf, x) => tf.sinh(x) },
  { name: "cosh", doc: "cosh(x)", fwd: 5, bwd: 5, fn: (tf, x) => tf.cosh(x) },
  { name: "asinh", doc: "arsinh(x)", fwd: 6, bwd: 7, fn: (tf, x) => tf.asinh(x) },
  { name: "acosh", doc: "arcosh(x) (x ≥ 1)", fwd: 6, bwd: 7, fn: (tf, x) => tf.acosh(x) },
  { name: "atanh", doc: "artanh(x) (|x| < 1)", fwd: 6, bwd: 6, fn: (tf, x) => tf.atanh(x) },
  // Piecewise constant: the gradient is 0 (as torch's) wherever it exists.
  { name: "floor", doc: "⌊x⌋ (gradient 0)", fwd: 1, bwd: 0, fn: (tf, x) => tf.floor(x) },
  { name: "ceil", doc: "⌈x⌉ (gradient 0)", fwd: 1, bwd: 0, fn: (tf, x) => tf.ceil(x) },
  { name: "round", doc: "x rounded to the nearest integer, halves to even (gradient 0)", fwd: 1, bwd: 0, fn: (tf, x) => tf.round(x) },
  { name: "sign", doc: "−1, 0 or 1 by the sign of x (gradient 0)", fwd: 1, bwd: 0, fn: (tf, x) => tf.sign(x) },
];

/**
 * Where x > threshold, as a boolean mask that autodiff can see through: tfjs has no
 * gradient for Greater, and a `where` whose condition is computed from x would reach it.
 * step(x − t) is 1 exactly where x > t, and Step's gradient is zero.
 */
export function above(tf: TF, x: Tensor, threshold: number): Tensor {
  return tf.cast(tf.step(threshold === 0 ? x : tf.sub(x, threshold)), "bool");
}

/**
 * elu with exp taken of min(x, 0) only: exp of a large positive x would overflow to inf in
 * the branch `where` discards, and its gradient (0·inf) would be NaN.
 */
function eluOf(tf: TF, x: Tensor, alpha: number): Tensor {
  const negative = tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), alpha);
  return tf.where(above(tf, x, 0), x, negative);
}

function celuOf(tf: TF, x: Tensor, alpha: number): Tensor {
  const negative = tf.mul(tf.sub(tf.exp(tf.div(tf.minimum(x, 0), alpha)), 1), alpha);
  return tf.where(above(tf, x, 0), x, negative);
}

function shrinkOf(tf: TF, x: Tensor, bias: number, lambd: number): Tensor {
  const zero = tf.zerosLike(x);
  return tf.where(above(tf, tf.neg(x), lambd), tf.add(x, bias), tf.where(above(tf, x, lambd), tf.sub(x, bias), zero));
}

function checkNonZero(op: string, attr: string): (attrs: Attrs, ctx: InferContext) => boolean {
  return (attrs, ctx) => {
    if (attrs[attr] !== 0) return true;
    ctx.diagnostics.error("PAR2104", `\`${op}\` needs ${attr} ≠ 0`, { pos: ctx.pos, expected: `a non-zero ${attr}` });
    return false;
  };
}

/**
 * The parts of an elementwise signature that depend only on shapes (iteration space and axis
 * maps), made once per shape and shared: signatures are never mutated, and a large model
 * holds tens of thousands of them. Frozen, so that a mutation would fail loudly.
 */
interface ShapeParts {
  space: ParallelDim[];
  inputMaps: AxisMap[][];
  outputMaps: AxisMap[][];
}

const SHAPE_PARTS = new Map<string, ShapeParts>();

function shapeParts(key: string, make: () => ShapeParts): ShapeParts {
  let parts = SHAPE_PARTS.get(key);
  if (parts === undefined) {
    const p = make();
    parts = Object.freeze({
      space: Object.freeze(p.space.map((d) => Object.freeze(d))) as ParallelDim[],
      inputMaps: Object.freeze(p.inputMaps.map((m) => Object.freeze(m.map((a) => Object.freeze(a))))) as AxisMap[][],
      outputMaps: Object.freeze(p.outputMaps.map((m) => Object.freeze(m.map((a) => Object.freeze(a))))) as AxisMap[][],
    });
    if (SHAPE_PARTS.size >= 4096) SHAPE_PARTS.clear();
    SHAPE_PARTS.set(key, parts);
  }
  return parts;
}

const NO_PARAMS: never[] = Object.freeze([]) as never[];

export function unaryEntry(def: UnaryDef): OpEntry {
  const flops = (e: readonly number[]): { forward: number; backward: number } => ({ forward: def.fwd * product(e), backward: def.bwd * product(e) });
  return {
    name: def.name,
    family: "elementwise",
    doc: def.doc,
    roles: ["passthrough"],
    inputs: [{ name: "x" }],
    attrs: def.attrs ?? [],
    outputNames: ["y"],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      if (def.check && !def.check(attrs, ctx)) return undefined;
      const [x] = inputs;
      const parts = shapeParts(`u${x.shape.join(",")}`, () => ({
        space: activationSpace(x),
        inputMaps: [identityMaps(x.shape.length)],
        outputMaps: [identityMaps(x.shape.length)],
      }));
      return {
        outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
        params: NO_PARAMS,
        space: parts.space,
        inputMaps: parts.inputMaps,
        paramMaps: NO_PARAMS,
        outputMaps: parts.outputMaps,
        flops,
      };
    },
    forward: (tf, { inputs, attrs }) => [def.fn(tf, inputs[0], attrs)],
  };
}

interface BinaryDef {
  name: string;
  doc: string;
  fwd: number;
  bwd: number;
  fn: (tf: TF, a: Tensor, b: Tensor) => Tensor;
  /**
   * The kernel on two integer operands (index and position arithmetic in imported graphs:
   * RoBERTa's position ids are a cumsum of a mask, then Mul and Add); absent: floats only.
   */
  ints?: (tf: TF, a: Tensor, b: Tensor) => Tensor;
}

const BINARY: BinaryDef[] = [
  { name: "add", doc: "a + b (broadcasting)", fwd: 1, bwd: 0, fn: (tf, a, b) => tf.add(a, b), ints: (tf, a, b) => tf.add(a, b) },
  { name: "sub", doc: "a - b (broadcasting)", fwd: 1, bwd: 1, fn: (tf, a, b) => tf.sub(a, b), ints: (tf, a, b) => tf.sub(a, b) },
  // Backward: da = dy·b, db = dy·a.
  { name: "mul", doc: "a · b (broadcasting)", fwd: 1, bwd: 2, fn: (tf, a, b) => tf.mul(a, b), ints: (tf, a, b) => tf.mul(a, b) },
  // Backward: da = dy/b, db = -dy·a/b². Integers divide truncating towards 0 (ONNX Div, C).
  { name: "div", doc: "a / b (broadcasting; integers truncate towards 0)", fwd: 4, bwd: 7, fn: (tf, a, b) => tf.div(a, b), ints: (tf, a, b) => truncDivInt(tf, a, b) },
  // exp(b·log a); backward da = dy·b·a^(b-1), db = dy·y·log a.
  { name: "pow", doc: "a ^ b (broadcasting; a > 0 unless b is an integer)", fwd: 9, bwd: 14, fn: (tf, a, b) => tf.pow(a, b) },
  // Backward: a compare and a select per input. tfjs's Maximum/Minimum gradients do not
  // sum over broadcast axes, so both operands are broadcast explicitly first.
  { name: "maximum", doc: "max(a, b) (broadcasting)", fwd: 1, bwd: 2, fn: (tf, a, b) => tf.maximum(...broadcastBoth(tf, a, b)), ints: (tf, a, b) => tf.maximum(a, b) },
  { name: "minimum", doc: "min(a, b) (broadcasting)", fwd: 1, bwd: 2, fn: (tf, a, b) => tf.minimum(...broadcastBoth(tf, a, b)), ints: (tf, a, b) => tf.minimum(a, b) },
  // a − b·⌊a/b⌋: the result has b's sign (Python %, torch.remainder, ONNX Mod fmod = 0).
  // Backward da = dy, db = −dy·⌊a/b⌋ (floor has gradient 0).
  { name: "mod", doc: "a − b·⌊a/b⌋, the sign of b (Python %, torch.remainder)", fwd: 6, bwd: 2, fn: (tf, a, b) => tf.sub(a, tf.mul(b, tf.floor(tf.div(a, b)))), ints: (tf, a, b) => tf.mod(a, b) },
  // a − b·trunc(a/b): the result has a's sign (C fmod, torch.fmod, ONNX Mod fmod = 1).
  { name: "fmod", doc: "a − b·trunc(a/b), the sign of a (C fmod, torch.fmod)", fwd: 7, bwd: 2, fn: (tf, a, b) => tf.sub(a, tf.mul(b, truncFloat(tf, tf.div(a, b)))), ints: (tf, a, b) => tf.sub(a, tf.mul(b, truncDivInt(tf, a, b))) },
];

/** trunc(x) = sign(x)·⌊|x|⌋ (tfjs has no Trunc kernel); gradient 0, like floor's. */
function truncFloat(tf: TF, x: Tensor): Tensor {
  return tf.mul(tf.sign(x), tf.floor(tf.abs(x)));
}

/** Integer a / b truncated towards 0: tfjs's int32 division floors, so a floor with a remainder of the other sign moves up by one. */
function truncDivInt(tf: TF, a: Tensor, b: Tensor): Tensor {
  const q = tf.floorDiv(a, b);
  const inexact = tf.notEqual(tf.sub(a, tf.mul(q, b)), 0);
  const signsDiffer = tf.notEqual(tf.less(a, 0), tf.less(b, 0));
  return tf.add(q, tf.cast(tf.logicalAnd(inexact, signsDiffer), "int32"));
}

/** Both operands broadcast to their common shape (the kernel validated it in infer). */
function broadcastBoth(tf: TF, a: Tensor, b: Tensor): [Tensor, Tensor] {
  const r = broadcastShapes(a.shape, b.shape);
  if ("axis" in r) throw new RangeError(`cannot broadcast [${a.shape.join(", ")}] with [${b.shape.join(", ")}]`);
  const at = (t: Tensor): Tensor => (t.shape.length === r.shape.length && t.shape.every((s, i) => s === r.shape[i]) ? t : tf.broadcastTo(t, r.shape));
  return [at(a), at(b)];
}

/** NumPy broadcasting of two shapes, or undefined with the offending axis. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): { shape: number[] } | { axis: number } {
  const rank = Math.max(a.length, b.length);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return { axis: i };
    shape.push(Math.max(da, db));
  }
  return { shape };
}

/** Axis maps of an input broadcast to an output of rank `rank`. */
export function broadcastMaps(input: readonly number[], out: readonly number[]): AxisMap[] {
  const offset = out.length - input.length;
  return input.map((size, i): AxisMap => (size === out[i + offset] ? { kind: "iter", dim: i + offset } : { kind: "full" }));
}

function binaryEntry(def: BinaryDef): OpEntry {
  const flops = (e: readonly number[]): { forward: number; backward: number } => ({ forward: def.fwd * product(e), backward: def.bwd * product(e) });
  return {
    name: def.name,
    family: "elementwise",
    doc: def.doc,
    // Integer operands where the op has an integer kernel; the kinds must agree.
    inputs: def.ints ? [{ name: "a", dtype: "any" }, { name: "b", dtype: "any" }] : [{ name: "a" }, { name: "b" }],
    attrs: [],
    outputNames: ["y"],
    infer(inputs, _attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [a, b] = inputs;
      if (!checkSameKind(def.name, inputs, ctx)) return undefined;
      const r = broadcastShapes(a.shape, b.shape);
      if ("axis" in r) {
        const rank = Math.max(a.shape.length, b.shape.length);
        ctx.diagnostics.error("PAR2107", `\`${def.name}\` cannot broadcast ${fmtShape(a.shape)} with ${fmtShape(b.shape)}: axis ${r.axis} differs`, {
          pos: ctx.pos,
          expected: `equal sizes or 1 at axis ${r.axis} (${a.shape[a.shape.length - rank + r.axis] ?? 1} vs ${b.shape[b.shape.length - rank + r.axis] ?? 1})`,
        });
        return undefined;
      }
      const shape = r.shape;
      const longer = a.shape.length >= b.shape.length ? a : b;
      const out = { dtype: a.dtype, shape, dims: shape.map((_, i) => longer.dims[i - (shape.length - longer.shape.length)] ?? `d${i}`) };
      const parts = shapeParts(`b${a.shape.join(",")}|${b.shape.join(",")}`, () => ({
        space: activationSpace(out),
        inputMaps: [broadcastMaps(a.shape, shape), broadcastMaps(b.shape, shape)],
        outputMaps: [identityMaps(shape.length)],
      }));
      return {
        outputs: [out],
        params: NO_PARAMS,
        space: parts.space,
        inputMaps: parts.inputMaps,
        paramMaps: NO_PARAMS,
        outputMaps: parts.outputMaps,
        flops,
      };
    },
    forward: (tf, { inputs }) => [inputs[0].dtype === "int32" && def.ints ? def.ints(tf, inputs[0], inputs[1]) : def.fn(tf, inputs[0], inputs[1])],
  };
}

/**
 * Operands of one kind: all float or all integer (bool tensors are i32 0/1 in par). A
 * mixed pair is PAR2106: ONNX never mixes them without a Cast, so the importer never does.
 */
export function checkSameKind(op: string, inputs: readonly TensorType[], ctx: InferContext): boolean {
  const kinds = inputs.map((t) => (isFloat(t.dtype) ? "float" : "integer"));
  if (kinds.every((k) => k === kinds[0])) return true;
  ctx.diagnostics.error("PAR2106", `\`${op}\` needs operands of one kind, got ${inputs.map((t) => t.dtype).join(" and ")}`, {
    pos: ctx.pos,
    expected: "all float or all integer operands",
    hint: "cast one operand first",
  });
  return false;
}

/**
 * trilu(x, upper = true, k = 0): the upper (column − row ≥ k) or lower (column − row ≤ k)
 * triangle of the last two axes, zeros elsewhere (ONNX Trilu, torch.triu / tril; causal
 * masks). Every axis splits: a task builds the mask from its GLOBAL row and column
 * positions (its box), so any split keeps exactly the whole op's triangle.
 */
export const trilu: OpEntry = {
  name: "trilu",
  family: "elementwise",
  doc: "The upper (column − row ≥ k) or lower (column − row ≤ k) triangle of the last two axes, zeros elsewhere (ONNX Trilu, torch.triu/tril).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [
    { name: "upper", kind: "bool", default: true, doc: "keep the upper triangle (triu) or the lower one (tril)" },
    { name: "k", kind: "int", default: 0, doc: "the diagonal's offset: positive moves it right" },
  ],
  outputNames: ["y"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const r = x.shape.length;
    if (r < 2) {
      ctx.diagnostics.error("PAR2108", `\`trilu\` needs a matrix (rank ≥ 2), got ${fmtShape(x.shape)}`, { pos: ctx.pos, expected: "a tensor [..., rows, columns]" });
      return undefined;
    }
    return {
      outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
      params: NO_PARAMS,
      space: activationSpace(x),
      inputMaps: [identityMaps(r)],
      paramMaps: NO_PARAMS,
      outputMaps: [identityMaps(r)],
      // A compare and a select per element; backward the same select of dy.
      flops: (e) => ({ forward: 2 * product(e), backward: product(e) }),
    };
  },
  forward(tf, { inputs, attrs, shard }) {
    const [x] = inputs;
    const r = x.rank;
    const [r0, r1] = [shard.box.lo[r - 2], shard.box.hi[r - 2]];
    const [c0, c1] = [shard.box.lo[r - 1], shard.box.hi[r - 1]];
    const k = attrs.k as number;
    // The mask is computed on the host from global positions: constant, so nothing flows back into it.
    const keep = new Uint8Array((r1 - r0) * (c1 - c0));
    for (let i = r0; i < r1; i++) for (let j = c0; j < c1; j++) keep[(i - r0) * (c1 - c0) + (j - c0)] = (attrs.upper ? j - i >= k : j - i <= k) ? 1 : 0;
    const mask = tf.cast(tf.tensor2d(keep, [r1 - r0, c1 - c0], "int32"), "bool");
    return [tf.where(tf.broadcastTo(mask, x.shape), x, tf.zerosLike(x))];
  },
};

export const ELEMENTWISE_OPS: OpEntry[] = [...UNARY.map(unaryEntry), ...BINARY.map(binaryEntry), trilu];
