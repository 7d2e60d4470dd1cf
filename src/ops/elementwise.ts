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
];

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
}

const BINARY: BinaryDef[] = [
  { name: "add", doc: "a + b (broadcasting)", fwd: 1, bwd: 0, fn: (tf, a, b) => tf.add(a, b) },
  { name: "sub", doc: "a - b (broadcasting)", fwd: 1, bwd: 1, fn: (tf, a, b) => tf.sub(a, b) },
  // Backward: da = dy·b, db = dy·a.
  { name: "mul", doc: "a · b (broadcasting)", fwd: 1, bwd: 2, fn: (tf, a, b) => tf.mul(a, b) },
  // Backward: da = dy/b, db = -dy·a/b².
  { name: "div", doc: "a / b (broadcasting)", fwd: 4, bwd: 7, fn: (tf, a, b) => tf.div(a, b) },
  // exp(b·log a); backward da = dy·b·a^(b-1), db = dy·y·log a.
  { name: "pow", doc: "a ^ b (broadcasting; a > 0 unless b is an integer)", fwd: 9, bwd: 14, fn: (tf, a, b) => tf.pow(a, b) },
  // Backward: a compare and a select per input. tfjs's Maximum/Minimum gradients do not
  // sum over broadcast axes, so both operands are broadcast explicitly first.
  { name: "maximum", doc: "max(a, b) (broadcasting)", fwd: 1, bwd: 2, fn: (tf, a, b) => tf.maximum(...broadcastBoth(tf, a, b)) },
  { name: "minimum", doc: "min(a, b) (broadcasting)", fwd: 1, bwd: 2, fn: (tf, a, b) => tf.minimum(...broadcastBoth(tf, a, b)) },
];

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
    inputs: [{ name: "a" }, { name: "b" }],
    attrs: [],
    outputNames: ["y"],
    infer(inputs, _attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [a, b] = inputs;
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
    forward: (tf, { inputs }) => [def.fn(tf, inputs[0], inputs[1])],
  };
}

export const ELEMENTWISE_OPS: OpEntry[] = [...UNARY.map(unaryEntry), ...BINARY.map(binaryEntry)];
