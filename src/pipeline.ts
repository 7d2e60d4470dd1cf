// The whole road in one place, as docs/architecture.md draws it:
//
//   load (parse + check, or import) ─▶ Graph ─▶ search ─▶ Strategy ─▶ lower ─▶ Plan
//        ─▶ execute (one worker per local device) ─▶ verify (against one device)
//
// Each stage is a named function from one type to the next; `PipelineContext` carries
// diagnostics and stage timings, and no stage prints. `par auto` is this function plus
// a report.

import { Diagnostics, ParError } from "./core/diagnostics.js";
import type { Mesh } from "./core/mesh.js";
import type { Plan, OptimizerConfig } from "./plan/plan.js";
import { lower, singleDeviceStrategy } from "./codegen/lower.js";
import { loadModel, type LoadedModel, type LoadModelOptions } from "./frontend/load-model.js";
import type { Graph } from "./ir/graph.js";
import type { Strategy } from "./ir/strategy.js";
import { initBackend, type BackendRequest } from "./runtime/backend.js";
import { runPlan, type WorkerRunResult } from "./runtime/workers/run-workers.js";
import { verifyPlan, type VerifyResult } from "./runtime/exec/verify.js";
import { searchStrategy, type SearchResult } from "./search/search.js";
import type { Budget } from "./search/mcmc.js";

export type Stage = "load" | "search" | "lower" | "execute" | "verify";

export interface PipelineContext {
  diagnostics: Diagnostics;
  /** Source texts by file, for diagnostics with excerpts. */
  sources: Map<string, string>;
  cwd?: string;
  /** Milliseconds spent in each stage. */
  timings: Partial<Record<Stage, number>>;
  /** Called when a stage starts (for progress lines); must not throw. */
  onStage?: (stage: Stage) => void;
}

export interface PipelineOptions {
  load?: LoadModelOptions;
  budget: Budget;
  seed: number;
  steps: number;
  optimizer: OptimizerConfig;
  backend: BackendRequest;
  timeoutMs?: number;
  /** Chooses the mesh once the model is loaded (a .par file may declare it); overrides `mesh`. */
  pickMesh?: (model: LoadedModel) => Mesh;
}

export interface PipelineResult {
  model: LoadedModel;
  search: SearchResult;
  plan: Plan;
  run: WorkerRunResult;
  verify: VerifyResult;
  /** Largest difference between the workers' losses and the verified in-process losses. */
  workerLossError: number;
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

/** load: a .par file (parse + check) or an imported ONNX / Keras model → Graph. */
export function load(path: string, ctx: PipelineContext, options: LoadModelOptions = {}): LoadedModel {
  const model = timed(ctx, "load", () => loadModel(path, { sources: ctx.sources, diagnostics: ctx.diagnostics, cwd: ctx.cwd }, options));
  if (!model || ctx.diagnostics.hasErrors()) throw new ParError(ctx.diagnostics.errors);
  return model;
}

/** search: Graph × Mesh → the best feasible Strategy found (with its baselines). */
export function search(graph: Graph, mesh: Mesh, ctx: PipelineContext, options: Pick<PipelineOptions, "budget" | "seed">): SearchResult {
  return timed(ctx, "search", () => searchStrategy(graph, mesh, { budget: options.budget, seed: options.seed }));
}

/** lower: Strategy → Plan (and the single-device Plan it is verified against). */
export function lowerBoth(graph: Graph, strategy: Strategy, mesh: Mesh, ctx: PipelineContext, options: Pick<PipelineOptions, "seed" | "optimizer">, weights?: ReadonlyMap<string, Float32Array>): { plan: Plan; single: Plan } {
  return timed(ctx, "lower", () => {
    const opts = { seed: options.seed, optimizer: options.optimizer, ...(weights ? { weights } : {}) };
    const plan = lower(graph, strategy, mesh, opts);
    const one = { name: mesh.name, devices: [mesh.devices[0]] };
    const single = lower(graph, singleDeviceStrategy(graph, mesh.name), one, opts);
    return { plan, single };
  });
}

/** The whole road on `mesh`: load → search → lower → execute on workers → verify. */
export async function autoParallelize(path: string, meshGiven: Mesh | undefined, ctx: PipelineContext, options: PipelineOptions): Promise<PipelineResult> {
  const model = load(path, ctx, options.load);
  const mesh = options.pickMesh ? options.pickMesh(model) : meshGiven;
  if (!mesh) throw new RangeError("autoParallelize: no mesh given");
  const found = search(model.graph, mesh, ctx, options);
  const { plan, single } = lowerBoth(model.graph, found.best.strategy, mesh, ctx, options, model.weights);
  const run = await timedAsync(ctx, "execute", () => runPlan(plan, { steps: options.steps, backend: options.backend, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) }));
  const verify = await timedAsync(ctx, "verify", async () => {
    // Both the plan and the single-device reference run in-process on the workers'
    // backend; the workers' losses are then checked against the verified plan's, step by step.
    const { tf } = await initBackend(options.backend);
    return verifyPlan(plan, single, tf, { steps: options.steps });
  });
  let workerLossError = 0;
  run.losses.forEach((l, i) => {
    workerLossError = Math.max(workerLossError, Math.abs(l - (verify.losses.plan[i] ?? NaN)));
  });
  return { model, search: found, plan, run, verify, workerLossError };
}
