// `--freeze GLOB` on a Keras model, whose weights are par's params: the params whose ids
// match are not trained. (ONNX models match initializer names instead, in
// onnx/accounting.ts, since those are the names the exporter gave.)

import type { Diagnostics } from "../core/diagnostics.js";
import type { Graph } from "../ir/graph.js";
import { globToRegExp } from "./naming.js";

/** Marks the params matching any glob as frozen; false after PAR6009 for a glob matching none. */
export function freezeParams(graph: Graph, globs: readonly string[], file: string, d: Diagnostics): boolean {
  if (!globs.length) return true;
  const params = graph.params();
  const unmatched: string[] = [];
  for (const g of globs) {
    const re = globToRegExp(g);
    const hits = params.filter((p) => re.test(p.id));
    if (!hits.length) unmatched.push(g);
    for (const p of hits) {
      if (graph.frozen.has(p.id)) continue;
      graph.frozen.add(p.id);
      if (graph.parameterAccount) graph.parameterAccount.trainable -= p.spec.shape.reduce((a, b) => a * b, 1);
    }
  }
  if (!unmatched.length) return true;
  d.error("PAR6009", `${file}: --freeze ${unmatched.map((g) => `"${g}"`).join(", ")} match${unmatched.length === 1 ? "es" : ""} no parameter of model ${graph.name}`, {
    expected: `globs over parameter ids, e.g. ${params.slice(0, 3).map((p) => p.id).join(", ")}`,
    hint: "`*` matches any run of characters (dots included), `?` one character",
  });
  return false;
}
