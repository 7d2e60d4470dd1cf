// Gather: a lookup in a constant float table is an embedding (the table becomes its
// weight, or, when other nodes read the table too, a `gather` from the shared weight
// tensor); a constant index or contiguous index range into a computed tensor is a slice.

import type { HandlerTable, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { constDims, constOf, isFloatConst } from "../values.js";

const gather: OnnxOpHandler = (cx) => {
  const [dv, iv] = cx.inputs;
  const axis = cx.attr.int("axis", 0);
  if (dv?.kind === "const" && iv?.kind === "tensor") {
    const dims = constDims(dv);
    if (dims.length !== 2 || axis !== 0 || !isFloatConst(dv) || cx.type(iv.id).dtype === "f32") {
      throw new Unmappable("PAR6018", `Gather from a constant of shape [${dims.join(", ")}] along axis ${axis} (par's embedding looks up rows of a float [vocab, dim] table with integer indices)`);
    }
    const shared = cx.sharedWeight(dv);
    if (shared && shared.perm[0] === 0) return cx.out(cx.emit("gather", {}, [shared.id, iv.id]));
    const ids = cx.asWeightOwner().emit("embedding", { vocab: dims[0], dim: dims[1] }, [iv.id]);
    if (!ids) return false;
    cx.setWeight(cx.producer(ids[0]), "weight", dv, "embedding table");
    return cx.out(ids);
  }
  const x = cx.tensorIn(0, "data");
  const idx = iv ? constOf(iv) : undefined;
  if (!idx) throw new Unmappable("PAR6018", "Gather with computed indices from a computed tensor (par gathers only embedding rows or constant indices)");
  const r = cx.rank(x);
  const ax = axis < 0 ? axis + r : axis;
  const dim = cx.shape(x)[ax];
  const list = idx.data.map((i) => (i < 0 ? i + dim : i));
  const contiguous = list.length > 0 && list.every((v, i) => v === list[0] + i) && list[0] >= 0 && list[list.length - 1] < dim;
  if (!contiguous || idx.shape.length > 1) throw new Unmappable("PAR6018", `Gather of indices [${idx.data.slice(0, 8).join(", ")}${idx.data.length > 8 ? ", ..." : ""}] (par maps only a scalar or a contiguous range to a slice)`);
  // A scalar index drops the axis: slice, then squeeze it.
  const s = cx.emit("slice", { axis: ax, start: list[0], end: list[list.length - 1] + 1, step: 1 }, [x], idx.shape.length === 0 ? `${cx.base}_slice` : cx.base);
  if (!s || idx.shape.length === 1) return cx.out(s);
  return cx.out(cx.emit("squeeze", { axes: [ax] }, s));
};

export const GATHER_HANDLERS: HandlerTable = {
  Gather: gather,
};
