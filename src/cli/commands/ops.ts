// `par ops [NAME] [--json]`: the operator library: each op's inputs, attributes and doc;
// with NAME, the details of one op. The parallel dims of an op depend on its input ranks
// (see docs/ops.md); `par graph` and `par search` show them for a concrete model.

import { didYouMean } from "../../core/diagnostics.js";
import type { AttrSpec, OpEntry } from "../../ops/contract.js";
import { allOps, getOp } from "../../ops/registry.js";
import { UsageError } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";

function signature(e: OpEntry): string {
  const inputs = e.inputs.map((i) => (i.variadic ? `${i.name}...` : i.optional ? `${i.name}?` : i.name));
  const attrs = e.attrs.map((a) => (a.default === undefined ? `${a.name}` : `${a.name} = ${JSON.stringify(a.default)}`));
  return `${e.name}(${[...inputs, ...attrs].join(", ")}) → ${e.outputNames.join(", ")}`;
}

function attrLine(a: AttrSpec): string {
  const kind = a.choices ? a.choices.map((c) => `"${c}"`).join(" | ") : a.kind;
  return `  ${a.name}: ${kind}${a.default === undefined ? " (required)" : ` = ${JSON.stringify(a.default)}`}  ${a.doc}`;
}

function asJson(e: OpEntry): object {
  return { name: e.name, family: e.family, doc: e.doc, inputs: e.inputs, attrs: e.attrs, outputs: e.outputNames, composite: Boolean(e.expansion), loss: Boolean(e.isLoss) };
}

export const opsCommand: Command = {
  name: "ops",
  summary: "list the operator library (inputs, attributes, docs); see docs/ops.md for parallel dims",
  usage: "[NAME] [--json]",
  flags: [JSON_FLAG],
  details: "examples:\n  par ops\n  par ops linear --json",
  run(ctx: CommandContext): number {
    const [name, ...extra] = ctx.args.positionals;
    if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
    const json = ctx.args.flags.json === true;
    if (name !== undefined) {
      const e = getOp(name);
      if (!e) throw new UsageError(`unknown op ${name}`, didYouMean(name, allOps().map((o) => o.name)) ?? "run `par ops` for the list");
      if (json) ctx.io.out(JSON.stringify(asJson(e), null, 2) + "\n");
      else ctx.io.out([signature(e), `  ${e.doc}`, `family: ${e.family}${e.expansion ? " (composite: expands into primitive ops)" : ""}`, ...(e.attrs.length ? ["attributes:", ...e.attrs.map(attrLine)] : [])].join("\n") + "\n");
      return 0;
    }
    const ops = [...allOps()].sort((a, b) => (a.family === b.family ? (a.name < b.name ? -1 : 1) : a.family < b.family ? -1 : 1));
    if (json) {
      ctx.io.out(JSON.stringify(ops.map(asJson), null, 2) + "\n");
      return 0;
    }
    let family = "";
    const lines: string[] = [];
    for (const e of ops) {
      if (e.family !== family) {
        family = e.family;
        lines.push(`${lines.length ? "\n" : ""}${family}:`);
      }
      lines.push(`  ${signature(e)}`);
    }
    ctx.io.out(lines.join("\n") + "\n");
    return 0;
  },
};
