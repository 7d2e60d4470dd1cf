// embedding (PyTorch nn.Embedding): y[..., :] = W[indices[...], :], W [vocab, dim] ~ N(0, 1).
// Parallel dims: the index axes (sample, length, ...), channel (parameter: a column block
// of W) and vocab (a reduction: a task holding rows [lo, hi) of W returns the rows of the
// tokens that fall in its range and zeros elsewhere; the partials add up, as in
// Megatron's vocab-parallel embedding).
// The backward is explicit: the autodiff of gather needs UnsortedSegmentSum, which the
// wasm backend lacks, so dW = onehot(indices)ᵀ · dy as one matMul.

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { ForwardArgs, OpEntry, ParallelDim, TF } from "./contract.js";
import { activationDimNames, fmtShape, iter, product } from "./common.js";


/**
 * The task's indices relative to its vocab rows, clipped into range, and (when the task
 * holds only part of the vocabulary) a [n, 1] mask of the tokens it owns.
 */
function localIndices(tf: TF, args: ForwardArgs): { idx: Tensor; mask?: Tensor } {
  const { inputs, params, shard } = args;
  const r = inputs[0].rank;
  const flat = tf.reshape(tf.cast(inputs[0], "int32"), [-1]);
  const [vlo, vhi] = [shard.box.lo[r + 1], shard.box.hi[r + 1]];
  if (vlo === 0 && vhi === shard.spaceSizes[r + 1]) return { idx: flat };
  const rows = params[0].shape[0] as number;
  const rel = tf.sub(flat, tf.scalar(vlo, "int32"));
  const owned = tf.logicalAnd(tf.greaterEqual(rel, 0), tf.less(rel, rows));
  return {
    idx: tf.minimum(tf.maximum(rel, tf.scalar(0, "int32")), tf.scalar(rows - 1, "int32")),
    mask: tf.reshape(tf.cast(owned, "float32"), [-1, 1]),
  };
}

/**
 * dW[rows, cols] = onehot(idx)ᵀ · dy for flat int indices idx[n] and dy[n, cols] (an
 * optional [n, 1] mask drops tokens): the gradient of a row gather as one matMul, since
 * wasm lacks UnsortedSegmentSum. Shared with `gather` (src/ops/shared.ts).
 */
export function scatterRows(tf: TF, idx: Tensor, rows: number, dy: Tensor, mask?: Tensor): Tensor {
  // tfjs' oneHot wants depth ≥ 2 (with one row every owned token hits it), and wasm's
  // OneHot writes integer bits into a float32 output, so build it int32 and cast.
  let onehot = rows === 1 ? tf.ones([idx.shape[0] as number, 1]) : tf.cast(tf.oneHot(idx, rows), "float32");
  if (mask) onehot = tf.mul(onehot, mask);
  return tf.matMul(onehot, dy, true, false);
}

export const embedding: OpEntry = {
  name: "embedding",
  family: "embedding",
  doc: "Lookup table: integer indices[batch, ...] → rows of weight [vocab, dim] (PyTorch nn.Embedding).",
  roles: ["sequence"],
  inputs: [{ name: "indices", dtype: "int", role: "indices", classes: { attr: "vocab" } }],
  attrs: [
    { name: "vocab", kind: "int", min: 1, doc: "number of rows (vocabulary size)" },
    { name: "dim", kind: "int", min: 1, doc: "embedding width" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [ix] = inputs;
    const r = ix.shape.length;
    if (r < 1) {
      ctx.diagnostics.error("PAR2108", `\`embedding\` needs indices of rank ≥ 1 ([batch, ...]), got ${fmtShape(ix.shape)}`, {
        pos: ctx.pos,
        expected: "an integer tensor [batch, ...]",
        hint: "reshape the scalar index to [1]",
      });
      return undefined;
    }
    const vocab = attrs.vocab as number;
    const dim = attrs.dim as number;
    const names = activationDimNames(r + 1);
    const space: ParallelDim[] = [
      ...ix.shape.map((size, i): ParallelDim => ({ name: names[i], cls: i === 0 ? "sample" : "attribute", size })),
      { name: names[r], cls: "parameter", size: dim },
      { name: "vocab", cls: "reduction", size: vocab },
    ];
    return {
      outputs: [{ dtype: "f32", shape: [...ix.shape, dim], dims: [...ix.dims, `${ctx.opName}.dim`] }],
      params: [{ name: "weight", shape: [vocab, dim], dims: ["vocab", "dim"], init: { kind: "normal", std: 1 } }],
      space,
      inputMaps: [ix.shape.map((_, i) => iter(i))],
      paramMaps: [[iter(r + 1), iter(r)]],
      outputMaps: [[...ix.shape.map((_, i) => iter(i)), iter(r)]],
      // A gather (forward) and a scatter-add (backward): one op per output element, over
      // every token the task sees. A vocab split repeats that scan in every vocab shard
      // (masked), so along vocab the shards sum to degree × whole; other dims add exactly.
      flops: (e) => {
        const tokensTimesDim = product(e.slice(0, r + 1));
        return { forward: tokensTimesDim, backward: tokensTimesDim };
      },
    };
  },
  forward(tf, args) {
    const { inputs, params } = args;
    const [w] = params;
    const { idx, mask } = localIndices(tf, args);
    let y = tf.gather(w, idx);
    if (mask) y = tf.mul(y, mask);
    return [tf.reshape(y, [...(inputs[0].shape as number[]), w.shape[1] as number])];
  },
  backward(tf, args) {
    const { params, dOutputs } = args;
    const [w] = params;
    const [rows, cols] = [w.shape[0] as number, w.shape[1] as number];
    const { idx, mask } = localIndices(tf, args);
    const dw = scatterRows(tf, idx, rows, tf.reshape(dOutputs[0], [-1, cols]), mask);
    return { dInputs: [null], dParams: [dw] };
  },
};

export const EMBEDDING_OPS: OpEntry[] = [embedding];
