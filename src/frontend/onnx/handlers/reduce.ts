// Reductions over axes.

import type { HandlerTable, OnnxOpHandler } from "../context.js";
import { normAxis } from "../fold.js";

/** `axesInputSince`: the opset from which the axes are an input rather than an attribute. */
const reduce =
  (parOp: string, axesInputSince: number): OnnxOpHandler =>
  (cx) => {
    const x = cx.tensorIn(0);
    let axes = cx.opset >= axesInputSince ? cx.constIn(1, "axes")?.data : cx.attr.ints("axes");
    if ((!axes || axes.length === 0) && cx.attr.int("noop_with_empty_axes", 0) === 1) return cx.alias(x);
    axes = (axes ?? []).map((a) => normAxis(a, cx.rank(x)));
    // No axes: reduce over all of them.
    return cx.out(cx.emit(parOp, { axes: axes.length ? axes : cx.shape(x).map((_, i) => i), keepdims: cx.attr.int("keepdims", 1) === 1 }, [x]));
  };

export const REDUCE_HANDLERS: HandlerTable = {
  ReduceMean: reduce("reduce_mean", 18),
  ReduceSum: reduce("reduce_sum", 13),
  ReduceMax: reduce("reduce_max", 18),
};
