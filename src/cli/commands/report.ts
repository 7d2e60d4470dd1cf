// `par report FILE|plan.json [--strategy S | --search] [--mesh M] [--trace measured.json] --out report.html`:
// writes one self-contained HTML page (src/report) about a model under a strategy on a mesh,
// or about a plan: the op graph coloured by configuration, the predicted timeline per
// device (and the measured one of a `par run --trace` file beside it), memory per device,
// the top communication edges and how the strategy differs from data parallelism.
//
// A model FILE is read like `par simulate` reads it (default strategy dp, default mesh the
// file's only one, else `local`); `--search` (or `--strategy searched`) searches first.
// A plan brings its graph, its per-op degrees and placement and its mesh's name: a built-in
// mesh is rebuilt, any other must be given with --mesh; a section the plan cannot fill says so.

import { resolve } from "node:path";
import { localMeshOf, builtinMesh } from "../../core/builtin-meshes.js";
import { Diagnostics } from "../../core/diagnostics.js";
import type { Mesh } from "../../core/mesh.js";
import { formatSeconds } from "../../core/units.js";
import { OPTIMIZERS, type Optimizer } from "../../cost/memory.js";
import type { Graph } from "../../ir/graph.js";
import type { Strategy } from "../../ir/strategy.js";
import { loadPlan, search } from "../../pipeline.js";
import type { Plan } from "../../plan/plan.js";
import { reportHtml } from "../../report/html.js";
import { checkMeasured, readMeasuredTrace, type MeasuredTimeline } from "../../report/measured-trace.js";
import { strategyFromPlan } from "../../report/plan-strategy.js";
import { buildReport, type ReportData, type ReportInput } from "../../report/report-data.js";
import { str, UsageError } from "../args.js";
import { BUDGET_FLAG, budgetFlag } from "../budget-flag.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { loadModelFromArgs, MODEL_LOADING_FLAGS } from "../model-flags.js";
import { outputFlag, writeOutput } from "../output-path.js";
import { NO_DECLS, resolveMesh, resolveStrategy, type Decls } from "../pick.js";
import { searchProgress } from "../search-progress.js";
import { CliPipeline } from "../stages.js";
import { isModelJson } from "./compile-source.js";

/** Flags that only apply to a model FILE, not to a plan (which fixes its strategy and optimizer). */
const MODEL_ONLY = [...MODEL_LOADING_FLAGS.map((f) => f.name), "strategy", "search", "budget", "seed", "optimizer"];

function optimizerFlag(ctx: CommandContext): Optimizer {
  const o = (str(ctx.args, "optimizer") ?? "sgd") as Optimizer;
  if (!OPTIMIZERS.includes(o)) throw new UsageError(`unknown optimizer ${o}`, `one of ${OPTIMIZERS.join(", ")}`);
  return o;
}

/** The model, mesh and strategy of a model FILE, per the flags; undefined after reporting errors. */
function fromModel(ctx: CommandContext, file: string, pipeline: CliPipeline): ReportInput | undefined {
  const optimizer = optimizerFlag(ctx);
  const spec = str(ctx.args, "strategy");
  const searching = ctx.args.flags.search === true || spec === "searched";
  if (ctx.args.flags.search === true && spec !== undefined) throw new UsageError("give --strategy or --search, not both");
  const loaded = loadModelFromArgs(ctx, file, pipeline);
  if (!loaded) return undefined;
  const graph = loaded.graph;
  const decls: Decls = loaded.program ?? NO_DECLS;
  const diagnostics = new Diagnostics();
  const mesh = resolveMesh(str(ctx.args, "mesh"), decls, ctx, diagnostics, { fallback: "local", preferDeclared: true, ...(spec !== undefined && !searching ? { strategy: spec } : {}) });
  ctx.report(diagnostics.items);
  if (!mesh || diagnostics.hasErrors()) return undefined;
  let strategy: Strategy | undefined;
  if (searching) {
    const budget = budgetFlag(ctx.args);
    const seed = typeof ctx.args.flags.seed === "number" ? ctx.args.flags.seed : 1;
    const r = pipeline.stage((p) => search(graph, mesh, p, { budget, seed, optimizer, ...searchProgress(ctx.progress, budget) }));
    ctx.progress.end();
    if (!r) return undefined;
    strategy = { ...r.best.strategy, name: "searched" };
  } else {
    const sink = new Diagnostics();
    strategy = resolveStrategy(spec ?? "dp", graph, mesh, decls, file, ctx, sink);
    ctx.report(sink.items);
    if (!strategy || sink.hasErrors()) return undefined;
  }
  return { graph, source: { file, kind: "model" }, mesh, strategy, searched: searching || strategy.name === "searched", optimizer };
}

/** The mesh of a plan: --mesh (with the plan's device count), else the built-in mesh it names. */
function planMesh(ctx: CommandContext, plan: Plan, diagnostics: Diagnostics): { mesh?: Mesh; missing?: string } | undefined {
  const devices = plan.programs.length;
  const spec = str(ctx.args, "mesh");
  if (spec !== undefined) {
    const mesh = resolveMesh(spec, NO_DECLS, ctx, diagnostics, { fallback: "local", preferDeclared: false });
    if (!mesh) return undefined;
    if (mesh.devices.length !== devices) {
      diagnostics.error("PAR4054", `mesh ${mesh.name} has ${mesh.devices.length} devices; the plan runs on ${devices}`, { hint: `give the mesh the plan was compiled for (${plan.mesh})` });
      return undefined;
    }
    return { mesh };
  }
  // `local` has one device per core of the machine that compiled: rebuild it at the plan's size.
  const named = plan.mesh === "local" ? localMeshOf(devices) : builtinMesh(plan.mesh);
  if (!named) return { missing: `the plan was compiled for mesh ${plan.mesh}, which is not built in; give it with --mesh FILE.par` };
  if (named.devices.length !== devices) return { missing: `the built-in mesh ${plan.mesh} has ${named.devices.length} devices and the plan ${devices}; give the plan's mesh with --mesh FILE.par` };
  return { mesh: named };
}

/** The graph, mesh and per-op configs a plan file carries; undefined after reporting errors. */
function fromPlan(ctx: CommandContext, file: string, pipeline: CliPipeline): ReportInput | undefined {
  for (const f of MODEL_ONLY) {
    if (f in ctx.args.flags) throw new UsageError(`--${f} applies to a model FILE (.par, .onnx, model.json), not to a plan: a plan fixes its strategy`);
  }
  const loaded = pipeline.stage((p) => loadPlan(file, p));
  if (!loaded) return undefined;
  const { plan, graph } = loaded;
  const diagnostics = new Diagnostics();
  const m = planMesh(ctx, plan, diagnostics);
  ctx.report(diagnostics.items);
  if (!m || diagnostics.hasErrors()) return undefined;
  const recovered = strategyFromPlan(plan);
  const input: ReportInput = {
    graph,
    source: { file, kind: "plan" },
    searched: plan.strategy === "searched",
    optimizer: plan.optimizer.kind,
    degrees: new Map(plan.ops.map((o) => [o.name, o.degrees])),
  };
  if (m.mesh) input.mesh = m.mesh;
  if (m.missing) input.meshMissing = m.missing;
  if ("strategy" in recovered) input.strategy = recovered.strategy;
  else input.strategyMissing = `the plan's placement cannot be recovered: ${recovered.missing}`;
  return input;
}

function opIndexOf(graph: Graph): Map<string, number> {
  return new Map(graph.topoOrder().map((op, i) => [op.name, i]));
}

function sectionsMissing(d: ReportData): string[] {
  const out: string[] = [];
  if (d.timeline.missing) out.push("timeline");
  if (d.memory.missing) out.push("memory");
  if (d.comm.missing) out.push("communication");
  if (d.comparison.missing) out.push("comparison");
  return out;
}

export const reportCommand: Command = {
  name: "report",
  summary: "write a self-contained HTML report of a plan: op graph by configuration, timelines, memory, communication",
  usage: "FILE|plan.json --out REPORT.html [--strategy S | --search] [--mesh NAME|FILE] [--trace MEASURED.json] [--json] [model options]",
  flags: [
    ...MODEL_LOADING_FLAGS,
    { name: "mesh", kind: "string", value: "NAME|FILE", doc: "a mesh declared in FILE, a built-in mesh or a .par file with one mesh (default: the strategy's, the file's only mesh, else local; for a plan, the built-in mesh it names)" },
    { name: "strategy", kind: "string", value: "S", doc: "a strategy declared in FILE, a strategy .json/.par file, a baseline (dp, mp, expert, megatron; default dp), or `searched` (as --search)" },
    { name: "search", kind: "bool", doc: "search for the strategy first" },
    BUDGET_FLAG,
    { name: "seed", kind: "int", value: "N", doc: "the search's random seed (default 1)" },
    { name: "optimizer", kind: "string", value: "NAME", doc: "optimizer for memory and update costs: sgd, momentum, adam (default sgd; a plan's own)" },
    { name: "trace", kind: "string", value: "MEASURED.json", doc: "a `par run --trace` file: its measured timeline is drawn beside the predicted one" },
    { name: "out", kind: "string", value: "REPORT.html", doc: "the HTML file to write (atomically); required" },
    JSON_FLAG,
  ],
  details: [
    "examples:",
    "  par report models/mlp.par --out mlp.html",
    "  par report models/mlp.par --mesh p100x16 --search --budget 300 --out mlp-searched.html",
    "  par compile models/mlp.par --set hidden=64 --strategy dp --out mlp.plan.json && par report mlp.plan.json --out plan.html",
    "The page is described in docs/report.md.",
  ].join("\n"),
  run(ctx: CommandContext): number {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one FILE, got ${ctx.args.positionals.length}`);
    const [file] = ctx.args.positionals;
    const out = outputFlag(ctx, "out");
    if (out === undefined) throw new UsageError("report needs --out REPORT.html (the page to write)");
    const traceSpec = str(ctx.args, "trace");
    if (traceSpec !== undefined && resolve(ctx.io.cwd, traceSpec) === out.full) throw new UsageError("--trace is read and --out written: give them different files");
    const pipeline = new CliPipeline(ctx);
    const isPlan = /\.json$/i.test(file) && !isModelJson(resolve(ctx.io.cwd, file));
    const input = isPlan ? fromPlan(ctx, file, pipeline) : fromModel(ctx, file, pipeline);
    if (!input) return 1;
    if (traceSpec !== undefined) {
      const measured: MeasuredTimeline = readMeasuredTrace(resolve(ctx.io.cwd, traceSpec), traceSpec, opIndexOf(input.graph));
      const diagnostics = new Diagnostics();
      const ok = checkMeasured(
        measured,
        { model: input.graph.name, ...(input.strategy ? { strategy: input.strategy.name } : {}), ...(input.mesh ? { mesh: input.mesh.name, devices: input.mesh.devices.length } : {}) },
        diagnostics,
      );
      ctx.report(diagnostics.items);
      if (!ok) return 1;
      input.measured = measured;
    }
    ctx.progress.phase("report: simulating and laying out the graph");
    const data = pipeline.stage((p) => buildReport(input, p));
    ctx.progress.end();
    if (!data) return 1;
    writeOutput(out, reportHtml(data));
    const missing = sectionsMissing(data);
    if (ctx.args.flags.json === true) {
      ctx.io.out(
        JSON.stringify(
          {
            out: out.shown,
            model: data.model,
            strategy: data.strategy ?? null,
            mesh: data.mesh?.name ?? null,
            devices: data.mesh?.devices ?? null,
            ops: data.graph.ops.length,
            configs: data.graph.configs.length,
            iterationTimeMs: data.iterationTime === undefined ? null : data.iterationTime * 1e3,
            measured: data.timeline.measured ? { step: data.timeline.measured.step, stepTimeMs: data.timeline.measured.stepTime * 1e3 } : null,
            speedupOverDp: data.comparison.result?.speedup ?? null,
            missing,
          },
          null,
          2,
        ) + "\n",
      );
      return 0;
    }
    const lines = [`wrote ${out.shown}: ${data.title}, ${data.graph.ops.length} ops in ${data.graph.configs.length} configuration${data.graph.configs.length === 1 ? "" : "s"}`];
    if (data.iterationTime !== undefined) lines.push(`predicted iteration ${formatSeconds(data.iterationTime)}${data.comparison.result ? `, ${data.comparison.result.speedup.toFixed(2)}× data parallelism's speed` : ""}`);
    if (data.timeline.measured) lines.push(`measured step ${data.timeline.measured.step}: ${formatSeconds(data.timeline.measured.stepTime)}`);
    if (missing.length > 0) lines.push(`not shown (the page says why): ${missing.join(", ")}`);
    ctx.io.out(lines.join("\n") + "\n");
    return 0;
  },
};
