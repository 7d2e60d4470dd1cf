// `par check FILE... [--json] [--model M] [--set name=value ...]`: parse and check .par
// files; per model print op count, parameters, FLOPs per training iteration and
// activation memory. Exit 1 when any file has errors (warnings alone still pass).

import { Diagnostics, type Diagnostic } from "../../core/diagnostics.js";
import type { Graph } from "../../ir/graph.js";
import type { Mesh } from "../../core/mesh.js";
import { loadProgram } from "../../frontend/load.js";
import { loadModel, modelFormatOf } from "../../frontend/load-model.js";
import type { LossChoice } from "../../frontend/import-build.js";
import { lossSummary, type LossSummary } from "../../frontend/loss-summary.js";
import { UsageError } from "../args.js";
import { IMPORT_FLAGS, importOptionsOf, MODEL_FLAG, modelFlag, parseOverrides, SET_FLAG, showLoading } from "../model-flags.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { formatBytes, formatCount, formatFlops } from "../format.js";

// The shared model flags live in ../model-flags.ts (re-exported here for older importers).
export { MODEL_FLAG, SET_FLAG, parseOverrides, modelFlag };

export interface ModelSummary {
  name: string;
  params: Record<string, number>;
  ops: number;
  parameters: number;
  /** Parameters the optimiser updates; the rest are buffers or frozen (docs/import.md). */
  trainableParameters: number;
  buffers: number;
  /** The training loss, and why (an imported model's is chosen by its output). */
  loss: LossSummary | null;
  flops: number;
  forwardFlops: number;
  backwardFlops: number;
  activationBytes: number;
}

export function summarize(graph: Graph, loss?: LossChoice): ModelSummary {
  const f = graph.flops();
  return {
    name: graph.name,
    params: { ...graph.modelParams },
    ops: graph.ops.size,
    parameters: graph.parameterCount(),
    trainableParameters: graph.trainableParameterCount(),
    buffers: graph.bufferCount(),
    loss: lossSummary(graph, loss),
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
    `    parameters   ${formatCount(s.parameters)}${s.trainableParameters !== s.parameters ? ` (${formatCount(s.trainableParameters)} trainable, ${formatCount(s.buffers)} in buffers)` : ""}`,
    ...(s.loss ? [`    loss         ${s.loss.kind} on ${s.loss.output}: ${s.loss.reason}`] : []),
    `    flops        ${formatFlops(s.flops)} per training iteration (forward ${formatFlops(s.forwardFlops)}, backward ${formatFlops(s.backwardFlops)})`,
    `    activations  ${formatBytes(s.activationBytes)}`,
  ].join("\n");
}

export const checkCommand: Command = {
  name: "check",
  summary: "check .par files and imported models (.onnx, model.json); report ops, parameters, FLOPs and activation memory per model",
  usage: "FILE... [--json] [--model M] [--set NAME=VALUE ...] [--input NAME=AxBx..] [--batch N] [--loss KIND]",
  flags: [JSON_FLAG, MODEL_FLAG, SET_FLAG, ...IMPORT_FLAGS],
  details: "examples:\n  par check models/mlp.par\n  par check models/gpt2_small.par --set layers=48 --json\n  par check docs/examples/mlp.onnx --batch 8",
  run(ctx: CommandContext): number {
    const files = ctx.args.positionals;
    if (files.length === 0) throw new UsageError("no files given", "par check FILE...");
    const overrides = parseOverrides(ctx.args);
    const model = modelFlag(ctx.args);
    const asJson = ctx.args.flags.json === true;
    const results: { file: string; models: ModelSummary[]; meshes: { name: string; devices: number }[]; strategies: string[]; diagnostics: Diagnostic[] }[] = [];
    let failed = false;
    // .par files take --model/--set, LLM configs --set, imported models --input/--batch/--loss (load-model.ts).
    const formats = files.map((f) => modelFormatOf(f, ctx.io.cwd) ?? "par");
    const imported = formats.map((f) => f !== "par");
    const shaped = formats.map((f) => f === "onnx" || f === "keras");
    const importOptions = importOptionsOf(ctx.args);
    if (!shaped.some(Boolean) && Object.keys(importOptions).length) throw new UsageError("--input, --batch and --loss apply only to imported models (.onnx, model.json)", "a .par model's or an LLM config's shapes come from --set NAME=VALUE");
    if (shaped.every(Boolean) && (model !== undefined || Object.keys(overrides).length)) throw new UsageError("--model and --set apply only to .par files and LLM configs", "an imported model's shapes come from --input and --batch");
    for (const [i, file] of files.entries()) {
      const diagnostics = new Diagnostics();
      showLoading(ctx, file);
      let checked: { models: Map<string, Graph>; meshes: Map<string, Mesh>; strategies: { name: string }[] } | undefined;
      let loss: LossChoice | undefined;
      if (imported[i]) {
        const m = loadModel(file, { sources: ctx.sources, diagnostics, cwd: ctx.io.cwd }, formats[i] === "llm" ? { overrides, ...(model !== undefined ? { model } : {}) } : importOptions);
        if (m) checked = { models: new Map([[m.graph.name, m.graph]]), meshes: new Map(), strategies: [] };
        loss = m?.loss;
      } else checked = loadProgram(file, { sources: ctx.sources, diagnostics, cwd: ctx.io.cwd }, { overrides, model });
      const models = checked ? [...checked.models.values()].map((g) => summarize(g, loss)) : [];
      ctx.progress.end();
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
