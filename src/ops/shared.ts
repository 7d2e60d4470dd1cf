// Shared weights. A weight normally belongs to the op that creates it (`linear` makes its
// W and b). These ops make a weight an ordinary tensor instead, so that several ops can
// read it (a tied LM head reads the token embedding; an unrolled LSTM reads the same
// layer weights in every time chunk):
//
// - `param`: no inputs; holds one parameter and outputs it. Its gradient is whatever its
//   consumers send back, summed, exactly as for any activation read by several ops, so
//   the lowering and runtime need nothing new: the transfers that carry the weight to its
//   readers and the gradient accumulation that adds their contributions already exist.
// - `gather`: an embedding lookup whose table is an input (read by `param`).
// - `lstm_chunk`: the LSTM recurrence of src/ops/recurrent.ts over a chunk of time steps
//   with weights and initial state as inputs, returning the final state for the next chunk.

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AxisMap, InitSpec, OpEntry, ParallelDim } from "./contract.js";
import { activationDimNames, fmtShape, iter, product } from "./common.js";
import { scatterRows } from "./embedding.js";
import { lstmFlops, lstmSteps } from "./recurrent.js";

const full: AxisMap = { kind: "full" };

/** Names of a param's iteration dims: rows, cols for a matrix; axis0, axis1, ... otherwise. */
function paramDimNames(rank: number): string[] {
  if (rank === 1) return ["rows"];
  if (rank === 2) return ["rows", "cols"];
  return Array.from({ length: rank }, (_, i) => `axis${i}`);
}

/** The init of a `param`: scale 0 means the default (normal: 0.02, uniform: 1/sqrt(last axis)). */
export function paramInit(shape: readonly number[], init: string, scale: number): InitSpec {
  switch (init) {
    case "zeros":
      return { kind: "zeros" };
    case "ones":
      return { kind: "ones" };
    case "normal":
      return { kind: "normal", std: scale > 0 ? scale : 0.02 };
    default:
      return { kind: "uniform", bound: scale > 0 ? scale : 1 / Math.sqrt(shape[shape.length - 1]) };
  }
}

export const param: OpEntry = {
  name: "param",
  family: "shared weights",
  doc: "A learned weight of the given shape as a tensor other ops read (shared weights); no inputs, output = the weight.",
  inputs: [],
  attrs: [
    { name: "shape", kind: "ints", min: 1, doc: "the weight's shape" },
    { name: "init", kind: "string", default: "uniform", choices: ["uniform", "normal", "zeros", "ones"], doc: "initialisation: U(-scale, scale), N(0, scale²), zeros or ones" },
    { name: "scale", kind: "float", default: 0, min: 0, doc: "uniform bound or normal std; 0 = default (normal 0.02 as GPT-2, uniform 1/sqrt(last axis), torch's fan_in for a [out, in] weight)" },
  ],
  outputNames: ["w"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const shape = attrs.shape as number[];
    if (shape.length === 0) {
      ctx.diagnostics.error("PAR2109", "`param` needs a shape of rank ≥ 1, got []", {
        pos: ctx.pos,
        expected: "shape = [n, ...]",
        hint: "a scalar weight is shape = [1]",
      });
      return undefined;
    }
    const names = paramDimNames(shape.length);
    const space: ParallelDim[] = shape.map((size, i) => ({ name: names[i], cls: "parameter", size }));
    const maps = shape.map((_, i) => iter(i));
    return {
      outputs: [{ dtype: "f32", shape: [...shape], dims: shape.map((_, i) => `${ctx.opName}.${names[i]}`) }],
      params: [{ name: "weight", shape: [...shape], dims: names, init: paramInit(shape, attrs.init as string, attrs.scale as number) }],
      space,
      inputMaps: [],
      paramMaps: [maps],
      outputMaps: [maps],
      // A copy out and a copy of the gradient back: one op per element each way.
      flops: (e) => ({ forward: product(e), backward: product(e) }),
    };
  },
  // Clones, so that the runtime may dispose the output (or the gradient) independently.
  forward: (tf, { params }) => [tf.clone(params[0])],
  backward: (tf, { dOutputs }) => ({ dInputs: [], dParams: [tf.clone(dOutputs[0])] }),
};

/**
 * A fixed tensor: a mask, an index table or a scalar that an imported graph computes from
 * constants. Its values are held as a parameter so that they travel like weights (an
 * importer hands them over, a plan carries them, each device takes its region), but its
 * gradient is always zero, so no optimizer ever moves them. An integer constant (a bool
 * mask is i32 0/1) keeps its values in that f32 parameter and outputs them cast to i32:
 * exact up to 2^24, which an importer checks. Without given values it starts as zeros.
 */
export const constant: OpEntry = {
  name: "constant",
  family: "shared weights",
  doc: "A fixed tensor (mask, index table, scalar) of the given shape: its values are a parameter that is never trained; dtype int outputs them as i32.",
  inputs: [],
  attrs: [
    { name: "shape", kind: "ints", min: 1, default: [], doc: "the tensor's shape; [] is a scalar" },
    { name: "dtype", kind: "string", default: "float", choices: ["float", "int"], doc: "f32, or i32 (values held as f32, exact up to 2^24)" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const shape = attrs.shape as number[];
    const names = paramDimNames(shape.length);
    const space: ParallelDim[] = shape.map((size, i) => ({ name: names[i], cls: "parameter", size }));
    const maps = shape.map((_, i) => iter(i));
    return {
      outputs: [{ dtype: attrs.dtype === "int" ? "i32" : "f32", shape: [...shape], dims: shape.map((_, i) => `${ctx.opName}.${names[i]}`) }],
      params: [{ name: "value", shape: [...shape], dims: names, init: { kind: "zeros" } }],
      space,
      inputMaps: [],
      paramMaps: [maps],
      outputMaps: [maps],
      // A copy out; nothing flows back.
      flops: (e) => ({ forward: product(e), backward: 0 }),
    };
  },
  forward: (tf, { params, attrs }) => [attrs.dtype === "int" ? tf.cast(params[0], "int32") : tf.clone(params[0])],
  // Never trained: the gradient of its value is zero whatever its readers send back.
  backward: (tf, { params }) => ({ dInputs: [], dParams: [tf.zerosLike(params[0])] }),
};

export const gather: OpEntry = {
  name: "gather",
  family: "shared weights",
  doc: "Embedding lookup with the table as an input: rows of table[vocab, dim] at integer indices[batch, ...] → [batch, ..., dim].",
  roles: ["sequence"],
  inputs: [{ name: "table" }, { name: "indices", dtype: "int", role: "indices" }],
  attrs: [],
  outputNames: ["y"],
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [table, ix] = inputs;
    if (table.shape.length !== 2 || ix.shape.length < 1) {
      ctx.diagnostics.error("PAR2108", `\`gather\` needs a table [vocab, dim] and indices of rank ≥ 1, got table ${fmtShape(table.shape)}, indices ${fmtShape(ix.shape)}`, {
        pos: ctx.pos,
        expected: "gather(table[vocab, dim], indices[batch, ...])",
      });
      return undefined;
    }
    const r = ix.shape.length;
    const dim = table.shape[1];
    const names = activationDimNames(r + 1);
    const space: ParallelDim[] = [
      ...ix.shape.map((size, i): ParallelDim => ({ name: names[i], cls: i === 0 ? "sample" : "attribute", size })),
      // The table's columns: a channel shard reads (and sends the gradient of) a column block.
      { name: names[r], cls: "parameter", size: dim },
    ];
    return {
      outputs: [{ dtype: table.dtype, shape: [...ix.shape, dim], dims: [...ix.dims, table.dims[1]] }],
      params: [],
      space,
      // Every task reads every row (any index may occur): vocab is read whole.
      inputMaps: [[full, iter(r)], ix.shape.map((_, i) => iter(i))],
      paramMaps: [],
      outputMaps: [[...ix.shape.map((_, i) => iter(i)), iter(r)]],
      // As embedding: a gather forward, a scatter-add backward, one op per output element.
      flops: (e) => ({ forward: product(e), backward: product(e) }),
    };
  },
  forward(tf, { inputs }) {
    const [table, ix] = inputs;
    const idx = tf.reshape(tf.cast(ix, "int32"), [-1]);
    return [tf.reshape(tf.gather(table, idx), [...(ix.shape as number[]), table.shape[1] as number])];
  },
  // Explicit: the autodiff of gather needs UnsortedSegmentSum, which wasm lacks.
  backward(tf, { inputs, dOutputs }) {
    const [table, ix] = inputs;
    const idx = tf.reshape(tf.cast(ix, "int32"), [-1]);
    const cols = table.shape[1] as number;
    const dTable = scatterRows(tf, idx, table.shape[0] as number, tf.reshape(dOutputs[0], [-1, cols]));
    return { dInputs: [dTable, null], dParams: [] };
  },
};

export const lstmChunk: OpEntry = {
  name: "lstm_chunk",
  family: "shared weights",
  doc: "The LSTM recurrence over a chunk x[batch, steps, input] with the weights (w_ih [4h, in], w_hh [4h, h], b_ih, b_hh [4h], torch layout) and the initial state h0, c0 [batch, h] (zeros when absent) as inputs → (y [batch, steps, h], h_n, c_n), or y alone when return_state = false.",
  roles: ["sequence"],
  inputs: [{ name: "x" }, { name: "w_ih" }, { name: "w_hh" }, { name: "b_ih" }, { name: "b_hh" }, { name: "h0", optional: true }, { name: "c0", optional: true }],
  attrs: [{ name: "return_state", kind: "bool", default: true, doc: "also output the final state h_n, c_n (false: y only, for a last chunk whose state nothing reads)" }],
  outputNames: ["y", "h_n", "c_n"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x, wIh, wHh, bIh, bHh, h0, c0] = inputs;
    if (x.shape.length !== 3) {
      ctx.diagnostics.error("PAR2108", `\`lstm_chunk\` needs x of rank 3 ([batch, steps, features]), got ${fmtShape(x.shape)}`, {
        pos: ctx.pos,
        expected: "a tensor [batch, steps, features]",
      });
      return undefined;
    }
    const [batch, seq, input] = x.shape;
    const h = wHh.shape[wHh.shape.length - 1];
    const same = (a: readonly number[] | undefined, b: number[]) => a === undefined || (a.length === b.length && a.every((v, i) => v === b[i]));
    const want: [string, readonly number[] | undefined, number[]][] = [
      ["w_ih", wIh.shape, [4 * h, input]],
      ["w_hh", wHh.shape, [4 * h, h]],
      ["b_ih", bIh.shape, [4 * h]],
      ["b_hh", bHh.shape, [4 * h]],
      ["h0", h0?.shape, [batch, h]],
      ["c0", c0?.shape, [batch, h]],
    ];
    for (const [name, got, exp] of want) {
      if (!same(got, exp)) {
        ctx.diagnostics.error("PAR2107", `\`lstm_chunk\` input ${name} is ${fmtShape(got ?? [])}, expected ${fmtShape(exp)} (x ${fmtShape(x.shape)}, hidden ${h} from w_hh)`, {
          pos: ctx.pos,
          expected: `${name} shaped ${fmtShape(exp)}`,
        });
        return undefined;
      }
    }
    // As lstm: only sample splits (the recurrence runs along length; every gate reads the whole h).
    const space: ParallelDim[] = [
      { name: "sample", cls: "sample", size: batch },
      { name: "length", cls: "attribute", size: seq, splittable: false },
      { name: "channel", cls: "parameter", size: h, splittable: false },
    ];
    const hidden = `${ctx.opName}.hidden`;
    const state = { dtype: x.dtype, shape: [batch, h], dims: [x.dims[0], hidden] };
    const withState = attrs.return_state !== false;
    const y = { dtype: x.dtype, shape: [batch, seq, h], dims: [x.dims[0], x.dims[1], hidden] };
    return {
      outputs: withState ? [y, state, { ...state, dims: [...state.dims] }] : [y],
      params: [],
      space,
      inputMaps: [
        [iter(0), iter(1), full],
        [full, full],
        [full, full],
        [full],
        [full],
        ...(h0 ? [[iter(0), iter(2)]] : []),
        ...(c0 ? [[iter(0), iter(2)]] : []),
      ],
      paramMaps: [],
      outputMaps: withState ? [[iter(0), iter(1), iter(2)], [iter(0), iter(2)], [iter(0), iter(2)]] : [[iter(0), iter(1), iter(2)]],
      flops: (e) => lstmFlops(e[0], seq, input, h),
    };
  },
  forward(tf, { inputs, attrs }) {
    const [x, wIh, wHh, bIh, bHh, h0, c0] = inputs;
    const { hs, h, c } = lstmSteps(tf, x, wIh, wHh, bIh, bHh, h0 as Tensor | undefined, c0 as Tensor | undefined);
    if (attrs.return_state === false) return [tf.stack(hs, 1)];
    // h_n is also y's last step: a separate tensor, so that either may be disposed alone.
    return [tf.stack(hs, 1), tf.clone(h), c];
  },
};

export const SHARED_OPS: OpEntry[] = [param, constant, gather, lstmChunk];
