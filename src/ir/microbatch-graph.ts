// The graph of some ops at another sample size and precision: what one pipeline stage
// computes for one micro-batch (docs/strategies.md, "Large-scale training": every op config
// of a large-scale strategy describes one micro-batch of replica 0). Each op is typed again
// through its registry entry with its inputs' sample axes divided by `parts` (replicas ×
// micro-batches), so its iteration space, FLOPs and regions are those of the micro-batch;
// tensors the ops read from outside the set become graph inputs. With a 16-bit precision
// every float tensor and weight is typed bf16/f16, so that the cost model prices compute at
// the device's 16-bit peak and every activation, transfer and stashed tensor at 2 bytes.
//
// An op whose attributes pin the batch (a reshape to [64, ...]) cannot be typed at another
// sample size: PAR7050, with the hint to give the graph at the micro-batch size instead
// (re-elaborate the .par model with its batch parameter set: `rebuild` in
// src/search/evaluate-strategy.ts).

import { Diagnostics, parError } from "../core/diagnostics.js";
import { isFloat, type DType, type TensorType } from "../core/tensor.js";
import type { OpSignature } from "../ops/contract.js";
import { getOp } from "../ops/registry.js";
import { Graph, type OpNode } from "./graph.js";
import type { Precision } from "./strategy.js";

/** The axes of `tensor` that carry samples: mapped to a sample dim by its producer, else by a reader. */
export function sampleAxes(graph: Graph, tensorId: string): number[] {
  const t = graph.tensor(tensorId);
  const axes = new Set<number>();
  const collect = (op: OpNode, maps: OpSignature["inputMaps"][number]) => {
    maps.forEach((m, axis) => {
      if (m.kind !== "full" && op.sig.space[m.dim].cls === "sample") axes.add(axis);
    });
  };
  if (t.producer) {
    const op = graph.op(t.producer.op);
    collect(op, op.sig.outputMaps[t.producer.output]);
  } else {
    for (const c of t.consumers) {
      const op = graph.op(c.op);
      collect(op, op.sig.inputMaps[c.input]);
    }
  }
  return [...axes].sort((a, b) => a - b);
}

/** The dtype a tensor of `dtype` has under `precision`: floats become the 16-bit type. */
export function underPrecision(dtype: DType, precision: Precision): DType {
  return precision !== "f32" && isFloat(dtype) ? precision : dtype;
}

function retype(t: TensorType, shape: number[], precision: Precision): TensorType {
  return { dtype: underPrecision(t.dtype, precision), shape, dims: [...t.dims] };
}

/**
 * The graph of `ops` (a subset of `graph`'s, in topological order) at 1/`parts` of the
 * sample size, under `precision`. Op and tensor names are kept; tensors produced outside the
 * subset are graph inputs, in order of first read. Throws a ParError (PAR7050, PAR7051,
 * PAR7053) when an op cannot be typed at that size.
 */
export function microbatchGraph(graph: Graph, ops: readonly OpNode[], parts: number, precision: Precision): Graph {
  const out = new Graph(graph.name, { ...graph.modelParams });
  const inside = new Set(ops.map((o) => o.name));
  const scaled = (id: string): TensorType => {
    const t = graph.tensor(id).type;
    const shape = [...t.shape];
    for (const a of sampleAxes(graph, id)) {
      if (shape[a] % parts !== 0) {
        throw parError("PAR7053", `tensor \`${id}\` has ${shape[a]} samples along axis ${a}, which do not split into ${parts} equal micro-batches`, {
          hint: "choose replicas × microbatches dividing the batch",
        });
      }
      shape[a] /= parts;
    }
    return retype(t, shape, precision);
  };
  for (const op of ops) {
    for (const id of op.inputs) {
      const p = graph.tensor(id).producer;
      if ((!p || !inside.has(p.op)) && !out.tensors.has(id)) out.addInput(id, scaled(id));
    }
    const entry = getOp(op.op);
    if (!entry) throw new Error(`op ${op.name}: unknown op kind ${op.op}`);
    const types = op.inputs.map((id) => out.tensor(id).type);
    const sink = new Diagnostics();
    const sig = entry.infer(types, op.attrs, { opName: op.name, diagnostics: sink });
    if (!sig) {
      const why = sink.errors.map((d) => `${d.code} ${d.message}`).join("; ");
      throw parError("PAR7051", `op \`${op.name}\` (${op.op}) cannot be typed at 1/${parts} of the batch: ${why}`, {
        hint: "give the graph at the micro-batch size (re-elaborate the model with its batch parameter set)",
      });
    }
    checkScaled(op, sig, parts);
    out.addOp({ name: op.name, op: op.op, attrs: op.attrs, inputs: op.inputs, sig: withPrecision(sig, precision) });
  }
  return out;
}

/** PAR7050 unless the new space is the old one with every sample dim divided by `parts`. */
function checkScaled(op: OpNode, sig: OpSignature, parts: number): void {
  const before = op.sig.space;
  const after = sig.space;
  const same = before.length === after.length && before.every((d, i) => after[i].name === d.name && after[i].size === (d.cls === "sample" ? d.size / parts : d.size));
  if (same) return;
  const show = (s: OpSignature["space"]) => s.map((d) => `${d.name}=${d.size}`).join(", ");
  throw parError("PAR7050", `op \`${op.name}\` (${op.op}) keeps its batch size at the micro-batch size: its dims are [${show(after)}] where [${show(before)}] with every sample dim divided by ${parts} was expected`, {
    hint: "an attribute fixes the batch (a reshape's shape?); give the graph at the micro-batch size instead (re-elaborate the model with its batch parameter set)",
  });
}

/** `sig` with every float output and weight in the 16-bit type (FLOPs and maps unchanged). */
function withPrecision(sig: OpSignature, precision: Precision): OpSignature {
  if (precision === "f32") return sig;
  return {
    ...sig,
    outputs: sig.outputs.map((t) => retype(t, [...t.shape], precision)),
    params: sig.params.map((p) => ({ ...p, dtype: underPrecision(p.dtype ?? "f32", precision) })),
  };
}
