// Affine elementwise ops that imported models need and par's language had no word for:
// ONNX graphs add and multiply by constant tensors (`Add(x, bias)` after a MatMul that is
// not a Gemm, `Mul(x, gamma)` in layer-scale blocks, `Mul(x, 0.125)` for attention
// scaling). par has no constant-tensor op, so
//   bias_add:    y = x + b, b a learned parameter of shape `shape` broadcast against x's
//                trailing axes (NumPy rules, right-aligned);
//   scale:       y = x · s, s a learned parameter broadcast the same way;
//   scale_shift: y = x · scale + shift with two float attributes (no parameters), for
//                scalar constants that are not weights (eps, 0.5, 1/√d).
// Parallel dims are the activation's own; an axis the parameter carries at full size is a
// `parameter` dim (a task holds the matching slice of b or s), a size-1 parameter axis is
// read whole. Nothing is summed over, so there are no reductions. Backward: autodiff.

import { checkInputs } from "./attrs.js";
import type { Tensor } from "@tensorflow/tfjs-core";
import type { AxisMap, InferContext, InitSpec, OpEntry, OpSignature, ParallelDim, TF } from "./contract.js";
import { activationSpace, fmtShape, identityMaps, product } from "./common.js";
import type { TensorType } from "../core/tensor.js";
import { above } from "./elementwise.js";

/** The parameter of an op with one broadcast parameter: its name, init and FLOPs per element. */
interface BroadcastParam {
  name: string;
  init: InitSpec;
  fwd: number;
  bwd: number;
}

/** The signature shared by bias_add, scale and prelu: x plus one broadcast parameter. */
function broadcastParamSig(op: string, x: TensorType, shape: number[], p: BroadcastParam, ctx: InferContext): OpSignature | undefined {
  const r = x.shape.length;
  const pr = shape.length;
  const off = r - pr;
  const bad = pr > r || shape.some((s, j) => s !== 1 && s !== x.shape[off + j]);
  if (bad) {
    ctx.diagnostics.error("PAR2107", `\`${op}\` parameter ${fmtShape(shape)} does not broadcast against the input ${fmtShape(x.shape)}`, {
      pos: ctx.pos,
      expected: `a shape of rank ≤ ${r} whose axes equal the input's trailing axes or are 1`,
    });
    return undefined;
  }
  const carried = new Set(shape.map((s, j) => (s === x.shape[off + j] && s !== 1 ? off + j : -1)).filter((i) => i >= 0));
  const space: ParallelDim[] = activationSpace(x).map((d, i) => (carried.has(i) && d.cls !== "sample" ? { ...d, cls: "parameter" } : d));
  const paramMap: AxisMap[] = shape.map((s, j) => (carried.has(off + j) ? { kind: "iter", dim: off + j } : { kind: "full" }));
  return {
    outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
    params: [{ name: p.name, shape: [...shape], dims: shape.map((_, j) => x.dims[off + j] ?? `d${j}`), init: p.init }],
    space,
    inputMaps: [identityMaps(r)],
    paramMaps: [paramMap],
    outputMaps: [identityMaps(r)],
    flops: (e) => ({ forward: p.fwd * product(e), backward: p.bwd * product(e) }),
  };
}

function checkShapeAttr(op: string, shape: number[], ctx: InferContext): boolean {
  if (shape.every((s) => Number.isInteger(s) && s >= 1)) return true;
  ctx.diagnostics.error("PAR2109", `\`${op}\` parameter shape ${fmtShape(shape)} has a non-positive dim`, { pos: ctx.pos, expected: "dims ≥ 1" });
  return false;
}

/** An elementwise op with one learned, broadcast parameter of shape `shape`. */
function paramElementwise(name: string, doc: string, p: BroadcastParam, fn: (tf: TF, x: Tensor, p: Tensor) => Tensor): OpEntry {
  return {
    name,
    family: "elementwise",
    doc,
    inputs: [{ name: "x" }],
    attrs: [{ name: "shape", kind: "ints", doc: "the parameter's shape (right-aligned against x; axes equal to x's or 1)" }],
    outputNames: ["y"],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const shape = attrs.shape as number[];
      if (!checkShapeAttr(name, shape, ctx)) return undefined;
      return broadcastParamSig(name, inputs[0], shape, p, ctx);
    },
    forward: (tf, { inputs, params }) => [fn(tf, inputs[0], params[0])],
  };
}

// bias_add and scale: one add or multiply per element; backward dx (a copy or a multiply)
// and the parameter gradient (a multiply-add per element, summed over broadcast axes).
export const biasAdd = paramElementwise(
  "bias_add",
  "y = x + b with a learned b of shape `shape`, broadcast against x's trailing axes (ONNX Add of an initializer).",
  { name: "bias", init: { kind: "zeros" }, fwd: 1, bwd: 2 },
  (tf, x, b) => tf.add(x, b),
);

export const scale = paramElementwise(
  "scale",
  "y = x · s with a learned s of shape `shape`, broadcast against x's trailing axes (ONNX Mul by an initializer).",
  { name: "weight", init: { kind: "ones" }, fwd: 1, bwd: 2 },
  (tf, x, s) => tf.mul(x, s),
);

// prelu: a compare, a multiply and a select per element; backward the select of dy and
// the slope gradient (a multiply-add per element). The slope starts at 0 (a ReLU), since par's
// inits have no constant 0.25 (torch's); an import hands over the trained slope.
export const prelu = paramElementwise(
  "prelu",
  "y = x for x > 0, slope·x otherwise, with a learned slope of shape `shape` broadcast against x's trailing axes (torch nn.PReLU, ONNX PRelu).",
  { name: "slope", init: { kind: "zeros" }, fwd: 3, bwd: 3 },
  (tf, x, slope) => tf.where(above(tf, x, 0), x, tf.mul(x, slope)),
);

export const scaleShift: OpEntry = {
  name: "scale_shift",
  family: "elementwise",
  doc: "y = x · scale + shift with constant scalars (ONNX arithmetic with scalar constants).",
  inputs: [{ name: "x" }],
  attrs: [
    { name: "scale", kind: "float", default: 1, doc: "constant factor" },
    { name: "shift", kind: "float", default: 0, doc: "constant added after scaling" },
  ],
  outputNames: ["y"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const r = x.shape.length;
    return {
      outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
      params: [],
      space: activationSpace(x),
      inputMaps: [identityMaps(r)],
      paramMaps: [],
      outputMaps: [identityMaps(r)],
      // A multiply and an add per element; backward one multiply.
      flops: (e) => ({ forward: 2 * product(e), backward: product(e) }),
    };
  },
  forward(tf, { inputs, attrs }) {
    const a = attrs.scale as number;
    const b = attrs.shift as number;
    let y = a === 1 ? tf.clone(inputs[0]) : tf.mul(inputs[0], a);
    if (b !== 0) y = tf.add(y, b);
    return [y];
  },
};

export const AFFINE_OPS: OpEntry[] = [biasAdd, scale, scaleShift, prelu];
