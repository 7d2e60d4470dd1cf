// The end of an import: the model's own outputs, and the training loss on the first one
// computed from the inputs.

import type { Diagnostics } from "../../core/diagnostics.js";
import { addTrainingLoss, type GraphBuilder, type ImportOptions, type ModelTensor } from "../import-build.js";
import type { OnnxModel } from "./decode.js";
import type { Val } from "./values.js";

/** The graph outputs computed from the inputs (constant outputs have no par tensor), in the model's order. */
export function modelOutputs(model: OnnxModel, values: ReadonlyMap<string, Val>): ModelTensor[] {
  const out: ModelTensor[] = [];
  for (const o of model.graph.outputs) {
    const v = values.get(o.name);
    if (v?.kind === "tensor") out.push({ name: o.name, tensor: v.id });
  }
  return out;
}

/** Appends the training loss to the first model output (`b.outputs`); false after PAR6003/PAR6021. */
export function addLossToOutputs(b: GraphBuilder, file: string, options: ImportOptions, d: Diagnostics): boolean {
  if (b.outputs.length === 0) {
    d.error("PAR6003", `${file}: no graph output is computed from the inputs (all are constants)`, { expected: "an output that depends on an input" });
    return false;
  }
  return addTrainingLoss(b, b.outputs[0].tensor, options.loss, d);
}
