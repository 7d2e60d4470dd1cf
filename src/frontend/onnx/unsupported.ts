// Operators par can neither map (no handler) nor fold, found before any node is mapped so
// that one error lists them all rather than stopping at the first.

import type { Diagnostics } from "../../core/diagnostics.js";
import type { OnnxModel, OnnxNode } from "./decode.js";
import { FOLDABLE } from "./fold.js";
import { ONNX_HANDLERS } from "./handlers/index.js";

/** The default domain, plus the one contrib op torch exports for nn.GELU before opset 20. */
function inKnownDomain(n: OnnxNode): boolean {
  return n.domain === "" || n.domain === "ai.onnx" || (n.domain === "com.microsoft" && n.opType === "Gelu");
}

/** How an unsupported node's op is named: its op type, prefixed by a domain other than ONNX's. */
export function unsupportedKey(n: OnnxNode): string {
  return inKnownDomain(n) ? n.opType : `${n.domain}.${n.opType}`;
}

/** Every op type the model uses that par can neither map nor fold, with its node names. */
export function onnxUnsupported(model: OnnxModel): { op: string; nodes: string[] }[] {
  const by = new Map<string, string[]>();
  for (const n of model.graph.nodes) {
    if (inKnownDomain(n) && (ONNX_HANDLERS.has(n.opType) || FOLDABLE.has(n.opType))) continue;
    const key = unsupportedKey(n);
    if (!by.has(key)) by.set(key, []);
    by.get(key)!.push(n.name);
  }
  return [...by.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([op, nodes]) => ({ op, nodes }));
}

/** PAR6010 listing every unsupported op type (first node names), when there are any. */
export function reportUnsupported(unsupported: readonly { op: string; nodes: string[] }[], file: string, d: Diagnostics): void {
  if (!unsupported.length) return;
  const list = unsupported.map((u) => `${u.op} (${u.nodes.slice(0, 3).join(", ")}${u.nodes.length > 3 ? `, +${u.nodes.length - 3}` : ""})`).join("; ");
  d.error("PAR6010", `${file}: ${unsupported.length} unsupported operator${unsupported.length > 1 ? "s" : ""}: ${list}`, { expected: "operators listed in docs/import.md", hint: "see `docs/import.md` for the supported ONNX operators" });
}
