// linear: y[..., m] = x[..., k] · W[k, m] + b[m]  (PyTorch nn.Linear; weight stored [in, out]).
// Parallel dims: sample (and length/attrN for the other leading axes), channel (parameter:
// each task holds a column block of W), in_channel (reduction: row blocks of W give partial sums).

import type { OpEntry } from "./contract.js";
import { checkInputs } from "./attrs.js";
import { activationDimNames, fmtShape, iter, product } from "./common.js";
import type { AxisMap, OpSignature, ParallelDim } from "./contract.js";

/** The parts of a signature that do not depend on the op's name, shared by equal calls (never mutated; frozen). */
type SharedParts = Pick<OpSignature, "params" | "space" | "inputMaps" | "paramMaps" | "outputMaps">;
const SHARED = new Map<string, SharedParts>();

function sharedParts(lead: number[], k: number, m: number, useBias: boolean): SharedParts {
  const key = `${lead.join(",")}|${k}|${m}|${useBias}`;
  let parts = SHARED.get(key);
  if (parts !== undefined) return parts;
  const leadNames = activationDimNames(lead.length + 1).slice(0, lead.length);
  const space: ParallelDim[] = [
    ...lead.map((size, i): ParallelDim => ({ name: leadNames[i], cls: i === 0 ? "sample" : "attribute", size })),
    { name: "channel", cls: "parameter", size: m },
    { name: "in_channel", cls: "reduction", size: k },
  ];
  const L = lead.length;
  const bound = 1 / Math.sqrt(k);
  parts = deepFreeze({
    params: [
      { name: "weight", shape: [k, m], dims: ["in", "out"], init: { kind: "uniform", bound } },
      ...(useBias ? [{ name: "bias", shape: [m], dims: ["out"], init: { kind: "uniform" as const, bound } }] : []),
    ],
    space,
    inputMaps: [[...lead.map((_, i) => iter(i)), iter(L + 1)]],
    paramMaps: [[iter(L + 1), iter(L)], ...(useBias ? [[iter(L)]] : [])],
    outputMaps: [[...lead.map((_, i) => iter(i)), iter(L)]],
  } satisfies SharedParts);
  if (SHARED.size >= 4096) SHARED.clear();
  SHARED.set(key, parts);
  return parts;
}

function deepFreeze<T>(x: T): T {
  if (typeof x === "object" && x !== null && !Object.isFrozen(x)) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

// 2 FLOPs per multiply-add; backward computes dX and dW, twice the forward.
const flops = (e: readonly number[]): { forward: number; backward: number } => ({ forward: 2 * product(e), backward: 4 * product(e) });

export const linear: OpEntry = {
  name: "linear",
  family: "linear algebra",
  doc: "Fully connected layer over the last axis: y = x·W + b.",
  roles: ["fully-connected"],
  inputs: [{ name: "x" }],
  attrs: [
    { name: "out", kind: "int", min: 1, doc: "output features" },
    { name: "bias", kind: "bool", default: true, doc: "add a learned bias" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (x.shape.length < 2) {
      ctx.diagnostics.error("PAR2108", `\`linear\` needs an input of rank ≥ 2 ([batch, ..., features]), got ${fmtShape(x.shape)}`, {
        pos: ctx.pos,
        expected: "a tensor [batch, ..., features]",
        hint: "reshape or flatten the input first",
      });
      return undefined;
    }
    const k = x.shape[x.shape.length - 1];
    const m = attrs.out as number;
    const lead = x.shape.slice(0, -1);
    const parts = sharedParts(lead, k, m, attrs.bias as boolean);
    return {
      outputs: [{ dtype: x.dtype, shape: [...lead, m], dims: [...x.dims.slice(0, -1), `${ctx.opName}.out`] }],
      params: parts.params,
      space: parts.space,
      inputMaps: parts.inputMaps,
      paramMaps: parts.paramMaps,
      outputMaps: parts.outputMaps,
      flops,
    };
  },
  forward(tf, { inputs, params, attrs, shard }) {
    const [x] = inputs;
    const [w, b] = params;
    const k = x.shape[x.shape.length - 1];
    const lead = x.shape.slice(0, -1);
    let y = tf.matMul(tf.reshape(x, [-1, k]), w);
    // A bias is added once: only by the task that is first along the reduction dim.
    if (attrs.bias && b && shard.firstAlongReductions) y = tf.add(y, b);
    return [tf.reshape(y, [...lead, w.shape[1] as number])];
  },
};
