// ONNX → par Graph. The decoded model (decode.ts) is checked for structure (structure.ts)
// and unsupported operators (unsupported.ts), each one coded error; its input shapes are
// bound (inputs.ts), and its nodes are visited in topological order (dispatch.ts): a node
// whose inputs are all constant is folded (fold-node.ts, fold.ts), any other maps to par
// ops through its op type's handler (handlers/). Initializers a node consumes as weights
// become the par op's parameters in par's layouts (weights.ts). Finally a training loss is
// appended (outputs.ts). docs/import.md lists every mapping.

import type { Diagnostics } from "../../core/diagnostics.js";
import { GraphBuilder, identifierOf, type ImportOptions, type ImportedModel } from "../import-build.js";
import { createImportState } from "./context.js";
import { decodeOnnx, type OnnxLimits, type OnnxModel } from "./decode.js";
import { importNode } from "./dispatch.js";
import { Unmappable } from "./errors.js";
import { FoldError } from "./fold.js";
import { bindInputs } from "./inputs.js";
import { addLossToOutputs } from "./outputs.js";
import { checkStructure } from "./structure.js";
import { reportUnsupported } from "./unsupported.js";
import { valuesFromInitializers } from "./values.js";
import { warnMissingWeights } from "./weights.js";

export type { ImportedModel, ImportOptions } from "../import-build.js";
export { onnxUnsupported } from "./unsupported.js";

export const MIN_OPSET = 11;
export const MAX_OPSET = 17;

/**
 * Imports an ONNX model (opsets 11-17) as a par training graph. Reports coded diagnostics
 * (PAR6001-PAR6021, and op diagnostics PAR2xxx) and returns undefined on any error.
 */
export function importOnnx(bytes: Uint8Array, file: string, options: ImportOptions, diagnostics: Diagnostics, limits: Partial<OnnxLimits> = {}): ImportedModel | undefined {
  const model = decodeOnnx(bytes, file, diagnostics, limits);
  if (!model) return undefined;
  return importOnnxModel(model, file, options, diagnostics);
}

export function importOnnxModel(model: OnnxModel, file: string, options: ImportOptions, d: Diagnostics): ImportedModel | undefined {
  if (model.opset < MIN_OPSET || model.opset > MAX_OPSET) {
    d.error("PAR6004", `${file}: ONNX opset ${model.opset || "(none)"} is not supported`, { expected: `opset ${MIN_OPSET} to ${MAX_OPSET}`, hint: `re-export with opset_version=${MAX_OPSET}` });
    return undefined;
  }
  if (model.graph.outputs.length === 0) {
    d.error("PAR6003", `${file}: the graph has no outputs`, { expected: "at least one graph output" });
    return undefined;
  }
  const order = checkStructure(model, file, d);
  if (!order) return undefined;
  if (!reportUnsupported(model, file, d)) return undefined;
  const b = new GraphBuilder(identifierOf(model.graph.name || file.replace(/^.*[\\/]/, "").replace(/\.onnx$/, ""), "model"), d);
  const values = valuesFromInitializers(model.graph);
  if (!bindInputs(model, file, options, b, values, d)) return undefined;
  const state = createImportState(b, values, model.opset, order, model.graph.outputs.map((o) => o.name));
  for (const node of order) {
    if (state.absorbed.has(node)) continue;
    try {
      if (!importNode(state, node)) return undefined;
    } catch (e) {
      if (e instanceof Unmappable || e instanceof FoldError) {
        d.error(e.code, `${file}: node ${node.name} (${node.opType}): ${e.message}`, { hint: e instanceof Unmappable ? e.hint : undefined });
        return undefined;
      }
      throw e;
    }
  }
  warnMissingWeights(state.missingWeights, file, d);
  if (!addLossToOutputs(model, values, b, file, options, d)) return undefined;
  return b.result([]);
}
