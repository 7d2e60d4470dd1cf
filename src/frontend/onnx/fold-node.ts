// The import's side of constant folding (fold.ts evaluates): a node whose inputs are all
// constant becomes constant outputs instead of par ops; Shape and Size fold on any tensor,
// since every par tensor has a static shape. A view of an initializer (Transpose, Identity,
// a float Cast) stays a lazy view of it, so that a large weight is never copied into
// folding's arrays and a weight read through a view is still known as that weight. Folded
// values remember the initializers they were computed from (`sources`), for trainability.

import type { ImportState } from "./context.js";
import type { OnnxNode } from "./decode.js";
import { type ConstValue, FOLDABLE, FoldError, foldConst, volumeOf } from "./fold.js";
import { isViewNode } from "./sharing.js";
import { constDims, constOf, initializerView, isConst, isFloatConst, sourcesOf, type Val } from "./values.js";

/** Folds node `n` when it can; true when its outputs are now constants. */
export function foldNode(s: ImportState, n: OnnxNode, ins: (Val | undefined)[]): boolean {
  if (n.opType === "Shape" || n.opType === "Size") {
    const v = ins[0]!;
    const shape = v.kind === "tensor" ? s.b.type(v.id).shape : constOf(v)?.shape ?? v.tensor?.dims;
    setConsts(s, n, foldConst(n.opType, n.attrs, [], s.opset, shape), []);
    return true;
  }
  const present = ins.filter((_, i) => n.inputs[i] !== "");
  if (!FOLDABLE.has(n.opType) || !present.every(isConst)) return false;
  // A learned tensor broadcast over the batch (ViT's class token, Expand(class_token, [B, 1, d]))
  // stays one parameter read by an expand (NodeContext.operand): folded, it would be B fixed copies.
  if (BROADCASTS.has(n.opType) && isLearned(ins[0])) return false;
  const view = initializerView(ins[0]);
  if (view && isViewNode(n)) {
    const perm = n.opType === "Transpose" ? (n.attrs.get("perm")?.ints ?? view.perm.map((_, i) => view.perm.length - 1 - i)) : view.perm.map((_, i) => i);
    // Output axis i is input axis perm[i], which is the tensor's axis view.perm[perm[i]].
    s.values.set(n.outputs[0], { kind: "const", view: { tensor: view.tensor, perm: perm.map((p) => view.perm[p]) } });
    return true;
  }
  const consts = ins.map((v, i) => {
    if (n.inputs[i] === "") return undefined;
    const k = constOf(v);
    if (!k) throw new FoldError("PAR6017", `constant input \`${n.inputs[i]}\` has external data that is not at hand, so it cannot be folded`);
    return k;
  });
  const sources = [...new Set(ins.flatMap((v) => sourcesOf(v)))];
  setConsts(s, n, foldConst(n.opType, n.attrs, consts, s.opset), sources);
  return true;
}

const BROADCASTS = new Set(["Expand", "Tile"]);

/** A float initializer (or a view of one) of more than one element: a weight of the model. */
function isLearned(v: Val | undefined): boolean {
  return v?.kind === "const" && initializerView(v) !== undefined && isFloatConst(v) && volumeOf(constDims(v)) > 1;
}

function setConsts(s: ImportState, n: OnnxNode, vs: ConstValue[], sources: string[]): void {
  n.outputs.forEach((o, i) => {
    if (o === "" || !vs[i]) return;
    const value = sources.length && vs[i].dtype === "float" ? { ...vs[i], sources } : vs[i];
    s.values.set(o, { kind: "const", value });
  });
}
