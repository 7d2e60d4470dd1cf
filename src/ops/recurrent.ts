// Recurrent layers. `lstm`: one LSTM layer over a batch-first sequence x[batch, seq, input],
// with PyTorch/ONNX parameters (weights stored [4·hidden, in], gate order i, f, g, o, two
// bias vectors) so that weights exchange with torch.nn.LSTM unchanged.
//
// Parallel dims: only `sample` is splittable. `length` is a recurrence: step t needs the
// state of step t-1, so a piece of the sequence cannot be computed without its prefix.
// `channel` (hidden) is not splittable either: every gate of every hidden unit at step t
// reads the WHOLE previous h (h_{t-1}·W_hhᵀ), so a hidden-sharded task would need an
// all-gather of h at every timestep, which is not one task over a region. FlexFlow
// parallelises LSTMs by sample and by placing layers (ops) on different devices.

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AxisMap, OpEntry, ParallelDim, TF } from "./contract.js";
import { fmtShape } from "./common.js";

export const lstm: OpEntry = {
  name: "lstm",
  family: "recurrent",
  doc: "One LSTM layer over x[batch, seq, input] (batch-first, torch gate order i, f, g, o; zero initial state); y[batch, seq, hidden], or the last h [batch, hidden] when return_sequences = false.",
  roles: ["sequence"],
  inputs: [{ name: "x" }],
  attrs: [
    { name: "hidden", kind: "int", min: 1, doc: "hidden (and cell) state width" },
    { name: "return_sequences", kind: "bool", default: true, doc: "output every step's h [batch, seq, hidden] (true) or only the last [batch, hidden]" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    if (x.shape.length !== 3) {
      ctx.diagnostics.error("PAR2108", `\`lstm\` needs an input of rank 3 ([batch, seq, features]), got ${fmtShape(x.shape)}`, {
        pos: ctx.pos,
        expected: "a tensor [batch, seq, features]",
        hint: "sequences are batch-first; reshape a [batch, features] input to [batch, 1, features]",
      });
      return undefined;
    }
    const [batch, seq, input] = x.shape;
    const h = attrs.hidden as number;
    const sequences = attrs.return_sequences as boolean;
    const iter = (dim: number): AxisMap => ({ kind: "iter", dim });
    const full: AxisMap = { kind: "full" };
    // With return_sequences = false no output axis addresses time, so `length` is left out
    // of the space: a space dim that no output maps to would read as a partial-sum reduction.
    const space: ParallelDim[] = sequences
      ? [
          { name: "sample", cls: "sample", size: batch },
          { name: "length", cls: "attribute", size: seq, splittable: false },
          { name: "channel", cls: "parameter", size: h, splittable: false },
        ]
      : [
          { name: "sample", cls: "sample", size: batch },
          { name: "channel", cls: "parameter", size: h, splittable: false },
        ];
    const ch = sequences ? 2 : 1;
    const bound = 1 / Math.sqrt(h); // torch.nn.LSTM: U(-1/sqrt(hidden), 1/sqrt(hidden)) for all params
    const init = { kind: "uniform" as const, bound };
    return {
      outputs: [
        sequences
          ? { dtype: x.dtype, shape: [batch, seq, h], dims: [x.dims[0], x.dims[1], `${ctx.opName}.hidden`] }
          : { dtype: x.dtype, shape: [batch, h], dims: [x.dims[0], `${ctx.opName}.hidden`] },
      ],
      params: [
        { name: "weight_ih", shape: [4 * h, input], dims: ["gates", "in"], init },
        { name: "weight_hh", shape: [4 * h, h], dims: ["gates", "hidden"], init },
        { name: "bias_ih", shape: [4 * h], dims: ["gates"], init },
        { name: "bias_hh", shape: [4 * h], dims: ["gates"], init },
      ],
      space,
      // channel is never split, so the 4·hidden gate axes are simply read whole.
      inputMaps: [[iter(0), sequences ? iter(1) : full, full]],
      paramMaps: [[full, full], [full, full], [full], [full]],
      outputMaps: [sequences ? [iter(0), iter(1), iter(ch)] : [iter(0), iter(ch)]],
      flops: (e) => lstmFlops(e[0], seq, input, h),
    };
  },
  forward(tf, { inputs, params, attrs }) {
    const [x] = inputs;
    const [wIh, wHh, bIh, bHh] = params;
    const { hs, h } = lstmSteps(tf, x, wIh, wHh, bIh, bHh);
    return [attrs.return_sequences ? tf.stack(hs, 1) : h];
  },
};

/**
 * The LSTM recurrence over x[batch, seq, input] from the state (h0, c0) (zeros when
 * absent): every step's h, and the final h and c. Shared by `lstm` and `lstm_chunk`.
 */
export function lstmSteps(tf: TF, x: Tensor, wIh: Tensor, wHh: Tensor, bIh: Tensor, bHh: Tensor, h0?: Tensor, c0?: Tensor): { hs: Tensor[]; h: Tensor; c: Tensor } {
  const [batch, seq, input] = x.shape as [number, number, number];
  const h = wHh.shape[1] as number;
  // The input projection of every step at once (one big matMul), both biases folded in.
  const xg = tf.reshape(
    tf.add(tf.matMul(tf.reshape(x, [batch * seq, input]), wIh, false, true), tf.add(bIh, bHh)),
    [batch, seq, 4 * h],
  );
  let hPrev: Tensor = h0 ?? tf.zeros([batch, h]);
  let cPrev: Tensor = c0 ?? tf.zeros([batch, h]);
  const hs: Tensor[] = [];
  for (let t = 0; t < seq; t++) {
    // A per-step slice rather than tf.unstack: tfjs 4.22's Unpack gradient fails for a
    // single-step sequence (the engine hands it one tensor where stack() wants an array).
    const step = tf.reshape(tf.slice(xg, [0, t, 0], [batch, 1, 4 * h]), [batch, 4 * h]);
    const gates = tf.add(step, tf.matMul(hPrev, wHh, false, true));
    const [gi, gf, gg, go] = tf.split(gates, 4, 1);
    const c = tf.add(tf.mul(tf.sigmoid(gf), cPrev), tf.mul(tf.sigmoid(gi), tf.tanh(gg)));
    hPrev = tf.mul(tf.sigmoid(go), tf.tanh(c));
    cPrev = c;
    hs.push(hPrev);
  }
  return { hs, h: hPrev, c: cPrev };
}

/**
 * FLOPs of an LSTM task over `batch` sequences (the only splittable dim, so the sum over
 * sample shards is exactly the whole). Per (sample, step): the two matMuls
 * 2·4h·(in + h); elementwise 21h (two bias adds 8h, gate sum 4h, four activations 4h,
 * c = f·c + i·g 3h, h = o·tanh(c) 2h). Backward: the gradients of both matMuls w.r.t.
 * their two operands (2×) and about twice the elementwise work.
 */
export function lstmFlops(batch: number, seq: number, input: number, h: number): { forward: number; backward: number } {
  const mm = 8 * h * (input + h);
  const ew = 21 * h;
  return { forward: batch * seq * (mm + ew), backward: batch * seq * (2 * mm + 2 * ew) };
}

export const RECURRENT_OPS: OpEntry[] = [lstm];
