// The default backward of an op: reverse-mode autodiff of its forward kernel through the
// injected tf. Ops whose gradient kernels a backend lacks (wasm: Conv2DBackpropFilter,
// UnsortedSegmentSum) provide their own `backward` instead.

import type { Tensor } from "@tensorflow/tfjs-core";
import type { BackwardArgs, Gradients, OpEntry, TF } from "./contract.js";

function isDifferentiable(t: Tensor): boolean {
  return t.dtype === "float32";
}

/**
 * `wantInputs[i] === false` says the caller discards input i's gradient (the executor's
 * `dInputs[i]` is null: a fed tensor): it is left out of the differentiation, so its
 * gradient kernels (for a linear on the data, a whole extra matmul) never run; its
 * dInputs entry is null. The other gradients are computed by the same kernels on the same
 * values as without the mask, so they are bit-identical.
 */
export function autodiffBackward(entry: OpEntry, tf: TF, args: BackwardArgs, wantInputs?: readonly boolean[]): Gradients {
  const nIn = args.inputs.length;
  const wrt: Tensor[] = [];
  const slots: ({ kind: "input" | "param"; index: number })[] = [];
  args.inputs.forEach((t, i) => {
    if (isDifferentiable(t) && wantInputs?.[i] !== false) {
      wrt.push(t);
      slots.push({ kind: "input", index: i });
    }
  });
  args.params.forEach((t, i) => {
    wrt.push(t);
    slots.push({ kind: "param", index: i });
  });
  const dInputs: (Tensor | null)[] = new Array(nIn).fill(null);
  const dParams: Tensor[] = new Array(args.params.length);
  if (wrt.length === 0) return { dInputs, dParams };

  // The vector-Jacobian product of all outputs at once: d/dx sum_i <out_i(x), dOut_i>.
  // `0 * sum(x)` keeps every argument connected, so a term the task skips (a bias on a
  // non-first reduction shard) gets a zero gradient instead of an error.
  const scalarFn = (...xs: Tensor[]): Tensor => {
    const inputs = [...args.inputs];
    const params = [...args.params];
    xs.forEach((x, k) => {
      const s = slots[k];
      if (s.kind === "input") inputs[s.index] = x;
      else params[s.index] = x;
    });
    const outs = entry.forward(tf, { ...args, inputs, params });
    let total = tf.scalar(0);
    outs.forEach((o, i) => {
      total = tf.add(total, tf.sum(tf.mul(o, args.dOutputs[i])));
    });
    for (const x of xs) total = tf.add(total, tf.mul(tf.sum(x), 0));
    return total;
  };
  const grads = tf.grads(scalarFn)(wrt);
  grads.forEach((g, k) => {
    const s = slots[k];
    if (s.kind === "input") dInputs[s.index] = g;
    else dParams[s.index] = g;
  });
  return { dInputs, dParams };
}

/**
 * Backward of an op: its own, or autodiff of its forward. `wantInputs` (optional, see
 * autodiffBackward) lets autodiff skip input gradients the caller discards; an op's own
 * backward ignores it (the caller still discards them).
 */
export function backwardOf(entry: OpEntry, tf: TF, args: BackwardArgs, wantInputs?: readonly boolean[]): Gradients {
  return entry.backward ? entry.backward(tf, args) : autodiffBackward(entry, tf, args, wantInputs);
}
