// The model graph a plan was lowered from, rebuilt from the plan's ops (in order) and the
// op registry, so that a plan file alone can be verified against one device and traced.

import { Diagnostics, ParError } from "../core/diagnostics.js";
import type { TensorType } from "../core/tensor.js";
import { Graph } from "../ir/graph.js";
import { getOp } from "../ops/registry.js";
import type { Plan } from "../plan/plan.js";

/**
 * The graph of `plan`: output ids follow from op names, so they match the plan's tensor
 * ids. A ParError (PAR5111, or the op's own diagnostic) when an op is unknown, does not
 * re-infer, or names its outputs otherwise.
 */
export function graphFromPlan(plan: Plan): Graph {
  const g = new Graph(plan.model);
  for (const p of plan.params) if (p.trainable === false) g.frozen.add(p.tensor);
  const types = new Map<string, TensorType>();
  for (const t of plan.tensors) types.set(t.id, { dtype: t.dtype, shape: [...t.shape], dims: t.shape.map((_, i) => `${t.id}.d${i}`) });
  for (const t of plan.tensors) if (t.role === "input") g.addInput(t.id, types.get(t.id)!);
  for (const op of plan.ops) {
    const entry = getOp(op.op);
    if (!entry) throw new ParError([{ code: "PAR5111", severity: "error", message: `plan op ${op.name}: unknown op kind ${op.op}` }]);
    const diagnostics = new Diagnostics();
    const sig = entry.infer(op.inputs.map((id) => g.tensor(id).type), op.attrs, { opName: op.name, diagnostics });
    if (!sig) throw new ParError(diagnostics.items.length ? diagnostics.items : [{ code: "PAR5111", severity: "error", message: `plan op ${op.name} does not re-infer` }]);
    const node = g.addOp({ name: op.name, op: op.op, attrs: op.attrs, inputs: op.inputs, sig });
    node.outputs.forEach((id, i) => {
      if (id !== op.outputs[i]) throw new ParError([{ code: "PAR5111", severity: "error", message: `plan op ${op.name}: output ${i} is ${op.outputs[i]}, the model would call it ${id}` }]);
    });
  }
  return g;
}
