// ONNX → par Graph. The decoded model (decode.ts) is checked for structure (dangling
// names, duplicate outputs, cycles, unsupported operators: each one coded error), its
// input shapes are bound (model dims, --input, --batch), and its nodes are visited in
// topological order. A node whose inputs are all constant is folded (fold.ts); any other
// node maps to par ops through the table in `mapNode`. Initializers a node consumes as
// weights become the par op's parameters, transformed to par's layouts (Gemm transB,
// LSTM gate order) and kept in `weights`. Finally a training loss is appended.
// docs/import.md lists every mapping.

import type { Diagnostics } from "../../core/diagnostics.js";
import type { DType } from "../../core/tensor.js";
import type { Attrs } from "../../ops/contract.js";
import { GraphBuilder, addTrainingLoss, identifierOf, type ImportOptions, type ImportedModel } from "../import-build.js";
import { decodeOnnx, isFloatDType, isIntDType, type OnnxLimits, type OnnxModel, type OnnxNode, type OnnxTensor } from "./decode.js";
import { type ConstValue, FOLDABLE, FoldError, broadcast, constOfTensor, foldConst, resolveReshape, sliceBounds, volumeOf } from "./fold.js";

export type { ImportedModel, ImportOptions } from "../import-build.js";

export const MIN_OPSET = 11;
export const MAX_OPSET = 17;

/** ONNX operators that map to par ops (FOLDABLE ones also fold when constant). */
export const MAPPED_OPS = new Set([
  "Conv", "Gemm", "MatMul", "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "Erf", "Gelu", "Exp", "Log", "Sqrt", "Neg", "Abs",
  "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "LayerNormalization",
  "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "ReduceMean", "ReduceSum", "ReduceMax", "Softmax", "LogSoftmax",
  "Concat", "Split", "Slice", "Flatten", "Reshape", "Transpose", "Gather", "LSTM", "Pad", "Identity", "Dropout",
  "Expand", "Squeeze", "Unsqueeze", "Cast",
]);

/** A value during import: a par tensor, or a constant (an initializer or a folded value). */
type Val = { kind: "tensor"; id: string } | { kind: "const"; tensor?: OnnxTensor; value?: ConstValue };

class Unmappable extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Every op type the model uses that par can neither map nor fold, with its node names. */
export function onnxUnsupported(model: OnnxModel): { op: string; nodes: string[] }[] {
  const by = new Map<string, string[]>();
  for (const n of model.graph.nodes) {
    const domainOk = n.domain === "" || n.domain === "ai.onnx" || (n.domain === "com.microsoft" && n.opType === "Gelu");
    if (domainOk && (MAPPED_OPS.has(n.opType) || FOLDABLE.has(n.opType))) continue;
    const key = domainOk ? n.opType : `${n.domain}.${n.opType}`;
    if (!by.has(key)) by.set(key, []);
    by.get(key)!.push(n.name);
  }
  return [...by.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([op, nodes]) => ({ op, nodes }));
}

/** Checks names: duplicate producers, dangling reads, cycles. Returns nodes in topological order. */
function structure(model: OnnxModel, file: string, d: Diagnostics): OnnxNode[] | undefined {
  const g = model.graph;
  const producer = new Map<string, number>();
  const defined = new Set<string>([...g.initializers.keys(), ...g.inputs.map((i) => i.name)]);
  let ok = true;
  const dups: string[] = [];
  g.nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (o === "") continue;
      if (producer.has(o) || (defined.has(o) && !producer.has(o))) dups.push(`\`${o}\` (node ${n.name})`);
      else producer.set(o, i);
    }
  });
  if (dups.length) {
    d.error("PAR6013", `${file}: tensor name${dups.length > 1 ? "s" : ""} produced more than once: ${dups.slice(0, 10).join(", ")}${dups.length > 10 ? `, and ${dups.length - 10} more` : ""}`, { expected: "each tensor name produced by exactly one node, input or initializer" });
    ok = false;
  }
  const dangling: string[] = [];
  for (const n of g.nodes) for (const i of n.inputs) if (i !== "" && !producer.has(i) && !defined.has(i)) dangling.push(`\`${i}\` (read by ${n.name})`);
  for (const o of g.outputs) if (!producer.has(o.name) && !defined.has(o.name)) dangling.push(`\`${o.name}\` (a graph output)`);
  if (dangling.length) {
    d.error("PAR6011", `${file}: no node, input or initializer produces ${dangling.slice(0, 10).join(", ")}${dangling.length > 10 ? `, and ${dangling.length - 10} more` : ""}`, { expected: "every name read to be produced earlier" });
    ok = false;
  }
  if (!ok) return undefined;
  // Kahn's algorithm in file order (ONNX requires topological order, but tolerate any).
  const indeg = g.nodes.map((n) => n.inputs.filter((i) => producer.has(i)).length);
  const users = new Map<number, number[]>();
  g.nodes.forEach((n, j) => {
    for (const i of n.inputs) {
      const p = producer.get(i);
      if (p !== undefined) {
        if (!users.has(p)) users.set(p, []);
        users.get(p)!.push(j);
      }
    }
  });
  const order: OnnxNode[] = [];
  const ready = g.nodes.map((_, i) => i).filter((i) => indeg[i] === 0);
  const done = new Array<boolean>(g.nodes.length).fill(false);
  // A simple sorted ready list: ties in file order keep the import deterministic.
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    done[i] = true;
    order.push(g.nodes[i]);
    for (const u of users.get(i) ?? []) if (--indeg[u] === 0) ready.push(u);
  }
  if (order.length < g.nodes.length) {
    const stuck = g.nodes.filter((_, i) => !done[i]).map((n) => n.name);
    d.error("PAR6012", `${file}: the nodes ${stuck.slice(0, 10).join(", ")}${stuck.length > 10 ? `, and ${stuck.length - 10} more` : ""} form a cycle (or depend on one)`, { expected: "an acyclic graph" });
    return undefined;
  }
  return order;
}

/** Readable par op base name from a torch-style node name ("/layer1/layer1.0/conv1/Conv"). */
function nodeBase(n: OnnxNode, carriesWeights: boolean): string {
  if (!n.name.includes("/")) return n.name || n.outputs[0] || n.opType;
  const segs = n.name.split("/").filter(Boolean);
  const last = segs.pop() ?? n.opType;
  let q = "";
  for (const s of segs) q = q && s.startsWith(`${q}.`) ? s : q ? `${q}.${s}` : s;
  if (!q) return last.toLowerCase();
  return carriesWeights ? q : `${q}_${last.toLowerCase()}`;
}

interface Ctx {
  b: GraphBuilder;
  values: Map<string, Val>;
  opset: number;
  /** Consumers of each tensor name (node, input index). */
  consumers: Map<string, { node: OnnxNode; index: number }[]>;
  graphOutputs: Set<string>;
  /** Nodes folded into an earlier op (an Add absorbed as a linear bias). */
  absorbed: Set<OnnxNode>;
  missingWeights: string[];
}

function dtypeOf(elemType: number): DType | undefined {
  if (isFloatDType(elemType)) return "f32";
  if (isIntDType(elemType)) return "i32";
  return undefined;
}

/** Binds every graph input's shape; reports PAR6014/PAR6015. */
function bindInputs(model: OnnxModel, file: string, options: ImportOptions, b: GraphBuilder, values: Map<string, Val>, d: Diagnostics): boolean {
  const g = model.graph;
  const real = g.inputs.filter((i) => !g.initializers.has(i.name));
  let ok = true;
  for (const name of Object.keys(options.inputs ?? {})) {
    if (!real.some((i) => i.name === name)) {
      d.error("PAR6015", `${file}: --input names \`${name}\`, which is not an input of the model`, { expected: real.map((i) => i.name).join(", ") || "no inputs" });
      ok = false;
    }
  }
  for (const inp of real) {
    const dtype = dtypeOf(inp.elemType);
    if (!dtype) {
      d.error("PAR6007", `${file}: input \`${inp.name}\` has element type ${inp.elemType}, which par does not import`, { expected: "a float or integer input" });
      ok = false;
      continue;
    }
    const given = options.inputs?.[inp.name];
    let shape: number[];
    if (given) {
      if (inp.shape && inp.shape.length !== given.length) {
        d.error("PAR6015", `${file}: --input ${inp.name} gives rank ${given.length}, but the model's input has rank ${inp.shape.length}`, { expected: `${inp.shape.length} dims` });
        ok = false;
        continue;
      }
      if (given.some((x) => !Number.isInteger(x) || x < 1 || x > 2 ** 31)) {
        d.error("PAR6015", `${file}: --input ${inp.name} has a dim outside [1, 2^31]: ${given.join("x")}`, { expected: "positive dims" });
        ok = false;
        continue;
      }
      shape = [...given];
    } else if (!inp.shape) {
      d.error("PAR6014", `${file}: input \`${inp.name}\` has no shape in the model`, { hint: `give it with --input ${inp.name}=2x3x224x224` });
      ok = false;
      continue;
    } else {
      const free = inp.shape.map((x, i) => (typeof x === "number" ? -1 : i)).filter((i) => i >= 0);
      const unbound = free.filter((i) => !(i === 0 && options.batch !== undefined));
      if (unbound.length) {
        const dims = inp.shape.map((x) => (typeof x === "number" ? String(x) : x ?? "?")).join("x");
        d.error("PAR6014", `${file}: input \`${inp.name}\` [${dims}] has symbolic or unknown dim${unbound.length > 1 ? "s" : ""} at axis ${unbound.join(", ")}`, {
          expected: "static dims",
          hint: unbound.every((i) => i === 0) ? "bind the batch dim with --batch N" : `give the whole shape with --input ${inp.name}=...`,
        });
        ok = false;
        continue;
      }
      shape = inp.shape.map((x) => (typeof x === "number" ? x : options.batch!));
    }
    const id = b.input(inp.name, dtype, shape);
    values.set(inp.name, { kind: "tensor", id });
  }
  return ok;
}

/** The constant of a value (an initializer's data or a folded value), or undefined. */
function constOf(v: Val | undefined): ConstValue | undefined {
  if (!v || v.kind !== "const") return undefined;
  if (!v.value && v.tensor) v.value = constOfTensor(v.tensor);
  return v.value;
}

function isConst(v: Val | undefined): boolean {
  return v?.kind === "const";
}

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
  const order = structure(model, file, d);
  if (!order) return undefined;
  const unsupported = onnxUnsupported(model);
  if (unsupported.length) {
    const list = unsupported.map((u) => `${u.op} (${u.nodes.slice(0, 3).join(", ")}${u.nodes.length > 3 ? `, +${u.nodes.length - 3}` : ""})`).join("; ");
    d.error("PAR6010", `${file}: ${unsupported.length} unsupported operator${unsupported.length > 1 ? "s" : ""}: ${list}`, { expected: "operators listed in docs/import.md", hint: "see `docs/import.md` for the supported ONNX operators" });
    return undefined;
  }
  const b = new GraphBuilder(identifierOf(model.graph.name || file.replace(/^.*[\\/]/, "").replace(/\.onnx$/, ""), "model"), d);
  const values = new Map<string, Val>();
  for (const [name, t] of model.graph.initializers) values.set(name, { kind: "const", tensor: t });
  if (!bindInputs(model, file, options, b, values, d)) return undefined;
  const consumers = new Map<string, { node: OnnxNode; index: number }[]>();
  for (const n of order) n.inputs.forEach((i, index) => {
    if (!consumers.has(i)) consumers.set(i, []);
    consumers.get(i)!.push({ node: n, index });
  });
  const ctx: Ctx = { b, values, opset: model.opset, consumers, graphOutputs: new Set(model.graph.outputs.map((o) => o.name)), absorbed: new Set(), missingWeights: [] };
  for (const node of order) {
    if (ctx.absorbed.has(node)) continue;
    try {
      if (!importNode(ctx, node)) return undefined;
    } catch (e) {
      if (e instanceof Unmappable || e instanceof FoldError) {
        d.error(e.code, `${file}: node ${node.name} (${node.opType}): ${e.message}`, { hint: e instanceof Unmappable ? e.hint : undefined });
        return undefined;
      }
      throw e;
    }
  }
  if (ctx.missingWeights.length) {
    d.warning("PAR6007", `${file}: ${ctx.missingWeights.length} weight tensor${ctx.missingWeights.length > 1 ? "s have" : " has"} external data, not read: the graph imports without their values`, {
      expected: `data inside the model (first: ${ctx.missingWeights[0]})`,
    });
  }
  const outs = model.graph.outputs.map((o) => values.get(o.name)).filter((v): v is { kind: "tensor"; id: string } => v?.kind === "tensor");
  if (outs.length === 0) {
    d.error("PAR6003", `${file}: no graph output is computed from the inputs (all are constants)`, { expected: "an output that depends on an input" });
    return undefined;
  }
  if (!addTrainingLoss(b, outs[0].id, options.loss, d)) return undefined;
  return b.result([]);
}

// ---------------------------------------------------------------------------------------

/** Maps or folds one node; false after reporting an op diagnostic (PAR6020). */
function importNode(c: Ctx, n: OnnxNode): boolean {
  const ins = n.inputs.map((i) => (i === "" ? undefined : c.values.get(i)));
  const present = ins.filter((v, i) => n.inputs[i] !== "");
  // Shape and Size need only a static shape, which every par tensor has.
  if (n.opType === "Shape" || n.opType === "Size") {
    const v = ins[0]!;
    const shape = v.kind === "tensor" ? c.b.type(v.id).shape : constOf(v)?.shape ?? v.tensor?.dims;
    setConsts(c, n, foldConst(n.opType, n.attrs, [], c.opset, shape));
    return true;
  }
  if (FOLDABLE.has(n.opType) && present.every(isConst)) {
    const consts = ins.map((v, i) => {
      if (n.inputs[i] === "") return undefined;
      const k = constOf(v);
      if (!k) throw new FoldError("PAR6017", `constant input \`${n.inputs[i]}\` has external data, which cannot be folded`);
      return k;
    });
    setConsts(c, n, foldConst(n.opType, n.attrs, consts, c.opset));
    return true;
  }
  if (!MAPPED_OPS.has(n.opType) && !(n.opType === "Gelu")) throw new Unmappable("PAR6017", `${n.opType} on non-constant inputs is only supported when it folds to a constant`);
  return mapNode(c, n, ins);
}

/** True when some node or the graph's outputs read tensor `name`. */
function used(c: Ctx, name: string | undefined): boolean {
  return !!name && ((c.consumers.get(name)?.length ?? 0) > 0 || c.graphOutputs.has(name));
}

function setConsts(c: Ctx, n: OnnxNode, vs: ConstValue[]): void {
  n.outputs.forEach((o, i) => {
    if (o !== "" && vs[i]) c.values.set(o, { kind: "const", value: vs[i] });
  });
}

function attrI(n: OnnxNode, name: string, dflt: number): number {
  return n.attrs.get(name)?.i ?? dflt;
}
function attrF(n: OnnxNode, name: string, dflt: number): number {
  return n.attrs.get(name)?.f ?? dflt;
}
function attrInts(n: OnnxNode, name: string): number[] | undefined {
  const a = n.attrs.get(name);
  return a?.ints ?? (a?.i !== undefined ? [a.i] : undefined);
}
function attrS(n: OnnxNode, name: string, dflt: string): string {
  return n.attrs.get(name)?.s ?? dflt;
}

/** Float data of a weight (an initializer, possibly external → undefined). */
function weightData(c: Ctx, v: Val, what: string): Float32Array | undefined {
  if (v.kind !== "const") throw new Unmappable("PAR6016", `${what} must be a constant (an initializer)`);
  if (v.tensor) {
    if (!isFloatDType(v.tensor.dataType)) throw new Unmappable("PAR6016", `${what} must be float, got data type ${v.tensor.dataType}`);
    if (v.tensor.external) {
      c.missingWeights.push(v.tensor.name);
      return undefined;
    }
    return v.tensor.floats!;
  }
  if (v.value?.dtype !== "float") throw new Unmappable("PAR6016", `${what} must be a float constant`);
  return Float32Array.from(v.value.data);
}

function constDims(v: Val): number[] {
  if (v.kind !== "const") throw new Error("not a constant");
  return v.tensor ? v.tensor.dims : v.value!.shape;
}

/** True when the value is an initializer (weights count toward the parameter count). */
function fromInitializer(v: Val): boolean {
  return v.kind === "const" && v.tensor !== undefined;
}

function mapNode(c: Ctx, n: OnnxNode, ins: (Val | undefined)[]): boolean {
  const { b } = c;
  const src = `node ${n.name} (${n.opType})`;
  const tensorIn = (i: number, what = `input ${i}`): string => {
    const v = ins[i];
    if (!v) throw new Unmappable("PAR6016", `${what} is missing`);
    if (v.kind !== "tensor") throw new Unmappable("PAR6016", `${what} (\`${n.inputs[i]}\`) is a constant, but par needs a computed tensor here`, "par has no constant-tensor operand; only weights (Conv/Gemm/MatMul/Add/Mul initializers) and scalars fold into ops");
    return v.id;
  };
  const constIn = (i: number, what: string): ConstValue | undefined => {
    const v = ins[i];
    if (!v) return undefined;
    const k = constOf(v);
    if (!k) throw new Unmappable("PAR6017", `${what} (\`${n.inputs[i]}\`) must fold to a constant`);
    return k;
  };
  const weighty = ["Conv", "Gemm", "BatchNormalization", "LayerNormalization", "LSTM"].includes(n.opType) || (n.opType === "MatMul" && isConst(ins[1])) || (n.opType === "Gather" && isConst(ins[0]));
  const base = nodeBase(n, weighty);
  const emit = (op: string, attrs: Attrs, inputs: string[], name = base): string[] | undefined => b.op(name, op, attrs, inputs, src);
  const out = (ids: string[] | undefined, index = 0): boolean => {
    if (!ids) return false;
    if (n.outputs[index]) c.values.set(n.outputs[index], { kind: "tensor", id: ids[0] });
    return true;
  };
  const alias = (id: string): boolean => {
    c.values.set(n.outputs[0], { kind: "tensor", id });
    return true;
  };
  const rejectUsed = (from: number): void => {
    for (let i = from; i < n.outputs.length; i++) {
      const o = n.outputs[i];
      if (used(c, o)) throw new Unmappable("PAR6016", `output ${i} (\`${o}\`) is used, but par computes only output 0 of ${n.opType}`);
    }
  };
  const rank = (id: string): number => b.type(id).shape.length;
  const shapeOf = (id: string): number[] => b.type(id).shape;
  const norm = (a: number, r: number): number => (a < 0 ? a + r : a);
  const setWeight = (op: string, param: string, v: Val | undefined, data: Float32Array | undefined) => {
    if (v) b.setWeight(op, param, data, fromInitializer(v));
  };

  switch (n.opType) {
    case "Identity":
      return alias(tensorIn(0));
    case "Cast": {
      const x = tensorIn(0);
      const to = attrI(n, "to", 1);
      const isF = b.type(x).dtype === "f32";
      if (isF === isFloatDType(to) && (isF || isIntDType(to))) return alias(x);
      throw new Unmappable("PAR6016", `Cast of a ${b.type(x).dtype} tensor to data type ${to} (par casts only constants)`);
    }
    case "Relu": case "Sigmoid": case "Tanh": case "Erf": case "Exp": case "Log": case "Sqrt": case "Neg": case "Abs":
      return out(emit(n.opType.toLowerCase(), {}, [tensorIn(0)]));
    case "Gelu":
      if (attrS(n, "approximate", "none") !== "none") throw new Unmappable("PAR6016", "Gelu with approximate = tanh (par's gelu is the exact erf form)");
      return out(emit("gelu", {}, [tensorIn(0)]));
    case "LeakyRelu":
      return out(emit("leaky_relu", { alpha: attrF(n, "alpha", 0.01) }, [tensorIn(0)]));
    case "Clip": {
      const x = tensorIn(0);
      const lo = c.opset >= 11 ? constIn(1, "min")?.data[0] : n.attrs.get("min")?.f;
      const hi = c.opset >= 11 ? constIn(2, "max")?.data[0] : n.attrs.get("max")?.f;
      if (lo === 0 && hi === undefined) return out(emit("relu", {}, [x]));
      return out(emit("clip", { min: lo ?? -3.4028234663852886e38, max: hi ?? 3.4028234663852886e38 }, [x]));
    }
    case "Softmax": case "LogSoftmax": {
      const x = tensorIn(0);
      const r = rank(x);
      const op = n.opType === "Softmax" ? "softmax" : "log_softmax";
      const axis = norm(attrI(n, "axis", c.opset >= 13 ? -1 : 1), r);
      if (c.opset >= 13 || axis === r - 1) return out(emit(op, { axis }, [x]));
      // Before opset 13 the input is coerced to 2-D at `axis` and normalised over the rest.
      const shape = shapeOf(x);
      const flat = emit("flatten", { axis }, [x], `${base}_flatten`);
      const sm = flat && emit(op, { axis: 1 }, flat);
      return out(sm && emit("reshape", { shape }, sm, `${base}_reshape`));
    }
    case "Add": case "Sub": case "Mul": case "Div": case "Pow": case "Max": case "Min":
      return binaryNode(c, n, ins, emit, out, tensorIn);
    case "MatMul": {
      const a = tensorIn(0, "A");
      const bv = ins[1];
      if (bv?.kind === "tensor") return out(emit("matmul", {}, [a, bv.id]));
      if (!bv) throw new Unmappable("PAR6016", "MatMul needs two inputs");
      const dims = constDims(bv);
      if (dims.length !== 2) throw new Unmappable("PAR6016", `MatMul by a constant of rank ${dims.length} (par's linear takes a [in, out] weight)`);
      const [k, m] = dims;
      if (shapeOf(a)[rank(a) - 1] !== k) throw new Unmappable("PAR6016", `MatMul of [${shapeOf(a).join(", ")}] by a [${k}, ${m}] weight: inner dims differ`);
      const bias = fusableBias(c, n, m);
      const ids = emit("linear", { out: m, bias: bias !== undefined }, [a]);
      if (!ids) return false;
      const op = b.producer(ids[0]);
      setWeight(op, "weight", bv, weightData(c, bv, "MatMul weight"));
      if (bias) {
        setWeight(op, "bias", bias.val, weightData(c, bias.val, "bias"));
        c.absorbed.add(bias.node);
        c.values.set(bias.node.outputs[0], { kind: "tensor", id: ids[0] });
      }
      return out(ids);
    }
    case "Gemm": {
      if (attrF(n, "alpha", 1) !== 1 || attrF(n, "beta", 1) !== 1) throw new Unmappable("PAR6016", `Gemm with alpha = ${attrF(n, "alpha", 1)}, beta = ${attrF(n, "beta", 1)} (par maps only alpha = beta = 1)`, "fold the scale into the weights before exporting");
      let a = tensorIn(0, "A");
      if (attrI(n, "transA", 0)) {
        const t = emit("transpose", { perm: [1, 0] }, [a], `${base}_transA`);
        if (!t) return false;
        a = t[0];
      }
      const transB = attrI(n, "transB", 0) === 1;
      const bv = ins[1]!;
      const cv = ins[2];
      if (bv.kind === "tensor") {
        let bt = bv.id;
        if (transB) {
          const t = emit("transpose", { perm: [1, 0] }, [bt], `${base}_transB`);
          if (!t) return false;
          bt = t[0];
        }
        const mm = emit("matmul", {}, [a, bt]);
        if (!mm || !cv) return out(mm);
        return out(cv.kind === "tensor" ? emit("add", {}, [mm[0], cv.id], `${base}_bias`) : addConst(c, n, mm[0], cv, `${base}_bias`, emit));
      }
      const [r0, r1] = constDims(bv);
      const [k, m] = transB ? [r1, r0] : [r0, r1];
      const cDims = cv?.kind === "const" ? constDims(cv) : undefined;
      const biasOk = cDims !== undefined && (volumeOf(cDims) === m || volumeOf(cDims) === 1) && cDims.length <= 2 && (cDims.length < 2 || cDims[0] === 1);
      const ids = emit("linear", { out: m, bias: biasOk }, [a]);
      if (!ids) return false;
      const op = b.producer(ids[0]);
      const w = weightData(c, bv, "Gemm B");
      setWeight(op, "weight", bv, w && transB ? transpose2d(w, r0, r1) : w);
      if (biasOk) {
        const bd = weightData(c, cv!, "Gemm C");
        setWeight(op, "bias", cv, bd && bd.length === 1 ? new Float32Array(m).fill(bd[0]) : bd);
        return out(ids);
      }
      if (!cv) return out(ids);
      return out(cv.kind === "tensor" ? emit("add", {}, [ids[0], cv.id], `${base}_bias`) : addConst(c, n, ids[0], cv, `${base}_bias`, emit));
    }
    case "Conv":
      return convNode(c, n, ins, base, emit, out, tensorIn, setWeight);
    case "MaxPool": case "AveragePool": {
      rejectUsed(1);
      const x = tensorIn(0);
      if (rank(x) !== 4) throw new Unmappable("PAR6016", `${n.opType} over a rank-${rank(x)} input (par pools NCHW images)`);
      const kernel = attrInts(n, "kernel_shape") ?? [];
      const strides = attrInts(n, "strides") ?? [1, 1];
      if (attrI(n, "ceil_mode", 0) !== 0) throw new Unmappable("PAR6016", "ceil_mode = 1 (par pools in floor mode)");
      if ((attrInts(n, "dilations") ?? [1, 1]).some((v) => v !== 1)) throw new Unmappable("PAR6016", "dilated pooling");
      const pads = explicitPads(n, shapeOf(x).slice(2), kernel, strides, [1, 1]);
      if (pads[0] !== pads[2] || pads[1] !== pads[3]) throw new Unmappable("PAR6016", `asymmetric pooling pads [${pads.join(", ")}]`);
      if (n.opType === "AveragePool" && attrI(n, "count_include_pad", 0) === 0 && pads.some((p) => p > 0)) throw new Unmappable("PAR6016", "AveragePool with padding and count_include_pad = 0 (par counts the padding, as torch's default)");
      return out(emit("pool2d", { mode: n.opType === "MaxPool" ? "max" : "avg", kernel, stride: strides, padding: [pads[0], pads[1]] }, [x]));
    }
    case "GlobalAveragePool":
      return out(emit("global_pool", {}, [tensorIn(0)]));
    case "BatchNormalization": {
      rejectUsed(1);
      const x = tensorIn(0);
      const ids = emit("batchnorm", { eps: attrF(n, "epsilon", 1e-5) }, [x]);
      if (!ids) return false;
      const op = b.producer(ids[0]);
      setWeight(op, "weight", ins[1], weightData(c, ins[1]!, "BatchNormalization scale"));
      setWeight(op, "bias", ins[2], weightData(c, ins[2]!, "BatchNormalization B"));
      return out(ids);
    }
    case "LayerNormalization": {
      rejectUsed(1);
      const x = tensorIn(0);
      const r = rank(x);
      const axis = norm(attrI(n, "axis", -1), r);
      const normShape = shapeOf(x).slice(axis);
      const sv = ins[1]!;
      if (constDims(sv).join(",") !== normShape.join(",")) throw new Unmappable("PAR6016", `LayerNormalization scale of shape [${constDims(sv).join(", ")}] (par's layernorm weight has the normalised shape [${normShape.join(", ")}])`);
      const ids = emit("layernorm", { axes: r - axis, eps: attrF(n, "epsilon", 1e-5) }, [x]);
      if (!ids) return false;
      const op = b.producer(ids[0]);
      setWeight(op, "weight", sv, weightData(c, sv, "LayerNormalization scale"));
      // Without B the bias stays at its zero init: the same function, one more parameter.
      if (ins[2]) setWeight(op, "bias", ins[2], weightData(c, ins[2], "LayerNormalization B"));
      return out(ids);
    }
    case "ReduceMean": case "ReduceSum": case "ReduceMax": {
      const x = tensorIn(0);
      const fromInput = n.opType === "ReduceSum" && c.opset >= 13;
      let axes = fromInput ? constIn(1, "axes")?.data : attrInts(n, "axes");
      if ((!axes || axes.length === 0) && attrI(n, "noop_with_empty_axes", 0) === 1) return alias(x);
      axes = (axes ?? []).map((a) => norm(a, rank(x)));
      const op = { ReduceMean: "reduce_mean", ReduceSum: "reduce_sum", ReduceMax: "reduce_max" }[n.opType]!;
      return out(emit(op, { axes: axes.length ? axes : shapeOf(x).map((_, i) => i), keepdims: attrI(n, "keepdims", 1) === 1 }, [x]));
    }
    case "Concat": {
      const xs = n.inputs.map((_, i) => tensorIn(i));
      if (xs.length === 1) return alias(xs[0]);
      return out(emit("concat", { axis: norm(attrI(n, "axis", 0), rank(xs[0])) }, xs));
    }
    case "Split": {
      const x = tensorIn(0);
      const axis = norm(attrI(n, "axis", 0), rank(x));
      const sizes = c.opset >= 13 ? constIn(1, "split")?.data : attrInts(n, "split");
      const attrs: Attrs = sizes ? { axis, sizes: [...sizes] } : { axis, parts: n.outputs.length };
      const ids = emit("split", attrs, [x]);
      if (!ids) return false;
      n.outputs.forEach((o, i) => o && c.values.set(o, { kind: "tensor", id: ids[i] }));
      return true;
    }
    case "Slice": {
      let x = tensorIn(0);
      const starts = c.opset >= 10 ? constIn(1, "starts")!.data : attrInts(n, "starts")!;
      const ends = c.opset >= 10 ? constIn(2, "ends")!.data : attrInts(n, "ends")!;
      const axes = (c.opset >= 10 ? constIn(3, "axes")?.data : attrInts(n, "axes")) ?? starts.map((_, i) => i);
      const steps = (c.opset >= 10 ? constIn(4, "steps")?.data : undefined) ?? starts.map(() => 1);
      for (let k = 0; k < starts.length; k++) {
        const axis = norm(axes[k], rank(x));
        const dim = shapeOf(x)[axis];
        if (steps[k] < 1) throw new Unmappable("PAR6016", `Slice with step ${steps[k]} (par slices with positive steps)`);
        const bd = sliceBounds(dim, starts[k], ends[k], steps[k]);
        if (bd.start === 0 && bd.count === dim && steps[k] === 1) continue;
        const ids = emit("slice", { axis, start: bd.start, end: bd.start + (bd.count - 1) * steps[k] + 1, step: steps[k] }, [x], starts.length > 1 ? `${base}_${axis}` : base);
        if (!ids) return false;
        x = ids[0];
      }
      return alias(x);
    }
    case "Flatten": {
      const x = tensorIn(0);
      return out(emit("flatten", { axis: norm(attrI(n, "axis", 1), rank(x)) }, [x]));
    }
    case "Reshape": {
      const x = tensorIn(0);
      const target = constIn(1, "shape");
      if (!target) throw new Unmappable("PAR6017", "Reshape without a shape");
      const shape = resolveReshape(shapeOf(x), target.data, attrI(n, "allowzero", 0) === 1);
      if (typeof shape === "string") throw new Unmappable("PAR6016", `Reshape of [${shapeOf(x).join(", ")}] to [${target.data.join(", ")}]: ${shape}`);
      if (shape.join(",") === shapeOf(x).join(",")) return alias(x);
      return out(emit("reshape", { shape }, [x]));
    }
    case "Transpose": {
      const x = tensorIn(0);
      const r = rank(x);
      const perm = attrInts(n, "perm") ?? shapeOf(x).map((_, i) => r - 1 - i);
      if (perm.every((p, i) => p === i)) return alias(x);
      return out(emit("transpose", { perm }, [x]));
    }
    case "Squeeze": {
      const x = tensorIn(0);
      const given = c.opset >= 13 ? constIn(1, "axes")?.data : attrInts(n, "axes");
      const axes = given ? given.map((a) => norm(a, rank(x))) : [];
      return out(emit("squeeze", { axes }, [x]));
    }
    case "Unsqueeze": {
      const x = tensorIn(0);
      const given = c.opset >= 13 ? constIn(1, "axes")?.data : attrInts(n, "axes");
      if (!given) throw new Unmappable("PAR6017", "Unsqueeze without axes");
      const r = rank(x) + given.length;
      return out(emit("unsqueeze", { axes: given.map((a) => norm(a, r)).sort((p, q) => p - q) }, [x]));
    }
    case "Expand": {
      const x = tensorIn(0);
      const target = constIn(1, "shape")!;
      const shape = broadcast(shapeOf(x), target.data);
      if (!shape) throw new Unmappable("PAR6016", `Expand of [${shapeOf(x).join(", ")}] to [${target.data.join(", ")}] does not broadcast`);
      if (shape.join(",") === shapeOf(x).join(",")) return alias(x);
      return out(emit("expand", { shape }, [x]));
    }
    case "Pad": {
      const x = tensorIn(0);
      if (attrS(n, "mode", "constant") !== "constant") throw new Unmappable("PAR6016", `Pad mode ${attrS(n, "mode", "constant")} (par pads with zeros)`);
      const pads = c.opset >= 11 ? constIn(1, "pads")!.data : attrInts(n, "pads")!;
      const value = c.opset >= 11 ? constIn(2, "constant_value")?.data[0] ?? 0 : attrF(n, "value", 0);
      if (value !== 0) throw new Unmappable("PAR6016", `Pad with value ${value} (par pads with zeros)`);
      const axesIn = c.opset >= 18 ? constIn(3, "axes")?.data : undefined;
      let full = [...pads];
      if (axesIn) {
        const r = rank(x);
        full = new Array<number>(2 * r).fill(0);
        axesIn.forEach((a, k) => {
          full[norm(a, r)] = pads[k];
          full[r + norm(a, r)] = pads[axesIn.length + k];
        });
      }
      if (full.some((p) => p < 0)) throw new Unmappable("PAR6016", "Pad with negative pads (cropping)");
      if (full.every((p) => p === 0)) return alias(x);
      return out(emit("pad", { pads: full }, [x]));
    }
    case "Dropout": {
      rejectUsed(1);
      const x = tensorIn(0);
      const p = c.opset >= 12 ? constIn(1, "ratio")?.data[0] ?? 0.5 : attrF(n, "ratio", 0.5);
      if (p === 0) return alias(x);
      return out(emit("dropout", { p }, [x]));
    }
    case "Gather":
      return gatherNode(c, n, ins, base, emit, out, tensorIn, setWeight);
    case "LSTM":
      return lstmNode(c, n, ins, base, emit, tensorIn, setWeight);
    default:
      throw new Unmappable("PAR6010", `${n.opType} has no mapping`);
  }
}

type Emit = (op: string, attrs: Attrs, inputs: string[], name?: string) => string[] | undefined;
type Out = (ids: string[] | undefined, index?: number) => boolean;
type TensorIn = (i: number, what?: string) => string;
type SetWeight = (op: string, param: string, v: Val | undefined, data: Float32Array | undefined) => void;

function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = w[i * cols + j];
  return out;
}

/** The Add that follows a MatMul with a [m] constant, when it can become the linear's bias. */
function fusableBias(c: Ctx, n: OnnxNode, m: number): { node: OnnxNode; val: Val } | undefined {
  const y = n.outputs[0];
  const users = c.consumers.get(y) ?? [];
  if (users.length !== 1 || c.graphOutputs.has(y)) return undefined;
  const add = users[0].node;
  if (add.opType !== "Add" || add.inputs.length !== 2) return undefined;
  const other = add.inputs[1 - users[0].index];
  const v = c.values.get(other);
  if (!v || v.kind !== "const") return undefined;
  const dims = constDims(v);
  const isFloat = v.tensor ? isFloatDType(v.tensor.dataType) : v.value?.dtype === "float";
  if (!isFloat || volumeOf(dims) !== m || dims[dims.length - 1] !== m) return undefined;
  return { node: add, val: v };
}

/** x + constant: scalars become scale_shift attributes, tensors a bias_add parameter. */
function addConst(c: Ctx, n: OnnxNode, x: string, v: Val, name: string, emit: Emit): string[] | undefined {
  const k = constOf(v);
  if (k && volumeOf(k.shape) === 1) return emit("scale_shift", { scale: 1, shift: k.data[0] }, [x], name);
  const shape = trimOnes(constDims(v));
  const ids = emit("bias_add", { shape }, [x], name);
  if (ids) {
    c.b.setWeight(c.b.producer(ids[0]), "bias", weightData(c, v, `${n.opType} operand`), fromInitializer(v));
  }
  return ids;
}

/** Leading size-1 axes removed (they only broadcast), keeping at least one axis. */
function trimOnes(dims: number[]): number[] {
  let i = 0;
  while (i < dims.length - 1 && dims[i] === 1) i++;
  return dims.length === 0 ? [1] : dims.slice(i);
}

function binaryNode(c: Ctx, n: OnnxNode, ins: (Val | undefined)[], emit: Emit, out: Out, tensorIn: TensorIn): boolean {
  if (ins.length !== 2 || !ins[0] || !ins[1]) {
    if ((n.opType === "Max" || n.opType === "Min") && ins.length === 1) return out([tensorIn(0)]);
    throw new Unmappable("PAR6016", `${n.opType} with ${ins.length} inputs (par's binary ops take two)`);
  }
  const [a, bv] = ins;
  const lower = { Add: "add", Sub: "sub", Mul: "mul", Div: "div", Pow: "pow", Max: "maximum", Min: "minimum" }[n.opType]!;
  if (a.kind === "tensor" && bv.kind === "tensor") return out(emit(lower, {}, [a.id, bv.id]));
  const tensorFirst = a.kind === "tensor";
  const x = tensorFirst ? (a as { id: string }).id : (bv as { id: string }).id;
  const kv = tensorFirst ? bv : a;
  const k = constOf(kv);
  const scalar = k && volumeOf(k.shape) === 1 ? k.data[0] : undefined;
  const dims = constDims(kv);
  const op = n.opType;
  // The constant's shape may widen the output (x [C] + k [N, C]): par's affine ops keep x's shape.
  if (broadcast(c.b.type(x).shape, dims)?.join(",") !== c.b.type(x).shape.join(",")) throw new Unmappable("PAR6016", `${op} with a constant of shape [${dims.join(", ")}] that broadcasts the tensor [${c.b.type(x).shape.join(", ")}] to a larger shape`);
  if (scalar !== undefined) {
    switch (op) {
      case "Add": return out(emit("scale_shift", { scale: 1, shift: scalar }, [x]));
      case "Sub": return out(emit("scale_shift", tensorFirst ? { scale: 1, shift: -scalar } : { scale: -1, shift: scalar }, [x]));
      case "Mul": return out(emit("scale_shift", { scale: scalar, shift: 0 }, [x]));
      case "Div":
        if (tensorFirst) return out(emit("scale_shift", { scale: 1 / scalar, shift: 0 }, [x]));
        break;
      case "Pow":
        if (!tensorFirst) break;
        if (scalar === 1) return out([x]);
        if (scalar === 2) return out(emit("square", {}, [x]));
        if (scalar === 0.5) return out(emit("sqrt", {}, [x]));
        if (scalar === -0.5) return out(emit("rsqrt", {}, [x]));
        break;
      default:
        break;
    }
    throw new Unmappable("PAR6016", `${op} of ${tensorFirst ? "a tensor and the constant" : "the constant and a tensor"} ${scalar} has no par form`);
  }
  const shape = trimOnes(dims);
  const param = (kind: "bias_add" | "scale", data: Float32Array | undefined, name?: string): string[] | undefined => {
    const ids = emit(kind, { shape }, [x], name);
    if (ids) c.b.setWeight(c.b.producer(ids[0]), kind === "bias_add" ? "bias" : "weight", data, fromInitializer(kv));
    return ids;
  };
  const data = weightData(c, kv, `${op} operand`);
  switch (op) {
    case "Add": return out(param("bias_add", data));
    case "Mul": return out(param("scale", data));
    case "Sub":
      if (tensorFirst) return out(param("bias_add", data && data.map((v) => -v)));
      {
        const neg = emit("scale_shift", { scale: -1, shift: 0 }, [x], `${nodeBase(n, false)}_neg`);
        if (!neg) return false;
        const ids = emit("bias_add", { shape }, neg);
        if (ids) c.b.setWeight(c.b.producer(ids[0]), "bias", data, fromInitializer(kv));
        return out(ids);
      }
    case "Div":
      if (tensorFirst) return out(param("scale", data && data.map((v) => 1 / v)));
      break;
    default:
      break;
  }
  throw new Unmappable("PAR6016", `${op} with a constant tensor operand of shape [${dims.join(", ")}] has no par form`);
}

/** ONNX pads [h_begin, w_begin, h_end, w_end] for a conv/pool, auto_pad resolved. */
function explicitPads(n: OnnxNode, spatial: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const auto = attrS(n, "auto_pad", "NOTSET");
  if (auto === "NOTSET") return attrInts(n, "pads") ?? [0, 0, 0, 0];
  if (auto === "VALID") return [0, 0, 0, 0];
  const begin: number[] = [];
  const end: number[] = [];
  spatial.forEach((size, a) => {
    const outSize = Math.ceil(size / strides[a]);
    const total = Math.max(0, (outSize - 1) * strides[a] + (kernel[a] - 1) * dilations[a] + 1 - size);
    const small = Math.floor(total / 2);
    if (auto === "SAME_UPPER") {
      begin.push(small);
      end.push(total - small);
    } else {
      begin.push(total - small);
      end.push(small);
    }
  });
  return [...begin, ...end];
}

function convNode(c: Ctx, n: OnnxNode, ins: (Val | undefined)[], base: string, emit: Emit, out: Out, tensorIn: TensorIn, setWeight: SetWeight): boolean {
  let x = tensorIn(0, "X");
  const wv = ins[1];
  if (!wv || wv.kind !== "const") throw new Unmappable("PAR6016", "Conv weight must be an initializer (par's conv2d owns its filter)");
  const wd = constDims(wv);
  if (wd.length !== 4 || c.b.type(x).shape.length !== 4) throw new Unmappable("PAR6016", `Conv of rank ${c.b.type(x).shape.length} (par's conv2d is 2-D over NCHW)`);
  const kernel = attrInts(n, "kernel_shape") ?? wd.slice(2);
  const strides = attrInts(n, "strides") ?? [1, 1];
  const dilations = attrInts(n, "dilations") ?? [1, 1];
  const group = attrI(n, "group", 1);
  const pads = explicitPads(n, c.b.type(x).shape.slice(2), kernel, strides, dilations);
  let padding = [pads[0], pads[1]];
  if (pads[0] !== pads[2] || pads[1] !== pads[3]) {
    // par's conv2d pads symmetrically; an explicit zero pad first gives the same windows.
    const p = emit("pad", { pads: [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]] }, [x], `${base}_pad`);
    if (!p) return false;
    x = p[0];
    padding = [0, 0];
  }
  const bv = ins[2];
  const ids = emit("conv2d", { out: wd[0], kernel, stride: strides, padding, dilation: dilations, groups: group, bias: bv !== undefined }, [x]);
  if (!ids) return false;
  const op = c.b.producer(ids[0]);
  setWeight(op, "weight", wv, weightData(c, wv, "Conv W"));
  if (bv) setWeight(op, "bias", bv, weightData(c, bv, "Conv B"));
  return out(ids);
}

function gatherNode(c: Ctx, n: OnnxNode, ins: (Val | undefined)[], base: string, emit: Emit, out: Out, tensorIn: TensorIn, setWeight: SetWeight): boolean {
  const [dv, iv] = ins;
  const axis = attrI(n, "axis", 0);
  if (dv?.kind === "const" && iv?.kind === "tensor") {
    const dims = constDims(dv);
    const isFloat = dv.tensor ? isFloatDType(dv.tensor.dataType) : dv.value?.dtype === "float";
    if (dims.length !== 2 || axis !== 0 || !isFloat || c.b.type(iv.id).dtype === "f32") {
      throw new Unmappable("PAR6018", `Gather from a constant of shape [${dims.join(", ")}] along axis ${axis} (par's embedding looks up rows of a float [vocab, dim] table with integer indices)`);
    }
    const ids = emit("embedding", { vocab: dims[0], dim: dims[1] }, [iv.id]);
    if (!ids) return false;
    setWeight(c.b.producer(ids[0]), "weight", dv, weightData(c, dv, "embedding table"));
    return out(ids);
  }
  const x = tensorIn(0, "data");
  const idx = iv ? constOf(iv) : undefined;
  if (!idx) throw new Unmappable("PAR6018", "Gather with computed indices from a computed tensor (par gathers only embedding rows or constant indices)");
  const r = c.b.type(x).shape.length;
  const ax = axis < 0 ? axis + r : axis;
  const dim = c.b.type(x).shape[ax];
  const list = idx.data.map((i) => (i < 0 ? i + dim : i));
  const contiguous = list.length > 0 && list.every((v, i) => v === list[0] + i) && list[0] >= 0 && list[list.length - 1] < dim;
  if (!contiguous || idx.shape.length > 1) throw new Unmappable("PAR6018", `Gather of indices [${idx.data.slice(0, 8).join(", ")}${idx.data.length > 8 ? ", ..." : ""}] (par maps only a scalar or a contiguous range to a slice)`);
  const s = emit("slice", { axis: ax, start: list[0], end: list[list.length - 1] + 1, step: 1 }, [x], idx.shape.length === 0 ? `${base}_slice` : base);
  if (!s || idx.shape.length === 1) return out(s);
  return out(emit("squeeze", { axes: [ax] }, s));
}

/** ONNX gate blocks i, o, f, c → torch i, f, g, o along the leading 4·h axis. */
function reorderGates(w: Float32Array): Float32Array {
  const per = w.length / 4;
  const out = new Float32Array(w.length);
  const from = [0, 2, 3, 1]; // torch block k comes from ONNX block from[k]
  from.forEach((src, k) => out.set(w.subarray(src * per, (src + 1) * per), k * per));
  return out;
}

function lstmNode(c: Ctx, n: OnnxNode, ins: (Val | undefined)[], base: string, emit: Emit, tensorIn: TensorIn, setWeight: SetWeight): boolean {
  const dir = attrS(n, "direction", "forward");
  if (dir !== "forward") throw new Unmappable("PAR6016", `LSTM direction ${dir} (par's lstm runs forward only)`);
  if (n.attrs.has("activations") || n.attrs.has("clip") || attrI(n, "input_forget", 0) !== 0) throw new Unmappable("PAR6016", "LSTM with custom activations, clip or input_forget");
  if (ins[4]) throw new Unmappable("PAR6016", "LSTM with sequence_lens (par runs every sequence to full length)");
  for (const [i, what] of [[5, "initial_h"], [6, "initial_c"]] as const) {
    const v = ins[i];
    if (!v) continue;
    const k = v.kind === "const" ? constOf(v) : undefined;
    if (!k || k.data.some((x) => x !== 0)) throw new Unmappable("PAR6016", `LSTM with a non-zero ${what} (par's lstm starts from zero state)`);
  }
  if (used(c, n.outputs[2])) throw new Unmappable("PAR6016", "LSTM output Y_c is used (par's lstm returns h only)");
  const h = attrI(n, "hidden_size", 0);
  const layout = attrI(n, "layout", 0);
  let x = tensorIn(0, "X");
  if (layout === 0) {
    const t = emit("transpose", { perm: [1, 0, 2] }, [x], `${base}_batch_first`);
    if (!t) return false;
    x = t[0];
  }
  const wv = ins[1]!;
  const rv = ins[2]!;
  const hidden = h || constDims(rv)[2];
  const ids = emit("lstm", { hidden, return_sequences: true }, [x]);
  if (!ids) return false;
  const op = c.b.producer(ids[0]);
  const w = weightData(c, wv, "LSTM W");
  const r = weightData(c, rv, "LSTM R");
  setWeight(op, "weight_ih", wv, w && reorderGates(w));
  setWeight(op, "weight_hh", rv, r && reorderGates(r));
  const bv = ins[3];
  if (bv) {
    const bd = weightData(c, bv, "LSTM B");
    // B = [Wb (4h), Rb (4h)]: half the parameters each for bias_ih and bias_hh.
    c.b.setWeight(op, "bias_ih", bd && reorderGates(bd.subarray(0, 4 * hidden)), fromInitializer(bv));
    c.b.setWeight(op, "bias_hh", bd && reorderGates(bd.subarray(4 * hidden)), fromInitializer(bv));
  }
  const y = ids[0];
  const seq = c.b.type(y).shape[1];
  // Y: [seq, 1, batch, h] (layout 0) or [batch, seq, 1, h] (layout 1).
  if (used(c, n.outputs[0])) {
    let yy = y;
    if (layout === 0) {
      const t = emit("transpose", { perm: [1, 0, 2] }, [y], `${base}_seq_first`);
      if (!t) return false;
      yy = t[0];
    }
    const u = emit("unsqueeze", { axes: [layout === 0 ? 1 : 2] }, [yy], `${base}_y`);
    if (!u) return false;
    c.values.set(n.outputs[0], { kind: "tensor", id: u[0] });
  }
  // Y_h = the last step of Y: [1, batch, h] (layout 0) or [batch, 1, h] (layout 1).
  if (used(c, n.outputs[1])) {
    const last = emit("slice", { axis: 1, start: seq - 1, end: seq, step: 1 }, [y], `${base}_last`);
    if (!last) return false;
    let yh = last[0];
    if (layout === 0) {
      const t = emit("transpose", { perm: [1, 0, 2] }, [yh], `${base}_h`);
      if (!t) return false;
      yh = t[0];
    }
    c.values.set(n.outputs[1], { kind: "tensor", id: yh });
  }
  return true;
}
