// An imported Graph printed as a readable .par model: one `input` line per graph input,
// one statement per op (`name = op(inputs, attr = value)`), so that `par check` elaborates
// it back into the same ops, shapes and parameter count. Op names are already identifiers
// (import-build.ts), so each statement's target is the op's own name. A composite op that
// the importer expanded (batchnorm = moments + central_moment + batchnorm_apply) is printed
// as the composite call, which expands to the same ops again: its parts are recognised
// from the composite's declared expansion (OpEntry.expansion), not from op names.

import type { Attrs, AttrValue, OpEntry } from "../ops/contract.js";
import { allOps, getOp } from "../ops/registry.js";
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
function attrs(entry: OpEntry | undefined, given: Attrs): string[] {
  const specs = entry?.attrs ?? [];
  const out: string[] = [];
  for (const s of specs) {
    const v = given[s.name];
    if (v === undefined) continue;
    if (s.default !== undefined && JSON.stringify(s.default) === JSON.stringify(v)) continue;
    out.push(`${s.name} = ${value(v)}`);
  }
  return out;
}

/** A composite's expansion found in a graph: the composite, its inputs and attributes. */
interface FoundComposite {
  entry: OpEntry;
  inputs: string[];
  attrs: Attrs;
}

/** Composite entries by the op of their final part (the op that keeps the composite's name). */
const COMPOSITES_BY_FINAL_OP = new Map<string, OpEntry[]>();
for (const e of allOps()) {
  const final = e.expansion?.[e.expansion.length - 1];
  if (final) COMPOSITES_BY_FINAL_OP.set(final.op, [...(COMPOSITES_BY_FINAL_OP.get(final.op) ?? []), e]);
}

const same = (a: AttrValue | undefined, b: AttrValue | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The composite whose expansion ends in `o` (its parts named `<o>.<suffix>`, of the declared
 * ops, wired as declared, with attributes the composite call would give them, and their
 * outputs read by nothing else, since the composite statement would not re-create them),
 * or undefined.
 */
function compositeEndingAt(graph: Graph, o: OpNode): FoundComposite | undefined {
  for (const entry of COMPOSITES_BY_FINAL_OP.get(o.op) ?? []) {
    const parts = entry.expansion!;
    const nodes = parts.map((p) => (p.suffix ? graph.ops.get(`${o.name}.${p.suffix}`) : o));
    if (nodes.some((n, i) => n?.op !== parts[i].op || n.inputs.length !== parts[i].inputs.length)) continue;
    const found = nodes as OpNode[];
    const inputs: string[] = [];
    const attrs: Attrs = {};
    let matches = true;
    parts.forEach((part, i) => {
      part.inputs.forEach((ref, j) => {
        const actual = found[i].inputs[j];
        if (typeof ref !== "number") matches &&= actual === found[ref.op].outputs[ref.output];
        else if (inputs[ref] === undefined) inputs[ref] = actual;
        else matches &&= inputs[ref] === actual;
      });
      // Attributes the composite hands on must agree across parts; the others must be the
      // part's defaults, which is what the composite call gives them.
      const handed = new Set(part.attrs ?? []);
      for (const spec of getOp(part.op)?.attrs ?? []) {
        const v = found[i].attrs[spec.name];
        if (handed.has(spec.name)) {
          if (attrs[spec.name] === undefined) attrs[spec.name] = v;
          else matches &&= same(attrs[spec.name], v);
        } else matches &&= v === undefined || same(v, spec.default);
      }
    });
    const inside = new Set(found.map((n) => n.name));
    const own = found.slice(0, -1).every((n) => n.outputs.every((t) => graph.tensor(t).consumers.every((c) => inside.has(c.op))));
    if (matches && own && inputs.length === entry.inputs.length) return { entry, inputs, attrs };
  }
  return undefined;
}

/** A non-final part of a composite that the composite's statement re-creates (batchnorm's mean and var). */
function isExpandedPart(graph: Graph, o: OpNode): boolean {
  for (const entry of allOps()) {
    for (const part of entry.expansion?.slice(0, -1) ?? []) {
      const suffix = `.${part.suffix}`;
      if (part.op !== o.op || !o.name.endsWith(suffix)) continue;
      const owner = graph.ops.get(o.name.slice(0, -suffix.length));
      if (owner && compositeEndingAt(graph, owner)?.entry === entry) return true;
    }
  }
  return false;
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
    const composite = compositeEndingAt(graph, o);
    const entry = composite?.entry ?? getOp(o.op);
    const inputs = composite?.inputs ?? o.inputs;
    const targets = o.outputs.length === 1 ? o.name : o.outputs.map((_, i) => `${o.name}_${i}`).join(", ");
    const args = [...inputs.map(ref), ...attrs(entry, composite?.attrs ?? o.attrs)].join(", ");
    lines.push(`  ${targets} = ${entry?.name ?? o.op}(${args})`);
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}
