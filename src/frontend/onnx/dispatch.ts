// One node's import: fold it when its inputs are constant, else call the handler of its
// op type (handlers/index.ts).

import { nodeContext, type ImportState } from "./context.js";
import type { OnnxNode } from "./decode.js";
import { Unmappable } from "./errors.js";
import { foldNode } from "./fold-node.js";
import { ONNX_HANDLERS } from "./handlers/index.js";

/** Maps or folds one node; false after a par op reported its diagnostic (PAR6020). */
export function importNode(s: ImportState, n: OnnxNode): boolean {
  const ins = n.inputs.map((i) => (i === "" ? undefined : s.values.get(i)));
  if (foldNode(s, n, ins)) return true;
  const handler = ONNX_HANDLERS.get(n.opType);
  // Unsupported op types were rejected up front (unsupported.ts): this one only folds.
  if (!handler) throw new Unmappable("PAR6017", `${n.opType} on non-constant inputs is only supported when it folds to a constant`);
  return handler(nodeContext(s, n, ins));
}
