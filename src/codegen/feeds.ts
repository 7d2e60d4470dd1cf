// How each graph input's synthetic data is made (PlanFeed, src/runtime/exec/data.ts):
// plain floats, class labels or token ids drawn from a "teacher" input, or regression
// targets, decided from how the graph consumes the input.

import type { Graph } from "../ir/graph.js";
import { isFloat } from "../core/tensor.js";
import type { PlanFeed } from "../plan/plan.js";

/** How each graph input's synthetic data is made (see PlanFeed and src/runtime/exec/data.ts). */
export function feeds(graph: Graph): Map<string, PlanFeed> {
  const kinds = new Map<string, PlanFeed>();
  const targets = new Set<string>();
  for (const id of graph.inputs) {
    for (const c of graph.tensor(id).consumers) if (graph.op(c.op).op === "mse" && c.input === 1) targets.add(id);
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
      // Class labels: the logits' last dim. Other integer inputs (indices): an `classes`,
      // `vocab` or `num_embeddings` attribute of the consumer when it has one, else 2.
      let classes = 2;
      for (const c of t.consumers) {
        const o = graph.op(c.op);
        if (o.op === "softmax_cross_entropy" && c.input === 1) {
          const logits = graph.tensor(o.inputs[0]).type.shape;
          classes = logits[logits.length - 1];
          break;
        }
        const a = o.attrs.classes ?? o.attrs.vocab ?? o.attrs.num_embeddings;
        if (typeof a === "number") {
          classes = a;
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
