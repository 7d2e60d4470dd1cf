// The end of an import: the graph's first computed output gets the training loss.

import type { Diagnostics } from "../../core/diagnostics.js";
import { addTrainingLoss, type GraphBuilder, type ImportOptions } from "../import-build.js";
import type { OnnxModel } from "./decode.js";
import type { TensorVal, Val } from "./values.js";

/** Appends the training loss to the first output computed from the inputs; false after PAR6003/PAR6021. */
export function addLossToOutputs(model: OnnxModel, values: ReadonlyMap<string, Val>, b: GraphBuilder, file: string, options: ImportOptions, d: Diagnostics): boolean {
  const outs = model.graph.outputs.map((o) => values.get(o.name)).filter((v): v is TensorVal => v?.kind === "tensor");
  if (outs.length === 0) {
    d.error("PAR6003", `${file}: no graph output is computed from the inputs (all are constants)`, { expected: "an output that depends on an input" });
    return false;
  }
  return addTrainingLoss(b, outs[0].id, options.loss, d);
}
