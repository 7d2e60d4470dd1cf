// `par search FILE [--model M] [--mesh NAME|FILE] [--budget 20000|10s|500ms|2m] [--seed N]
//  [--optimizer sgd|momentum|adam] [--out FILE] [--json] [--trace OUT.json] [--set k=v]`:
// searches a strategy (the pipeline's `search` stage), prints the best iteration time, its speed-up over the
// baselines, a per-op config table, bytes moved, peak memory per device and the strategy's
// `.par` block; --out writes its JSON (atomically).
// `par diff A.json B.json --model-file FILE.par [--model M] [--mesh NAME|FILE]`: the
// strategy-wide differences (replicas, pipeline, ZeRO, recomputation, precision), then per
// op the config under each strategy and the difference in compute, communication and memory.

import { resolve } from "node:path";
import { Diagnostics } from "../../core/diagnostics.js";
import type { Mesh } from "../../core/mesh.js";
import { formatBytes, formatSeconds } from "../../core/units.js";
import { OPTIMIZERS, type Optimizer } from "../../cost/memory.js";
import { loadMeasuredCosts } from "../../cost/compute.js";
import type { CheckedProgram } from "../../frontend/check.js";
import type { Graph } from "../../ir/graph.js";
import { readStrategyFile, strategyJsonText } from "../../ir/strategy-json.js";
import { formatDevices, strategyToPar } from "../../frontend/strategy-par.js";
import { validateStrategy } from "../../ir/strategy-validate.js";
import type { OpConfig, Strategy } from "../../ir/strategy.js";
import { createContext, load, search, searchScale, simulate } from "../../pipeline.js";
import { ParError } from "../../core/diagnostics.js";
import { PRECISIONS, type Precision } from "../../ir/strategy.js";
import { DEFAULT_SCALE_BUDGET, SCALE_SEARCH_THRESHOLD, type ScaleCandidateResult, type ScaleSearchResult } from "../../search/scale/scale-search.js";
import { formatBudget, type Budget } from "../../search/budget.js";
import type { MeasuredCosts } from "../../cost/compute.js";
import { toChromeTrace } from "../../sim/trace.js";
import { resolveMesh } from "../pick.js";
import { str, UsageError, type ParsedArgs } from "../args.js";
import { BUDGET_FLAG, budgetFlag } from "../budget-flag.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { loadModelFromArgs, MODEL_LOADING_FLAGS, modelOptions } from "../model-flags.js";
import { CliPipeline } from "../stages.js";
import { outputFlag, writeOutput } from "../output-path.js";
import { searchProgress } from "../search-progress.js";
import { compareStrategies } from "../../report/strategy-compare.js";

const MESH_FLAG = { name: "mesh", kind: "string" as const, value: "NAME|FILE", doc: "a mesh declared in FILE, a built-in mesh (see `par meshes`) or a .par file with one mesh (default: the file's only mesh, else p100x16)" };

function pickMesh(spec: string | undefined, checked: Pick<CheckedProgram, "meshes">, ctx: CommandContext, diagnostics: Diagnostics): Mesh | undefined {
  return resolveMesh(spec, checked, ctx, diagnostics, { fallback: "p100x16", preferDeclared: true });
}

/** The model (a .par file, an ONNX file or a Keras model.json) and the .par declarations it brings. */
function loadGraph(ctx: CommandContext, file: string, pipeline: CliPipeline): { checked: Pick<CheckedProgram, "meshes">; graph: Graph } | undefined {
  // loadModelFromArgs reports its own diagnostics (errors and warnings) through ctx.
  const loaded = loadModelFromArgs(ctx, file, pipeline);
  if (!loaded) return undefined;
  return { checked: { meshes: loaded.program?.meshes ?? new Map() }, graph: loaded.graph };
}

function optimizerFlag(args: ParsedArgs): Optimizer {
  const o = (str(args, "optimizer") ?? "sgd") as Optimizer;
  if (!OPTIMIZERS.includes(o)) throw new UsageError(`unknown optimizer ${o}`, `one of ${OPTIMIZERS.join(", ")}`);
  return o;
}

const fmtConfig = (op: { sig: { space: { name: string }[] } }, c: OpConfig): string => {
  const split = c.degrees.map((d, i) => (d > 1 ? `${op.sig.space[i].name}=${d}` : "")).filter(Boolean);
  return split.length ? split.join(" ") : "whole";
};

const speedup = (base: number, best: number): string => `${(base / best).toFixed(2)}×`;

export const searchCommand: Command = {
  name: "search",
  summary: "search the SOAP space for a fast strategy (MCMC on the simulator, memory-aware)",
  usage: "FILE [--model M] [--mesh NAME|FILE] [--budget N|DURATION] [--seed N] [--costs FILE] [--out FILE] [--json] [--trace OUT.json] [--set NAME=VALUE ...]",
  flags: [
    ...MODEL_LOADING_FLAGS,
    MESH_FLAG,
    BUDGET_FLAG,
    { name: "seed", kind: "int", value: "N", doc: "the search's random seed (default 1)" },
    { name: "optimizer", kind: "string", value: "NAME", doc: "optimizer for memory and update costs: sgd, momentum, adam (default sgd)" },
    { name: "out", kind: "string", value: "FILE", doc: "write the best strategy as JSON to FILE (atomically)" },
    { name: "trace", kind: "string", value: "OUT.json", doc: "write a Chrome trace of the best strategy's simulated iteration" },
    { name: "costs", kind: "string", value: "FILE", repeatable: true, doc: "measured-cost tables (`par profile`, tfjs or --engine torch) pricing tasks instead of the roofline" },
    { name: "precision", kind: "string", value: "NAME", doc: `meshes of more than ${SCALE_SEARCH_THRESHOLD} devices (searched for ${formatBudget(DEFAULT_SCALE_BUDGET)} unless --budget says otherwise): the compute precision, bf16 (default), f16 or f32` },
    JSON_FLAG,
  ],
  details: `examples:\n  par search models/nmt.par --mesh p100x16 --budget 2s\n  par search models/alexnet.par --mesh k80x64 --budget 500 --seed 3 --out alexnet.k80x64.strategy.json --json\n  par search models/gpt3.par --mesh a100x1024 --optimizer adam --budget 5s\nThe search is described in docs/search.md; on meshes of more than ${SCALE_SEARCH_THRESHOLD} devices it searches tensor × pipeline × data parallelism, ZeRO and recomputation instead (docs/scale.md).`,
  run(ctx: CommandContext): number {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one FILE, got ${ctx.args.positionals.length}`);
    const [file] = ctx.args.positionals;
    const optimizer = optimizerFlag(ctx.args);
    const budget = budgetFlag(ctx.args);
    const seed = typeof ctx.args.flags.seed === "number" ? ctx.args.flags.seed : 1;
    const out = outputFlag(ctx, "out");
    const trace = outputFlag(ctx, "trace");
    const diagnostics = new Diagnostics();
    const pipeline = new CliPipeline(ctx);
    const loaded = loadGraph(ctx, file, pipeline);
    const mesh = loaded && pickMesh(str(ctx.args, "mesh"), loaded.checked, ctx, diagnostics);
    if (!loaded || !mesh || diagnostics.hasErrors()) {
      ctx.report(diagnostics.items);
      return 1;
    }
    const { graph } = loaded;
    const measured = ((ctx.args.flags.costs as string[] | undefined) ?? []).map((p) => loadMeasuredCosts(resolve(ctx.io.cwd, p), p));
    const precision = (str(ctx.args, "precision") ?? "bf16") as Precision;
    if (!PRECISIONS.includes(precision)) throw new UsageError(`unknown precision ${precision}`, `one of ${PRECISIONS.join(", ")}`);
    if (mesh.devices.length > SCALE_SEARCH_THRESHOLD) {
      if (trace !== undefined) throw new UsageError(`--trace is not available on meshes of more than ${SCALE_SEARCH_THRESHOLD} devices (the hierarchical simulator has no task trace)`, "search without --trace");
      const scaleBudget = str(ctx.args, "budget") === undefined ? DEFAULT_SCALE_BUDGET : budget;
      return runScaleSearch(ctx, pipeline, graph, mesh, { budget: scaleBudget, optimizer, precision, measured, seed, out, rebuild: rebuildAt(ctx, file, graph) });
    }
    const result = search(graph, mesh, pipeline.ctx, { budget, seed, optimizer, measured, ...searchProgress(ctx.progress, budget) });
    ctx.progress.end();
    pipeline.report();
    const best = result.best;
    // The searched strategy is valid by construction; an invalid one is a bug in par (exit 3).
    const simulated = pipeline.stage((p) => simulate(graph, mesh, best.strategy, p, { optimizer, measured }));
    if (!simulated) return 3;
    const t = simulated.timeline;
    if (out !== undefined) writeOutput(out, strategyJsonText(graph, best.strategy));
    if (trace !== undefined) writeOutput(trace, JSON.stringify(toChromeTrace(t, `${graph.name} / searched on ${mesh.name}`)) + "\n");
    const bl = result.baselines;
    const baselineJson = (x: { iterationTime: number; feasible: boolean }) => ({ iterationTimeMs: x.iterationTime * 1e3, feasible: x.feasible, speedup: x.iterationTime / best.iterationTime });
    if (ctx.args.flags.json === true) {
      const json = {
        model: graph.name,
        parameters: graph.parameterCount(),
        mesh: mesh.name,
        feasible: result.feasible,
        best: {
          iterationTimeMs: best.iterationTime * 1e3,
          peakMemoryBytes: best.memory.peakBytes,
          bytesTransferred: t.bytesByLinkClass,
          ops: Object.fromEntries(graph.topoOrder().map((op) => [op.name, best.strategy.ops[op.name]])),
        },
        baselines: {
          dataParallel: baselineJson(bl.dataParallel),
          modelParallel: baselineJson(bl.modelParallel),
          expert: baselineJson(bl.expert),
          ...(bl.megatron ? { megatron: baselineJson(bl.megatron) } : {}),
        },
        iterations: result.iterations,
        seconds: result.seconds,
        acceptanceRate: result.acceptanceRate,
        startSeed: result.startSeed,
        bestIteration: result.bestIteration,
        stoppedBy: result.stoppedBy,
        seed,
      };
      ctx.io.out(JSON.stringify(json, null, 2) + "\n");
      return result.feasible ? 0 : 1;
    }
    const lines: string[] = [];
    lines.push(`${graph.name} on ${mesh.name} (${mesh.devices.length} devices): ${result.iterations} iterations in ${result.seconds.toFixed(1)} s (${result.stoppedBy}), acceptance ${(100 * result.acceptanceRate).toFixed(1)} %, started from ${result.startSeed}`);
    lines.push(`best iteration time  ${formatSeconds(best.iterationTime)}${result.feasible ? "" : "  (does not fit in memory)"}`);
    const rows: [string, { iterationTime: number; feasible: boolean } | undefined][] = [
      ["data parallel", bl.dataParallel], ["model parallel", bl.modelParallel], ["expert", bl.expert], ["megatron", bl.megatron],
    ];
    for (const [name, x] of rows) {
      if (x) lines.push(`  vs ${name.padEnd(15)} ${formatSeconds(x.iterationTime).padStart(10)}  speed-up ${speedup(x.iterationTime, best.iterationTime)}${x.feasible ? "" : "  (baseline over memory)"}`);
    }
    lines.push("per-op configs:");
    const w = Math.max(4, ...graph.topoOrder().map((o) => o.name.length));
    for (const op of graph.topoOrder()) {
      const c = best.strategy.ops[op.name];
      lines.push(`  ${op.name.padEnd(w)}  ${op.op.padEnd(22)} ${fmtConfig(op, c).padEnd(28)} devices ${formatDevices(c.devices)}`);
    }
    const classes = Object.keys(t.bytesByLinkClass).sort();
    lines.push(`bytes moved  ${classes.length ? classes.map((c) => `${c} ${formatBytes(t.bytesByLinkClass[c])}`).join(", ") : "none"}`);
    lines.push("peak memory per device:");
    for (const d of best.memory.devices) lines.push(`  device ${String(d.device).padStart(3)}  ${formatBytes(d.total).padStart(10)} of ${formatBytes(d.capacity)}${d.total > d.capacity ? "  OVER CAPACITY" : ""}`);
    lines.push("");
    lines.push(strategyToPar(graph, best.strategy).trimEnd());
    if (out !== undefined) lines.push(`wrote ${out.shown}`);
    ctx.io.out(lines.join("\n") + "\n");
    return result.feasible ? 0 : 1;
  },
};

// ------------------------------------------------------------------ meshes at scale

/**
 * A .par model with a `batch` parameter, elaborated again at another batch (for models
 * whose attributes pin the batch, e.g. BERT's reshapes): the scale search prices
 * micro-batches on it. Undefined for imported models.
 */
function rebuildAt(ctx: CommandContext, file: string, graph: Graph): ((samples: number) => Graph | undefined) | undefined {
  if (!file.endsWith(".par") || !("batch" in graph.modelParams)) return undefined;
  const options = modelOptions(ctx.args);
  return (samples) => {
    try {
      return load(resolve(ctx.io.cwd, file), createContext({ cwd: ctx.io.cwd }), { ...options, overrides: { ...options.overrides, batch: samples } }).graph;
    } catch (e) {
      if (e instanceof ParError) return undefined;
      throw e;
    }
  };
}

interface ScaleRun {
  budget: Budget;
  optimizer: Optimizer;
  precision: Precision;
  measured: MeasuredCosts[];
  seed: number;
  rebuild: ((samples: number) => Graph | undefined) | undefined;
  out: ReturnType<typeof outputFlag>;
}

function runScaleSearch(ctx: CommandContext, pipeline: CliPipeline, graph: Graph, mesh: Mesh, o: ScaleRun): number {
  const progress = searchProgress(ctx.progress, o.budget);
  progress.onPhase({ phase: "searching" });
  const result = pipeline.stage((p) => searchScale(graph, mesh, p, { budget: o.budget, optimizer: o.optimizer, precision: o.precision, measured: o.measured, onProgress: progress.onProgress, ...(o.rebuild ? { rebuild: o.rebuild } : {}) }));
  ctx.progress.end();
  pipeline.report();
  if (!result) return 1;
  const best = result.best;
  if (o.out !== undefined) writeOutput(o.out, strategyJsonText(graph, best.strategy));
  const bl = result.baselines;
  const named: [string, string, ScaleCandidateResult | undefined][] = [["dataParallel", "data parallel", bl.dataParallel], ["zero3", "ZeRO-3 data parallel", bl.zero3], ["megatron", "megatron", bl.megatron]];
  const baselineJson = (x: ScaleCandidateResult) => ({ name: x.name, iterationTimeMs: x.evaluation.stepTime * 1e3, feasible: x.feasible, speedup: x.evaluation.stepTime / best.evaluation.stepTime, devicesUsed: x.evaluation.devicesUsed });
  if (ctx.args.flags.json === true) {
    const json = {
      model: graph.name,
      mesh: mesh.name,
      feasible: result.feasible,
      best: {
        name: best.name,
        iterationTimeMs: best.evaluation.stepTime * 1e3,
        peakMemoryBytes: best.evaluation.memory.devices.map((d) => d.total),
        devicesUsed: best.evaluation.devicesUsed,
        modelFlopsPerDevice: best.evaluation.flopsPerDevice,
        config: best.config,
        ops: Object.fromEntries(graph.topoOrder().map((op) => [op.name, best.strategy.ops[op.name]])),
      },
      baselines: Object.fromEntries(named.filter(([, , x]) => x).map(([k, , x]) => [k, baselineJson(x!)])),
      iterations: result.iterations,
      spaceSize: result.spaceSize,
      seconds: result.seconds,
      stoppedBy: result.stoppedBy,
      stageSimulations: result.stageSimulations,
      seed: o.seed,
    };
    ctx.io.out(JSON.stringify(json, null, 2) + "\n");
    return result.feasible ? 0 : 1;
  }
  ctx.io.out(scaleSearchText(graph, mesh, result, named, o.out?.shown));
  return result.feasible ? 0 : 1;
}

function scaleSearchText(graph: Graph, mesh: Mesh, result: ScaleSearchResult, named: [string, string, ScaleCandidateResult | undefined][], wrote: string | undefined): string {
  const best = result.best;
  const e = best.evaluation;
  const c = best.config;
  const lines: string[] = [];
  lines.push(`${graph.name} on ${mesh.name} (${mesh.devices.length} devices): ${result.iterations} of ${result.spaceSize} configurations priced in ${result.seconds.toFixed(1)} s (${result.stoppedBy}), ${result.stageSimulations} stage simulations`);
  lines.push(`best iteration time  ${formatSeconds(e.stepTime)}${result.feasible ? "" : "  (does not fit in memory)"}  ${(e.flopsPerDevice / 1e12).toFixed(1)} model TFLOP/s per device`);
  lines.push(`  ${best.name}: tensor ${c.tensor} × pipeline ${c.pipeline}${c.schedule === "interleaved" ? ` (interleaved, ${c.virtual} virtual stages)` : ""} × data ${c.data} = ${e.devicesUsed} devices; micro-batch ${c.microbatchSize} (${e.plan.microbatches} per step), ZeRO ${c.zero ?? 0}, recompute ${c.recompute ?? "none"}, ${e.plan.precision}`);
  for (const [, label, x] of named) {
    if (x) lines.push(`  vs ${label.padEnd(21)} ${formatSeconds(x.evaluation.stepTime).padStart(10)}  speed-up ${speedup(x.evaluation.stepTime, e.stepTime)}${x.feasible ? "" : "  (baseline over memory)"}  (${x.name})`);
  }
  const worst = e.memory.devices.reduce((a, b) => (b.total > a.total ? b : a));
  lines.push(`peak memory  ${formatBytes(worst.total)} of ${formatBytes(worst.capacity)} (device ${worst.device}): weights ${formatBytes(worst.weights)}, gradients ${formatBytes(worst.gradients)}, optimizer ${formatBytes(worst.optimizer)}, activations ${formatBytes(worst.activations)}, recompute ${formatBytes(worst.recompute)}, workspace ${formatBytes(worst.workspace)}`);
  lines.push(`pipeline bubble ${(e.timeline.bubble * 100).toFixed(1)} %`);
  if (wrote !== undefined) lines.push(`wrote ${wrote}`);
  return lines.join("\n") + "\n";
}

export const diffCommand: Command = {
  name: "diff",
  summary: "compare two strategies of a model op by op (configs, compute, communication, memory)",
  usage: "A.json B.json --model-file FILE.par [--model M] [--mesh NAME|FILE] [--json]",
  flags: [
    ...MODEL_LOADING_FLAGS,
    MESH_FLAG,
    { name: "model-file", kind: "string", value: "FILE", doc: "the .par file that declares the strategies' model" },
    { name: "optimizer", kind: "string", value: "NAME", doc: "optimizer for memory and update costs: sgd, momentum, adam (default sgd)" },
    JSON_FLAG,
  ],
  details: [
    "example (the first two make the strategies it compares):",
    "  par strategy baseline dp models/nmt.par --mesh p100x16 --out dp.json",
    "  par search models/nmt.par --mesh p100x16 --budget 2s --out searched.json",
    "  par diff dp.json searched.json --model-file models/nmt.par --mesh p100x16",
  ].join("\n"),
  run(ctx: CommandContext): number {
    if (ctx.args.positionals.length !== 2) throw new UsageError(`expected two strategy files A and B, got ${ctx.args.positionals.length}`);
    const modelFile = str(ctx.args, "model-file");
    if (modelFile === undefined) throw new UsageError("diff needs --model-file FILE.par (the file that declares the model)");
    const optimizer = optimizerFlag(ctx.args);
    const diagnostics = new Diagnostics();
    const pipeline = new CliPipeline(ctx);
    const loaded = loadGraph(ctx, modelFile, pipeline);
    if (!loaded) {
      ctx.report(diagnostics.items);
      return 1;
    }
    const { graph, checked } = loaded;
    const [fa, fb] = ctx.args.positionals;
    const sa = readStrategyFile(graph, resolve(ctx.io.cwd, fa), diagnostics, fa);
    const sb = readStrategyFile(graph, resolve(ctx.io.cwd, fb), diagnostics, fb);
    const mesh = sa && sb ? pickMesh(str(ctx.args, "mesh") ?? sa.mesh, checked, ctx, diagnostics) : undefined;
    if (!sa || !sb || !mesh || diagnostics.hasErrors() || !validateStrategy(graph, mesh, sa, diagnostics) || !validateStrategy(graph, mesh, sb, diagnostics)) {
      ctx.report(diagnostics.items);
      return 1;
    }
    if (sa.model !== sb.model) diagnostics.warning("PAR7006", `${fa} is for model \`${sa.model}\` and ${fb} for \`${sb.model}\`; both are read against \`${graph.name}\``);
    ctx.report(diagnostics.items);
    // Both strategies were validated above, so the simulate stage cannot fail here.
    const cmp = compareStrategies(graph, mesh, sa, sb, pipeline.ctx, optimizer);
    const A = { t: cmp.a.timeline };
    const B = { t: cmp.b.timeline };
    const rows = cmp.ops.map((r) => ({
      op: r.op,
      a: { degrees: r.a.degrees, devices: r.a.devices },
      b: { degrees: r.b.degrees, devices: r.b.devices },
      same: r.same,
      computeDeltaMs: r.computeDelta * 1e3,
      commDeltaMs: r.commDelta * 1e3,
      memoryDeltaBytes: r.memoryDelta,
    }));
    // Replicas, pipeline, ZeRO, recomputation and precision: the strategy-wide differences.
    const changes = cmp.changes;
    if (ctx.args.flags.json === true) {
      ctx.io.out(JSON.stringify({ model: graph.name, mesh: mesh.name, a: { file: fa, iterationTimeMs: A.t.iterationTime * 1e3 }, b: { file: fb, iterationTimeMs: B.t.iterationTime * 1e3 }, strategy: changes, ops: rows }, null, 2) + "\n");
      return 0;
    }
    const lines = [`${graph.name} on ${mesh.name}: A ${fa} ${formatSeconds(A.t.iterationTime)}, B ${fb} ${formatSeconds(B.t.iterationTime)} (B/A ${(B.t.iterationTime / A.t.iterationTime).toFixed(3)})`];
    if (changes.length > 0) {
      const cw = Math.max(...changes.map((c) => c.what.length));
      lines.push("strategy-wide (A → B):");
      for (const c of changes) {
        lines.push(`  ${c.what.padEnd(cw)}  ${c.a} → ${c.b}`);
        for (const d of c.detail ?? []) lines.push(`  ${"".padEnd(cw)}    ${d}`);
      }
    }
    lines.push("Δ = B − A; compute and communication summed over the op's tasks, memory over devices");
    const w = Math.max(2, ...rows.map((r) => r.op.length));
    for (const r of rows) {
      const op = graph.op(r.op);
      const cfg = (c: OpConfig) => `${fmtConfig(op, c)} @ ${formatDevices(c.devices)}`;
      const sign = (x: number, f: (v: number) => string) => (x === 0 ? "0" : `${x > 0 ? "+" : "−"}${f(Math.abs(x))}`);
      lines.push(
        `  ${r.op.padEnd(w)}  ${r.same ? "same".padEnd(44) : `${cfg(sa.ops[r.op])} → ${cfg(sb.ops[r.op])}`.padEnd(44)}  Δcompute ${sign(r.computeDeltaMs / 1e3, formatSeconds)}  Δcomm ${sign(r.commDeltaMs / 1e3, formatSeconds)}  Δmemory ${sign(r.memoryDeltaBytes, formatBytes)}`,
      );
    }
    ctx.io.out(lines.join("\n") + "\n");
    return 0;
  },
};
