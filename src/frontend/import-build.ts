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
  /**
   * Parameter values by parameter id "<op>.<param>", in par's parameter layouts, read when
   * asked (external data by offset): a structure-only command never reads them. Reading a
   * parameter whose external data is missing throws PAR6008.
   */
  weights: ReadonlyMap<string, Float32Array>;
  /** Param ids whose values are in a missing side file (see `weights`). */
  missingWeights: string[];
  /** The model's parameter count (ONNX: every float initializer element, each initializer once); also `graph.parameterCount()`. */
  parameters: number;
  /** The model's own inputs (not the loss's labels) by their name in the file, as par graph inputs. */
  inputs: ModelTensor[];
  /** The model's own outputs (not the training loss) by their name in the file, as par tensors. */
  outputs: ModelTensor[];
  /** The training loss appended, and why. */
  loss: LossChoice;
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

/** The training loss an import appended: its kind, the tensors it reads and the reason for the choice. */
export interface LossChoice {
  kind: LossKind;
  /** The model output it trains (a par tensor id). */
  output: string;
  /** The graph input added for the labels or the regression target. */
  target: string;
  reason: string;
}

/** A model input or output: its name in the model file and the par tensor that is it. */
export interface ModelTensor {
  name: string;
  tensor: string;
}

/** A model input as the file declares it, before its shape is bound. */
export interface DeclaredInput {
  name: string;
  dtype: DType;
  /** Its dims: numbers, symbolic names, undefined where unknown; undefined when the rank is unknown. */
  dims?: (number | string | undefined)[];
}

/**
 * A parameter's values as the importer hands them over: read when needed (so that a
 * model's weights are never copied by a command that only reads its structure).
 */
export interface ParamValues {
  read(): Float32Array;
  /** Elements `read` returns, when known before reading (checked then, and on every read). */
  readonly length?: number;
  /** False when the values are in a missing side file (reading throws PAR6008). */
  readonly available: boolean;
  /** The model weights (ONNX initializer names) the values come from: the parameter trains them. */
  readonly sources: readonly string[];
}

export interface ImportOptions {
  /** Input shapes by model input name ("input" → [2, 3, 224, 224]), overriding the model's. */
  inputs?: Record<string, number[]>;
  /** Binds symbolic (unnamed or named) leading batch dims. */
  batch?: number;
  /** The training loss to append; default by output kind (see addTrainingLoss). */
  loss?: LossKind;
  /** Globs (`*`, `?`) of weight names (ONNX initializers) that are not trained. */
  freeze?: string[];
  /** The model file's folder, where external data is read from (ONNX). */
  dir?: string;
  /**
   * Binds input shapes from the declared inputs (`par forward` takes them from its arrays):
   * the shapes by input name, overriding `inputs`, or undefined after reporting why not.
   */
  bind?: (declared: DeclaredInput[]) => Record<string, number[]> | undefined;
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

/**
 * Parameter values by id, each read when asked and not kept: the map a lowering or a
 * forward run iterates holds no copy of a large model's weights until then.
 */
export class LazyWeights implements ReadonlyMap<string, Float32Array> {
  constructor(private readonly readers: ReadonlyMap<string, () => Float32Array>) {}

  get size(): number {
    return this.readers.size;
  }

  has(id: string): boolean {
    return this.readers.has(id);
  }

  get(id: string): Float32Array | undefined {
    return this.readers.get(id)?.();
  }

  *entries(): MapIterator<[string, Float32Array]> {
    for (const [id, read] of this.readers) yield [id, read()];
  }

  keys(): MapIterator<string> {
    return this.readers.keys();
  }

  *values(): MapIterator<Float32Array> {
    for (const read of this.readers.values()) yield read();
  }

  forEach(f: (value: Float32Array, key: string, map: ReadonlyMap<string, Float32Array>) => void): void {
    for (const [id, read] of this.readers) f(read(), id, this);
  }

  [Symbol.iterator](): MapIterator<[string, Float32Array]> {
    return this.entries();
  }
}

export class GraphBuilder {
  readonly graph: Graph;
  readonly names = new NameTable();
  /** Param id → how to read its values. */
  readonly readers = new Map<string, () => Float32Array>();
  /** Param id → the model weights its values come from. */
  readonly sources = new Map<string, readonly string[]>();
  /** Param ids whose values are in a missing side file. */
  readonly missing: string[] = [];
  /** Elements of imported weights actually handed to parameters (Keras's count). */
  parameters = 0;
  /** The training loss, once appended. */
  loss?: LossChoice;
  /** The model's own inputs, as `input` added them. */
  readonly inputs: ModelTensor[] = [];
  outputs: ModelTensor[] = [];

  constructor(
    name: string,
    readonly diagnostics: Diagnostics,
  ) {
    this.graph = new Graph(name);
  }

  type(id: string): TensorType {
    return this.graph.tensor(id).type;
  }

  /** Adds a graph input under a fresh identifier derived from `raw`; returns its id. `ofModel`: one of the model's own inputs (not a loss's labels). */
  input(raw: string, dtype: DType, shape: number[], dims?: string[], ofModel = true): string {
    const id = this.names.claim(identifierOf(raw, "input"));
    this.graph.addInput(id, { dtype, shape: [...shape], dims: dims ?? shape.map((_, i) => (i === 0 ? "batch" : `d${i}`)) });
    if (ofModel) this.inputs.push({ name: raw, tensor: id });
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
   * Hands parameter `param` of op `opName` its values (undefined: the model holds no data
   * for it); `counted` = they are the model's weights (Keras's parameter count; the ONNX
   * importer counts initializers itself).
   */
  setWeight(opName: string, param: string, values: ParamValues | Float32Array | undefined, counted = true): void {
    const spec = this.graph.op(opName).sig.params.find((p) => p.name === param);
    if (!spec) throw new Error(`op ${opName} has no parameter ${param}`);
    const n = volume(spec.shape);
    // A weight without data (a topology without shards) still counts: it is in the model.
    if (counted) this.parameters += n;
    if (!values) return;
    const v: ParamValues = values instanceof Float32Array ? { read: () => values, length: values.length, available: true, sources: [] } : values;
    if (v.length !== undefined && v.length !== n) throw new Error(`parameter ${opName}.${param}: ${v.length} values for shape [${spec.shape.join(", ")}]`);
    const id = `${opName}.${param}`;
    this.readers.set(id, () => {
      const data = v.read();
      if (data.length !== n) throw new Error(`parameter ${id}: read ${data.length} values for shape [${spec.shape.join(", ")}]`);
      return data;
    });
    this.sources.set(id, v.sources);
    if (!v.available) this.missing.push(id);
  }

  result(unsupported: ImportedModel["unsupported"]): ImportedModel {
    if (!this.loss) throw new Error("import finished without a training loss");
    // The Keras count (its weights as the file lists them) unless the importer counted itself.
    this.graph.parameterAccount ??= { parameters: this.parameters, trainable: this.parameters, buffers: 0 };
    return { graph: this.graph, weights: new LazyWeights(this.readers), missingWeights: [...this.missing], parameters: this.graph.parameterAccount.parameters, inputs: this.inputs, outputs: this.outputs, loss: this.loss, unsupported };
  }
}

/** The default loss of an output, and why: class or per-token logits are classified, anything else regressed. */
function defaultLoss(t: TensorType, tokenInputs: boolean): { kind: LossKind; reason: string } {
  const shape = `[${t.shape.join(", ")}]`;
  if (t.shape.length === 2 && t.shape[1] > 1) return { kind: CLASSIFICATION_LOSS, reason: `the output ${shape} reads as class logits [N, C]: softmax cross-entropy against labels [N]` };
  if (t.shape.length === 3 && t.shape[2] > 1 && tokenInputs) {
    return { kind: CLASSIFICATION_LOSS, reason: `the output ${shape} reads as per-token logits [N, T, V] over a vocabulary of ${t.shape[2]} (the model reads integer tokens): cross-entropy per token against labels [N, T]` };
  }
  return { kind: REGRESSION_LOSS, reason: `the output ${shape} reads as a dense regression output: mean squared error against a target of its shape` };
}

/**
 * Appends a training loss to `output` unless the graph already has one. `loss` overrides
 * the default: class logits [N, C] get softmax_cross_entropy against new `labels` [N];
 * per-token logits [N, T, V] of a model reading integer tokens get it against labels
 * [N, T]; any other output gets mse against a `target` of its shape. The loss's second
 * input becomes a new graph input, made from its declared role: `labels` are i32 shaped
 * like the output without its class axis, a `target` is f32 of the output's shape. The
 * choice is kept in `b.loss` (with its reason); false after PAR6021.
 */
export function addTrainingLoss(b: GraphBuilder, output: string, loss: LossKind | undefined, diagnostics: Diagnostics): boolean {
  const existing = b.graph.lossOps()[0];
  if (existing) {
    b.loss = { kind: existing.op as LossKind, output: existing.inputs[0], target: existing.inputs[1], reason: "the model has its own loss" };
    return true;
  }
  const t = b.type(output);
  const tokenInputs = b.graph.inputs.some((i) => b.type(i).dtype === "i32");
  const chosen = loss ? { kind: loss, reason: `--loss ${loss}` } : defaultLoss(t, tokenInputs);
  const kind = chosen.kind;
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
  const id = other.role === "labels" ? b.input(other.name, "i32", t.shape.slice(0, -1), t.dims.slice(0, -1), false) : b.input(other.name, "f32", t.shape, t.dims, false);
  if (b.op("loss", kind, {}, [output, id], `the training loss on \`${output}\``) === undefined) return false;
  b.loss = { kind, output, target: id, reason: chosen.reason };
  return true;
}
