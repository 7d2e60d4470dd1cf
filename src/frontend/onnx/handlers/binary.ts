// Binary elementwise ONNX ops. Two computed tensors map to par's binary op. With one
// constant operand, a scalar becomes scale_shift attributes (or a cheaper unary op) and a
// float tensor a parameter of bias_add or scale, initialised with the constant; other
// forms take the constant as an operand of its own (NodeContext.operand).

import type { HandlerTable, NodeContext, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { isFloat } from "../../../core/tensor.js";
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
    /** The constant as an operand of its own (a `constant` or `param` op): the general form. */
    const general = (): boolean => cx.out(cx.emit(parOp, {}, [cx.operand(0), cx.operand(1)]));
    // Integer arithmetic (position ids, index offsets) has no affine form: par's affine ops are float.
    if (!isFloat(cx.type(x).dtype)) return general();
    const dims = constDims(k);
    // Only a one-element constant is read here: a large weight stays unread (and unfolded).
    const scalar = volumeOf(dims) === 1 ? constOf(k)?.data[0] : undefined;
    // The constant's shape may widen the output (x [C] + k [N, C]): par's affine ops keep x's shape.
    if (broadcast(cx.shape(x), dims)?.join(",") !== cx.shape(x).join(",")) return general();
    if (scalar !== undefined) return scalarForm?.(cx, x, scalar, tensorFirst) ?? general();
    const operand: ConstOperand = { x, k, tensorFirst, shape: trimOnes(dims) };
    return tensorForm?.(cx, operand) ?? general();
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

/**
 * Max, Min, Sum and Mean are variadic in ONNX: of one tensor, they are that tensor; of more
 * than two, a chain of the binary op (`<node>_1`, `<node>_2`, ... and the node's own name
 * last). Mean divides the sum by the count.
 */
const variadic =
  (parOp: string, two: OnnxOpHandler, mean = false): OnnxOpHandler =>
  (cx) => {
    const n = cx.inputs.length;
    if (n === 1 && !mean) return cx.alias(cx.operand(0));
    if (n === 2 && !mean) return two(cx);
    let acc = cx.operand(0);
    for (let i = 1; i < n; i++) {
      const last = i === n - 1 && !mean;
      const ids = cx.emit(parOp, {}, [acc, cx.operand(i)], last ? cx.base : `${cx.base}_${i}`);
      if (!ids) return false;
      acc = ids[0];
    }
    return mean ? cx.out(cx.emit("scale_shift", { scale: 1 / n, shift: 0 }, [acc])) : cx.alias(acc);
  };

/** Mod: fmod = 1 is C's fmod (the sign of the dividend), required for floats; fmod = 0 Python's %. */
const mod: OnnxOpHandler = (cx) => binary(cx.attr.int("fmod", 0) === 1 ? "fmod" : "mod")(cx);

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
  Add: { map: add, par: "`add`; a scalar constant → `scale_shift`; a float tensor constant → `bias_add` holding it; integers, or a constant that widens the output → `add` with a `constant` operand" },
  Sub: { map: sub, par: "`sub`; a scalar constant → `scale_shift`; constant − x → `scale_shift`(−1) + `bias_add`; x − constant → `bias_add` of −constant" },
  Mul: { map: mul, par: "`mul`; a scalar constant → `scale_shift`; a float tensor constant → `scale` holding it" },
  Div: { map: div, par: "`div` (integers truncate); x ÷ scalar → `scale_shift`; x ÷ tensor constant → `scale` holding 1/c; constant ÷ x → `div` with a `constant` operand" },
  Pow: { map: pow, par: "`pow`; x^c for c ∈ {1, 2, 0.5, −0.5} → alias, `square`, `sqrt`, `rsqrt`" },
  Max: { map: variadic("maximum", binary("maximum")), par: "`maximum` (a chain for more than two inputs; one input is an alias)" },
  Min: { map: variadic("minimum", binary("minimum")), par: "`minimum` (a chain for more than two inputs; one input is an alias)" },
  Sum: { map: variadic("add", binary("add")), par: "a chain of `add`" },
  Mean: { map: variadic("add", binary("add"), true), par: "a chain of `add` and `scale_shift`(1/n)" },
  Mod: { map: mod, par: "`fmod` (fmod = 1, C's remainder) or `mod` (fmod = 0, Python's %)" },
};
