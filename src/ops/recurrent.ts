// Recurrent layers over a batch-first sequence x[batch, seq, input]: lstm, gru and rnn, with
// PyTorch/ONNX parameters (weights stored [gates·hidden, in], torch's gate order, two bias
// vectors) so that weights exchange with torch.nn.LSTM/GRU/RNN unchanged.
//
// Each may start from a given state (optional inputs h0, and c0 for lstm, [batch, hidden];
// zeros when left out), run the sequence backwards (`reverse`, ONNX's reverse direction:
// y[t] is still the output at position t, the final state the one after position 0), and
// return the final state (`return_state`: outputs y, h_n and, for lstm, c_n). A
// bidirectional layer is two ops, one reversed, whose outputs an importer concatenates.
//
// Parallel dims: only `sample` is splittable. `length` is a recurrence: step t needs the
// state of step t-1, so a piece of the sequence cannot be computed without its prefix.
// `channel` (hidden) is not splittable either: every gate of every hidden unit at step t
// reads the WHOLE previous h (h_{t-1}·W_hhᵀ), so a hidden-sharded task would need an
// all-gather of h at every timestep, which is not one task over a region. FlexFlow
// parallelises recurrent layers by sample and by placing layers (ops) on different devices.

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AttrSpec, Attrs, AxisMap, OpEntry, ParallelDim, TF } from "./contract.js";
import { fmtShape, iter } from "./common.js";

/** The recurrent state: h, and c for an LSTM. */
interface State {
  h: Tensor;
  c?: Tensor;
}

/** A recurrent cell: its gate count, state, one step, and its FLOPs. */
interface Cell {
  name: string;
  doc: string;
  /** Gate blocks in the weights (LSTM 4: i, f, g, o; GRU 3: r, z, n; RNN 1). */
  gates: number;
  /** True when the state has a cell c besides h (LSTM). */
  cellState: boolean;
  attrs: AttrSpec[];
  /**
   * One step from the input projection xg = x_t·W_ihᵀ + b_ih ([batch, gates·h]) and the
   * previous state, with the recurrent weights.
   */
  step(tf: TF, xg: Tensor, prev: State, wHh: Tensor, bHh: Tensor, attrs: Attrs): State;
  /** Elementwise FLOPs per (sample, step) per hidden unit (documented estimates). */
  elementwise: number;
}

const LSTM: Cell = {
  name: "lstm",
  doc: "One LSTM layer over x[batch, seq, input] (batch-first, torch gate order i, f, g, o)",
  gates: 4,
  cellState: true,
  attrs: [],
  step(tf, xg, prev, wHh, bHh) {
    const gates = tf.add(tf.add(xg, bHh), tf.matMul(prev.h, wHh, false, true));
    const [gi, gf, gg, go] = tf.split(gates, 4, 1);
    const c = tf.add(tf.mul(tf.sigmoid(gf), prev.c!), tf.mul(tf.sigmoid(gi), tf.tanh(gg)));
    return { h: tf.mul(tf.sigmoid(go), tf.tanh(c)), c };
  },
  // Two bias adds 8h, the gate sum 4h, four activations 4h, f·c + i·g 3h, o·tanh(c) 2h.
  elementwise: 21,
};

const GRU: Cell = {
  name: "gru",
  doc: "One GRU layer over x[batch, seq, input] (batch-first, torch gate order r, z, n; linear_before_reset as torch)",
  gates: 3,
  cellState: false,
  attrs: [{ name: "linear_before_reset", kind: "bool", default: true, doc: "n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)) (torch, true) or tanh(W_in·x + b_in + W_hn·(r ⊙ h) + b_hn) (ONNX's default, false)" }],
  step(tf, xg, prev, wHh, bHh, attrs) {
    const [xr, xz, xn] = tf.split(xg, 3, 1);
    const [wr, wz, wn] = tf.split(wHh, 3, 0);
    const [br, bz, bn] = tf.split(bHh, 3, 0);
    const r = tf.sigmoid(tf.add(tf.add(xr, br), tf.matMul(prev.h, wr, false, true)));
    const z = tf.sigmoid(tf.add(tf.add(xz, bz), tf.matMul(prev.h, wz, false, true)));
    const hn = attrs.linear_before_reset !== false ? tf.mul(r, tf.add(tf.matMul(prev.h, wn, false, true), bn)) : tf.add(tf.matMul(tf.mul(r, prev.h), wn, false, true), bn);
    const n = tf.tanh(tf.add(xn, hn));
    // h' = (1 − z)·n + z·h = n + z·(h − n)
    return { h: tf.add(n, tf.mul(z, tf.sub(prev.h, n))) };
  },
  // Two bias adds 6h, r and z sums 2h, two sigmoids 8h, r ⊙ (…) h, the n sum h, tanh 4h,
  // n + z·(h − n) 3h.
  elementwise: 25,
};

const RNN: Cell = {
  name: "rnn",
  doc: "One Elman RNN layer over x[batch, seq, input] (batch-first, torch.nn.RNN: h' = act(W_ih·x + b_ih + W_hh·h + b_hh))",
  gates: 1,
  cellState: false,
  attrs: [{ name: "nonlinearity", kind: "string", default: "tanh", choices: ["tanh", "relu"], doc: "the activation" }],
  step(tf, xg, prev, wHh, bHh, attrs) {
    const pre = tf.add(tf.add(xg, bHh), tf.matMul(prev.h, wHh, false, true));
    return { h: attrs.nonlinearity === "relu" ? tf.relu(pre) : tf.tanh(pre) };
  },
  // Two bias adds 2h, the sum h, the activation 4h.
  elementwise: 7,
};

/**
 * The recurrence of `cell` over x[batch, seq, input] from `initial` (zeros when absent):
 * every step's h in sequence order, and the final state. Shared by the recurrent ops and
 * lstm_chunk.
 */
export function recurrentSteps(tf: TF, cell: Cell, x: Tensor, wIh: Tensor, wHh: Tensor, bIh: Tensor, bHh: Tensor, attrs: Attrs, initial: Partial<State> = {}, reverse = false): { hs: Tensor[]; final: State } {
  const [batch, seq, input] = x.shape as [number, number, number];
  const h = wHh.shape[1] as number;
  const g = cell.gates * h;
  // The input projection of every step at once (one big matMul).
  const xg = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [batch * seq, input]), wIh, false, true), bIh), [batch, seq, g]);
  let state: State = { h: initial.h ?? tf.zeros([batch, h]), ...(cell.cellState ? { c: initial.c ?? tf.zeros([batch, h]) } : {}) };
  const hs: Tensor[] = new Array(seq);
  for (let k = 0; k < seq; k++) {
    const t = reverse ? seq - 1 - k : k;
    // A per-step slice rather than tf.unstack: tfjs 4.22's Unpack gradient fails for a
    // single-step sequence (the engine hands it one tensor where stack() wants an array).
    const step = tf.reshape(tf.slice(xg, [0, t, 0], [batch, 1, g]), [batch, g]);
    state = cell.step(tf, step, state, wHh, bHh, attrs);
    hs[t] = state.h;
  }
  return { hs, final: state };
}

/** The LSTM recurrence (lstm_chunk's): every step's h, and the final h and c. */
export function lstmSteps(tf: TF, x: Tensor, wIh: Tensor, wHh: Tensor, bIh: Tensor, bHh: Tensor, h0?: Tensor, c0?: Tensor): { hs: Tensor[]; h: Tensor; c: Tensor } {
  const { hs, final } = recurrentSteps(tf, LSTM, x, wIh, wHh, bIh, bHh, {}, { h: h0, c: c0 });
  return { hs, h: final.h, c: final.c! };
}

/**
 * FLOPs of a task over `batch` sequences (the only splittable dim, so the sum over sample
 * shards is exactly the whole). Per (sample, step): the two matMuls 2·G·h·(in + h) and the
 * cell's elementwise work. Backward: the gradients of both matMuls w.r.t. their two
 * operands (2×) and about twice the elementwise work.
 */
function cellFlops(cell: Cell, batch: number, seq: number, input: number, h: number): { forward: number; backward: number } {
  const mm = 2 * cell.gates * h * (input + h);
  const ew = cell.elementwise * h;
  return { forward: batch * seq * (mm + ew), backward: batch * seq * (2 * mm + 2 * ew) };
}

export function lstmFlops(batch: number, seq: number, input: number, h: number): { forward: number; backward: number } {
  return cellFlops(LSTM, batch, seq, input, h);
}

function recurrentEntry(cell: Cell): OpEntry {
  const stateInputs = cell.cellState ? ["h0", "c0"] : ["h0"];
  const stateOutputs = cell.cellState ? ["h_n", "c_n"] : ["h_n"];
  return {
    name: cell.name,
    family: "recurrent",
    doc: `${cell.doc}; initial state ${stateInputs.join(", ")} [batch, hidden] (zeros when absent); y[batch, seq, hidden], or the last h [batch, hidden] when return_sequences = false; with return_state also ${stateOutputs.join(", ")}.`,
    roles: ["sequence"],
    inputs: [{ name: "x" }, ...stateInputs.map((name) => ({ name, optional: true }))],
    attrs: [
      { name: "hidden", kind: "int", min: 1, doc: "hidden state width" },
      { name: "return_sequences", kind: "bool", default: true, doc: "output every step's h [batch, seq, hidden] (true) or only the last [batch, hidden]" },
      { name: "reverse", kind: "bool", default: false, doc: "run the sequence from its last position to its first (ONNX's reverse direction)" },
      { name: "return_state", kind: "bool", default: false, doc: `also output the final state ${stateOutputs.join(", ")} [batch, hidden]` },
      ...cell.attrs,
    ],
    outputNames: ["y", ...stateOutputs],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [x, ...states] = inputs;
      if (x.shape.length !== 3) {
        ctx.diagnostics.error("PAR2108", `\`${cell.name}\` needs an input of rank 3 ([batch, seq, features]), got ${fmtShape(x.shape)}`, {
          pos: ctx.pos,
          expected: "a tensor [batch, seq, features]",
          hint: "sequences are batch-first; reshape a [batch, features] input to [batch, 1, features]",
        });
        return undefined;
      }
      const [batch, seq, input] = x.shape;
      const h = attrs.hidden as number;
      const bad = states.findIndex((t) => t.shape.length !== 2 || t.shape[0] !== batch || t.shape[1] !== h);
      if (bad >= 0) {
        ctx.diagnostics.error("PAR2107", `\`${cell.name}\` initial state ${stateInputs[bad]} is ${fmtShape(states[bad].shape)}, expected [${batch}, ${h}]`, {
          pos: ctx.pos,
          expected: `${stateInputs[bad]} [batch, hidden] = [${batch}, ${h}]`,
        });
        return undefined;
      }
      const sequences = attrs.return_sequences as boolean;
      const full: AxisMap = { kind: "full" };
      // With return_sequences = false no output axis addresses time, so `length` is left out
      // of the space: a space dim that no output maps to would read as a partial-sum reduction.
      const space: ParallelDim[] = [
        { name: "sample", cls: "sample", size: batch },
        ...(sequences ? [{ name: "length", cls: "attribute" as const, size: seq, splittable: false }] : []),
        { name: "channel", cls: "parameter", size: h, splittable: false },
      ];
      const ch = sequences ? 2 : 1;
      const hidden = `${ctx.opName}.hidden`;
      const state = { dtype: x.dtype, shape: [batch, h], dims: [x.dims[0], hidden] };
      // torch: U(-1/sqrt(hidden), 1/sqrt(hidden)) for all parameters.
      const init = { kind: "uniform" as const, bound: 1 / Math.sqrt(h) };
      const g = cell.gates * h;
      const withState = attrs.return_state as boolean;
      return {
        outputs: [
          sequences ? { dtype: x.dtype, shape: [batch, seq, h], dims: [x.dims[0], x.dims[1], hidden] } : { ...state, dims: [...state.dims] },
          ...(withState ? stateOutputs.map(() => ({ ...state, dims: [...state.dims] })) : []),
        ],
        params: [
          { name: "weight_ih", shape: [g, input], dims: ["gates", "in"], init },
          { name: "weight_hh", shape: [g, h], dims: ["gates", "hidden"], init },
          { name: "bias_ih", shape: [g], dims: ["gates"], init },
          { name: "bias_hh", shape: [g], dims: ["gates"], init },
        ],
        space,
        // channel is never split, so the gate axes are simply read whole.
        inputMaps: [[iter(0), sequences ? iter(1) : full, full], ...states.map(() => [iter(0), iter(ch)])],
        paramMaps: [[full, full], [full, full], [full], [full]],
        outputMaps: [sequences ? [iter(0), iter(1), iter(ch)] : [iter(0), iter(ch)], ...(withState ? stateOutputs.map(() => [iter(0), iter(ch)]) : [])],
        flops: (e) => cellFlops(cell, e[0], seq, input, h),
      };
    },
    forward(tf, { inputs, params, attrs }) {
      const [x, h0, c0] = inputs;
      const [wIh, wHh, bIh, bHh] = params;
      const { hs, final } = recurrentSteps(tf, cell, x, wIh, wHh, bIh, bHh, attrs, { h: h0, c: c0 }, attrs.reverse as boolean);
      const last = attrs.reverse ? hs[0] : hs[hs.length - 1];
      const y = attrs.return_sequences ? tf.stack(hs, 1) : tf.clone(last);
      if (!attrs.return_state) return [y];
      // h_n is also one of y's steps: a separate tensor, so that either may be disposed alone.
      return [y, tf.clone(final.h), ...(cell.cellState ? [final.c!] : [])];
    },
  };
}

export const lstm = recurrentEntry(LSTM);
export const gru = recurrentEntry(GRU);
export const rnn = recurrentEntry(RNN);

export const RECURRENT_OPS: OpEntry[] = [lstm, gru, rnn];
