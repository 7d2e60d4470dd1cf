// The whole road in one place, as docs/architecture.md draws it:
//
//   load (parse + check, or import; or a plan file) ─▶ Graph ─▶ search ─▶ Strategy
//     ─▶ compile (validate + lower) ─▶ Plan ─▶ execute (on an engine: tfjs worker threads or
//     torch ranks, one per device) ─▶ verify (against the single-device reference)
//   beside the road: simulate (Graph × Strategy → Timeline), profile (Plan → measured costs),
//   exportJob (Plan → a torch job directory for clusters)
//
// This file is the only place that composes the stages: every `par` command and the
// library API (src/index.ts) call the functions below rather than the modules behind them.
// Each stage is a named function from one type to the next; `PipelineContext` carries
// diagnostics and stage timings, and no stage prints. A stage that fails adds its errors to
// ctx.diagnostics and throws a ParError carrying them; warnings stay in ctx.diagnostics.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Diagnostics, ParError, type Diagnostic } from "./core/diagnostics.js";
import { INSTALL_HINT } from "./engines/torch/codes.js";
import { exportTorchJob, type TorchExport, type TorchExportOptions } from "./engines/torch/export.js";
import { torchEngine, type TorchEngine } from "./engines/torch/engine.js";
import { findTorchPython } from "./engines/torch/python.js";
import type { TorchDevice } from "./engines/torch/run.js";
import type { Mesh } from "./core/mesh.js";
import { CostModel, type MeasuredCosts } from "./cost/compute.js";
import { peakMemory, type MemoryReport, type Optimizer } from "./cost/memory.js";
import { lower, singleDeviceStrategy } from "./codegen/lower.js";
import { graphFromPlan } from "./codegen/plan-graph.js";
import { referencePlan, SINGLE_MESH } from "./codegen/reference.js";
import { runPlanTorch } from "./engines/torch/index.js";
import { prepareForward, type ForwardModel, type GivenArray, type TensorValues } from "./frontend/forward-inputs.js";
import { encodeNpy } from "./frontend/npy.js";
import { forwardOutputParam, forwardPlan } from "./plan/forward-plan.js";
import { loadModel, type LoadedModel, type LoadModelOptions } from "./frontend/load-model.js";
import type { Graph } from "./ir/graph.js";
import type { Strategy } from "./ir/strategy.js";
import { validateStrategy } from "./ir/strategy-validate.js";
import { readPlan } from "./plan/io.js";
import type { Engine, EngineName, EngineTrainedState } from "./plan/engine.js";
import type { OptimizerConfig, Plan } from "./plan/plan.js";
import type { TF } from "./ops/contract.js";
import { initBackend, type BackendName, type BackendRequest } from "./runtime/backend.js";
import { runForward } from "./runtime/exec/forward.js";
import { compareRuns, verifyPlan, type VerifyResult } from "./runtime/exec/verify.js";
import { tfjsEngine } from "./runtime/engine.js";
import { profilePlanUnderLoad, type PlanProfile } from "./runtime/profile/load.js";
import { TIMED_STEPS, WARMUP_STEPS } from "./runtime/profile/profile.js";
import { profileFromTimeline, profilePlanInRun } from "./runtime/profile/run.js";
import { runPlan, type WorkerRunOptions, type WorkerRunResult } from "./runtime/workers/run-workers.js";
import { DEFAULT_BUDGET, type Budget } from "./search/budget.js";
import type { SearchProgress } from "./search/mcmc.js";
import { searchStrategy, type SearchPhase, type SearchResult } from "./search/search.js";
import { ScaleEvaluator, type ScaleEvaluation } from "./search/evaluate-scale.js";
export type { ScaleEvaluation } from "./search/evaluate-scale.js";
export type { ScaleSearchOptions, ScaleSearchResult } from "./search/scale/scale-search.js";
import { searchAtScale, type ScaleSearchOptions, type ScaleSearchResult } from "./search/scale/scale-search.js";
import type { GradSyncMode } from "./sim/scale/weight-sync.js";
import { simulateWithContention } from "./sim/contention.js";
import { predictUnderInterference, type InterferencePrediction } from "./sim/interference.js";
import type { Timeline } from "./sim/simulate.js";

export type Stage = "load" | "search" | "simulate" | "lower" | "execute" | "verify" | "profile" | "forward" | "export";

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
  /** Measured-cost tables (`par profile`, on either engine) pricing the tasks instead of the roofline. */
  measured?: readonly MeasuredCosts[];
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
      ...(options.measured?.length ? { costs: new CostModel(graph, mesh, { optimizer: options.optimizer ?? "sgd", measured: [...options.measured] }) } : {}),
    }),
  );
  ctx.diagnostics.addAll(result.diagnostics);
  return result;
}

/**
 * searchScale: Graph × (large) Mesh → the best tensor × pipeline × data-parallel
 * configuration found (docs/scale.md, "Search"); `par search` takes this path on meshes of
 * more than SCALE_SEARCH_THRESHOLD devices. Its diagnostics (PAR7001, PAR7057) go to ctx.
 */
export function searchScale(graph: Graph, mesh: Mesh, ctx: PipelineContext, options: ScaleSearchOptions): ScaleSearchResult {
  warnNoLoss(graph, ctx);
  const result = timed(ctx, "search", () => searchAtScale(graph, mesh, options));
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

/**
 * simulateAtScale: (Graph, Mesh, Strategy) → one step of a large-scale strategy (replicas,
 * pipeline, ZeRO, recomputation, 16-bit precision) simulated hierarchically, with its
 * memory per device (docs/scale.md); the strategy is validated first.
 */
export function simulateAtScale(graph: Graph, mesh: Mesh, strategy: Strategy, ctx: PipelineContext, options: SimulateStageOptions & { gradSync?: GradSyncMode } = {}): ScaleEvaluation {
  checkStrategy(graph, mesh, strategy, ctx);
  warnNoLoss(graph, ctx);
  return timed(ctx, "simulate", () => {
    const evaluator = new ScaleEvaluator(mesh, {
      optimizer: options.optimizer ?? "sgd",
      ...(options.measured?.length ? { measured: options.measured } : {}),
      ...(options.gradSync ? { gradSync: options.gradSync } : {}),
    });
    return evaluator.evaluate(graph, strategy);
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

// ------------------------------------------------------------------ engines

/** "auto": torch when a Python can import it, else the tfjs runtime. */
export type EngineRequest = EngineName | "auto";

export const ENGINE_REQUESTS: readonly EngineRequest[] = ["auto", "tfjs", "torch"];

export interface EngineOptions {
  /** The tfjs runtime's backend (default "auto"). */
  backend?: BackendRequest;
  /** The torch engine's device (default "cpu"). */
  device?: TorchDevice;
  /** The torch engine's data directory (<input id>.npy per graph input). */
  data?: string;
  env?: NodeJS.ProcessEnv;
}

export interface EngineSelection {
  engine: Engine;
  /** Why this engine, in one line ("torch 1.13.1 can be imported by /usr/bin/python3"). */
  reason: string;
  /** The torch engine on cuda: the GPUs it sees (one rank each). */
  cudaDevices?: number;
}

/**
 * The engine that executes, verifies and profiles plans. "torch" without a Python that can
 * import torch is PAR8001 with the install hint; "auto" then falls back to the tfjs runtime
 * and says how to get torch.
 */
export function selectEngine(request: EngineRequest, options: EngineOptions = {}): EngineSelection {
  const torch = (): TorchEngine =>
    torchEngine({ ...(options.device ? { device: options.device } : {}), ...(options.data !== undefined ? { data: options.data } : {}), ...(options.env ? { env: options.env } : {}) });
  if (request === "tfjs") return { engine: tfjsEngine(options.backend ?? "auto"), reason: "asked for with --engine tfjs" };
  const chosen = (engine: TorchEngine, reason: string): EngineSelection => ({ engine, reason, ...(engine.device === "cuda" ? { cudaDevices: engine.python.cudaDevices } : {}) });
  if (request === "torch") {
    const engine = torch();
    return chosen(engine, `asked for; torch ${engine.python.torch} from ${engine.python.python}`);
  }
  let python: string;
  try {
    const found = findTorchPython(options.env);
    python = `torch ${found.torch} can be imported by ${found.python}`;
  } catch (e) {
    if (!(e instanceof ParError)) throw e;
    return { engine: tfjsEngine(options.backend ?? "auto"), reason: `no Python can import torch; for the faster torch engine: npm run setup, or ${INSTALL_HINT}` };
  }
  return chosen(torch(), python);
}

// ------------------------------------------------------------------ execute, verify, profile

export interface ExecuteOptions extends WorkerRunOptions {
  /** Default: the tfjs runtime on `backend`. */
  engine?: Engine;
}

/** execute: Plan → losses and step times, one device per worker thread (tfjs) or rank (torch). */
export function execute(plan: Plan, ctx: PipelineContext, options: ExecuteOptions): Promise<WorkerRunResult> {
  const { engine, ...workers } = options;
  return timedAsync(ctx, "execute", () =>
    engine
      ? engine.run(plan, {
          steps: options.steps,
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.trace ? { trace: true } : {}),
          ...(options.onStep ? { onStep: options.onStep } : {}),
        })
      : runPlan(plan, workers),
  );
}

export interface VerifyStageOptions {
  steps: number;
  /** Largest accepted relative error (default: src/runtime/exec/verify.ts's, 1e-4). */
  tolerance?: number;
  /** Default "auto": the best backend available (the tfjs runtime's; ignored with `engine`). */
  backend?: BackendRequest;
  /** Called after each step of both runs (`done` of 2 × steps), for a progress line. */
  onStep?: (done: number, total: number) => void;
  /** Default: the tfjs runtime, every device in this thread. */
  engine?: Engine;
}

export interface Verification extends VerifyResult {
  /** The backend both runs used ("wasm", "torch-gloo", ...). */
  backend: string;
  engine: EngineName;
}

/** The plan and the reference trained on one engine (one session: the ranks start once) and compared; `runs` collects the plan's run. */
async function verifyOn(engine: Engine, plan: Plan, single: Plan, options: { steps: number; tolerance?: number; onStep?: (done: number, total: number) => void }, runs?: EngineTrainedState[]): Promise<Verification> {
  const devices = Math.max(plan.devices.length, single.devices.length);
  const { steps, onStep } = options;
  const progress = (offset: number) => (onStep ? { onStep: (s: number) => onStep(offset + s + 1, 2 * steps) } : {});
  return engine.session(devices, async (e) => {
    const actual = await e.train(plan, { steps, ...progress(0) });
    const reference = await e.train(single, { steps, ...progress(steps) });
    runs?.push(actual);
    return { ...compareRuns(plan, actual, reference, options), backend: actual.backend, engine: engine.name };
  });
}

/** verify: run `plan` and its single-device reference (`reference`) on the same data and weights, on one engine, and compare. */
export function verify(plan: Plan, single: Plan, ctx: PipelineContext, options: VerifyStageOptions): Promise<Verification> {
  return timedAsync(ctx, "verify", async () => {
    const tolerance = options.tolerance !== undefined ? { tolerance: options.tolerance } : {};
    const engine = options.engine;
    if (engine) return verifyOn(engine, plan, single, { steps: options.steps, ...tolerance, ...(options.onStep ? { onStep: options.onStep } : {}) });
    const backend = await initBackend(options.backend ?? "auto");
    const r = await verifyPlan(plan, single, backend.tf, { steps: options.steps, ...tolerance, ...(options.onStep ? { onStep: options.onStep } : {}) });
    return { ...r, backend: backend.name, engine: "tfjs" };
  });
}

export interface CrossEngineVerification {
  /** Each engine's plan against the single-device reference on that engine. */
  engines: Verification[];
  /** The second engine's run of the plan against the first's: losses, last gradients, weights. */
  across: VerifyResult & { engines: [string, string] };
  ok: boolean;
}

/**
 * verify on two engines: each runs the plan and the reference (as `verify`), and the second
 * engine's run of the plan is compared with the first's, with the same tolerance
 * (docs/engines.md "Tolerances"). No run more than two verifications.
 */
export function verifyAcrossEngines(plan: Plan, single: Plan, ctx: PipelineContext, options: { steps: number; tolerance?: number; engines: [Engine, Engine] }): Promise<CrossEngineVerification> {
  return timedAsync(ctx, "verify", async () => {
    const tolerance = options.tolerance !== undefined ? { tolerance: options.tolerance } : {};
    const steps = { steps: options.steps };
    const runs: EngineTrainedState[] = [];
    const engines: Verification[] = [];
    for (const engine of options.engines) engines.push(await verifyOn(engine, plan, single, { ...steps, ...tolerance }, runs));
    const across = { ...compareRuns(plan, runs[1], runs[0], { ...steps, ...tolerance }), engines: [options.engines[0].name, options.engines[1].name] as [string, string] };
    return { engines, across, ok: across.ok && engines.every((e) => e.ok) };
  });
}

export interface ProfileStageOptions {
  /** Default "auto" (the tfjs runtime's backend; ignored with `engine`). */
  backend?: BackendRequest;
  /** Measure every kernel in a run on the worker runtime (the other devices are the load). */
  inRun?: boolean;
  /** Otherwise: background workers computing while each task is measured again (default 0). */
  load?: number;
  warmup?: number;
  repeats?: number;
  /** Called as the profile's steps go (`done` of `total`), for a progress line. */
  onStep?: (done: number, total: number) => void;
  /**
   * Measure in a run on this engine instead (every instruction timed where it runs, as
   * `inRun` does on the tfjs runtime): the torch engine's kernels, messages and interference.
   */
  engine?: Engine;
}

/** profile: Plan → the measured time of every distinct task (and update), on this machine; measured in a run, also the timed steps' times. */
export function profile(plan: Plan, ctx: PipelineContext, options: ProfileStageOptions = {}): Promise<PlanProfile & { backend: string; stepTimesMs?: number[] }> {
  return timedAsync(ctx, "profile", async () => {
    const steps = { ...(options.warmup !== undefined ? { warmup: options.warmup } : {}), ...(options.repeats !== undefined ? { repeats: options.repeats } : {}), ...(options.onStep ? { onStep: options.onStep } : {}) };
    if (options.engine) {
      const warmup = options.warmup ?? WARMUP_STEPS;
      const total = warmup + (options.repeats ?? TIMED_STEPS);
      const onStep = options.onStep;
      const run = await options.engine.run(plan, { steps: total, trace: true, ...(onStep ? { onStep: (s: number) => onStep(s + 1, total) } : {}) });
      return { ...profileFromTimeline(plan, run.timeline, warmup), backend: run.backend, stepTimesMs: run.stepTimesMs.slice(warmup) };
    }
    const backend = await initBackend(options.backend ?? "auto");
    const measured = options.inRun ? await profilePlanInRun(plan, { ...steps, backend: backend.name }) : await profilePlanUnderLoad(plan, backend.tf, backend.name, options.load ?? 0, steps);
    return { ...measured, backend: backend.name };
  });
}

// ------------------------------------------------------------------ forward

export interface ForwardStageOptions {
  /** .par files: the model and its parameter overrides. */
  model?: string;
  overrides?: Record<string, number>;
  /** Seeds a .par model's initial weights (default 1). */
  seed?: number;
  /** "tfjs" (in-process, the default) or "torch" (the torch engine, one rank). */
  engine?: "tfjs" | "torch";
  /** tfjs: the backend (default "auto"). */
  backend?: BackendRequest;
}

export interface ForwardOutput {
  /** The output's name in the model file (a .par model's: its tensor id). */
  name: string;
  shape: number[];
  dtype: "f32" | "i32";
  data: TensorValues;
}

/**
 * The forward pass of a bound model on one device: the forward part of its single-device
 * plan (src/runtime/exec/forward.ts) with the model's own weights, read one param at a time.
 */
export async function forwardOf(m: ForwardModel, tf: TF, seed = 1): Promise<ForwardOutput[]> {
  const graph = m.model.graph;
  const plan = lower(graph, singleDeviceStrategy(graph, SINGLE_MESH.name), SINGLE_MESH, { seed, optimizer: { kind: "sgd", learningRate: 0 } });
  const values = await runForward(plan, tf, m.feeds, m.model.weights ?? new Map<string, Float32Array>(), m.outputs.map((o) => o.tensor));
  return m.outputs.map((o) => {
    const t = graph.tensor(o.tensor).type;
    return { name: o.name, shape: [...t.shape], dtype: t.dtype === "f32" ? "f32" : "i32", data: values.get(o.tensor)! };
  });
}

/**
 * The forward pass of a bound model on the torch engine: its single-device plan (with the
 * model's weights) cut to the forward pass, each output copied into a param the engine
 * dumps (src/plan/forward-plan.ts), the arrays given as the engine's real data (`--data`:
 * one .npy per graph input; a loss's labels, which reach no output, as zeros).
 */
export async function forwardOfTorch(m: ForwardModel, seed = 1): Promise<ForwardOutput[]> {
  const graph = m.model.graph;
  const plan = lower(graph, singleDeviceStrategy(graph, SINGLE_MESH.name), SINGLE_MESH, {
    seed,
    optimizer: { kind: "sgd", learningRate: 0 },
    // The engine reads weights from the plan, however large (a temporary file).
    weightsCapBytes: Infinity,
    ...(m.model.weights?.size ? { weights: m.model.weights } : {}),
  });
  const outputs = m.outputs.map((o) => o.tensor);
  const dir = mkdtempSync(join(tmpdir(), "par-forward-"));
  try {
    for (const id of graph.inputs) {
      const t = graph.tensor(id).type;
      const n = t.shape.reduce((a, b) => a * b, 1);
      const values = m.feeds.get(id) ?? (t.dtype === "f32" ? new Float32Array(n) : new Int32Array(n));
      writeFileSync(join(dir, `${id}.npy`), encodeNpy({ dtype: values instanceof Float32Array ? "f4" : "i4", shape: [...t.shape], data: values }));
    }
    const run = await runPlanTorch(forwardPlan(plan, outputs), { steps: 1, data: dir, dumpWeights: true });
    return m.outputs.map((o) => {
      const t = graph.tensor(o.tensor).type;
      const v = run.dump!.params.get(forwardOutputParam(o.tensor))!;
      return { name: o.name, shape: [...t.shape], dtype: t.dtype === "f32" ? "f32" : "i32", data: t.dtype === "f32" ? v : Int32Array.from(v) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** forward: a model file and arrays for its inputs (their shapes bind its symbolic dims) → its own outputs. */
export async function forward(path: string, given: readonly GivenArray[], ctx: PipelineContext, options: ForwardStageOptions = {}): Promise<{ model: ForwardModel; outputs: ForwardOutput[]; backend: BackendName | "torch" }> {
  const since = ctx.diagnostics.items.length;
  const loadOptions: LoadModelOptions = { ...(options.model !== undefined ? { model: options.model } : {}), ...(options.overrides ? { overrides: options.overrides } : {}) };
  const m = timed(ctx, "load", () => prepareForward((bind) => loadModel(path, { sources: ctx.sources, diagnostics: ctx.diagnostics, cwd: ctx.cwd }, { ...loadOptions, bind }), given, ctx.diagnostics));
  const errors = errorsSince(ctx, since);
  if (!m || errors.length) fail(ctx, errors);
  return timedAsync(ctx, "forward", async () => {
    if (options.engine === "torch") return { model: m, outputs: await forwardOfTorch(m, options.seed ?? 1), backend: "torch" as const };
    const backend = await initBackend(options.backend ?? "auto");
    return { model: m, outputs: await forwardOf(m, backend.tf, options.seed ?? 1), backend: backend.name };
  });
}

// ------------------------------------------------------------------ export

/** exportJob: Plan → a self-contained torch job directory (torchrun / SLURM), written atomically. */
export function exportJob(plan: Plan, dir: string, ctx: PipelineContext, options: TorchExportOptions = {}): TorchExport {
  return timed(ctx, "export", () => exportTorchJob(plan, resolve(ctx.cwd ?? process.cwd(), dir), options));
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
  /** Default: the tfjs runtime on `backend`. */
  engine?: Engine;
  /** Bounds every wait of the run, the devices' start included (default 60 s). */
  timeoutMs?: number;
  /** Called with the compiled plan before anything runs (the CLI's memory check, PAR5030): throws to stop. */
  checkPlan?: (plan: Plan) => void;
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

/** The whole road: load → search → compile → execute on an engine → verify against one device. */
export async function autoParallelize(path: string, ctx: PipelineContext, options: AutoOptions): Promise<PipelineResult> {
  const model = load(path, ctx, options.load);
  // Fail before the search: the road ends in training.
  requireLoss(model.graph, ctx);
  const mesh = typeof options.mesh === "function" ? options.mesh(model) : options.mesh;
  const seed = options.seed ?? 1;
  const found = search(model.graph, mesh, ctx, { seed, ...(options.budget ? { budget: options.budget } : {}), ...(options.optimizer ? { optimizer: options.optimizer.kind } : {}), ...options.progress?.search });
  const plan = compile(model.graph, mesh, found.best.strategy, ctx, { seed, ...(options.optimizer ? { optimizer: options.optimizer } : {}), ...(model.weights ? { weights: model.weights } : {}) });
  options.checkPlan?.(plan);
  const single = reference(model.graph, plan, ctx);
  const backend = options.backend ?? "auto";
  const timeout = options.timeoutMs ? { timeoutMs: options.timeoutMs } : {};
  const onStep = options.progress?.onStep;
  const onVerifyStep = options.progress?.onVerifyStep;
  // One session for the run and both verification runs (torch: the ranks start once).
  const { run, verified } = await (options.engine ?? tfjsEngine(backend)).session(
    plan.devices.length,
    async (engine) => {
      const run = await execute(plan, ctx, { steps: options.steps, backend, engine, ...timeout, ...(onStep ? { onStep } : {}) });
      // Both the plan and the reference also run on the same engine (tfjs: in-process on the
      // workers' backend); the run's losses are then checked against the verified plan's.
      const verified = await verify(plan, single, ctx, { steps: options.steps, backend, engine, ...(onVerifyStep ? { onStep: onVerifyStep } : {}) });
      return { run, verified };
    },
    timeout,
  );
  let workerLossError = 0;
  run.losses.forEach((l, i) => {
    workerLossError = Math.max(workerLossError, Math.abs(l - (verified.losses.plan[i] ?? NaN)));
  });
  return { model, mesh, search: found, plan, run, verify: verified, workerLossError };
}
