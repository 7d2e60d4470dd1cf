// Graph → Graphviz DOT, for `par graph --dot`. Ops are boxes (name, op, output shape),
// graph inputs ellipses, edges carry the tensor's shape. Output follows insertion order,
// so the same graph always prints the same text.

import { formatType } from "../core/tensor.js";
import type { Graph } from "./graph.js";

/** A DOT double-quoted string: backslashes, quotes and newlines escaped. */
export function dotString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`;
}

export function graphToDot(graph: Graph): string {
  const lines = [`digraph ${dotString(graph.name)} {`, "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=9];'];
  for (const id of graph.inputs) {
    const t = graph.tensor(id);
    lines.push(`  ${dotString(id)} [shape=ellipse, label=${dotString(`${id}\n${formatType(t.type)}`)}];`);
  }
  for (const op of graph.ops.values()) {
    const shapes = op.outputs.map((t) => formatType(graph.tensor(t).type)).join("\n");
    lines.push(`  ${dotString(op.name)} [shape=box, label=${dotString(`${op.name}\n${op.op}\n${shapes}`)}];`);
  }
  for (const op of graph.ops.values()) {
    op.inputs.forEach((tid) => {
      const t = graph.tensor(tid);
      const from = t.producer ? t.producer.op : tid;
      lines.push(`  ${dotString(from)} -> ${dotString(op.name)} [label=${dotString(formatType(t.type))}];`);
    });
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}
