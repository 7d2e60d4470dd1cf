// The inputs of `par forward`: .npy arrays bound to a model's inputs (by name, or in the
// order the model declares its inputs), their shapes binding the model's symbolic dims as
// it loads, and the model's own outputs (an ONNX model's graph outputs, a .par model's
// loss inputs: never the training loss par appends). Binding problems are coded errors
// (PAR6042-PAR6045) naming the input. src/pipeline.ts (`forward`) runs the pass.

import type { Diagnostics } from "../core/diagnostics.js";
import type { DType } from "../core/tensor.js";
import type { Graph } from "../ir/graph.js";
import type { DeclaredInput, ModelTensor } from "./import-build.js";
import type { LoadedModel, LoadModelOptions } from "./load-model.js";
import type { NpyArray } from "./npy.js";

/** Values of a par input or output: float32, or int32 for integer tensors. */
export type TensorValues = Float32Array | Int32Array;

/** An array for a model input: named (`--input NAME=FILE`) or positional (`--input FILE`). */
export interface GivenArray {
  name?: string;
  /** Where it came from, for messages (a file path). */
  source: string;
  array: NpyArray;
}

const FLOAT_ARRAYS = ["f4"];
const INT_ARRAYS = ["i4", "i8", "u1", "b1"];

const fmt = (dims: readonly (number | string | undefined)[]) => `[${dims.map((d) => d ?? "?").join(", ")}]`;

/** Which array feeds which declared input: named ones by name, the rest in declaration order. */
function pair(declared: readonly DeclaredInput[], given: readonly GivenArray[], d: Diagnostics): Map<string, GivenArray> | undefined {
  const out = new Map<string, GivenArray>();
  const names = declared.map((i) => i.name);
  let ok = true;
  for (const g of given.filter((x) => x.name !== undefined)) {
    if (!names.includes(g.name!)) {
      d.error("PAR6042", `--input ${g.name}=${g.source}: the model has no input \`${g.name}\``, { expected: `one of ${names.join(", ") || "(no inputs)"}` });
      ok = false;
    } else if (out.has(g.name!)) {
      d.error("PAR6042", `--input ${g.name} is given twice`, { expected: "one array per input" });
      ok = false;
    } else out.set(g.name!, g);
  }
  const free = names.filter((n) => !out.has(n));
  const unnamed = given.filter((x) => x.name === undefined);
  if (unnamed.length > free.length) {
    d.error("PAR6042", `${unnamed.length} unnamed --input arrays, but only ${free.length} model input${free.length === 1 ? " is" : "s are"} left for them (${free.join(", ") || "none"})`, { expected: `at most ${free.length}`, hint: "name the inputs: --input NAME=FILE.npy" });
    return undefined;
  }
  unnamed.forEach((g, i) => out.set(free[i], g));
  const missing = names.filter((n) => !out.has(n));
  if (missing.length) {
    const want = declared.filter((i) => missing.includes(i.name)).map((i) => `${i.name} ${i.dtype}${i.dims ? fmt(i.dims) : ""}`);
    d.error("PAR6045", `no array for model input${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`, { expected: want.join("; "), hint: `give each with --input NAME=FILE.npy (inputs in order: ${names.join(", ")})` });
    ok = false;
  }
  return ok ? out : undefined;
}

/** Checks an array against a declared input: its dtype kind, rank and fixed dims. */
function checkArray(input: DeclaredInput, g: GivenArray, d: Diagnostics): boolean {
  const a = g.array;
  const kinds = input.dtype === "f32" ? FLOAT_ARRAYS : INT_ARRAYS;
  if (!kinds.includes(a.dtype)) {
    d.error("PAR6043", `input \`${input.name}\` (${g.source}): the model expects ${input.dtype === "f32" ? "float32" : "integers"}, the array holds ${a.dtype}`, {
      expected: input.dtype === "f32" ? "a float32 array ('<f4')" : "an integer or bool array ('<i8', '<i4', '|u1', '|b1')",
      hint: input.dtype === "f32" ? "save array.astype(numpy.float32)" : "save array.astype(numpy.int64)",
    });
    return false;
  }
  const dims = input.dims;
  const clash = dims !== undefined && (dims.length !== a.shape.length || dims.some((x, i) => typeof x === "number" && x !== a.shape[i]));
  if (clash || a.shape.some((x) => x < 1)) {
    d.error("PAR6044", `input \`${input.name}\` (${g.source}): the model expects ${dims ? fmt(dims) : "a non-empty array"}, the array is ${fmt(a.shape)}`, {
      expected: dims ? `shape ${fmt(dims)} (named or unknown dims take any positive size)` : "every dim ≥ 1",
      hint: "reshape the array, or re-export the model with dynamic axes for the dims that vary",
    });
    return false;
  }
  return true;
}

/** Values for a par input of `dtype` from an array (integers checked to fit int32). */
function bufferOf(g: GivenArray, dtype: DType, d: Diagnostics, name: string): TensorValues | undefined {
  const a = g.array;
  if (dtype === "f32") return a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as Float64Array);
  const out = new Int32Array(a.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = typeof a.data[i] === "bigint" ? Number(a.data[i]) : (a.data[i] as number);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      d.error("PAR6043", `input \`${name}\` (${g.source}): value ${String(a.data[i])} at flat index ${i} does not fit par's int32 indices`, { expected: "integers in [-2^31, 2^31)" });
      return undefined;
    }
    out[i] = v;
  }
  return out;
}

/** The inputs of a .par model that the model reads (not only its losses' labels or targets). */
export function parModelInputs(graph: Graph): ModelTensor[] {
  return graph.inputs.filter((id) => graph.tensor(id).consumers.some((c) => !graph.lossOps().some((o) => o.name === c.op))).map((id) => ({ name: id, tensor: id }));
}

/** A .par model's outputs: what its losses train (else the tensors no op reads). */
export function parModelOutputs(graph: Graph): ModelTensor[] {
  const losses = graph.lossOps();
  const ids = losses.length ? losses.map((o) => o.inputs[0]) : graph.outputs();
  return [...new Set(ids)].map((id) => ({ name: id, tensor: id }));
}

/** A model with its inputs bound: what its forward pass needs. */
export interface ForwardModel {
  model: LoadedModel;
  inputs: ModelTensor[];
  outputs: ModelTensor[];
  /** Par input tensor id → values. */
  feeds: Map<string, TensorValues>;
  /** Model input name → the array bound to it. */
  bound: Map<string, GivenArray>;
}

/**
 * A model ready for its forward pass: `load` loads it with the given binder of input
 * shapes (a path through loadModel, or bytes through an importer), then the arrays become
 * the feeds of its input tensors. Undefined after reporting coded errors into `d`.
 */
export function prepareForward(load: (bind: NonNullable<LoadModelOptions["bind"]>) => LoadedModel | undefined, given: readonly GivenArray[], d: Diagnostics): ForwardModel | undefined {
  let bound: Map<string, GivenArray> | undefined;
  const bind = (declared: DeclaredInput[]): Record<string, number[]> | undefined => {
    bound = pair(declared, given, d);
    if (!bound) return undefined;
    let ok = true;
    for (const input of declared) ok = checkArray(input, bound.get(input.name)!, d) && ok;
    return ok ? Object.fromEntries(declared.map((i) => [i.name, bound!.get(i.name)!.array.shape])) : undefined;
  };
  const before = d.errors.length;
  const model = load(bind);
  if (!model || d.errors.length > before) return undefined;
  let inputs = model.inputs;
  let outputs = model.outputs;
  if (model.format === "par") {
    inputs = parModelInputs(model.graph);
    outputs = parModelOutputs(model.graph);
    // A .par model's shapes come from its parameters: the arrays must match them.
    const declared = inputs.map((i): DeclaredInput => ({ name: i.name, dtype: model.graph.tensor(i.tensor).type.dtype, dims: model.graph.tensor(i.tensor).type.shape }));
    if (!bind(declared)) return undefined;
  }
  if (!inputs || !outputs || !bound) throw new Error(`model ${model.graph.name} was loaded without its inputs and outputs`);
  const feeds = new Map<string, TensorValues>();
  for (const i of inputs) {
    const data = bufferOf(bound.get(i.name)!, model.graph.tensor(i.tensor).type.dtype, d, i.name);
    if (!data) return undefined;
    feeds.set(i.tensor, data);
  }
  return { model, inputs, outputs, feeds, bound };
}
