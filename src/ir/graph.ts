// The graph IR: ops and tensors of one model instance, with every op's signature
// resolved. Stored on @dagrejs/graphlib (nodes = graph inputs and ops, edges = tensors);
// the order of insertion (source order) makes every traversal deterministic.

import { Graph as GraphLib, alg } from "@dagrejs/graphlib";
import type { SourcePos } from "../core/diagnostics.js";
import { tensorBytes, volume, type TensorType } from "../core/tensor.js";
import type { Attrs, OpSignature, ParamSpec } from "../ops/contract.js";
import { getOp } from "../ops/registry.js";

export interface TensorInfo {
  id: string;
  type: TensorType;
  /** The producing op and output index; absent for graph inputs. */
  producer?: { op: string; output: number };
  consumers: { op: string; input: number }[];
  pos?: SourcePos;
}

export interface OpNode {
  /** Stable, readable, unique name ("layer3.attn.qkv"); strategies address ops by it. */
  name: string;
  op: string;
  attrs: Attrs;
  /** Tensor ids, in the op's input order. */
  inputs: string[];
  /** Tensor ids, in the op's output order. */
  outputs: string[];
  sig: OpSignature;
  pos?: SourcePos;
}

export interface ParamInfo {
  /** "<op name>.<param name>", e.g. "layer0.fc.weight". */
  id: string;
  op: string;
  index: number;
  spec: ParamSpec;
}

/**
 * An imported model's parameter bookkeeping, as its file holds it: every float weight
 * counted once, however many ops read it, and whether it trains. It can differ from the
 * sum of par's params, which may split, re-lay out or fold a weight (see docs/import.md).
 */
export interface ParameterAccount {
  /** Float weight elements of the model file (ONNX: its float initializers, each once). */
  parameters: number;
  /** Of those, the ones the optimiser updates. */
  trainable: number;
  /** Of those, the buffers: weights only read where no gradient flows (masks, indices, statistics) or holding non-finite values. */
  buffers: number;
}

/** The tensor id of output `index` of op `opName` with `count` outputs. */
export function outputTensorId(opName: string, index: number, count: number): string {
  return count === 1 ? opName : `${opName}:${index}`;
}

export class Graph {
  readonly ops = new Map<string, OpNode>();
  readonly tensors = new Map<string, TensorInfo>();
  /** Graph input tensor ids, in declaration order. */
  readonly inputs: string[] = [];
  /** Param ids the optimiser never updates (an imported model's buffers, `--freeze`). */
  readonly frozen = new Set<string>();
  /** Imported models: the file's parameter bookkeeping (parameterCount reports it). */
  parameterAccount?: ParameterAccount;

  constructor(
    readonly name: string,
    /** Model parameter values this instance was elaborated with (batch = 64, ...). */
    readonly modelParams: Record<string, number> = {},
  ) {}

  addInput(id: string, type: TensorType, pos?: SourcePos): TensorInfo {
    if (this.tensors.has(id) || this.ops.has(id)) throw new Error(`graph ${this.name}: duplicate name ${id}`);
    const t: TensorInfo = { id, type, consumers: [] };
    if (pos) t.pos = pos;
    this.tensors.set(id, t);
    this.inputs.push(id);
    return t;
  }

  /** Adds an op whose inputs already exist; creates its output tensors from its signature. */
  addOp(node: Omit<OpNode, "outputs">): OpNode {
    const name = node.name;
    if (this.ops.has(name) || this.tensors.has(name)) throw new Error(`graph ${this.name}: duplicate name ${name}`);
    const inputs = node.inputs;
    // The input tensors, looked up once (checked before the graph changes).
    const read: TensorInfo[] = new Array<TensorInfo>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const t = this.tensors.get(inputs[i]);
      if (!t) throw new Error(`graph ${this.name}: op ${name} reads unknown tensor ${inputs[i]}`);
      read[i] = t;
    }
    const types = node.sig.outputs;
    const outputs: string[] = types.length === 1 ? [name] : new Array<string>(types.length);
    if (types.length !== 1) for (let i = 0; i < types.length; i++) outputs[i] = outputTensorId(name, i, types.length);
    // Built whole, not as `{ ...node, outputs }` (an order of magnitude slower here) nor by
    // adding properties to a copy: a large model holds tens of thousands of these.
    const pos = node.pos;
    const full: OpNode =
      pos === undefined
        ? { name, op: node.op, attrs: node.attrs, inputs, outputs, sig: node.sig }
        : { name, op: node.op, attrs: node.attrs, inputs, outputs, sig: node.sig, pos };
    this.ops.set(name, full);
    for (let i = 0; i < read.length; i++) {
      const consumer = { op: name, input: i };
      const consumers = read[i].consumers;
      // Most tensors have one consumer: an exact one-element array, not a push-grown one.
      if (consumers.length === 0) read[i].consumers = [consumer];
      else consumers.push(consumer);
    }
    for (let i = 0; i < outputs.length; i++) {
      const producer = { op: name, output: i };
      const t: TensorInfo = pos === undefined ? { id: outputs[i], type: types[i], producer, consumers: [] } : { id: outputs[i], type: types[i], producer, consumers: [], pos };
      this.tensors.set(outputs[i], t);
    }
    return full;
  }

  tensor(id: string): TensorInfo {
    const t = this.tensors.get(id);
    if (!t) throw new Error(`graph ${this.name}: no tensor ${id}`);
    return t;
  }

  op(name: string): OpNode {
    const o = this.ops.get(name);
    if (!o) throw new Error(`graph ${this.name}: no op ${name}`);
    return o;
  }

  /** Ops in a deterministic topological order (Kahn's algorithm, ties by insertion order). */
  topoOrder(): OpNode[] {
    const ops = [...this.ops.values()];
    const rank = new Map(ops.map((o, i) => [o.name, i]));
    // Fast path: addOp accepts only existing inputs, so insertion order is normally
    // topological, and then it is exactly Kahn's order with insertion-order ties.
    const producerRank = (tid: string) => {
      const p = this.tensor(tid).producer;
      return p ? rank.get(p.op)! : -1;
    };
    if (ops.every((o, i) => o.inputs.every((t) => producerRank(t) < i))) return ops;
    // General case: Kahn's algorithm with a min-heap on insertion rank (O(n log n)).
    const indeg = ops.map((o) => o.inputs.filter((t) => this.tensor(t).producer).length);
    const heap: number[] = [];
    const push = (x: number) => {
      heap.push(x);
      for (let i = heap.length - 1; i > 0; ) {
        const p = (i - 1) >> 1;
        if (heap[p] <= heap[i]) break;
        [heap[p], heap[i]] = [heap[i], heap[p]];
        i = p;
      }
    };
    const pop = (): number => {
      const top = heap[0];
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        for (let i = 0; ; ) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && heap[l] < heap[m]) m = l;
          if (r < heap.length && heap[r] < heap[m]) m = r;
          if (m === i) break;
          [heap[m], heap[i]] = [heap[i], heap[m]];
          i = m;
        }
      }
      return top;
    };
    indeg.forEach((d, i) => d === 0 && push(i));
    const order: OpNode[] = [];
    while (heap.length) {
      const o = ops[pop()];
      order.push(o);
      for (const tid of o.outputs) {
        for (const c of this.tensor(tid).consumers) {
          const r = rank.get(c.op)!;
          if (--indeg[r] === 0) push(r);
        }
      }
    }
    return order;
  }

  /** Cycles among ops (each as a list of op names); empty for a valid graph. */
  cycles(): string[][] {
    // Built on demand: keeping a graphlib copy in step on every addOp dominated elaboration time.
    const lib = new GraphLib({ directed: true, multigraph: true });
    for (const id of this.inputs) lib.setNode(id, { kind: "input" });
    for (const o of this.ops.values()) {
      lib.setNode(o.name, { kind: "op" });
      o.inputs.forEach((tid, i) => {
        const t = this.tensor(tid);
        lib.setEdge(t.producer ? t.producer.op : tid, o.name, tid, `${tid}->${o.name}#${i}`);
      });
    }
    return alg.findCycles(lib);
  }

  params(): ParamInfo[] {
    const out: ParamInfo[] = [];
    for (const o of this.topoOrder()) {
      o.sig.params.forEach((spec, index) => out.push({ id: `${o.name}.${spec.name}`, op: o.name, index, spec }));
    }
    return out;
  }

  /** The model's parameters: an imported model's own count (its file's weights, each once), else the elements of every param. */
  parameterCount(): number {
    return this.parameterAccount?.parameters ?? this.params().reduce((n, p) => n + volume(p.spec.shape), 0);
  }

  /** Parameters the optimiser updates. */
  trainableParameterCount(): number {
    return this.parameterAccount?.trainable ?? this.params().reduce((n, p) => n + (this.frozen.has(p.id) ? 0 : volume(p.spec.shape)), 0);
  }

  /** Buffers: weights that are read but never trained (an imported model's masks and statistics). */
  bufferCount(): number {
    return this.parameterAccount?.buffers ?? 0;
  }

  /** FLOPs of one training iteration (forward + backward) over the whole graph. */
  flops(): { forward: number; backward: number; total: number } {
    let forward = 0;
    let backward = 0;
    for (const o of this.ops.values()) {
      const f = o.sig.flops(o.sig.space.map((d) => d.size));
      forward += f.forward;
      backward += f.backward;
    }
    return { forward, backward, total: forward + backward };
  }

  /** Bytes of every op output (the activations a training step keeps for backward). */
  activationBytes(): number {
    let b = 0;
    for (const o of this.ops.values()) for (const t of o.outputs) b += tensorBytes(this.tensor(t).type);
    return b;
  }

  /** Ops that are training losses. */
  lossOps(): OpNode[] {
    return [...this.ops.values()].filter((o) => getOp(o.op)?.isLoss);
  }

  /** Tensors no op consumes (the model's outputs). */
  outputs(): string[] {
    const out: string[] = [];
    for (const o of this.ops.values()) for (const t of o.outputs) if (this.tensor(t).consumers.length === 0) out.push(t);
    return out;
  }
}
