// The graph's structure, checked before anything is mapped: every tensor name produced
// once, every name read produced somewhere, no cycles. Each is one coded error listing
// the offending names.

import type { Diagnostics } from "../../core/diagnostics.js";
import type { OnnxModel, OnnxNode } from "./decode.js";

/** Checks names: duplicate producers, dangling reads, cycles. Returns nodes in topological order. */
export function checkStructure(model: OnnxModel, file: string, d: Diagnostics): OnnxNode[] | undefined {
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
