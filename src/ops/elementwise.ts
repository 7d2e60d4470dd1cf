// Elementwise ops. Unary ops are one line each in UNARY; binary ops broadcast NumPy-style
// (right-aligned; a size-1 axis of an input is read whole by every task).

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AxisMap, OpEntry, TF } from "./contract.js";
import { activationSpace, fmtShape, identityMaps, product } from "./common.js";

interface UnaryDef {
  name: string;
  doc: string;
  /** FLOPs per element, forward and backward (documented estimates). */
  fwd: number;
  bwd: number;
  fn: (tf: TF, x: Tensor) => Tensor;
}

const UNARY: UnaryDef[] = [
  { name: "relu", doc: "max(x, 0)", fwd: 1, bwd: 1, fn: (tf, x) => tf.relu(x) },
];

function unaryEntry(def: UnaryDef): OpEntry {
  return {
    name: def.name,
    family: "elementwise",
    doc: def.doc,
    inputs: [{ name: "x" }],
    attrs: [],
    outputNames: ["y"],
    infer(inputs, _attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [x] = inputs;
      return {
        outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
        params: [],
        space: activationSpace(x),
        inputMaps: [identityMaps(x.shape.length)],
        paramMaps: [],
        outputMaps: [identityMaps(x.shape.length)],
        flops: (e) => ({ forward: def.fwd * product(e), backward: def.bwd * product(e) }),
      };
    },
    forward: (tf, { inputs }) => [def.fn(tf, inputs[0])],
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
];

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
function broadcastMaps(input: readonly number[], out: readonly number[]): AxisMap[] {
  const offset = out.length - input.length;
  return input.map((size, i): AxisMap => (size === out[i + offset] ? { kind: "iter", dim: i + offset } : { kind: "full" }));
}

function binaryEntry(def: BinaryDef): OpEntry {
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
      return {
        outputs: [out],
        params: [],
        space: activationSpace(out),
        inputMaps: [broadcastMaps(a.shape, shape), broadcastMaps(b.shape, shape)],
        paramMaps: [],
        outputMaps: [identityMaps(shape.length)],
        flops: (e) => ({ forward: def.fwd * product(e), backward: def.bwd * product(e) }),
      };
    },
    forward: (tf, { inputs }) => [def.fn(tf, inputs[0], inputs[1])],
  };
}

export const ELEMENTWISE_OPS: OpEntry[] = [...UNARY.map(unaryEntry), ...BINARY.map(binaryEntry)];
