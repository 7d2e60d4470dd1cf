// What `par compile`, `run`, `verify` and `profile` share: turning FILE (a .par model, an
// ONNX model, a TensorFlow.js model.json or a plan .json) plus the model-loading flags
// (--model/--set for .par, --input/--batch/--loss for imported models; src/cli/model-flags.ts)
// and --mesh/--strategy/--search/--budget/--optimizer/--seed into the calls of the pipeline
// (src/pipeline.ts: load → search, or the given strategy → compile) that make a Plan, the
// graph, mesh and strategy it came from (when known), and the context later stages (execute,
// verify, reference) go on with. An imported model's trained weights go into the plan, and
// the reference plan starts from the same weights (read back from `plan.weights`), so plan
// files verify too.

import { existsSync, closeSync, openSync, readSync } from "node:fs";
import { basename, resolve } from "node:path";
import { Diagnostics } from "../../core/diagnostics.js";
import type { Mesh } from "../../core/mesh.js";
import type { OptimizerConfig, Plan } from "../../plan/plan.js";
import { modelFormatOf, type ModelFormat } from "../../frontend/load-model.js";
import { looksLikeLlmConfig } from "../../frontend/llm/import.js";
import type { Graph } from "../../ir/graph.js";
import type { Strategy } from "../../ir/strategy.js";
import { compile, loadPlan, requireLoss, search } from "../../pipeline.js";
import { NO_DECLS, resolveMesh, resolveStrategy, type Decls } from "../pick.js";
import { str, UsageError, type FlagSpec } from "../args.js";
import { BUDGET_FLAG, budgetFlag } from "../budget-flag.js";
import { CliPipeline } from "../stages.js";
import { searchProgress } from "../search-progress.js";
import { checkPlanMemory, meshTarget, type MemoryTarget } from "../memory-check.js";

export { str };
import type { CommandContext } from "../command.js";
import { loadModelFromArgs, MODEL_LOADING_FLAGS } from "../model-flags.js";

export const OPTIMIZER_KINDS = ["sgd", "momentum", "adam"] as const;

/** Learning rates that train the zoo's small configurations stably; the plan records them. */
export function optimizerConfig(kind: string): OptimizerConfig {
  switch (kind) {
    case "sgd":
      return { kind: "sgd", learningRate: 0.01 };
    case "momentum":
      return { kind: "momentum", learningRate: 0.01, momentum: 0.9 };
    case "adam":
      return { kind: "adam", learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    default:
      throw new UsageError(`unknown optimizer ${kind}`, `one of ${OPTIMIZER_KINDS.join(", ")}`);
  }
}

export const COMPILE_FLAGS: FlagSpec[] = [
  ...MODEL_LOADING_FLAGS,
  { name: "mesh", kind: "string", value: "NAME|FILE", doc: "a mesh declared in FILE, a built-in mesh (see `par meshes`) or a .par file with one mesh (default: local)" },
  { name: "strategy", kind: "string", value: "S", doc: "a strategy declared in FILE, a strategy .json/.par file, or a baseline: dp, mp, expert, megatron (default: --search)" },
  { name: "search", kind: "bool", doc: "search for the strategy (the default when --strategy is not given)" },
  BUDGET_FLAG,
  { name: "optimizer", kind: "string", value: "NAME", doc: "sgd, momentum or adam (default sgd)" },
  { name: "seed", kind: "int", value: "N", doc: "seeds weights, data and the search (default 1)" },
];

function pickMesh(spec: string | undefined, checked: Decls, ctx: CommandContext, diagnostics: Diagnostics): Mesh | undefined {
  // A strategy declared `on MESH` (or a strategy file for a mesh) brings its mesh.
  const strategy = str(ctx.args, "strategy");
  return resolveMesh(spec, checked, ctx, diagnostics, { fallback: "local", preferDeclared: false, ...(strategy !== undefined ? { strategy } : {}) });
}

/** --strategy, or (without it) the pipeline's search; undefined after reporting errors. */
function pickStrategy(ctx: CommandContext, pipeline: CliPipeline, graph: Graph, mesh: Mesh, checked: Decls, file: string, seed: number): Strategy | undefined {
  const spec = str(ctx.args, "strategy");
  if (spec !== undefined && ctx.args.flags.search === true) throw new UsageError("give --strategy or --search, not both");
  if (spec === undefined) {
    const budget = budgetFlag(ctx.args);
    const optimizer = optimizerConfig(str(ctx.args, "optimizer") ?? "sgd").kind;
    const r = pipeline.stage((p) => search(graph, mesh, p, { budget, seed, optimizer, ...searchProgress(ctx.progress, budget) }));
    ctx.progress.end();
    // An infeasible best (PAR7001, printed) is not compiled.
    if (!r || !r.feasible) return undefined;
    return { ...r.best.strategy, name: r.best.strategy.name || "searched" };
  }
  const diagnostics = new Diagnostics();
  const strategy = resolveStrategy(spec, graph, mesh, checked, file, ctx, diagnostics);
  ctx.report(diagnostics.items);
  return diagnostics.hasErrors() ? undefined : strategy;
}

export interface Compiled {
  plan: Plan;
  /** Known when FILE is a model (or rebuilt from the plan, see graphFromPlan). */
  graph: Graph;
  mesh?: Mesh;
  strategy?: Strategy;
  /** The model file's format, or "plan" for a plan .json. */
  from: ModelFormat | "plan";
  /** The pipeline context the plan was made in; later stages go on in it. */
  pipeline: CliPipeline;
}

export interface CompileModelOptions {
  strategy?: Strategy;
  /** The mesh to compile for instead of --mesh's (the engine flags' local mesh: --nproc). */
  mesh?: Mesh;
  /**
   * Where the plan will run, for the memory check (PAR5030, src/cli/memory-check.ts):
   * default, the mesh's own devices (meshTarget); false: no check (a job exported to a
   * cluster is checked there). A plan FILE is checked only when this is given.
   */
  memory?: ((plan: Plan) => MemoryTarget) | false;
}

/**
 * Loads a model FILE (.par, .onnx or model.json, per the shared model-loading flags) and
 * compiles it per the flags; an imported model's weights are kept. Undefined after
 * reporting errors.
 */
export function compileModel(ctx: CommandContext, file: string, options: CompileModelOptions = {}): Compiled | undefined {
  const pipeline = new CliPipeline(ctx);
  const seed = typeof ctx.args.flags.seed === "number" ? ctx.args.flags.seed : 1;
  const optimizer = optimizerConfig(str(ctx.args, "optimizer") ?? "sgd");
  const loaded = loadModelFromArgs(ctx, file, pipeline);
  if (!loaded) return undefined;
  const graph = loaded.graph;
  // Before a search: a model that cannot be compiled fails at once.
  const trainable = pipeline.stage((p) => {
    requireLoss(graph, p);
    return true;
  });
  if (!trainable) return undefined;
  // An imported model declares no meshes or strategies: built-in meshes, baselines and files.
  const decls: Decls = loaded.program ?? NO_DECLS;
  const diagnostics = new Diagnostics();
  const mesh = options.mesh ?? pickMesh(str(ctx.args, "mesh"), decls, ctx, diagnostics);
  ctx.report(diagnostics.items);
  if (!mesh || diagnostics.hasErrors()) return undefined;
  const strategy = options.strategy ?? pickStrategy(ctx, pipeline, graph, mesh, decls, file, seed);
  if (!strategy) return undefined;
  ctx.progress.phase("compile: lowering to a plan");
  const plan = pipeline.stage((p) => compile(graph, mesh, strategy, p, { seed, optimizer, ...(loaded.weights ? { weights: loaded.weights } : {}) }));
  ctx.progress.end();
  if (!plan) return undefined;
  // A plan predicted not to fit is refused (PAR5030) unless --force.
  if (options.memory !== false && !checkPlanMemory(ctx, plan, options.memory ? options.memory(plan) : meshTarget(mesh))) return undefined;
  return { plan, graph, mesh, strategy, from: loaded.format, pipeline };
}

/** The former name of compileModel (it now reads every model format). */
export const compilePar = compileModel;

/** Flags that only apply when FILE is a model (compiled here), not a plan. */
const COMPILE_ONLY_FLAGS = [...MODEL_LOADING_FLAGS.map((f) => f.name), "mesh", "strategy", "search", "budget", "optimizer", "seed"];
/**
 * Whether a .json FILE is a TensorFlow.js model.json rather than a plan: its beginning names
 * a `modelTopology` (or the file is called model.json) and does not say `"format": "par-plan"`.
 */
export function isModelJson(full: string): boolean {
  let head = "";
  let fd: number | undefined;
  try {
    fd = openSync(full, "r");
    const buf = Buffer.alloc(64 * 1024);
    head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString("utf8");
  } catch {
    return basename(full).toLowerCase() === "model.json";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (/"format"\s*:\s*"par-plan"/.test(head)) return false;
  // An LLM config.json names its model_type (src/frontend/llm/import.ts looksLikeLlmConfig).
  return head.includes('"modelTopology"') || looksLikeLlmConfig(head) || basename(full).toLowerCase() === "model.json";
}

/**
 * FILE as a plan: a plan .json is read and validated (the pipeline's `loadPlan`); a model
 * (.par, .onnx, a TensorFlow.js model.json, or a file whose content says which) is
 * compiled per the flags.
 */
export function loadPlanOrPar(ctx: CommandContext, file: string, options: Pick<CompileModelOptions, "mesh" | "memory"> = {}): Compiled | undefined {
  const full = resolve(ctx.io.cwd, file);
  if (/\.json$/i.test(file) && !isModelJson(full)) {
    for (const f of COMPILE_ONLY_FLAGS) {
      if (f in ctx.args.flags) throw new UsageError(`--${f} applies to a model FILE (.par, .onnx, model.json), not to a plan`);
    }
    const pipeline = new CliPipeline(ctx);
    const loaded = pipeline.stage((p) => loadPlan(file, p));
    if (loaded && options.memory && !checkPlanMemory(ctx, loaded.plan, options.memory(loaded.plan))) return undefined;
    return loaded && { ...loaded, from: "plan", pipeline };
  }
  // A missing file goes to the loader, which reports PAR4001 (with a did-you-mean).
  if (existsSync(full) && modelFormatOf(full) === undefined) {
    throw new UsageError(`${file} is neither a model (.par, .onnx, model.json) nor a plan .json`);
  }
  return compileModel(ctx, file, options);
}
