// `par check FILE... [--json] [--model M] [--set name=value ...]`: parse and check .par
// files; per model print op count, parameters, FLOPs per training iteration and
// activation memory. Exit 1 when any file has errors (warnings alone still pass).

import { Diagnostics, type Diagnostic } from "../../core/diagnostics.js";
import type { Graph } from "../../ir/graph.js";
import { loadProgram } from "../../frontend/load.js";
import type { FlagSpec, ParsedArgs } from "../args.js";
import { UsageError } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { formatBytes, formatCount, formatFlops } from "../format.js";

export const MODEL_FLAG: FlagSpec = { name: "model", kind: "string", value: "M", doc: "only this model of the file" };
export const SET_FLAG: FlagSpec = { name: "set", kind: "string", value: "NAME=VALUE", repeatable: true, doc: "override a model parameter (repeatable), e.g. --set batch=128" };

/** The --set overrides as a record; a malformed one is a usage error. */
export function parseOverrides(args: ParsedArgs): Record<string, number> {
  const out = Object.create(null) as Record<string, number>;
  for (const item of (args.flags.set as string[] | undefined) ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(-?\d+)$/.exec(item);
    if (!m) throw new UsageError(`--set needs NAME=INTEGER, got "${item}"`, "for example --set batch=128");
    if (Object.prototype.hasOwnProperty.call(out, m[1])) throw new UsageError(`--set ${m[1]} given twice`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

export function modelFlag(args: ParsedArgs): string | undefined {
  return typeof args.flags.model === "string" ? args.flags.model : undefined;
}

export interface ModelSummary {
  name: string;
  params: Record<string, number>;
  ops: number;
  parameters: number;
  flops: number;
  forwardFlops: number;
  backwardFlops: number;
  activationBytes: number;
}

export function summarize(graph: Graph): ModelSummary {
  const f = graph.flops();
  return {
    name: graph.name,
    params: { ...graph.modelParams },
    ops: graph.ops.size,
    parameters: graph.parameterCount(),
    flops: f.total,
    forwardFlops: f.forward,
    backwardFlops: f.backward,
    activationBytes: graph.activationBytes(),
  };
}

function describe(s: ModelSummary): string {
  const params = Object.entries(s.params).map(([k, v]) => `${k}=${v}`).join(", ");
  return [
    `  model ${s.name}(${params})`,
    `    ops          ${s.ops}`,
    `    parameters   ${formatCount(s.parameters)}`,
    `    flops        ${formatFlops(s.flops)} per training iteration (forward ${formatFlops(s.forwardFlops)}, backward ${formatFlops(s.backwardFlops)})`,
    `    activations  ${formatBytes(s.activationBytes)}`,
  ].join("\n");
}

export const checkCommand: Command = {
  name: "check",
  summary: "parse and check .par files; report ops, parameters, FLOPs and activation memory per model",
  usage: "FILE... [--json] [--model M] [--set NAME=VALUE ...]",
  flags: [JSON_FLAG, MODEL_FLAG, SET_FLAG],
  details: "examples:\n  par check models/mlp.par\n  par check models/gpt.par --set layers=48 --json",
  run(ctx: CommandContext): number {
    const files = ctx.args.positionals;
    if (files.length === 0) throw new UsageError("no files given", "par check FILE...");
    const overrides = parseOverrides(ctx.args);
    const model = modelFlag(ctx.args);
    const asJson = ctx.args.flags.json === true;
    const results: { file: string; models: ModelSummary[]; meshes: { name: string; devices: number }[]; strategies: string[]; diagnostics: Diagnostic[] }[] = [];
    let failed = false;
    for (const file of files) {
      const diagnostics = new Diagnostics();
      const checked = loadProgram(file, { sources: ctx.sources, diagnostics, cwd: ctx.io.cwd }, { overrides, model });
      const models = checked ? [...checked.models.values()].map(summarize) : [];
      const meshes = checked ? [...checked.meshes.values()].map((m) => ({ name: m.name, devices: m.devices.length })) : [];
      const strategies = checked ? checked.strategies.map((s) => s.name) : [];
      if (diagnostics.hasErrors()) failed = true;
      results.push({ file, models, meshes, strategies, diagnostics: diagnostics.items });
      if (!asJson) {
        ctx.report(diagnostics.items);
        const status = diagnostics.hasErrors() ? `${diagnostics.errors.length} error(s)` : "ok";
        ctx.io.out(`${file}: ${status}${diagnostics.warnings.length ? `, ${diagnostics.warnings.length} warning(s)` : ""}\n`);
        for (const s of models) ctx.io.out(describe(s) + "\n");
        for (const m of meshes) ctx.io.out(`  mesh ${m.name}: ${m.devices} device${m.devices === 1 ? "" : "s"}\n`);
        for (const s of strategies) ctx.io.out(`  strategy ${s}\n`);
      }
    }
    if (asJson) ctx.io.out(JSON.stringify({ files: results }, null, 2) + "\n");
    return failed ? 1 : 0;
  },
};
