// The search that scales (docs/scale.md, "Search"): for meshes of hundreds to thousands of
// devices, where the op-level MCMC (src/search/mcmc.ts) cannot finish one iteration, par
// searches the structured space of src/search/scale/candidates.ts instead:
//   - repeated blocks (the layers) are found once and configured once; every copy reuses
//     the block's configuration, and identical stages are simulated once (by their key);
//   - inside a node, the block's intra-op configuration: tensor-parallel size t and where
//     the ops outside tensor parallelism run (one device, or split along the sequence);
//   - across nodes: pipeline groups p, replicas d, micro-batch size b, the schedule (1F1B
//     or interleaved), the ZeRO stage and recomputation;
//   - each candidate is priced by the hierarchical simulator and memory model
//     (src/search/evaluate-scale.ts); a pipeline that wins is re-cut by the stage-partition
//     DP (partition.ts) and the re-cut pipeline priced too.
// The baselines (data parallelism, ZeRO-3 data parallelism, Megatron-LM's rule-of-thumb
// configuration) are priced first, so the result is never slower than the best of them.
// The budget counts priced candidates (iterations: deterministic) or wall-clock seconds; a
// candidate is not started when the slowest one so far would end past the budget.

import { ParError, type Diagnostic } from "../../core/diagnostics.js";
import type { Mesh } from "../../core/mesh.js";
import type { MeasuredCosts } from "../../cost/compute.js";
import type { Optimizer } from "../../cost/memory.js";
import { largestDivisorAtMost } from "../../ir/baselines.js";
import type { Graph } from "../../ir/graph.js";
import { analyseForMegatron, megatronName, megatronStrategy, type MegatronAnalysis, type MegatronConfig, type RecomputeMode } from "../../ir/megatron.js";
import type { Precision, Strategy } from "../../ir/strategy.js";
import type { Budget } from "../budget.js";
import { ScaleEvaluator, type ScaleEvaluation } from "../evaluate-scale.js";
import type { SearchProgress } from "../mcmc.js";
import { candidates, estimate, spaceFacts, type Candidate } from "./candidates.js";
import { balanceBlocks, blockCosts } from "./partition.js";

/** Meshes above this many devices are searched here by default (`par search`). */
export const SCALE_SEARCH_THRESHOLD = 64;

/**
 * The budget when none is given: one minute, the issue's target for GPT-3-sized models on
 * 1,024 GPUs (the op-level search's 4,000 iterations would be hours of pricing here).
 */
export const DEFAULT_SCALE_BUDGET: Budget = { seconds: 60 };

export interface ScaleSearchOptions {
  budget: Budget;
  optimizer?: Optimizer;
  /** Compute precision of every candidate (default bf16: mixed precision, f32 master weights). */
  precision?: Precision;
  measured?: readonly MeasuredCosts[];
  onProgress?: (p: SearchProgress) => void;
  /**
   * The model elaborated again at another batch size (same op names), for models whose
   * attributes pin the batch (a reshape to [64, …]: PAR7050/PAR7051 when re-typed): a
   * candidate that cannot be re-typed is priced on the model rebuilt at its micro-batch size.
   */
  rebuild?: (samples: number) => Graph | undefined;
  /** More configurations priced right after the baselines (a published configuration to beat). */
  seeds?: readonly MegatronConfig[];
  /** Milliseconds clock (tests); default performance.now. */
  now?: () => number;
}

export interface ScaleCandidateResult {
  name: string;
  config: MegatronConfig;
  strategy: Strategy;
  evaluation: ScaleEvaluation;
  /** Peak memory fits every device's capacity. */
  feasible: boolean;
}

export interface ScaleSearchResult {
  best: ScaleCandidateResult;
  baselines: { dataParallel?: ScaleCandidateResult; zero3?: ScaleCandidateResult; megatron?: ScaleCandidateResult };
  /** The caller's seeds (options.seeds) that were priced, in order. */
  seedResults: ScaleCandidateResult[];
  /** Candidates priced (each one hierarchical simulation). */
  iterations: number;
  /** Candidates the space holds (after the model-state memory filter). */
  spaceSize: number;
  seconds: number;
  stoppedBy: "budget" | "exhausted";
  feasible: boolean;
  /** Op-level stage simulations run (distinct stage structures). */
  stageSimulations: number;
  diagnostics: Diagnostic[];
}

const configKey = (c: MegatronConfig, blocks?: readonly number[]) => `${megatronName(c)}${blocks ? `|${blocks.join(",")}` : ""}`;

/** Megatron-LM's rules of thumb (Narayanan et al. 2021, §3.3): t up to a node, the fewest pipeline stages that fit, b = 1, full recomputation. */
function megatronRuleOfThumb(a: MegatronAnalysis, mesh: Mesh, facts: ReturnType<typeof spaceFacts>, optimizer: Optimizer, precision: Precision): MegatronConfig | undefined {
  const N = mesh.devices.length;
  const heads = a.order.find((o) => a.tp.has(o.name) && o.sig.space.some((d) => /^heads?$/.test(d.name)));
  const headCount = heads?.sig.space.find((d) => /^heads?$/.test(d.name))?.size ?? facts.perNode;
  const t = largestDivisorAtMost(headCount, facts.perNode);
  if (N % t !== 0) return undefined;
  const L = a.blocks?.count ?? 1;
  for (let p = 1; p <= Math.max(1, L); p++) {
    if ((N / t) % p !== 0 || (p > 1 && L < p)) continue;
    const d = N / (t * p);
    if (a.batch % d !== 0) continue;
    const c: MegatronConfig = { tensor: t, pipeline: p, data: d, microbatchSize: 1, schedule: "1f1b", recompute: "full", precision };
    // Model states within 70 % of the memory leave room for activations.
    if (estimate(c, facts, a, optimizer, precision).states <= 0.7 * facts.capacity) return c;
  }
  return undefined;
}

export function searchAtScale(graph: Graph, mesh: Mesh, options: ScaleSearchOptions): ScaleSearchResult {
  const now = options.now ?? (() => performance.now());
  const t0 = now();
  const optimizer = options.optimizer ?? "sgd";
  const precision = options.precision ?? "bf16";
  const a = analyseForMegatron(graph);
  const evaluator = new ScaleEvaluator(mesh, { optimizer, ...(options.measured?.length ? { measured: options.measured } : {}) });
  const facts = spaceFacts(graph, mesh, a, precision);
  const space = candidates(graph, mesh, a, { optimizer, precision });
  const N = mesh.devices.length;
  const diagnostics: Diagnostic[] = [];

  // Seeds: the baselines, then the space in estimate order.
  // Data parallelism over as many devices as divide the batch (all of them when N divides it).
  const dpData = largestDivisorAtMost(a.batch, N);
  const seedConfigs: { role: "dataParallel" | "zero3" | "megatron"; config: MegatronConfig }[] = [];
  const dp = (zero: 0 | 3, recompute: RecomputeMode): MegatronConfig => ({ tensor: 1, pipeline: 1, data: dpData, microbatchSize: a.batch / dpData, ...(zero ? { zero } : {}), recompute, precision });
  seedConfigs.push({ role: "dataParallel", config: dp(0, "none") });
  // ZeRO-3 as a user would try it first: without recomputation, or with it when that does not fit.
  const z3 = estimate(dp(3, "none"), facts, a, optimizer, precision).states <= facts.capacity ? dp(3, "none") : dp(3, "full");
  seedConfigs.push({ role: "zero3", config: z3 });
  const rule = megatronRuleOfThumb(a, mesh, facts, optimizer, precision);
  if (rule) seedConfigs.push({ role: "megatron", config: rule });

  type Entry = { config: MegatronConfig; blocks?: number[]; role?: (typeof seedConfigs)[number]["role"]; seed?: boolean };
  // The caller's seeds first (a published configuration to compare with), then the baselines.
  const queue: Entry[] = [
    ...(options.seeds ?? []).map((config) => ({ config, seed: true })),
    ...seedConfigs.map((s) => ({ config: s.config, role: s.role, seed: true })),
    ...space.map((c: Candidate) => ({ config: c.config })),
  ];
  const tried = new Set<string>();
  const fitsWithout = new Set<string>();
  const refined = new Set<string>();
  const baselines: ScaleSearchResult["baselines"] = {};
  const seedResults: ScaleCandidateResult[] = [];
  let best: ScaleCandidateResult | undefined;
  let iterations = 0;
  let slowest = 0;
  let stoppedBy: ScaleSearchResult["stoppedBy"] = "exhausted";
  const budget = options.budget;
  const better = (x: ScaleCandidateResult, y: ScaleCandidateResult | undefined) =>
    !y || (x.feasible && !y.feasible) || (x.feasible === y.feasible && (x.feasible ? x.evaluation.stepTime < y.evaluation.stepTime : x.evaluation.memory.peak < y.evaluation.memory.peak));

  let firstError: ParError | undefined;
  const rebuilds = new Map<number, Graph | undefined>();
  const rebuilt = (samples: number) => {
    if (!rebuilds.has(samples)) rebuilds.set(samples, options.rebuild!(samples));
    return rebuilds.get(samples);
  };
  const price = (config: MegatronConfig, blocks?: number[]): ScaleCandidateResult | undefined => {
    let strategy: Strategy;
    try {
      strategy = megatronStrategy(graph, mesh, config, configKey(config, blocks).replace("|", "-cut"), a, blocks);
    } catch (e) {
      if (e instanceof ParError) return undefined;
      throw e;
    }
    let evaluation: ScaleEvaluation | undefined;
    try {
      evaluation = evaluator.evaluate(graph, strategy);
    } catch (e) {
      // A model that cannot be re-typed at this micro-batch size (PAR7050, PAR7051, PAR7053):
      // priced on the model rebuilt at that size when the caller can rebuild it.
      if (!(e instanceof ParError)) throw e;
      const source = options.rebuild && rebuilt(config.microbatchSize);
      if (source) {
        try {
          evaluation = evaluator.evaluate(graph, strategy, { microbatchSource: source });
        } catch (e2) {
          if (!(e2 instanceof ParError)) throw e2;
        }
      }
      if (!evaluation) {
        firstError ??= e;
        return undefined;
      }
    }
    return { name: strategy.name, config, strategy, evaluation, feasible: evaluation.memory.overCapacity.length === 0 };
  };

  for (let i = 0; i < queue.length; i++) {
    const { config, blocks, role, seed } = queue[i];
    const key = configKey(config, blocks);
    if (tried.has(key)) continue;
    // Recomputation only costs time: once a configuration fits without it, skip the rest.
    const base = configKey({ ...config, recompute: "none" }, blocks);
    if ((config.recompute ?? "none") !== "none" && fitsWithout.has(base) && !seed) continue;
    if ("iterations" in budget ? iterations >= budget.iterations : (now() - t0) / 1e3 + 1.5 * slowest > budget.seconds && iterations > 0) {
      stoppedBy = "budget";
      break;
    }
    tried.add(key);
    const started = now();
    const r = price(config, blocks);
    slowest = Math.max(slowest, (now() - started) / 1e3);
    if (!r) continue;
    iterations++;
    if (role) baselines[role] = r;
    if (seed && !role) seedResults.push(r);
    if (r.feasible && (config.recompute ?? "none") === "none") fitsWithout.add(base);
    if (better(r, best)) {
      best = r;
      // A winning pipeline: re-cut it by the stage-partition DP and price that next.
      if (r.feasible && config.pipeline > 1 && !blocks && !refined.has(key) && a.blocks) {
        refined.add(key);
        const K = r.evaluation.plan.stages.length;
        const L = a.blocks.count;
        // blockStageCuts' even spread: earlier stages take the remainder.
        const per = Array.from({ length: K }, (_, k) => Math.floor(L / K) + (k < L % K ? 1 : 0));
        const times = r.evaluation.timeline.stages.map((s) => s.timing.forward + s.timing.backward);
        const costs = blockCosts(times, per);
        const cut = costs && balanceBlocks(a.blocks.count, K, costs.tau, costs.pre, costs.post);
        if (cut && cut.join(",") !== per.join(",")) queue.splice(i + 1, 0, { config, blocks: cut });
      }
    }
    if (options.onProgress && best) {
      const elapsed = (now() - t0) / 1e3;
      options.onProgress({ iterations, iterationsPerSecond: elapsed > 0 ? iterations / elapsed : 0, bestIterationTime: best.evaluation.stepTime, bestFeasible: best.feasible, acceptanceRate: 1, elapsedSeconds: elapsed });
    }
  }
  // Data parallelism over a divisor of the batch always builds: a result exists.
  if (!best) throw firstError ?? new Error(`scale search: no configuration of ${graph.name} on ${mesh.name} could be priced`);
  const seconds = (now() - t0) / 1e3;
  if ("seconds" in budget && seconds > budget.seconds) {
    diagnostics.push({ code: "PAR7057", severity: "warning", message: `the search ran ${seconds.toFixed(1)} s against a budget of ${budget.seconds} s: ${iterations} configuration(s) priced; the best so far is returned`, hint: "give a larger budget (--budget) for a wider search" });
  }
  if (!best.feasible) {
    diagnostics.push({ code: "PAR7001", severity: "error", message: `no configuration the search priced fits in device memory (the best needs ${(best.evaluation.memory.peak / 2 ** 30).toFixed(1)} GiB per device, ${(facts.capacity / 2 ** 30).toFixed(1)} GiB available)`, hint: "add devices, or reduce the batch or the model" });
  }
  return {
    best,
    baselines,
    seedResults,
    iterations,
    spaceSize: space.length,
    seconds,
    stoppedBy,
    feasible: best.feasible,
    stageSimulations: evaluator.stageSimulations,
    diagnostics,
  };
}

export type { RecomputeMode };
