// `par simulate FILE [--model M] [--mesh NAME|FILE] [--strategy NAME|FILE|dp|mp|expert|megatron]
//  [--optimizer sgd|momentum|adam] [--costs FILE] [--json] [--trace OUT.json] [--set k=v]`
//  (FILE may be an imported model, .onnx or model.json, with --input/--batch/--loss):
// simulates one training iteration of a model under a strategy on a mesh and prints the
// iteration time, the compute/communication split, bytes per link class, peak memory per
// device (and devices over capacity) and the ten most expensive ops. A measured table with
// interference (`par profile --in-run`) adds the prediction under interference.

import { resolve } from "node:path";
import { Diagnostics } from "../../core/diagnostics.js";
import type { Mesh } from "../../core/mesh.js";
import { formatBytes, formatSeconds } from "../../core/units.js";
import { loadMeasuredCosts } from "../../cost/compute.js";
import { OPTIMIZERS, type Optimizer } from "../../cost/memory.js";
import type { Graph } from "../../ir/graph.js";
import { usesScaleFeatures, type Strategy } from "../../ir/strategy.js";
import { simulate, simulateAtScale } from "../../pipeline.js";
import type { ScaleEvaluation } from "../../search/evaluate-scale.js";
import type { Timeline } from "../../sim/simulate.js";
import { toChromeTrace } from "../../sim/trace.js";
import { resolveMesh, resolveStrategy, type Decls } from "../pick.js";
import { UsageError } from "../args.js";
import { outputFlag, writeOutput } from "../output-path.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { IMPORT_FLAGS, loadModelFromArgs, MODEL_FLAG, SET_FLAG } from "../model-flags.js";
import { CliPipeline } from "../stages.js";

interface OpCost {
  op: string;
  kind: string;
  /** Summed durations of the op's compute tasks (device-seconds). */
  computeSeconds: number;
  /** Summed durations of its transfers, partial-sum moves and weight all-reduces. */
  commSeconds: number;
}

function topOps(graph: Graph, t: Timeline, n: number): OpCost[] {
  const by = new Map<string, OpCost>();
  for (const task of t.tasks) {
    let c = by.get(task.op);
    if (!c) by.set(task.op, (c = { op: task.op, kind: graph.op(task.op).op, computeSeconds: 0, commSeconds: 0 }));
    if (task.device >= 0) c.computeSeconds += task.end - task.start;
    else c.commSeconds += task.end - task.start;
  }
  return [...by.values()].sort((a, b) => b.computeSeconds + b.commSeconds - (a.computeSeconds + a.commSeconds) || (a.op < b.op ? -1 : 1)).slice(0, n);
}

function pickMesh(spec: string | undefined, checked: Decls, strategy: string, ctx: CommandContext, diagnostics: Diagnostics): Mesh | undefined {
  return resolveMesh(spec, checked, ctx, diagnostics, { fallback: "local", preferDeclared: true, strategy });
}

function pickStrategy(spec: string, graph: Graph, mesh: Mesh, checked: Decls, file: string, ctx: CommandContext, diagnostics: Diagnostics): Strategy | undefined {
  return resolveStrategy(spec, graph, mesh, checked, file, ctx, diagnostics);
}

export const simulateCommand: Command = {
  name: "simulate",
  summary: "simulate one training iteration of a model under a strategy on a mesh",
  usage: "FILE|MODEL.onnx|model.json [--model M] [--mesh NAME|FILE] [--strategy NAME|FILE|dp|mp|expert|megatron] [--json] [--trace OUT.json] [--set NAME=VALUE ...]",
  flags: [
    MODEL_FLAG,
    { name: "mesh", kind: "string", value: "NAME|FILE", doc: "a mesh declared in FILE, a built-in mesh (see `par meshes`) or a .par file with one mesh (default: the file's only mesh, else `local`)" },
    { name: "strategy", kind: "string", value: "NAME|FILE", doc: "a strategy declared in FILE, a strategy .json/.par file, or a baseline: dp, mp, expert, megatron (default dp)" },
    { name: "optimizer", kind: "string", value: "NAME", doc: "optimizer for memory and update costs: sgd, momentum, adam (default sgd)" },
    { name: "costs", kind: "string", value: "FILE", repeatable: true, doc: "a measured-costs table (par-measured-costs JSON) overriding the roofline" },
    { name: "trace", kind: "string", value: "OUT.json", doc: "write a Chrome trace (chrome://tracing, ui.perfetto.dev)" },
    SET_FLAG,
    ...IMPORT_FLAGS,
    JSON_FLAG,
  ],
  details: "examples:\n  par simulate models/mlp.par --mesh p100x16 --strategy dp\n  par simulate models/resnet50.par --mesh p100x16 --strategy expert --trace resnet.json --json",
  run(ctx: CommandContext): number {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one FILE, got ${ctx.args.positionals.length}`);
    const [file] = ctx.args.positionals;
    const optimizer = (typeof ctx.args.flags.optimizer === "string" ? ctx.args.flags.optimizer : "sgd") as Optimizer;
    if (!OPTIMIZERS.includes(optimizer)) throw new UsageError(`unknown optimizer ${optimizer}`, `one of ${OPTIMIZERS.join(", ")}`);
    const trace = outputFlag(ctx, "trace");
    const diagnostics = new Diagnostics();
    const pipeline = new CliPipeline(ctx);
    const loaded = loadModelFromArgs(ctx, file, pipeline);
    if (!loaded) return 1;
    // An imported model declares no meshes or strategies: built-in meshes, baselines and files.
    const checked: Decls = loaded.program ?? { meshes: new Map(), strategies: [] };
    const graph = loaded.graph;
    const strategySpec = typeof ctx.args.flags.strategy === "string" ? ctx.args.flags.strategy : "dp";
    // A strategy declared `on MESH` (or a strategy file for a mesh) brings its mesh.
    const mesh = pickMesh(typeof ctx.args.flags.mesh === "string" ? ctx.args.flags.mesh : undefined, checked, strategySpec, ctx, diagnostics);
    const strategy = mesh && pickStrategy(strategySpec, graph, mesh, checked, file, ctx, diagnostics);
    ctx.report(diagnostics.items);
    if (!mesh || !strategy || diagnostics.hasErrors()) return 1;
    const measured = ((ctx.args.flags.costs as string[] | undefined) ?? []).map((p) => loadMeasuredCosts(resolve(ctx.io.cwd, p), p));
    if (usesScaleFeatures(strategy)) {
      // Replicas, a pipeline, ZeRO, recomputation or 16-bit precision: the hierarchical simulator.
      if (trace) throw new UsageError("--trace is not available for strategies with replicas, a pipeline, ZeRO, recomputation or 16-bit precision", "simulate without --trace");
      const scaled = pipeline.stage((p) => simulateAtScale(graph, mesh, strategy, p, { optimizer, measured }));
      if (!scaled) return 1;
      ctx.io.out(ctx.args.flags.json === true ? JSON.stringify(scaleJson(graph, mesh, strategy, scaled), null, 2) + "\n" : scaleText(graph, mesh, strategy, scaled));
      return 0;
    }
    const simulated = pipeline.stage((p) => simulate(graph, mesh, strategy, p, { optimizer, measured }));
    if (!simulated) return 1;
    const { timeline: t, memory, interference } = simulated;
    const top = topOps(graph, t, 10);
    if (trace) writeOutput(trace, JSON.stringify(toChromeTrace(t, `${graph.name} / ${strategy.name} on ${mesh.name}`)) + "\n");
    if (ctx.args.flags.json === true) {
      const out = {
        model: graph.name,
        parameters: graph.parameterCount(),
        mesh: mesh.name,
        strategy: strategy.name,
        devices: mesh.devices.length,
        iterationTimeMs: t.iterationTime * 1e3,
        ...(interference ? { interference: { medianMs: interference.median * 1e3, p10Ms: interference.p10 * 1e3, p90Ms: interference.p90 * 1e3, draws: interference.draws } } : {}),
        computeMs: t.computeTime * 1e3,
        commMs: t.commTime * 1e3,
        bytesTransferred: t.bytesByLinkClass,
        peakMemoryBytes: memory.peakBytes,
        overCapacity: memory.overCapacity,
        topOps: top.map((o) => ({ op: o.op, kind: o.kind, computeMs: o.computeSeconds * 1e3, commMs: o.commSeconds * 1e3 })),
        tasks: t.tasks.length,
      };
      ctx.io.out(JSON.stringify(out, null, 2) + "\n");
      return 0;
    }
    const lines: string[] = [];
    lines.push(`${graph.name} / ${strategy.name} on ${mesh.name} (${mesh.devices.length} devices, ${t.tasks.length} tasks)`);
    lines.push(`iteration time  ${formatSeconds(t.iterationTime)}`);
    if (interference) {
      lines.push(`  under measured interference: median ${formatSeconds(interference.median)} (p10 ${formatSeconds(interference.p10)}, p90 ${formatSeconds(interference.p90)}; ${interference.draws} draws)`);
    }
    lines.push(`compute         ${formatSeconds(t.computeTime)} summed over devices (busiest device ${formatSeconds(Math.max(...t.deviceBusy))})`);
    lines.push(`communication   ${formatSeconds(t.commTime)} summed over links`);
    const classes = Object.keys(t.bytesByLinkClass).sort();
    lines.push(`bytes moved     ${classes.length ? classes.map((c) => `${c} ${formatBytes(t.bytesByLinkClass[c])}`).join(", ") : "none"}`);
    lines.push("peak memory per device:");
    for (const d of memory.devices) {
      lines.push(`  device ${String(d.device).padStart(3)}  ${formatBytes(d.total).padStart(10)} of ${formatBytes(d.capacity)}${d.total > d.capacity ? "  OVER CAPACITY" : ""}`);
    }
    if (memory.overCapacity.length) lines.push(`${memory.overCapacity.length} device(s) over capacity: ${memory.overCapacity.map((o) => o.device).join(", ")}`);
    lines.push("most expensive ops (compute + communication, summed over tasks):");
    for (const o of top) lines.push(`  ${o.op.padEnd(24)} ${o.kind.padEnd(22)} compute ${formatSeconds(o.computeSeconds).padStart(10)}  comm ${formatSeconds(o.commSeconds).padStart(10)}`);
    ctx.io.out(lines.join("\n") + "\n");
    return 0;
  },
};

// ------------------------------------------------------------------ strategies at scale

function scaleJson(graph: Graph, mesh: Mesh, strategy: Strategy, e: ScaleEvaluation) {
  const t = e.timeline;
  return {
    model: graph.name,
    mesh: mesh.name,
    strategy: strategy.name,
    devices: mesh.devices.length,
    devicesUsed: e.devicesUsed,
    iterationTimeMs: e.stepTime * 1e3,
    modelFlopsPerDevice: e.flopsPerDevice,
    pipeline: { groups: e.plan.groups, virtualStages: e.plan.virtual, microbatches: e.plan.microbatches, schedule: e.plan.schedule, bubble: t.bubble },
    replicas: e.plan.replicas.count,
    zero: e.plan.zero,
    precision: e.plan.precision,
    stages: t.stages.map((s) => ({
      devices: s.devices.length,
      forwardMs: s.timing.forward * 1e3,
      backwardMs: s.timing.backward * 1e3,
      recomputeMs: s.timing.recompute * 1e3,
      gradSyncMs: s.weights.buckets.reduce((n, b) => n + b.seconds, 0) * 1e3,
      updateMs: s.weights.update * 1e3,
    })),
    stageSimulations: t.stageSimulations,
    peakMemoryBytes: e.memory.peak,
    memory: e.memory.devices.map((d) => ({ device: d.device, weights: d.weights, gradients: d.gradients, optimizer: d.optimizer, activations: d.activations, recompute: d.recompute, workspace: d.workspace, total: d.total, inFlight: d.inFlight })),
    overCapacity: e.memory.overCapacity.map((d) => ({ device: d.device, bytes: d.total, capacity: d.capacity })),
  };
}

function scaleText(graph: Graph, mesh: Mesh, strategy: Strategy, e: ScaleEvaluation): string {
  const t = e.timeline;
  const p = e.plan;
  const lines: string[] = [];
  lines.push(`${graph.name} / ${strategy.name} on ${mesh.name} (${e.devicesUsed} of ${mesh.devices.length} devices; hierarchical simulation, ${t.stageSimulations} stage simulation(s))`);
  lines.push(`iteration time  ${formatSeconds(e.stepTime)}  (${(e.flopsPerDevice / 1e12).toFixed(1)} model TFLOP/s per device)`);
  lines.push(`layout          ${p.replicas.count} replica(s) × ${p.groups} pipeline group(s)${p.virtual > 1 ? ` × ${p.virtual} virtual stages` : ""}; ${p.microbatches} micro-batch(es), ${p.schedule}; zero ${p.zero}; ${p.precision}`);
  lines.push(`pipeline bubble ${(t.bubble * 100).toFixed(1)} %`);
  lines.push("stages (one micro-batch; identical stages simulated once):");
  for (const s of t.stages.slice(0, 8)) {
    const sync = s.weights.buckets.reduce((n, b) => n + b.seconds, 0);
    lines.push(`  stage ${String(s.index).padStart(3)}  ${String(s.devices.length).padStart(3)} device(s)  F ${formatSeconds(s.timing.forward).padStart(10)}  B ${formatSeconds(s.timing.backward).padStart(10)}  grad sync ${formatSeconds(sync).padStart(10)}  update ${formatSeconds(s.weights.update).padStart(10)}`);
  }
  if (t.stages.length > 8) lines.push(`  ... ${t.stages.length - 8} more stage(s)`);
  const worst = e.memory.devices.reduce((a, b) => (b.total > a.total ? b : a));
  lines.push(`peak memory     ${formatBytes(worst.total)} of ${formatBytes(worst.capacity)} on device ${worst.device}: weights ${formatBytes(worst.weights)}, gradients ${formatBytes(worst.gradients)}, optimizer ${formatBytes(worst.optimizer)}, activations ${formatBytes(worst.activations)} (${worst.inFlight} micro-batch(es) in flight), recompute ${formatBytes(worst.recompute)}, workspace ${formatBytes(worst.workspace)}`);
  if (e.memory.overCapacity.length) lines.push(`${e.memory.overCapacity.length} device(s) over capacity (replica 0): ${e.memory.overCapacity.slice(0, 16).map((o) => o.device).join(", ")}${e.memory.overCapacity.length > 16 ? ", ..." : ""}`);
  return lines.join("\n") + "\n";
}
