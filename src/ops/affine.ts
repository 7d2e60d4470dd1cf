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
import type { AxisMap, InferContext, OpEntry, OpSignature, ParallelDim, TF } from "./contract.js";
import { activationSpace, fmtShape, identityMaps, product } from "./common.js";
import type { TensorType } from "../core/tensor.js";

/** The signature shared by bias_add and scale: x plus one broadcast parameter. */
function broadcastParamSig(op: string, x: TensorType, shape: number[], init: "zeros" | "ones", ctx: InferContext): OpSignature | undefined {
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
    params: [{ name: op === "bias_add" ? "bias" : "weight", shape: [...shape], dims: shape.map((_, j) => x.dims[off + j] ?? `d${j}`), init: { kind: init } }],
    space,
    inputMaps: [identityMaps(r)],
    paramMaps: [paramMap],
    outputMaps: [identityMaps(r)],
    // One add or multiply per element; backward: dx (a copy or a multiply) and the
    // parameter gradient (a multiply-add per element, summed over broadcast axes).
    flops: (e) => ({ forward: product(e), backward: 2 * product(e) }),
  };
}

function checkShapeAttr(op: string, shape: number[], ctx: InferContext): boolean {
  if (shape.every((s) => Number.isInteger(s) && s >= 1)) return true;
  ctx.diagnostics.error("PAR2109", `\`${op}\` parameter shape ${fmtShape(shape)} has a non-positive dim`, { pos: ctx.pos, expected: "dims ≥ 1" });
  return false;
}

/** An elementwise op with one learned, broadcast parameter of shape `shape`. */
function paramElementwise(name: string, doc: string, init: "zeros" | "ones", fn: (tf: TF, x: Tensor, p: Tensor) => Tensor): OpEntry {
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
      return broadcastParamSig(name, inputs[0], shape, init, ctx);
    },
    forward: (tf, { inputs, params }) => [fn(tf, inputs[0], params[0])],
  };
}

export const biasAdd = paramElementwise(
  "bias_add",
  "y = x + b with a learned b of shape `shape`, broadcast against x's trailing axes (ONNX Add of an initializer).",
  "zeros",
  (tf, x, b) => tf.add(x, b),
);

export const scale = paramElementwise(
  "scale",
  "y = x · s with a learned s of shape `shape`, broadcast against x's trailing axes (ONNX Mul by an initializer).",
  "ones",
  (tf, x, s) => tf.mul(x, s),
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

export const AFFINE_OPS: OpEntry[] = [biasAdd, scale, scaleShift];
