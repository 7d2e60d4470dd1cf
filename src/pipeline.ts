// The whole road in one place, as docs/architecture.md draws it:
//
//   load (parse + check, or import; or a plan file) ─▶ Graph ─▶ search ─▶ Strategy
//     ─▶ compile (validate + lower) ─▶ Plan ─▶ execute (one worker per local device)
//     ─▶ verify (against the single-device reference)
//   beside the road: simulate (Graph × Strategy → Timeline), profile (Plan → measured costs)
//
// This file is the only place that composes the stages: every `par` command and the
// library API (src/index.ts) call the functions below rather than the modules behind them.
// Each stage is a named function from one type to the next; `PipelineContext` carries
// diagnostics and stage timings, and no stage prints. A stage that fails adds its errors to
// ctx.diagnostics and throws a ParError carrying them; warnings stay in ctx.diagnostics.

import { resolve } from "node:path";
import { Diagnostics, ParError, type Diagnostic } from "./core/diagnostics.js";
import type { Mesh } from "./core/mesh.js";
import { CostModel, type MeasuredCosts } from "./cost/compute.js";
import { peakMemory, type MemoryReport, type Optimizer } from "./cost/memory.js";
import { lower } from "./codegen/lower.js";
import { graphFromPlan } from "./codegen/plan-graph.js";
import { referencePlan } from "./codegen/reference.js";
import { loadModel, type LoadedModel, type LoadModelOptions } from "./frontend/load-model.js";
import type { Graph } from "./ir/graph.js";
import type { Strategy } from "./ir/strategy.js";
import { validateStrategy } from "./ir/strategy-validate.js";
import { readPlan } from "./plan/io.js";
import type { OptimizerConfig, Plan } from "./plan/plan.js";
import { initBackend, type BackendName, type BackendRequest } from "./runtime/backend.js";
import { verifyPlan, type VerifyResult } from "./runtime/exec/verify.js";
import { profilePlanUnderLoad, type PlanProfile } from "./runtime/profile/load.js";
import { profilePlanInRun } from "./runtime/profile/run.js";
import { runPlan, type WorkerRunOptions, type WorkerRunResult } from "./runtime/workers/run-workers.js";
import { DEFAULT_BUDGET, type Budget } from "./search/budget.js";
import type { SearchProgress } from "./search/mcmc.js";
import { searchStrategy, type SearchPhase, type SearchResult } from "./search/search.js";
import { simulateWithContention } from "./sim/contention.js";
import { predictUnderInterference, type InterferencePrediction } from "./sim/interference.js";
import type { Timeline } from "./sim/simulate.js";

export type Stage = "load" | "search" | "simulate" | "lower" | "execute" | "verify" | "profile";

export interface PipelineContext {
  diagnostics: Diagnostics;
  /** Source texts by file, for diagnostics with excerpts. */
  sources: Map<string, string>;
  /** Relative paths resolve against this (default: the process's working directory). */
  cwd?: string;
  /** Milliseconds spent in each stage. */
  timings: Partial<Record<Stage, number>>;
  /** Called when a stage starts (for progress lines); must not throw. */
  onStage?: (stage: Stage) => void;
}

/** A fresh context: an empty diagnostics sink, no sources read yet, no timings. */
export function createContext(options: { cwd?: string; onStage?: (stage: Stage) => void } = {}): PipelineContext {
  return { diagnostics: new Diagnostics(), sources: new Map(), timings: {}, ...options };
}

function timed<T>(ctx: PipelineContext, stage: Stage, fn: () => T): T {
  ctx.onStage?.(stage);
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    ctx.timings[stage] = (ctx.timings[stage] ?? 0) + performance.now() - t0;
  }
}

async function timedAsync<T>(ctx: PipelineContext, stage: Stage, fn: () => Promise<T>): Promise<T> {
  ctx.onStage?.(stage);
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    ctx.timings[stage] = (ctx.timings[stage] ?? 0) + performance.now() - t0;
  }
}

/** The errors a stage added to the context since it held `since` diagnostics. */
function errorsSince(ctx: PipelineContext, since: number): Diagnostic[] {
  return ctx.diagnostics.items.slice(since).filter((d) => d.severity === "error");
}

/** Adds `errors` to the context (so it holds every diagnostic of the run) and throws them. */
function fail(ctx: PipelineContext, errors: readonly Diagnostic[]): never {
  for (const d of errors) if (!ctx.diagnostics.items.includes(d)) ctx.diagnostics.add(d);
  throw new ParError([...errors]);
}

const LOSS_HINT = "end the model with a loss, e.g. `loss = softmax_cross_entropy(logits, labels)`; an imported model takes --loss";

/**
 * A plan trains the model: without a loss it would "train" on a constant 0 (PAR5021, thrown).
 * `compile` checks it; commands that search before compiling call it first, to fail at once.
 */
export function requireLoss(graph: Graph, ctx: PipelineContext): void {
  if (graph.lossOps().length > 0) return;
  const sink = new Diagnostics();
  sink.error("PAR5021", `model \`${graph.name}\` has no loss: a plan trains the model, and there is nothing to train it on`, {
    expected: "a loss op (softmax_cross_entropy, mse, ...) on the model's output",
    hint: LOSS_HINT,
  });
  fail(ctx, sink.items);
}

/** Simulating or searching a model without a loss is allowed (it prices the same iteration): warn once. */
function warnNoLoss(graph: Graph, ctx: PipelineContext): void {
  if (graph.lossOps().length > 0 || ctx.diagnostics.items.some((d) => d.code === "PAR5022")) return;
  ctx.diagnostics.warning("PAR5022", `model \`${graph.name}\` has no loss: the iteration is priced with every op's backward and update, as if its outputs fed a loss; compiling, running and verifying need one`, {
    hint: LOSS_HINT,
  });
}

/** Validates `strategy` for (graph, mesh); its coded errors are thrown. */
function checkStrategy(graph: Graph, mesh: Mesh, strategy: Strategy, ctx: PipelineContext): void {
  const since = ctx.diagnostics.items.length;
  if (!validateStrategy(graph, mesh, strategy, ctx.diagnostics)) fail(ctx, errorsSince(ctx, since));
}

// ------------------------------------------------------------------ load

/** load: a .par file (parse + check), an ONNX model or a Keras model.json → Graph (+ weights). */
export function load(path: string, ctx: PipelineContext, options: LoadModelOptions = {}): LoadedModel {
  const since = ctx.diagnostics.items.length;
  const model = timed(ctx, "load", () => loadModel(path, { sources: ctx.sources, diagnostics: ctx.diagnostics, cwd: ctx.cwd }, options));
  const errors = errorsSince(ctx, since);
  if (!model || errors.length) fail(ctx, errors);
  return model;
}

/** load: a plan .json, validated, and the model graph rebuilt from it (for its reference). */
export function loadPlan(path: string, ctx: PipelineContext): { plan: Plan; graph: Graph } {
  return timed(ctx, "load", () => {
    const full = resolve(ctx.cwd ?? process.cwd(), path);
    const since = ctx.diagnostics.items.length;
    const plan = readPlan(full, ctx.diagnostics, path);
    if (!plan) fail(ctx, errorsSince(ctx, since));
    try {
      return { plan, graph: graphFromPlan(plan) };
    } catch (e) {
      if (e instanceof ParError) fail(ctx, e.diagnostics);
      throw e;
    }
  });
}

// ------------------------------------------------------------------ search

export interface SearchStageOptions {
  /** Default DEFAULT_BUDGET (src/search/budget.ts). */
  budget?: Budget;
  /** Default 1. */
  seed?: number;
  /** Prices optimizer state and update time (default sgd). */
  optimizer?: Optimizer;
  /** Called every hundred iterations (for a live progress line). */
  onProgress?: (p: SearchProgress) => void;
  /** Called as the search moves between its phases (preparing, seeds, searching, baselines). */
  onPhase?: (p: SearchPhase) => void;
}

/**
 * search: Graph × Mesh → the best strategy found, with the baselines it beat. A result that
 * fits no device's memory is still returned (`feasible: false`, a PAR7001 error in ctx).
 */
export function search(graph: Graph, mesh: Mesh, ctx: PipelineContext, options: SearchStageOptions = {}): SearchResult {
  warnNoLoss(graph, ctx);
  const result = timed(ctx, "search", () =>
    searchStrategy(graph, mesh, {
      budget: options.budget ?? DEFAULT_BUDGET,
      seed: options.seed ?? 1,
      ...(options.optimizer ? { optimizer: options.optimizer } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.onPhase ? { onPhase: options.onPhase } : {}),
    }),
  );
  ctx.diagnostics.addAll(result.diagnostics);
  return result;
}

// ------------------------------------------------------------------ simulate

export interface SimulateStageOptions {
  /** Default sgd. */
  optimizer?: Optimizer;
  /** Measured-cost tables (`par profile`) overriding the roofline. */
  measured?: readonly MeasuredCosts[];
}

export interface Simulation {
  /** One training iteration, each kernel charged for the contention it meets. */
  timeline: Timeline;
  memory: MemoryReport;
  costs: CostModel;
  /** Present when a measured table carries interference (`par profile --in-run`). */
  interference?: InterferencePrediction;
}

/** simulate: (Graph, Mesh, Strategy) → the simulated iteration; the strategy is validated first. */
export function simulate(graph: Graph, mesh: Mesh, strategy: Strategy, ctx: PipelineContext, options: SimulateStageOptions = {}): Simulation {
  checkStrategy(graph, mesh, strategy, ctx);
  warnNoLoss(graph, ctx);
  return timed(ctx, "simulate", () => {
    const optimizer = options.optimizer ?? "sgd";
    const costs = new CostModel(graph, mesh, { optimizer, measured: [...(options.measured ?? [])] });
    const out: Simulation = {
      timeline: simulateWithContention(graph, mesh, strategy, costs).timeline,
      memory: peakMemory(graph, strategy, mesh, optimizer),
      costs,
    };
    // A table profiled in a run carries the interference the run met: predict under it too.
    if (costs.hasInterference) out.interference = predictUnderInterference(graph, mesh, strategy, costs, costs);
    return out;
  });
}

// ------------------------------------------------------------------ compile

export interface CompileOptions {
  /** Seeds the weights and the synthetic data (default 1). */
  seed?: number;
  /** Default plain SGD, learning rate 0.01. */
  optimizer?: OptimizerConfig;
  /** Imported models' trained weights by param id (LoadedModel.weights); they travel in the plan. */
  weights?: ReadonlyMap<string, Float32Array>;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = { kind: "sgd", learningRate: 0.01 };

/** compile: (Graph, Mesh, Strategy) → Plan; the model must have a loss and the strategy is validated first (coded errors). */
export function compile(graph: Graph, mesh: Mesh, strategy: Strategy, ctx: PipelineContext, options: CompileOptions = {}): Plan {
  requireLoss(graph, ctx);
  checkStrategy(graph, mesh, strategy, ctx);
  return timed(ctx, "lower", () =>
    lower(graph, { ...strategy, mesh: mesh.name }, mesh, {
      seed: options.seed ?? 1,
      optimizer: options.optimizer ?? DEFAULT_OPTIMIZER,
      ...(options.weights ? { weights: options.weights } : {}),
    }),
  );
}

/** reference: the single-device plan of the same graph, seed, optimizer and given weights. */
export function reference(graph: Graph, plan: Plan, ctx: PipelineContext): Plan {
  return timed(ctx, "lower", () => referencePlan(graph, plan));
}

// ------------------------------------------------------------------ execute, verify, profile

export type ExecuteOptions = WorkerRunOptions;

/** execute: Plan → losses and step times, one worker thread per device. */
export function execute(plan: Plan, ctx: PipelineContext, options: ExecuteOptions): Promise<WorkerRunResult> {
  return timedAsync(ctx, "execute", () => runPlan(plan, options));
}

export interface VerifyStageOptions {
  steps: number;
  /** Largest accepted relative error (default: src/runtime/exec/verify.ts's, 1e-4). */
  tolerance?: number;
  /** Default "auto": the best backend available. */
  backend?: BackendRequest;
  /** Called after each step of both runs (`done` of 2 × steps), for a progress line. */
  onStep?: (done: number, total: number) => void;
}

export interface Verification extends VerifyResult {
  /** The backend both runs used. */
  backend: BackendName;
}

/** verify: run `plan` and its single-device reference (`reference`) in-process on the same data and weights and compare. */
export function verify(plan: Plan, single: Plan, ctx: PipelineContext, options: VerifyStageOptions): Promise<Verification> {
  return timedAsync(ctx, "verify", async () => {
    const backend = await initBackend(options.backend ?? "auto");
    const r = await verifyPlan(plan, single, backend.tf, { steps: options.steps, ...(options.tolerance !== undefined ? { tolerance: options.tolerance } : {}), ...(options.onStep ? { onStep: options.onStep } : {}) });
    return { ...r, backend: backend.name };
  });
}

export interface ProfileStageOptions {
  /** Default "auto". */
  backend?: BackendRequest;
  /** Measure every kernel in a run on the worker runtime (the other devices are the load). */
  inRun?: boolean;
  /** Otherwise: background workers computing while each task is measured again (default 0). */
  load?: number;
  warmup?: number;
  repeats?: number;
  /** Called as the profile's steps go (`done` of `total`), for a progress line. */
  onStep?: (done: number, total: number) => void;
}

/** profile: Plan → the measured time of every distinct task (and update), on this machine. */
export function profile(plan: Plan, ctx: PipelineContext, options: ProfileStageOptions = {}): Promise<PlanProfile & { backend: BackendName }> {
  return timedAsync(ctx, "profile", async () => {
    const backend = await initBackend(options.backend ?? "auto");
    const steps = { ...(options.warmup !== undefined ? { warmup: options.warmup } : {}), ...(options.repeats !== undefined ? { repeats: options.repeats } : {}), ...(options.onStep ? { onStep: options.onStep } : {}) };
    const measured = options.inRun ? await profilePlanInRun(plan, { ...steps, backend: backend.name }) : await profilePlanUnderLoad(plan, backend.tf, backend.name, options.load ?? 0, steps);
    return { ...measured, backend: backend.name };
  });
}

// ------------------------------------------------------------------ the whole road

export interface AutoOptions {
  load?: LoadModelOptions;
  /** The mesh, or how to choose it once the model is loaded (a .par file may declare it). */
  mesh: Mesh | ((model: LoadedModel) => Mesh);
  budget?: Budget;
  seed?: number;
  steps: number;
  optimizer?: OptimizerConfig;
  backend?: BackendRequest;
  /** Bounds every wait of the run on workers, their start included (default 60 s). */
  timeoutMs?: number;
  /** Progress of the long stages, for a live line: the search's, the run's steps, the verification's steps. */
  progress?: {
    search?: Pick<SearchStageOptions, "onPhase" | "onProgress">;
    onStep?: WorkerRunOptions["onStep"];
    onVerifyStep?: VerifyStageOptions["onStep"];
  };
}

export interface PipelineResult {
  model: LoadedModel;
  mesh: Mesh;
  search: SearchResult;
  plan: Plan;
  run: WorkerRunResult;
  verify: Verification;
  /** Largest difference between the workers' losses and the verified in-process losses. */
  workerLossError: number;
}

/** The whole road: load → search → compile → execute on workers → verify against one device. */
export async function autoParallelize(path: string, ctx: PipelineContext, options: AutoOptions): Promise<PipelineResult> {
  const model = load(path, ctx, options.load);
  // Fail before the search: the road ends in training.
  requireLoss(model.graph, ctx);
  const mesh = typeof options.mesh === "function" ? options.mesh(model) : options.mesh;
  const seed = options.seed ?? 1;
  const found = search(model.graph, mesh, ctx, { seed, ...(options.budget ? { budget: options.budget } : {}), ...(options.optimizer ? { optimizer: options.optimizer.kind } : {}), ...options.progress?.search });
  const plan = compile(model.graph, mesh, found.best.strategy, ctx, { seed, ...(options.optimizer ? { optimizer: options.optimizer } : {}), ...(model.weights ? { weights: model.weights } : {}) });
  const single = reference(model.graph, plan, ctx);
  const backend = options.backend ?? "auto";
  const onStep = options.progress?.onStep;
  const run = await execute(plan, ctx, { steps: options.steps, backend, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs, startupTimeoutMs: options.timeoutMs } : {}), ...(onStep ? { onStep } : {}) });
  // Both the plan and the reference also run in-process on the workers' backend; the
  // workers' losses are then checked against the verified plan's, step by step.
  const onVerifyStep = options.progress?.onVerifyStep;
  const verified = await verify(plan, single, ctx, { steps: options.steps, backend, ...(onVerifyStep ? { onStep: onVerifyStep } : {}) });
  let workerLossError = 0;
  run.losses.forEach((l, i) => {
    workerLossError = Math.max(workerLossError, Math.abs(l - (verified.losses.plan[i] ?? NaN)));
  });
  return { model, mesh, search: found, plan, run, verify: verified, workerLossError };
}
