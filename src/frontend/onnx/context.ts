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
import { volumeOf } from "./fold.js";
import { constDims, constOf, fromInitializer, isFloatConst, type ConstVal, type Val } from "./values.js";
import { weightData } from "./weights.js";

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
  /** Initializers used as weights whose data is external (see weights.ts). */
  readonly missingWeights: string[];
  /** Constants read as tensors (NodeContext.operand): the par tensor made for each, by ONNX name. */
  readonly promoted: Map<string, string>;
}

/** The shared state for nodes visited in `order`. */
export function createImportState(b: GraphBuilder, values: Map<string, Val>, opset: number, order: readonly OnnxNode[], graphOutputs: Iterable<string>): ImportState {
  const consumers = new Map<string, Consumer[]>();
  for (const n of order) n.inputs.forEach((i, index) => {
    if (!consumers.has(i)) consumers.set(i, []);
    consumers.get(i)!.push({ node: n, index });
  });
  return { b, values, opset, consumers, graphOutputs: new Set(graphOutputs), absorbed: new Set(), missingWeights: [], promoted: new Map() };
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
   * (made once per ONNX name): a float initializer of more than one element is a learned
   * weight, so it becomes a `param` holding its values (a class token concatenated with
   * the patches); any other constant (a mask, indices, a folded value, a scalar) becomes a
   * `constant`, which is never trained. PAR6016 when missing.
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

  /** Float data of weight `v` (undefined when external, and noted for the warning). */
  weightData(v: Val, what: string): Float32Array | undefined;
  /**
   * Hands `data` to parameter `param` of par op `op`; nothing when the input `v` is absent.
   * It counts as a model parameter when `v` is an initializer, unless `counted` says otherwise.
   */
  setWeight(op: string, param: string, v: Val | undefined, data: Float32Array | undefined, counted?: boolean): void;
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
    const id = v.tensor && isFloatConst(v) && volumeOf(v.tensor.dims) > 1 ? this.learnedParam(v, name, what) : this.fixedConstant(v, name, what);
    this.s.promoted.set(name, id);
    return id;
  }

  private learnedParam(v: ConstVal, name: string, what: string): string {
    const dims = constDims(v);
    const ids = this.emit("param", { shape: dims }, [], name);
    if (!ids) throw new Unmappable("PAR6016", `${what} (\`${name}\`) cannot be a parameter of shape [${dims.join(", ")}]`);
    this.setWeight(this.producer(ids[0]), "weight", v, this.weightData(v, what));
    return ids[0];
  }

  private fixedConstant(v: ConstVal, name: string, what: string): string {
    const k = constOf(v);
    if (!k) throw new Unmappable("PAR6017", `${what} (\`${name}\`) is a constant whose data is external`);
    // Integer values travel as f32 (see the `constant` op): exact only up to 2^24.
    if (k.dtype === "int" && k.data.some((x) => Math.abs(x) > 2 ** 24)) throw new Unmappable("PAR6016", `${what} (\`${name}\`) holds integers beyond ±2^24, which par's constant cannot hold exactly`);
    const ids = this.emit("constant", { shape: k.shape, dtype: k.dtype }, [], name);
    if (!ids) throw new Unmappable("PAR6016", `${what} (\`${name}\`) cannot be a constant of shape [${k.shape.join(", ")}]`);
    this.setWeight(this.producer(ids[0]), "value", v, Float32Array.from(k.data), false);
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

  weightData(v: Val, what: string): Float32Array | undefined {
    return weightData(v, what, this.s.missingWeights);
  }

  setWeight(op: string, param: string, v: Val | undefined, data: Float32Array | undefined, counted = true): void {
    // A corrupt initializer can hold another number of values than the param the node makes.
    const shape = this.s.b.graph.op(op).sig.params.find((p) => p.name === param)?.shape;
    const want = shape?.reduce((a, x) => a * x, 1);
    if (data && want !== undefined && data.length !== want) {
      throw new Unmappable("PAR6007", `its ${param} holds ${data.length} values, but the par op's ${param} is [${shape!.join(", ")}] (${want} values)`, "the model file may be corrupt: export it again");
    }
    if (v) this.s.b.setWeight(op, param, data, counted && fromInitializer(v));
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
