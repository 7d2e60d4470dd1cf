// What an ONNX op handler works with. `ImportState` is shared by the whole import (the
// graph being built, the value of every ONNX name); `NodeContext` is one node's view of
// it: its inputs as par tensors or constants, its attributes, and ways to emit par ops,
// bind its outputs and hand over weights. Handlers throw `Unmappable` for forms par
// cannot represent; the dispatcher reports it with the node's name.

import type { TensorType } from "../../core/tensor.js";
import type { Attrs } from "../../ops/contract.js";
import type { GraphBuilder } from "../import-build.js";
import { attrReader, type AttrReader } from "./attrs.js";
import type { OnnxNode } from "./decode.js";
import { Unmappable } from "./errors.js";
import type { ConstValue } from "./fold.js";
import { nodeBase } from "./node-names.js";
import { constDims, constOf, initializerView, isFloatConst, type ConstVal, type Val } from "./values.js";
import { weightOf, type Weight } from "./weights.js";

/** Maps one node to par ops; false after a par op reported its diagnostic (PAR6020). */
export type OnnxOpHandler = (cx: NodeContext) => boolean;

/**
 * One ONNX op type in a family's table: how a node maps (`map`), and what it becomes, in
 * one line of markdown (`par`): docs/import.md's operator table is generated from these.
 */
export interface OnnxOpSpec {
  readonly map: OnnxOpHandler;
  readonly par: string;
}

/** A family's handlers by ONNX op type. */
export type HandlerTable = Readonly<Record<string, OnnxOpSpec>>;

export interface Consumer {
  node: OnnxNode;
  /** Which input of `node` reads the tensor. */
  index: number;
}

export interface ImportState {
  readonly b: GraphBuilder;
  readonly values: Map<string, Val>;
  readonly opset: number;
  readonly consumers: ReadonlyMap<string, readonly Consumer[]>;
  readonly graphOutputs: ReadonlySet<string>;
  /** Nodes folded into an earlier op (an Add absorbed as a linear bias): not visited. */
  readonly absorbed: Set<OnnxNode>;
  /** Initializers more than one node reads (sharing.ts): kept as one `param` tensor where the reader allows. */
  readonly shared: ReadonlySet<string>;
  /** Shared initializer → the par tensor holding it (its `param` op's output). */
  readonly sharedTensors: Map<string, string>;
  /** Initializer → the nodes that hold it as a weight of their own par op (a copy, for a shared one). */
  readonly copies: Map<string, Set<string>>;
  /** Names computed from a node that did not import: what reads them is skipped, not reported again. */
  readonly poisoned: Set<string>;
  /** Constants read as tensors (NodeContext.operand): the par tensor made for each, by ONNX name. */
  readonly promoted: Map<string, string>;
}

/** The shared state for nodes visited in `order`. */
export function createImportState(b: GraphBuilder, values: Map<string, Val>, opset: number, order: readonly OnnxNode[], graphOutputs: Iterable<string>, shared: ReadonlySet<string> = new Set()): ImportState {
  const consumers = new Map<string, Consumer[]>();
  for (const n of order) n.inputs.forEach((i, index) => {
    if (!consumers.has(i)) consumers.set(i, []);
    consumers.get(i)!.push({ node: n, index });
  });
  return { b, values, opset, consumers, graphOutputs: new Set(graphOutputs), absorbed: new Set(), shared, sharedTensors: new Map(), copies: new Map(), poisoned: new Set(), promoted: new Map() };
}

export interface NodeContext {
  readonly node: OnnxNode;
  /** The model's default-domain opset (operands moved from attributes to inputs over opsets). */
  readonly opset: number;
  readonly attr: AttrReader;
  /** The node's inputs; undefined for an optional input left out (""). */
  readonly inputs: readonly (Val | undefined)[];
  /** The default name of the par ops this node emits (see node-names.ts). */
  readonly base: string;
  /** This context, with par ops named as the owner of the node's module weights. */
  asWeightOwner(): NodeContext;

  /** Input i as a computed par tensor; PAR6016 when missing or constant. */
  tensorIn(i: number, what?: string): string;
  /**
   * Input i as a par tensor: a computed tensor as it is, a constant as an op of its own
   * (made once per ONNX name). A float constant taken from initializers (one, a view of
   * one, or a value folded from them) is model weight: it becomes a `param` (the shared
   * one when several nodes read the initializer), which trains when its initializers do
   * (accounting.ts: the count is the file's, so this adds nothing to it). Any other
   * constant (a `Constant` node's value, indices, a shape) becomes a `constant`, which
   * is never trained. PAR6016 when missing.
   */
  operand(i: number, what?: string): string;
  /** Input i as a constant (undefined when left out); PAR6017 when it does not fold. */
  constIn(i: number, what: string): ConstValue | undefined;
  type(id: string): TensorType;
  shape(id: string): number[];
  rank(id: string): number;

  /** Adds par op `op` (named `base` unless told); its outputs, or undefined after a diagnostic. */
  emit(op: string, attrs: Attrs, inputs: string[], name?: string): string[] | undefined;
  /** Binds output `index` to the first of `ids`; false when the emit failed. */
  out(ids: string[] | undefined, index?: number): boolean;
  /** Output 0 is the tensor `id` itself (an op par needs no op for). */
  alias(id: string): boolean;
  /** Binds output `index` (when the node names it) to tensor `id`. */
  bind(index: number, id: string): void;
  /** PAR6016 when any output from `from` on is read: par computes only the leading ones. */
  rejectUsed(from: number): void;

  /** The float values of constant `v` (read lazily); PAR6016 when `v` is computed or not float. */
  weightData(v: Val, what: string): Weight;
  /**
   * Hands constant `v` (`what`, for messages) to parameter `param` of par op `op`, re-laid
   * out by `layout` when given (`countAfter`: how many values it returns for n, when not n);
   * nothing when the input `v` is absent. PAR6007 when that count is not the param's.
   */
  setWeight(op: string, param: string, v: Val | undefined, what: string, layout?: (w: Float32Array) => Float32Array, countAfter?: (n: number) => number): void;
  /**
   * When `v` is an initializer (or a view of one) that several nodes read: the par tensor
   * holding it, shared by every reader, and how `v` permutes its axes. Undefined otherwise:
   * then the node's par op takes `v` as a weight of its own.
   */
  sharedWeight(v: Val | undefined): { id: string; perm: number[] } | undefined;
  /** The par op that produced tensor `id` (it owns the parameters). */
  producer(id: string): string;

  /** True when some node or the graph's outputs read tensor `name`. */
  used(name: string | undefined): boolean;
  value(name: string): Val | undefined;
  consumers(name: string): readonly Consumer[];
  isGraphOutput(name: string): boolean;
  /** Marks a later node as computed by this one: its output 0 becomes tensor `id`. */
  absorb(node: OnnxNode, id: string): void;
}

/** The context of node `n`, whose inputs resolve to `inputs`. */
export function nodeContext(s: ImportState, n: OnnxNode, inputs: (Val | undefined)[]): NodeContext {
  return new NodeScope(s, n, inputs, nodeBase(n, false));
}

class NodeScope implements NodeContext {
  readonly opset: number;
  readonly attr: AttrReader;
  private readonly source: string;

  constructor(
    private readonly s: ImportState,
    readonly node: OnnxNode,
    readonly inputs: (Val | undefined)[],
    readonly base: string,
  ) {
    this.opset = s.opset;
    this.attr = attrReader(node);
    this.source = `node ${node.name} (${node.opType})`;
  }

  asWeightOwner(): NodeContext {
    return new NodeScope(this.s, this.node, this.inputs, nodeBase(this.node, true));
  }

  tensorIn(i: number, what = `input ${i}`): string {
    const v = this.inputs[i];
    if (!v) throw new Unmappable("PAR6016", `${what} is missing`);
    if (v.kind !== "tensor") throw new Unmappable("PAR6016", `${what} (\`${this.node.inputs[i]}\`) is a constant, but par needs a computed tensor here`, "this input of the op must be computed from the model's inputs (its weights may be initializers); an op whose inputs are all constants folds");
    return v.id;
  }

  operand(i: number, what = `input ${i}`): string {
    const v = this.inputs[i];
    if (!v) throw new Unmappable("PAR6016", `${what} is missing`);
    if (v.kind === "tensor") return v.id;
    const name = this.node.inputs[i];
    const made = this.s.promoted.get(name);
    if (made !== undefined) return made;
    const shared = this.sharedWeight(v);
    const fromInitializers = isFloatConst(v) && (initializerView(v) !== undefined || (v.value?.sources?.length ?? 0) > 0);
    const id = shared && shared.perm.every((p, k) => p === k) ? shared.id : fromInitializers ? this.learnedParam(v, name, what) : this.fixedConstant(v, name, what);
    this.s.promoted.set(name, id);
    return id;
  }

  private learnedParam(v: ConstVal, name: string, what: string): string {
    const dims = constDims(v);
    // A par param has rank ≥ 1: a scalar weight is a [1] param squeezed to rank 0.
    const scalar = dims.length === 0;
    const ids = this.emit("param", { shape: scalar ? [1] : dims }, [], name);
    if (!ids) throw new Unmappable("PAR6016", `${what} (\`${name}\`) cannot be a parameter of shape [${dims.join(", ")}]`);
    this.setWeight(this.producer(ids[0]), "weight", v, what);
    if (!scalar) return ids[0];
    const sq = this.emit("squeeze", { axes: [0] }, ids, `${name}_scalar`);
    if (!sq) throw new Unmappable("PAR6016", `${what} (\`${name}\`) cannot be a scalar parameter`);
    return sq[0];
  }

  private fixedConstant(v: ConstVal, name: string, what: string): string {
    const k = constOf(v);
    if (!k) throw new Unmappable("PAR6017", `${what} (\`${name}\`) is a constant whose data is external`);
    // Integer values travel as f32 (see the `constant` op): exact only up to 2^24.
    if (k.dtype === "int" && k.data.some((x) => Math.abs(x) > 2 ** 24)) throw new Unmappable("PAR6016", `${what} (\`${name}\`) holds integers beyond ±2^24, which par's constant cannot hold exactly`);
    const ids = this.emit("constant", { shape: k.shape, dtype: k.dtype }, [], name);
    if (!ids) throw new Unmappable("PAR6016", `${what} (\`${name}\`) cannot be a constant of shape [${k.shape.join(", ")}]`);
    // Not model weight: no sources, so the import freezes it (import.ts).
    this.s.b.setWeight(this.producer(ids[0]), "value", Float32Array.from(k.data), false);
    return ids[0];
  }

  constIn(i: number, what: string): ConstValue | undefined {
    const v = this.inputs[i];
    if (!v) return undefined;
    const k = constOf(v);
    if (!k) throw new Unmappable("PAR6017", `${what} (\`${this.node.inputs[i]}\`) must fold to a constant`);
    return k;
  }

  type(id: string): TensorType {
    return this.s.b.type(id);
  }

  shape(id: string): number[] {
    return this.s.b.type(id).shape;
  }

  rank(id: string): number {
    return this.s.b.type(id).shape.length;
  }

  emit(op: string, attrs: Attrs, inputs: string[], name = this.base): string[] | undefined {
    return this.s.b.op(name, op, attrs, inputs, this.source);
  }

  out(ids: string[] | undefined, index = 0): boolean {
    if (!ids) return false;
    this.bind(index, ids[0]);
    return true;
  }

  alias(id: string): boolean {
    this.s.values.set(this.node.outputs[0], { kind: "tensor", id });
    return true;
  }

  bind(index: number, id: string): void {
    const o = this.node.outputs[index];
    if (o) this.s.values.set(o, { kind: "tensor", id });
  }

  rejectUsed(from: number): void {
    for (let i = from; i < this.node.outputs.length; i++) {
      const o = this.node.outputs[i];
      if (this.used(o)) throw new Unmappable("PAR6016", `output ${i} (\`${o}\`) is used, but par computes only output 0 of ${this.node.opType}`);
    }
  }

  weightData(v: Val, what: string): Weight {
    return weightOf(v, what);
  }

  setWeight(op: string, param: string, v: Val | undefined, what: string, layout?: (w: Float32Array) => Float32Array, countAfter?: (n: number) => number): void {
    if (!v) return;
    const w = weightOf(v, what);
    // A corrupt initializer can hold another number of values than the param the node makes.
    const shape = this.s.b.graph.op(op).sig.params.find((p) => p.name === param)?.shape;
    const want = shape?.reduce((a, x) => a * x, 1);
    const has = w.length !== undefined && layout && countAfter ? countAfter(w.length) : w.length;
    if (has !== undefined && want !== undefined && has !== want) {
      throw new Unmappable("PAR6007", `its ${param} holds ${has} values, but the par op's ${param} is [${shape!.join(", ")}] (${want} values)`, "the model file may be corrupt: export it again");
    }
    this.s.b.setWeight(op, param, layout ? w.map(layout, has) : w, false);
    const init = initializerView(v)?.tensor.name;
    if (init !== undefined) {
      if (!this.s.copies.has(init)) this.s.copies.set(init, new Set());
      this.s.copies.get(init)!.add(this.node.name);
    }
  }

  sharedWeight(v: Val | undefined): { id: string; perm: number[] } | undefined {
    const view = initializerView(v);
    if (!view || !this.s.shared.has(view.tensor.name)) return undefined;
    const t = view.tensor;
    let id = this.s.sharedTensors.get(t.name);
    if (id === undefined) {
      const ids = this.s.b.op(t.name, "param", { shape: [...t.dims] }, [], `initializer ${t.name}`);
      if (!ids) throw new Unmappable("PAR6016", `the shared weight \`${t.name}\` [${t.dims.join(", ")}] cannot be a par param`);
      id = ids[0];
      this.s.b.setWeight(this.s.b.producer(id), "weight", weightOf({ kind: "const", tensor: t }, `weight ${t.name}`), false);
      this.s.sharedTensors.set(t.name, id);
    }
    return { id, perm: view.perm };
  }

  producer(id: string): string {
    return this.s.b.producer(id);
  }

  used(name: string | undefined): boolean {
    return !!name && ((this.s.consumers.get(name)?.length ?? 0) > 0 || this.s.graphOutputs.has(name));
  }

  value(name: string): Val | undefined {
    return this.s.values.get(name);
  }

  consumers(name: string): readonly Consumer[] {
    return this.s.consumers.get(name) ?? [];
  }

  isGraphOutput(name: string): boolean {
    return this.s.graphOutputs.has(name);
  }

  absorb(node: OnnxNode, id: string): void {
    this.s.absorbed.add(node);
    this.s.values.set(node.outputs[0], { kind: "tensor", id });
  }
}
