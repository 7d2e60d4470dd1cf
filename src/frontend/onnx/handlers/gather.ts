// Gathers and scatters. A lookup in a constant float [vocab, dim] table is an embedding (the
// table becomes its weight, or, when other nodes read the table too, a `gather` from the
// shared weight tensor); a constant index or contiguous index range into a computed tensor
// is a slice; any other Gather is par's take (a constant operand becomes an op of its own,
// NodeContext.operand). GatherElements, ScatterND, OneHot, ArgMax and ArgMin map to their
// par ops.

import type { HandlerTable, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { constDims, constOf, isFloatConst } from "../values.js";

const gather: OnnxOpHandler = (cx) => {
  const [dv, iv] = cx.inputs;
  const axis = cx.attr.int("axis", 0);
  if (iv?.kind === "tensor" && cx.type(iv.id).dtype === "f32") throw new Unmappable("PAR6018", "Gather with float indices (ONNX indices are integers)");
  if (dv?.kind === "const" && iv?.kind === "tensor" && constDims(dv).length === 2 && axis === 0 && isFloatConst(dv)) {
    const dims = constDims(dv);
    const shared = cx.sharedWeight(dv);
    if (shared && shared.perm[0] === 0) return cx.out(cx.emit("gather", {}, [shared.id, iv.id]));
    const ids = cx.asWeightOwner().emit("embedding", { vocab: dims[0], dim: dims[1] }, [iv.id]);
    if (!ids) return false;
    cx.setWeight(cx.producer(ids[0]), "weight", dv, "embedding table");
    return cx.out(ids);
  }
  const x = cx.operand(0, "data");
  const r = cx.rank(x);
  const ax = axis < 0 ? axis + r : axis;
  const idx = iv ? constOf(iv) : undefined;
  if (idx && idx.shape.length <= 1) {
    const dim = cx.shape(x)[ax];
    const list = idx.data.map((i) => (i < 0 ? i + dim : i));
    const contiguous = list.length > 0 && list.every((v, i) => v === list[0] + i) && list[0] >= 0 && list[list.length - 1] < dim;
    if (contiguous) {
      // A scalar index drops the axis: slice, then squeeze it.
      const s = cx.emit("slice", { axis: ax, start: list[0], end: list[list.length - 1] + 1, step: 1 }, [x], idx.shape.length === 0 ? `${cx.base}_slice` : cx.base);
      if (!s || idx.shape.length === 1) return cx.out(s);
      return cx.out(cx.emit("squeeze", { axes: [ax] }, s));
    }
  }
  return cx.out(cx.emit("take", { axis: ax }, [x, cx.operand(1, "indices")]));
};

const gatherElements: OnnxOpHandler = (cx) => cx.out(cx.emit("take_along_axis", { axis: cx.attr.int("axis", 0) }, [cx.operand(0, "data"), cx.operand(1, "indices")]));

/** ScatterND reductions par's scatter_nd has: ONNX name → par's `reduction`. */
const SCATTER_REDUCTIONS: Readonly<Record<string, string>> = { none: "none", add: "add" };

const scatterND: OnnxOpHandler = (cx) => {
  const reduction = cx.attr.string("reduction", "none");
  const par = Object.hasOwn(SCATTER_REDUCTIONS, reduction) ? SCATTER_REDUCTIONS[reduction] : undefined;
  if (par === undefined) throw new Unmappable("PAR6016", `ScatterND with reduction ${JSON.stringify(reduction)} (par replaces or adds)`, "ONNX's reductions are none, add, mul, max and min; par's scatter_nd has none and add");
  return cx.out(cx.emit("scatter_nd", { reduction: par }, [cx.operand(0, "data"), cx.operand(1, "indices"), cx.operand(2, "updates")]));
};

/** OneHot: depth and the [off, on] values are constant inputs. */
const oneHot: OnnxOpHandler = (cx) => {
  const depth = cx.constIn(1, "depth");
  const values = cx.constIn(2, "values");
  if (!depth || !values) throw new Unmappable("PAR6017", "OneHot without depth or values");
  return cx.out(cx.emit("one_hot", { depth: depth.data[0], axis: cx.attr.int("axis", -1), off: values.data[0], on: values.data[1] }, [cx.operand(0, "indices")]));
};

const arg =
  (parOp: string): OnnxOpHandler =>
  (cx) =>
    cx.out(cx.emit(parOp, { axis: cx.attr.int("axis", 0), keepdims: cx.attr.int("keepdims", 1) === 1, select_last_index: cx.attr.int("select_last_index", 0) === 1 }, [cx.operand(0)]));

export const GATHER_HANDLERS: HandlerTable = {
  Gather: { map: gather, par: "`embedding` (a 2-D float initializer by integer ids, axis 0; of an initializer other nodes read too: `gather` of its shared `param` tensor); `slice` (+ `squeeze`) for a constant scalar or contiguous range; `take` otherwise; float indices are PAR6018" },
  GatherElements: { map: gatherElements, par: "`take_along_axis`" },
  ScatterND: { map: scatterND, par: "`scatter_nd` (reduction none or add)" },
  OneHot: { map: oneHot, par: "`one_hot` (constant depth and values)" },
  ArgMax: { map: arg("arg_max"), par: "`arg_max` (keepdims, select_last_index)" },
  ArgMin: { map: arg("arg_min"), par: "`arg_min` (keepdims, select_last_index)" },
};
