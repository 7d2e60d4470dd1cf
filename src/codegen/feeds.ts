// How each graph input's synthetic data is made (PlanFeed, src/runtime/exec/data.ts):
// plain floats, class labels or token ids drawn from a "teacher" input, or regression
// targets, decided from how the graph consumes the input: the role and class count that
// the consuming op's entry declares for that input (InputSpec.role, .classes).

import type { Graph } from "../ir/graph.js";
import { isFloat } from "../core/tensor.js";
import type { InputSpec } from "../ops/contract.js";
import { classCountOf, inputSpecAt } from "../ops/properties.js";
import { getOp } from "../ops/registry.js";
import type { PlanFeed } from "../plan/plan.js";

/** Integer inputs whose consumers declare no class count draw from this many values. */
const DEFAULT_CLASSES = 2;

/** How each graph input's synthetic data is made (see PlanFeed and src/runtime/exec/data.ts). */
export function feeds(graph: Graph): Map<string, PlanFeed> {
  const specOf = (c: { op: string; input: number }): InputSpec | undefined => {
    const entry = getOp(graph.op(c.op).op);
    return entry && inputSpecAt(entry, c.input);
  };
  const kinds = new Map<string, PlanFeed>();
  const targets = new Set<string>();
  for (const id of graph.inputs) {
    if (graph.tensor(id).consumers.some((c) => specOf(c)?.role === "target")) targets.add(id);
  }
  const teacherFor = (id: string): string | null => {
    const batch = graph.tensor(id).type.shape[0];
    for (const t of graph.inputs) {
      const ty = graph.tensor(t).type;
      if (t !== id && isFloat(ty.dtype) && !targets.has(t) && ty.shape.length > 0 && ty.shape[0] === batch) return t;
    }
    return null;
  };
  for (const id of graph.inputs) {
    const t = graph.tensor(id);
    if (!isFloat(t.type.dtype)) {
      // Labels range over the classes of the logits, indices over the rows of their table:
      // the first consumer that declares a class count for this input decides.
      let classes = DEFAULT_CLASSES;
      for (const c of t.consumers) {
        const o = graph.op(c.op);
        const n = classCountOf(specOf(c), o.inputs.map((i) => graph.tensor(i).type.shape), o.attrs);
        if (n !== undefined) {
          classes = n;
          break;
        }
      }
      kinds.set(id, { kind: "classes", classes, teacher: t.type.shape.length > 0 ? teacherFor(id) : null });
    } else if (targets.has(id)) {
      kinds.set(id, { kind: "target", teacher: t.type.shape.length > 0 ? teacherFor(id) : null });
    } else {
      kinds.set(id, { kind: "uniform" });
    }
  }
  return kinds;
}
