// Reductions over axes, and CumSum. ReduceL1, ReduceL2, ReduceSumSquare and ReduceLogSum are
// an elementwise op and reduce_sum (and a sqrt or a log), so their reduced axes split into
// partial sums like ReduceSum's.

import type { Attrs } from "../../../ops/contract.js";
import type { HandlerTable, NodeContext, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { normAxis } from "../fold.js";

/** The reduce attributes of a node, or undefined for an empty axes list with noop_with_empty_axes. */
function reduceAttrs(cx: NodeContext, x: string, axesInputSince: number): Attrs | undefined {
  let axes = cx.opset >= axesInputSince ? cx.constIn(1, "axes")?.data : cx.attr.ints("axes");
  if ((!axes || axes.length === 0) && cx.attr.int("noop_with_empty_axes", 0) === 1) return undefined;
  axes = (axes ?? []).map((a) => normAxis(a, cx.rank(x)));
  // No axes: reduce over all of them.
  return { axes: axes.length ? axes : cx.shape(x).map((_, i) => i), keepdims: cx.attr.int("keepdims", 1) === 1 };
}

/**
 * A reduction as `before` (an elementwise op first, or none), the par reduction `parOp`,
 * then `after` (none, or an elementwise op on the result). `axesInputSince`: the opset
 * from which the axes are an input rather than an attribute.
 */
const reduce =
  (parOp: string, axesInputSince: number, before?: string, after?: string): OnnxOpHandler =>
  (cx) => {
    let x = cx.operand(0);
    const attrs = reduceAttrs(cx, x, axesInputSince);
    if (!attrs) return cx.alias(x);
    if (before) {
      const b = cx.emit(before, {}, [x], `${cx.base}_${before}`);
      if (!b) return false;
      x = b[0];
    }
    const r = cx.emit(parOp, attrs, [x], after ? `${cx.base}_sum` : cx.base);
    if (!r || !after) return cx.out(r);
    return cx.out(cx.emit(after, {}, r));
  };

const cumSum: OnnxOpHandler = (cx) => {
  const axis = cx.constIn(1, "axis");
  if (!axis) throw new Unmappable("PAR6017", "CumSum without an axis");
  return cx.out(cx.emit("cumsum", { axis: axis.data[0], exclusive: cx.attr.int("exclusive", 0) === 1, reverse: cx.attr.int("reverse", 0) === 1 }, [cx.operand(0)]));
};

export const REDUCE_HANDLERS: HandlerTable = {
  ReduceMean: { map: reduce("reduce_mean", 18), par: "`reduce_mean`" },
  ReduceSum: { map: reduce("reduce_sum", 13), par: "`reduce_sum`" },
  ReduceMax: { map: reduce("reduce_max", 18), par: "`reduce_max`" },
  ReduceMin: { map: reduce("reduce_min", 18), par: "`reduce_min`" },
  ReduceProd: { map: reduce("reduce_prod", 18), par: "`reduce_prod`" },
  ReduceLogSumExp: { map: reduce("reduce_log_sum_exp", 18), par: "`reduce_log_sum_exp`" },
  ReduceL1: { map: reduce("reduce_sum", 18, "abs"), par: "`abs` + `reduce_sum`" },
  ReduceL2: { map: reduce("reduce_sum", 18, "square", "sqrt"), par: "`square` + `reduce_sum` + `sqrt`" },
  ReduceSumSquare: { map: reduce("reduce_sum", 18, "square"), par: "`square` + `reduce_sum`" },
  ReduceLogSum: { map: reduce("reduce_sum", 18, undefined, "log"), par: "`reduce_sum` + `log`" },
  CumSum: { map: cumSum, par: "`cumsum` (constant axis; exclusive, reverse)" },
};
