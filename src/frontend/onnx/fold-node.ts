// The import's side of constant folding (fold.ts evaluates): a node whose inputs are all
// constant becomes constant outputs instead of par ops; Shape and Size fold on any tensor,
// since every par tensor has a static shape.

import type { ImportState } from "./context.js";
import type { OnnxNode } from "./decode.js";
import { type ConstValue, FOLDABLE, FoldError, foldConst, volumeOf } from "./fold.js";
import { constOf, isConst, isFloatConst, type Val } from "./values.js";

/** Folds node `n` when it can; true when its outputs are now constants. */
export function foldNode(s: ImportState, n: OnnxNode, ins: (Val | undefined)[]): boolean {
  if (n.opType === "Shape" || n.opType === "Size") {
    const v = ins[0]!;
    const shape = v.kind === "tensor" ? s.b.type(v.id).shape : constOf(v)?.shape ?? v.tensor?.dims;
    setConsts(s, n, foldConst(n.opType, n.attrs, [], s.opset, shape));
    return true;
  }
  const present = ins.filter((_, i) => n.inputs[i] !== "");
  if (!FOLDABLE.has(n.opType) || !present.every(isConst)) return false;
  // A learned tensor broadcast over the batch (ViT's class token, Expand(class_token, [B, 1, d]))
  // stays one parameter read by an expand (NodeContext.operand): folded, it would be B fixed copies.
  if (BROADCASTS.has(n.opType) && isLearned(ins[0])) return false;
  const consts = ins.map((v, i) => {
    if (n.inputs[i] === "") return undefined;
    const k = constOf(v);
    if (!k) throw new FoldError("PAR6017", `constant input \`${n.inputs[i]}\` has external data, which cannot be folded`);
    return k;
  });
  setConsts(s, n, foldConst(n.opType, n.attrs, consts, s.opset));
  return true;
}

const BROADCASTS = new Set(["Expand", "Tile"]);

/** A float initializer of more than one element: a weight of the model. */
function isLearned(v: Val | undefined): boolean {
  return v?.kind === "const" && v.tensor !== undefined && isFloatConst(v) && volumeOf(v.tensor.dims) > 1;
}

function setConsts(s: ImportState, n: OnnxNode, vs: ConstValue[]): void {
  n.outputs.forEach((o, i) => {
    if (o !== "" && vs[i]) s.values.set(o, { kind: "const", value: vs[i] });
  });
}
