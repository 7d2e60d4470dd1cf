// Training losses. A loss's output is a scalar, so its sample (and length) dims are
// reductions: each task returns its share of the mean, and the shares sum to the whole.

import { checkInputs } from "./attrs.js";
import type { AxisMap, OpEntry } from "./contract.js";
import { activationDimNames, fmtShape, iter, product } from "./common.js";

export const softmaxCrossEntropy: OpEntry = {
  name: "softmax_cross_entropy",
  family: "loss",
  doc: "Mean cross-entropy of softmax(logits) against integer class labels; logits [batch, ..., classes], labels [batch, ...].",
  inputs: [{ name: "logits" }, { name: "labels", dtype: "int", role: "labels", classes: { input: 0, axis: -1 } }],
  attrs: [],
  outputNames: ["loss"],
  isLoss: true,
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [logits, labels] = inputs;
    const lead = logits.shape.slice(0, -1);
    if (logits.shape.length < 2 || labels.shape.length !== lead.length || labels.shape.some((s, i) => s !== lead[i])) {
      ctx.diagnostics.error("PAR2107", `\`softmax_cross_entropy\` needs labels shaped like logits without the class axis: logits ${fmtShape(logits.shape)}, labels ${fmtShape(labels.shape)}`, {
        pos: ctx.pos,
        expected: `labels ${fmtShape(lead)}`,
      });
      return undefined;
    }
    const classes = logits.shape[logits.shape.length - 1];
    const names = activationDimNames(lead.length + 1).slice(0, lead.length);
    return {
      outputs: [{ dtype: logits.dtype, shape: [], dims: [] }],
      params: [],
      space: lead.map((size, i) => ({ name: names[i], cls: i === 0 ? "sample" : "attribute", size })),
      inputMaps: [[...lead.map((_, i) => iter(i)), { kind: "full" }], lead.map((_, i) => iter(i))],
      paramMaps: [],
      outputMaps: [[]],
      // log-softmax (~5 per logit) and the gather; backward softmax - onehot (~3 per logit).
      flops: (e) => ({ forward: 5 * classes * product(e), backward: 3 * classes * product(e) }),
    };
  },
  forward(tf, { inputs, shard }) {
    const [logits, labels] = inputs;
    const classes = logits.shape[logits.shape.length - 1];
    const total = product(shard.spaceSizes);
    const flat = tf.reshape(logits, [-1, classes]);
    const logp = tf.logSoftmax(flat);
    const onehot = tf.oneHot(tf.cast(tf.reshape(labels, [-1]), "int32"), classes);
    // Divide by the global count so that per-shard values add up to the mean.
    return [tf.div(tf.neg(tf.sum(tf.mul(onehot, logp))), total)];
  },
};

export const mse: OpEntry = {
  name: "mse",
  family: "loss",
  doc: "Mean squared error mean((pred - target)²) over every element (torch.nn.MSELoss, reduction 'mean').",
  inputs: [{ name: "pred" }, { name: "target", role: "target" }],
  attrs: [],
  outputNames: ["loss"],
  isLoss: true,
  infer(inputs, _attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [pred, target] = inputs;
    if (pred.shape.length !== target.shape.length || pred.shape.some((s, i) => s !== target.shape[i])) {
      ctx.diagnostics.error("PAR2107", `\`mse\` needs pred and target of the same shape: pred ${fmtShape(pred.shape)}, target ${fmtShape(target.shape)}`, {
        pos: ctx.pos,
        expected: `target ${fmtShape(pred.shape)}`,
      });
      return undefined;
    }
    const names = activationDimNames(pred.shape.length);
    const maps = pred.shape.map((_, i): AxisMap => ({ kind: "iter", dim: i }));
    return {
      outputs: [{ dtype: pred.dtype, shape: [], dims: [] }],
      params: [],
      // Every axis is summed into the scalar: all dims give partial sums.
      space: pred.shape.map((size, i) => ({ name: names[i], cls: i === 0 ? "sample" : "attribute", size })),
      inputMaps: [maps, maps],
      paramMaps: [],
      outputMaps: [[]],
      // subtract, square, add; backward 2(p - t)/N for both inputs.
      flops: (e) => ({ forward: 3 * product(e), backward: 3 * product(e) }),
    };
  },
  forward(tf, { inputs, shard }) {
    const [pred, target] = inputs;
    // Divide by the global count so that per-shard values add up to the mean.
    return [tf.div(tf.sum(tf.squaredDifference(pred, target)), product(shard.spaceSizes))];
  },
};

export const LOSS_OPS: OpEntry[] = [softmaxCrossEntropy, mse];
