// Normalisations: batch and layer norm (their scale and bias become par parameters) and
// softmax / log-softmax along an axis.

import type { HandlerTable, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { normAxis } from "../fold.js";
import { constDims } from "../values.js";

/** Running mean/var are buffers (counted, not kept): par's batchnorm trains on batch statistics. */
const batchNormalization: OnnxOpHandler = (plain) => {
  const cx = plain.asWeightOwner();
  cx.rejectUsed(1);
  const x = cx.tensorIn(0);
  const ids = cx.emit("batchnorm", { eps: cx.attr.float("epsilon", 1e-5) }, [x]);
  if (!ids) return false;
  const op = cx.producer(ids[0]);
  const [, scale, bias] = cx.inputs;
  cx.setWeight(op, "weight", scale, "BatchNormalization scale");
  cx.setWeight(op, "bias", bias, "BatchNormalization B");
  return cx.out(ids);
};

const layerNormalization: OnnxOpHandler = (plain) => {
  const cx = plain.asWeightOwner();
  cx.rejectUsed(1);
  const x = cx.tensorIn(0);
  const r = cx.rank(x);
  const axis = normAxis(cx.attr.int("axis", -1), r);
  const normShape = cx.shape(x).slice(axis);
  const [, sv, bv] = cx.inputs;
  if (constDims(sv!).join(",") !== normShape.join(",")) throw new Unmappable("PAR6016", `LayerNormalization scale of shape [${constDims(sv!).join(", ")}] (par's layernorm weight has the normalised shape [${normShape.join(", ")}])`);
  const ids = cx.emit("layernorm", { axes: r - axis, eps: cx.attr.float("epsilon", 1e-5) }, [x]);
  if (!ids) return false;
  const op = cx.producer(ids[0]);
  cx.setWeight(op, "weight", sv, "LayerNormalization scale");
  // Without B the bias stays at its zero init, frozen (it has no initializer to train).
  cx.setWeight(op, "bias", bv, "LayerNormalization B");
  return cx.out(ids);
};

/**
 * InstanceNormalization is group_norm with one channel per group. torch exports GroupNorm as
 * Reshape [N, G, -1] → InstanceNormalization with scale ones and B zeros → Reshape → Mul →
 * Add. Those ones and zeros are float initializers of the file, so they count as parameters
 * (accounting.ts counts the file, not the handlers) and train when a gradient reaches them.
 */
const instanceNormalization: OnnxOpHandler = (plain) => {
  const cx = plain.asWeightOwner();
  const x = cx.tensorIn(0);
  const [, sv, bv] = cx.inputs;
  if (sv?.kind !== "const" || bv?.kind !== "const") throw new Unmappable("PAR6016", "InstanceNormalization with a computed scale or B (par's group_norm learns them as parameters)");
  const C = cx.shape(x)[1];
  const ids = cx.emit("group_norm", { groups: C, eps: cx.attr.float("epsilon", 1e-5) }, [x]);
  if (!ids) return false;
  const op = cx.producer(ids[0]);
  cx.setWeight(op, "weight", sv, "InstanceNormalization scale");
  cx.setWeight(op, "bias", bv, "InstanceNormalization B");
  return cx.out(ids);
};

const softmax =
  (parOp: "softmax" | "log_softmax"): OnnxOpHandler =>
  (cx) => {
    const x = cx.tensorIn(0);
    const r = cx.rank(x);
    const axis = normAxis(cx.attr.int("axis", cx.opset >= 13 ? -1 : 1), r);
    if (cx.opset >= 13 || axis === r - 1) return cx.out(cx.emit(parOp, { axis }, [x]));
    // Before opset 13 the input is coerced to 2-D at `axis` and normalised over the rest.
    const shape = cx.shape(x);
    const flat = cx.emit("flatten", { axis }, [x], `${cx.base}_flatten`);
    const sm = flat && cx.emit(parOp, { axis: 1 }, flat);
    return cx.out(sm && cx.emit("reshape", { shape }, sm, `${cx.base}_reshape`));
  };

export const NORMALIZATION_HANDLERS: HandlerTable = {
  BatchNormalization: { map: batchNormalization, par: "`batchnorm` (moments + central_moment + batchnorm_apply; scale/B → weight/bias; running statistics not kept)" },
  LayerNormalization: { map: layerNormalization, par: "`layernorm` (axes = rank − axis); without B the bias is a zero parameter" },
  InstanceNormalization: { map: instanceNormalization, par: "`group_norm` with one group per channel (scale/B → weight/bias; an identity scale/B, torch's GroupNorm export, is not counted)" },
  Softmax: { map: softmax("softmax"), par: "`softmax` (opset < 13 with axis ≠ last: flatten, softmax, reshape)" },
  LogSoftmax: { map: softmax("log_softmax"), par: "`log_softmax` (as Softmax)" },
};
