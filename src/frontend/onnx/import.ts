// ONNX → par Graph. The decoded model (decode.ts) is checked for structure (structure.ts),
// its side files for external data are found (external.ts), its weights are counted and
// classified (accounting.ts), and its input shapes are bound (inputs.ts). Its nodes are
// then visited in topological order (dispatch.ts): a node whose inputs are all constant
// is folded (fold-node.ts, fold.ts), any other maps to par ops through its op type's
// handler (handlers/). Initializers a node consumes as weights become the par op's
// parameters in par's layouts, read lazily (weights.ts); one several nodes read stays one
// shared tensor (sharing.ts). Finally a training loss is appended (outputs.ts).
//
// A node that cannot be imported does not stop the walk: its outputs are marked, what
// reads them is skipped, and every independent problem is reported (grouped by kind), so
// one run lists everything a model needs. docs/import.md lists every mapping.

import type { Diagnostics } from "../../core/diagnostics.js";
import type { ParameterAccount } from "../../ir/graph.js";
import { GraphBuilder, identifierOf, type ImportOptions, type ImportedModel } from "../import-build.js";
import { accountWeights } from "./accounting.js";
import { createImportState, type ImportState } from "./context.js";
import { decodeOnnx, type OnnxLimits, type OnnxModel, type OnnxNode } from "./decode.js";
import { importNode } from "./dispatch.js";
import { Unmappable } from "./errors.js";
import { resolveExternalData } from "./external.js";
import { FoldError } from "./fold.js";
import { bindInputs } from "./inputs.js";
import { addLossToOutputs, modelOutputs } from "./outputs.js";
import { sharedInitializers } from "./sharing.js";
import { checkStructure } from "./structure.js";
import { onnxUnsupported, reportUnsupported, unsupportedKey } from "./unsupported.js";
import { valuesFromInitializers } from "./values.js";

export type { ImportedModel, ImportOptions } from "../import-build.js";
export { onnxUnsupported } from "./unsupported.js";

export const MIN_OPSET = 11;
export const MAX_OPSET = 17;

/** A form of an op par cannot import: the op type, the coded reason, the nodes that have it. */
export interface UnmappableForm {
  op: string;
  code: string;
  reason: string;
  nodes: string[];
}

export interface OnnxImportResult {
  model?: ImportedModel;
  /** Op types par neither maps nor folds, with their nodes (PAR6010). */
  unsupported: { op: string; nodes: string[] }[];
  /** Nodes of supported op types whose form par cannot represent (PAR6016-PAR6020), grouped. */
  unmappable: UnmappableForm[];
  /** The model's parameter count, known from its initializers even when the graph does not import. */
  account?: ParameterAccount;
}

/**
 * Imports an ONNX model (opsets 11-17) as a par training graph. Reports coded diagnostics
 * (PAR6001-PAR6022, and op diagnostics PAR2xxx) and returns undefined on any error.
 */
export function importOnnx(bytes: Uint8Array, file: string, options: ImportOptions, diagnostics: Diagnostics, limits: Partial<OnnxLimits> = {}): ImportedModel | undefined {
  const model = decodeOnnx(bytes, file, diagnostics, limits);
  if (!model) return undefined;
  return importOnnxModel(model, file, options, diagnostics);
}

export function importOnnxModel(model: OnnxModel, file: string, options: ImportOptions, d: Diagnostics): ImportedModel | undefined {
  return importOnnxDetailed(model, file, options, d).model;
}

/** As importOnnxModel, also saying what could not be imported when the import fails. */
export function importOnnxDetailed(model: OnnxModel, file: string, options: ImportOptions, d: Diagnostics): OnnxImportResult {
  const failed = (unsupported: OnnxImportResult["unsupported"] = [], unmappable: UnmappableForm[] = []): OnnxImportResult => ({ unsupported, unmappable });
  if (model.opset < MIN_OPSET || model.opset > MAX_OPSET) {
    d.error("PAR6004", `${file}: ONNX opset ${model.opset || "(none)"} is not supported`, { expected: `opset ${MIN_OPSET} to ${MAX_OPSET}`, hint: `re-export with opset_version=${MAX_OPSET}` });
    return failed();
  }
  if (model.graph.outputs.length === 0) {
    d.error("PAR6003", `${file}: the graph has no outputs`, { expected: "at least one graph output" });
    return failed();
  }
  const order = checkStructure(model, file, d);
  if (!order) return failed();
  if (!resolveExternalData(model, options.dir, file, d)) return failed();
  const unsupported = onnxUnsupported(model);
  reportUnsupported(unsupported, file, d);
  const weights = accountWeights(model, order, options.freeze ?? [], file, d);
  if (!weights) return failed(unsupported);
  const account = weights.account;
  const b = new GraphBuilder(identifierOf(model.graph.name || file.replace(/^.*[\\/]/, "").replace(/\.onnx$/, ""), "model"), d);
  const values = valuesFromInitializers(model.graph);
  if (!bindInputs(model, file, options, b, values, d)) return { ...failed(unsupported), account };
  const state = createImportState(b, values, model.opset, order, model.graph.outputs.map((o) => o.name), sharedInitializers(model, order));
  const unmappable = importNodes(state, order, new Set(unsupported.map((u) => u.op)), file, d);
  if (unsupported.length || unmappable.length || d.hasErrors()) return { ...failed(unsupported, unmappable), account };
  warnCopiedSharedWeights(state, file, d);
  b.outputs = modelOutputs(model, values);
  if (!addLossToOutputs(b, file, options, d)) return { ...failed(), account };
  for (const p of b.graph.params()) {
    // A param trains when it holds (part of) a trainable weight; one from buffers, from
    // constants that are no initializer, or that the file lacks (a missing bias) does not.
    if (!(b.sources.get(p.id) ?? []).some((s) => weights.trainable.has(s))) b.graph.frozen.add(p.id);
  }
  b.graph.parameterAccount = account;
  return { model: b.result([]), unsupported: [], unmappable: [], account };
}

/**
 * Maps every node; a node that fails (or reads a failed or unsupported node's output) marks
 * its outputs and the walk goes on. Reports each kind of failure once with its nodes.
 */
function importNodes(s: ImportState, order: readonly OnnxNode[], unsupported: ReadonlySet<string>, file: string, d: Diagnostics): UnmappableForm[] {
  const forms = new Map<string, UnmappableForm & { hint?: string }>();
  const poison = (n: OnnxNode) => n.outputs.forEach((o) => o !== "" && s.poisoned.add(o));
  for (const node of order) {
    if (s.absorbed.has(node)) continue;
    if (unsupported.has(unsupportedKey(node)) || node.inputs.some((i) => s.poisoned.has(i))) {
      poison(node);
      continue;
    }
    try {
      if (importNode(s, node)) continue;
      // The par op reported its diagnostic and PAR6020 (import-build.ts).
      record(forms, node, "PAR6020", "the par op rejected the node");
    } catch (e) {
      if (!(e instanceof Unmappable || e instanceof FoldError)) throw e;
      record(forms, node, e.code, e.message, e instanceof Unmappable ? e.hint : undefined);
    }
    poison(node);
  }
  for (const f of forms.values()) {
    if (f.code === "PAR6020") continue;
    const nodes = `${f.nodes.slice(0, 3).join(", ")}${f.nodes.length > 3 ? ` and ${f.nodes.length - 3} more` : ""}`;
    d.error(f.code, `${file}: node${f.nodes.length > 1 ? "s" : ""} ${nodes} (${f.op}): ${f.reason}`, { hint: f.hint });
  }
  return [...forms.values()].map(({ op, code, reason, nodes }) => ({ op, code, reason, nodes }));
}

function record(forms: Map<string, UnmappableForm & { hint?: string }>, n: OnnxNode, code: string, reason: string, hint?: string): void {
  const key = `${n.opType}\u0000${code}\u0000${reason}`;
  const f = forms.get(key);
  if (f) f.nodes.push(n.name);
  else forms.set(key, { op: n.opType, code, reason, nodes: [n.name], hint });
}

/** PAR6022 for a weight several nodes read where some reader's par op keeps its own copy. */
function warnCopiedSharedWeights(s: ImportState, file: string, d: Diagnostics): void {
  for (const name of s.shared) {
    const copies = s.copies.get(name)?.size ?? 0;
    if (copies + (s.sharedTensors.has(name) ? 1 : 0) < 2) continue;
    d.warning("PAR6022", `${file}: weight \`${name}\` is read by several nodes, but ${copies} of them (${[...s.copies.get(name)!].slice(0, 3).join(", ")}) import as par ops holding their own copy: the copies train separately`, {
      expected: "one shared tensor (par shares weights read by MatMul, Gemm and Gather)",
    });
  }
}
