// What the importers (ONNX, Keras) share: the imported-model type, a graph builder that
// adds par ops the way the elaborator does (resolveAttrs → infer, or expand for composite
// ops), identifier-safe op names (so that the printed .par names its ops exactly as the
// imported graph does), weight bookkeeping and the training loss that imports append.

import { RESERVED_WORDS } from "../../grammar/tokens.js";
import type { Diagnostics } from "../core/diagnostics.js";
import { volume, type DType, type TensorType } from "../core/tensor.js";
import { Graph } from "../ir/graph.js";
import { resolveAttrs } from "../ops/attrs.js";
import { expandComposite } from "../ops/composite.js";
import type { Attrs, InferContext } from "../ops/contract.js";
import { appendableLosses } from "../ops/properties.js";
import { allOps, getOp } from "../ops/registry.js";
import { NameTable } from "./naming.js";

export interface ImportedModel {
  graph: Graph;
  /** Parameter values by parameter id "<op>.<param>", in par's parameter layouts. */
  weights: Map<string, Float32Array>;
  /** Elements of the float initializers (or Keras weights) used as parameters. */
  parameters: number;
  /** Operators without a mapping (also reported as one PAR6010 error). */
  unsupported: { op: string; nodes: string[] }[];
}

/** The op name of a training loss an import can append (see `appendableLossNames`). */
export type LossKind = string;

/**
 * The losses an import can append (and `--loss` can name): losses of two inputs whose
 * second is `labels` or a `target` (InputSpec.role), which the import adds as a new input.
 */
export function appendableLossNames(): string[] {
  return appendableLosses(allOps()).map((e) => e.name);
}

/** The default losses: class logits are classified, anything else is regressed. */
const CLASSIFICATION_LOSS: LossKind = "softmax_cross_entropy";
const REGRESSION_LOSS: LossKind = "mse";

export interface ImportOptions {
  /** Input shapes by model input name ("input" → [2, 3, 224, 224]), overriding the model's. */
  inputs?: Record<string, number[]>;
  /** Binds symbolic (unnamed or named) leading batch dims. */
  batch?: number;
  /** The training loss to append; default by output kind (see addTrainingLoss). */
  loss?: LossKind;
}

const RESERVED = new Set(RESERVED_WORDS);

/**
 * An identifier for a model's name ("/layer1/layer1.0/conv1/Conv" → "layer1_0_conv1"):
 * par op names double as .par statement targets, so they must lex as identifiers.
 */
export function identifierOf(raw: string, fallback: string): string {
  let s = raw.replace(/[^A-Za-z0-9_]+/g, "_").replace(/_+/g, "_").replace(/^_|_$/g, "");
  if (s === "") s = fallback;
  if (/^[0-9]/.test(s)) s = `n${s}`;
  if (RESERVED.has(s)) s = `${s}_`;
  return s;
}

export class GraphBuilder {
  readonly graph: Graph;
  readonly names = new NameTable();
  readonly weights = new Map<string, Float32Array>();
  /** Elements of imported weights actually handed to parameters. */
  parameters = 0;

  constructor(
    name: string,
    readonly diagnostics: Diagnostics,
  ) {
    this.graph = new Graph(name);
  }

  type(id: string): TensorType {
    return this.graph.tensor(id).type;
  }

  /** Adds a graph input under a fresh identifier derived from `raw`; returns its id. */
  input(raw: string, dtype: DType, shape: number[], dims?: string[]): string {
    const id = this.names.claim(identifierOf(raw, "input"));
    this.graph.addInput(id, { dtype, shape: [...shape], dims: dims ?? shape.map((_, i) => (i === 0 ? "batch" : `d${i}`)) });
    return id;
  }

  /**
   * Adds par op `op` (validated and typed by its registry entry; composite ops expand to
   * their sub-ops as in .par elaboration). Returns the output tensor ids, or undefined
   * after reporting the op's own diagnostic and a PAR6020 naming the source node.
   */
  op(base: string, op: string, attrs: Attrs, inputs: string[], source: string): string[] | undefined {
    const entry = getOp(op);
    if (!entry) throw new Error(`importer maps to unknown par op ${op}`);
    const name = this.names.claim(identifierOf(base, op));
    const types = inputs.map((t) => this.type(t));
    const fail = (): undefined => {
      this.diagnostics.error("PAR6020", `${source} could not be imported as par op \`${op}\``, {
        expected: `inputs ${types.map((t) => `[${t.shape.join(", ")}]`).join(", ")} valid for \`${op}\` with ${JSON.stringify(attrs)}`,
      });
      return undefined;
    };
    const ctx: InferContext = { opName: name, diagnostics: this.diagnostics };
    const resolved = resolveAttrs(entry, attrs, ctx);
    if (!resolved) return fail();
    const sig = entry.infer(types, resolved, ctx);
    if (!sig) return fail();
    if (!entry.expansion) return this.graph.addOp({ name, op, attrs: resolved, inputs, sig }).outputs;
    const produced: string[][] = [];
    for (const sub of expandComposite(entry, resolved)) {
      const subEntry = getOp(sub.op)!;
      const subName = sub.suffix ? this.names.claim(`${name}.${sub.suffix}`) : name;
      const subInputs = sub.inputs.map((r) => (typeof r === "number" ? inputs[r] : produced[r.op][r.output]));
      const subCtx: InferContext = { opName: subName, diagnostics: this.diagnostics };
      const subAttrs = resolveAttrs(subEntry, sub.attrs, subCtx);
      const subSig = subAttrs && subEntry.infer(subInputs.map((t) => this.type(t)), subAttrs, subCtx);
      if (!subAttrs || !subSig) return fail();
      produced.push(this.graph.addOp({ name: subName, op: sub.op, attrs: subAttrs, inputs: subInputs, sig: subSig }).outputs);
    }
    return produced[produced.length - 1];
  }

  /** The op that produces tensor `id` (the final sub-op of a composite owns its parameters). */
  producer(id: string): string {
    const p = this.graph.tensor(id).producer;
    if (!p) throw new Error(`tensor ${id} is a graph input`);
    return p.op;
  }

  /**
   * Stores the value of parameter `param` of op `opName` (undefined: the model holds no
   * data for it); `counted` = it came from the model's weights (so it adds to the
   * reported parameter count).
   */
  setWeight(opName: string, param: string, data: Float32Array | undefined, counted = true): void {
    const spec = this.graph.op(opName).sig.params.find((p) => p.name === param);
    if (!spec) throw new Error(`op ${opName} has no parameter ${param}`);
    // A weight without data (external, structure-only) still counts: it is in the model.
    if (!data) {
      if (counted) this.parameters += volume(spec.shape);
      return;
    }
    if (volume(spec.shape) !== data.length) throw new Error(`parameter ${opName}.${param}: ${data.length} values for shape [${spec.shape.join(", ")}]`);
    this.weights.set(`${opName}.${param}`, data);
    if (counted) this.parameters += data.length;
  }

  result(unsupported: ImportedModel["unsupported"]): ImportedModel {
    return { graph: this.graph, weights: this.weights, parameters: this.parameters, unsupported };
  }
}

/**
 * Appends a training loss to `output` unless the graph already has one. Default by output
 * kind: class logits [N, C] get softmax_cross_entropy, anything else mse. The loss's second
 * input becomes a new graph input, made from its declared role: `labels` are i32 shaped
 * like the output without its class axis ([N]), a `target` is f32 of the output's shape.
 */
export function addTrainingLoss(b: GraphBuilder, output: string, loss: LossKind | undefined, diagnostics: Diagnostics): boolean {
  if (b.graph.lossOps().length > 0) return true;
  const t = b.type(output);
  const kind: LossKind = loss ?? (t.shape.length === 2 && t.shape[1] > 1 ? CLASSIFICATION_LOSS : REGRESSION_LOSS);
  const entry = appendableLosses(allOps()).find((e) => e.name === kind);
  if (!entry) {
    diagnostics.error("PAR6021", `\`${kind}\` is not a training loss par can append to an imported model`, { expected: `one of ${appendableLossNames().join(", ")}` });
    return false;
  }
  const other = entry.inputs[1];
  if (other.role === "labels" && t.shape.length < 2) {
    diagnostics.error("PAR6021", `${kind} needs class logits [batch, ..., classes], but the model output \`${output}\` is [${t.shape.join(", ")}]`, {
      expected: "an output of rank ≥ 2",
      hint: `use loss ${REGRESSION_LOSS}`,
    });
    return false;
  }
  const id = other.role === "labels" ? b.input(other.name, "i32", t.shape.slice(0, -1), t.dims.slice(0, -1)) : b.input(other.name, "f32", t.shape, t.dims);
  return b.op("loss", kind, {}, [output, id], `the training loss on \`${output}\``) !== undefined;
}
