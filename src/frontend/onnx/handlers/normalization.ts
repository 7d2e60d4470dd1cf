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
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Softmax: softmax("softmax"),
  LogSoftmax: softmax("log_softmax"),
};
