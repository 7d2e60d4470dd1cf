// An imported Graph printed as a readable .par model: one `input` line per graph input,
// one statement per op (`name = op(inputs, attr = value)`), so that `par check` elaborates
// it back into the same ops, shapes and parameter count. Op names are already identifiers
// (import-build.ts), so each statement's target is the op's own name. A composite op that
// the importer expanded (batchnorm = moments + central_moment + batchnorm_apply) is printed
// as the composite call, which expands to the same three ops again.

import type { AttrValue } from "../ops/contract.js";
import { getOp } from "../ops/registry.js";
import type { Graph, OpNode } from "../ir/graph.js";
import { identifierOf } from "./import-build.js";

function num(v: number): string {
  if (Object.is(v, -0)) return "0";
  // Full precision: the round trip must give back the same attribute values.
  return String(v);
}

function value(v: AttrValue): string {
  if (typeof v === "number") return num(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "string") return JSON.stringify(v);
  return `[${v.map(num).join(", ")}]`;
}

/** Attributes that differ from the op's defaults, in the entry's declaration order. */
function attrs(o: OpNode): string[] {
  const entry = getOp(o.op);
  const specs = entry?.attrs ?? [];
  const out: string[] = [];
  for (const s of specs) {
    const v = o.attrs[s.name];
    if (v === undefined) continue;
    if (s.default !== undefined && JSON.stringify(s.default) === JSON.stringify(v)) continue;
    out.push(`${s.name} = ${value(v)}`);
  }
  return out;
}

/**
 * The statistics sub-ops (`<name>.mean`, `<name>.var`) of the batchnorm expansion whose
 * final op is `o`, or undefined when `o` is not such a batchnorm_apply (or something else
 * also reads the statistics, which the composite statement would not re-create).
 */
function batchnormParts(graph: Graph, o: OpNode): [OpNode, OpNode] | undefined {
  if (o.op !== "batchnorm_apply") return undefined;
  const mean = graph.ops.get(`${o.name}.mean`);
  const variance = graph.ops.get(`${o.name}.var`);
  if (mean?.op !== "moments" || variance?.op !== "central_moment") return undefined;
  const [x, m, v] = o.inputs;
  const wired = mean.inputs[0] === x && variance.inputs[0] === x && variance.inputs[1] === m && m === mean.outputs[0] && v === variance.outputs[0];
  const own = graph.tensor(m).consumers.length === 2 && graph.tensor(v).consumers.length === 1;
  return wired && own ? [mean, variance] : undefined;
}

/** A sub-op of a composite that the composite's statement re-creates (batchnorm's mean and var). */
function isExpandedPart(graph: Graph, o: OpNode): boolean {
  const suffix = o.op === "moments" ? ".mean" : o.op === "central_moment" ? ".var" : undefined;
  if (!suffix || !o.name.endsWith(suffix)) return false;
  const owner = graph.ops.get(o.name.slice(0, -suffix.length));
  return owner !== undefined && batchnormParts(graph, owner) !== undefined;
}

/** The .par text of `graph` as model `name`. */
export function graphToPar(graph: Graph, name: string): string {
  const lines: string[] = [];
  lines.push(`# Imported by par: ${graph.ops.size} ops, ${graph.parameterCount()} parameters (${graph.trainableParameterCount()} trainable, ${graph.bufferCount()} in buffers).`);
  lines.push(`model ${identifierOf(name, "imported")}() {`);
  const ref = (tid: string): string => {
    const t = graph.tensor(tid);
    if (!t.producer) return tid;
    const o = graph.op(t.producer.op);
    // Multi-output ops are printed with one target per output, named <op>_<i>.
    return o.outputs.length === 1 ? o.name : `${o.name}_${t.producer.output}`;
  };
  for (const id of graph.inputs) {
    const t = graph.tensor(id).type;
    lines.push(`  input ${id} : ${t.dtype}[${t.shape.join(", ")}]`);
  }
  for (const o of graph.topoOrder()) {
    if (isExpandedPart(graph, o)) continue;
    let op = o.op;
    let inputs = o.inputs;
    if (batchnormParts(graph, o)) {
      op = "batchnorm";
      inputs = [o.inputs[0]];
    }
    const targets = o.outputs.length === 1 ? o.name : o.outputs.map((_, i) => `${o.name}_${i}`).join(", ");
    const args = [...inputs.map(ref), ...attrs(o)].join(", ");
    lines.push(`  ${targets} = ${op}(${args})`);
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}
