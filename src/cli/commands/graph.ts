// `par graph FILE [--model M] [--set NAME=VALUE ...] [--dot] [--out FILE]`: the elaborated
// graph of one model, as Graphviz DOT (--dot) or a plain op listing. FILE may also be an
// imported model (.onnx, model.json; --input/--batch/--loss).

import { formatType } from "../../core/tensor.js";
import { graphToDot } from "../../ir/dot.js";
import type { Graph } from "../../ir/graph.js";
import { UsageError } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { MODEL_LOADING_FLAGS, loadModelFromArgs } from "../model-flags.js";
import { outputFlag, writeOutput } from "../output-path.js";

function listing(graph: Graph): string {
  const lines = [`model ${graph.name}: ${graph.ops.size} ops`];
  for (const id of graph.inputs) lines.push(`  input ${id}: ${formatType(graph.tensor(id).type)}`);
  for (const op of graph.ops.values()) {
    const outs = op.outputs.map((t) => formatType(graph.tensor(t).type)).join(", ");
    lines.push(`  ${op.name} = ${op.op}(${op.inputs.join(", ")}) -> ${outs}`);
  }
  return lines.join("\n") + "\n";
}

export const graphCommand: Command = {
  name: "graph",
  summary: "print a model's elaborated op graph (Graphviz DOT with --dot)",
  usage: "FILE|MODEL.onnx|model.json [--model M] [--set NAME=VALUE ...] [--input NAME=AxBx..] [--batch N] [--loss KIND] [--dot] [--out FILE]",
  flags: [
    ...MODEL_LOADING_FLAGS,
    { name: "dot", kind: "bool", doc: "print Graphviz DOT (render with `dot -Tsvg`)" },
    { name: "out", kind: "string", value: "FILE", doc: "write to FILE instead of stdout" },
  ],
  details: "example:\n  par graph models/mlp.par --dot --out mlp.dot   # then: dot -Tsvg mlp.dot > mlp.svg",
  run(ctx: CommandContext): number {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one FILE, got ${ctx.args.positionals.length}`);
    const [file] = ctx.args.positionals;
    const out = outputFlag(ctx, "out");
    const loaded = loadModelFromArgs(ctx, file);
    if (!loaded) return 1;
    const text = ctx.args.flags.dot === true ? graphToDot(loaded.graph) : listing(loaded.graph);
    if (out === undefined) ctx.io.out(text);
    else writeOutput(out, text);
    return 0;
  },
};
