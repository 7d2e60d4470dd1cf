// Binary elementwise ONNX ops. Two computed tensors map to par's binary op. par has no
// constant-tensor operand, so with one constant operand a scalar becomes scale_shift
// attributes (or a cheaper unary op) and a float tensor becomes a parameter of bias_add
// or scale, initialised with the constant.

import type { HandlerTable, NodeContext, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { broadcast, volumeOf } from "../fold.js";
import { constDims, constOf, type TensorVal, type Val } from "../values.js";

interface ConstOperand {
  /** The computed operand. */
  x: string;
  k: Val;
  tensorFirst: boolean;
  /** The shape of the parameter that holds k. */
  shape: number[];
}

/** x ∘ s (s ∘ x unless tensorFirst) in par; undefined when par has no form for it. */
type ScalarForm = (cx: NodeContext, x: string, s: number, tensorFirst: boolean) => boolean | undefined;
/** x ∘ k for a float tensor constant k; undefined when par has no form for it. */
type TensorForm = (cx: NodeContext, o: ConstOperand) => boolean | undefined;

/** Leading size-1 axes removed (they only broadcast), keeping at least one axis. */
function trimOnes(dims: number[]): number[] {
  let i = 0;
  while (i < dims.length - 1 && dims[i] === 1) i++;
  return dims.length === 0 ? [1] : dims.slice(i);
}

function binary(parOp: string, scalarForm?: ScalarForm, tensorForm?: TensorForm): OnnxOpHandler {
  return (cx) => {
    const op = cx.node.opType;
    const [a, b] = cx.inputs;
    if (cx.inputs.length !== 2 || !a || !b) throw new Unmappable("PAR6016", `${op} with ${cx.inputs.length} inputs (par's binary ops take two)`);
    if (a.kind === "tensor" && b.kind === "tensor") return cx.out(cx.emit(parOp, {}, [a.id, b.id]));
    // Both constant would have folded: exactly one operand is computed.
    const tensorFirst = a.kind === "tensor";
    const x = ((tensorFirst ? a : b) as TensorVal).id;
    const k = tensorFirst ? b : a;
    const dims = constDims(k);
    // Only a one-element constant is read here: a large weight stays unread (and unfolded).
    const scalar = volumeOf(dims) === 1 ? constOf(k)?.data[0] : undefined;
    // The constant's shape may widen the output (x [C] + k [N, C]): par's affine ops keep x's shape.
    if (broadcast(cx.shape(x), dims)?.join(",") !== cx.shape(x).join(",")) throw new Unmappable("PAR6016", `${op} with a constant of shape [${dims.join(", ")}] that broadcasts the tensor [${cx.shape(x).join(", ")}] to a larger shape`);
    if (scalar !== undefined) {
      const mapped = scalarForm?.(cx, x, scalar, tensorFirst);
      if (mapped !== undefined) return mapped;
      throw new Unmappable("PAR6016", `${op} of ${tensorFirst ? "a tensor and the constant" : "the constant and a tensor"} ${scalar} has no par form`);
    }
    const operand: ConstOperand = { x, k, tensorFirst, shape: trimOnes(dims) };
    const mapped = tensorForm?.(cx, operand);
    if (mapped !== undefined) return mapped;
    throw new Unmappable("PAR6016", `${op} with a constant tensor operand of shape [${dims.join(", ")}] has no par form`);
  };
}

/** The par op that takes a constant operand as its parameter, and that parameter's name. */
interface ParamOp {
  op: string;
  param: string;
}
const BIAS_ADD: ParamOp = { op: "bias_add", param: "bias" };
const SCALE: ParamOp = { op: "scale", param: "weight" };

/** par op `with_.op` on `input` (x by default) with the constant (re-laid out by `layout`) as its parameter. */
function withParam(cx: NodeContext, with_: ParamOp, o: ConstOperand, layout?: (w: Float32Array) => Float32Array, input = o.x): string[] | undefined {
  const ids = cx.emit(with_.op, { shape: o.shape }, [input]);
  if (ids) cx.setWeight(cx.producer(ids[0]), with_.param, o.k, `${cx.node.opType} operand`, layout);
  return ids;
}

const negated = (w: Float32Array): Float32Array => w.map((v) => -v);
const reciprocal = (w: Float32Array): Float32Array => w.map((v) => 1 / v);

const scaleShift = (cx: NodeContext, x: string, scale: number, shift: number): boolean => cx.out(cx.emit("scale_shift", { scale, shift }, [x]));

const add = binary(
  "add",
  (cx, x, s) => scaleShift(cx, x, 1, s),
  (cx, o) => cx.out(withParam(cx, BIAS_ADD, o)),
);

const sub = binary(
  "sub",
  (cx, x, s, tensorFirst) => (tensorFirst ? scaleShift(cx, x, 1, -s) : scaleShift(cx, x, -1, s)),
  (cx, o) => {
    if (o.tensorFirst) return cx.out(withParam(cx, BIAS_ADD, o, negated));
    // k − x = (−x) + k
    const neg = cx.emit("scale_shift", { scale: -1, shift: 0 }, [o.x], `${cx.base}_neg`);
    if (!neg) return false;
    return cx.out(withParam(cx, BIAS_ADD, o, undefined, neg[0]));
  },
);

const mul = binary(
  "mul",
  (cx, x, s) => scaleShift(cx, x, s, 0),
  (cx, o) => cx.out(withParam(cx, SCALE, o)),
);

const div = binary(
  "div",
  (cx, x, s, tensorFirst) => (tensorFirst ? scaleShift(cx, x, 1 / s, 0) : undefined),
  (cx, o) => (o.tensorFirst ? cx.out(withParam(cx, SCALE, o, reciprocal)) : undefined),
);

/** Powers with a par op of their own; others have no par form. */
const pow = binary("pow", (cx, x, s, tensorFirst) => {
  if (!tensorFirst) return undefined;
  if (s === 1) return cx.out([x]);
  if (s === 2) return cx.out(cx.emit("square", {}, [x]));
  if (s === 0.5) return cx.out(cx.emit("sqrt", {}, [x]));
  if (s === -0.5) return cx.out(cx.emit("rsqrt", {}, [x]));
  return undefined;
});

/** Max and Min are variadic in ONNX: of one tensor, they are that tensor. */
const variadic =
  (handler: OnnxOpHandler): OnnxOpHandler =>
  (cx) =>
    cx.inputs.length === 1 ? cx.out([cx.tensorIn(0)]) : handler(cx);

/** x + constant k, named `name`: a scalar becomes scale_shift, a tensor a bias_add parameter. */
export function addConstant(cx: NodeContext, x: string, k: Val, name: string): string[] | undefined {
  const dims = constDims(k);
  const kc = volumeOf(dims) === 1 ? constOf(k) : undefined;
  if (kc) return cx.emit("scale_shift", { scale: 1, shift: kc.data[0] }, [x], name);
  const ids = cx.emit("bias_add", { shape: trimOnes(dims) }, [x], name);
  if (ids) cx.setWeight(cx.producer(ids[0]), "bias", k, `${cx.node.opType} operand`);
  return ids;
}

export const BINARY_HANDLERS: HandlerTable = {
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Pow: pow,
  Max: variadic(binary("maximum")),
  Min: variadic(binary("minimum")),
};
