// `searchStrategy`: the search stage of the pipeline (Graph × Mesh → Strategy).
//
// Seeds: the baselines (data parallel, model parallel, expert, and Megatron when it differs
// from data parallel, i.e. when the model has layers Megatron splits), the chain DP's
// strategy when the graph is a chain, and RANDOM_SEEDS random strategies of the space.
// The MCMC (mcmc.ts) runs from them; the best FEASIBLE strategy is returned with its
// iteration time and memory report, next to each baseline's. When nothing the search saw
// fits in memory, the result says so (feasible: false) with a PAR7001 diagnostic.

import type { Diagnostic } from "../core/diagnostics.js";
import { Diagnostics } from "../core/diagnostics.js";
import type { Mesh } from "../core/mesh.js";
import { defaultCosts } from "../cost/default-costs.js";
import { peakMemory, type MemoryReport, type Optimizer } from "../cost/memory.js";
import { baseline } from "../ir/baselines.js";
import type { Graph } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import { simulateIterationTime } from "../sim/simulate.js";
import type { SimCosts } from "../sim/costs.js";
import { chainDp, chainOps } from "./dp.js";
import { Evaluator } from "./evaluate.js";
import { exhaustiveSearch, spaceSize, type ExhaustiveResult } from "./exhaustive.js";
import type { Budget } from "./budget.js";
import { DEFAULT_BETA, mcmcSearch, type McmcResult, type SearchProgress } from "./mcmc.js";
import { makeRng } from "./rng.js";
import { SearchSpace, sameConfig } from "./space.js";

export const RANDOM_SEEDS = 2;
/** Spaces with at most this many strategies are enumerated (about 1 s for tiny graphs). */
export const EXACT_SPACE_LIMIT = 10_000;
/**
 * The chain DP seeds the search only while it stays cheap: it prices every (producer
 * config, consumer config) pair of every edge, ~15 µs each (AlexNet on p100x16: 113k
 * pairs, 1.7 s; on k80x64 2.1M pairs, 54 s, so skipped there).
 */
const DP_MAX_PAIRS = 150_000;

/**
 * What the search is doing, for a progress line: preparing (baselines, the chain DP, the
 * space), pricing its seeds, searching (then onProgress reports iterations), enumerating a
 * small space, pricing the baselines for the report.
 */
export type SearchPhase =
  | { phase: "preparing" }
  | { phase: "seeds"; done: number; total: number }
  | { phase: "searching" }
  | { phase: "enumerating"; strategies: number }
  | { phase: "baselines"; done: number; total: number };

export interface SearchOptions {
  budget: Budget;
  seed: number;
  optimizer?: Optimizer;
  onProgress?: (p: SearchProgress) => void;
  onPhase?: (p: SearchPhase) => void;
  /** Iterations between progress callbacks (default 100). */
  progressEvery?: number;
  beta?: number;
  /** Costs to price strategies with (default: defaultCosts(graph, mesh, { optimizer })). */
  costs?: SimCosts;
}

export interface BaselineResult {
  strategy: Strategy;
  /** Seconds per training iteration. */
  iterationTime: number;
  /** True when its peak memory fits on every device. */
  feasible: boolean;
}

export interface SearchResult {
  best: { strategy: Strategy; iterationTime: number; memory: MemoryReport };
  baselines: { dataParallel: BaselineResult; modelParallel: BaselineResult; expert: BaselineResult; megatron?: BaselineResult };
  iterations: number;
  seconds: number;
  acceptanceRate: number;
  /** False when no strategy the search visited fits in memory (best is then the least over). */
  feasible: boolean;
  /** Which seed the chain started from ("dp", "expert", "chain-dp", "random-1", ...). */
  startSeed: string;
  /** Iteration at which the best was found (0: it is a seed). */
  bestIteration: number;
  /** Seconds spent seeding (baselines, chain DP, random seeds) before the MCMC started. */
  setupSeconds: number;
  /** Seconds from the call to the moment the best was found (seeding included): time to convergence. */
  bestSeconds: number;
  stoppedBy: "budget" | "no-improvement" | "exhaustive";
  beta: number;
  diagnostics: Diagnostic[];
}

function randomStrategy(graph: Graph, mesh: Mesh, space: SearchSpace, seed: number, name: string): Strategy {
  const rng = makeRng(seed);
  const ops: Record<string, OpConfig> = {};
  for (const op of graph.topoOrder()) ops[op.name] = space.randomConfig(op, rng);
  return { name, model: graph.name, mesh: mesh.name, ops };
}

/** An exhaustive result in the MCMC's result shape (the seeds are never better: they are in the space). */
function exactRun(graph: Graph, mesh: Mesh, costs: SimCosts, seeds: Strategy[], exact: ExhaustiveResult, optimizer: Optimizer, t0: number): McmcResult {
  const seedCosts = seeds.map((s) => new Evaluator(graph, mesh, s, costs, optimizer).cost());
  let startSeed = 0;
  seedCosts.forEach((c, i) => c < seedCosts[startSeed] && (startSeed = i));
  const ev = new Evaluator(graph, mesh, exact.strategy, costs, optimizer);
  return {
    strategy: { ...exact.strategy, name: "searched" },
    cost: exact.cost,
    iterationTime: ev.iterationTime(),
    feasible: exact.feasible,
    iterations: exact.evaluated,
    accepted: 0,
    acceptanceRate: 0,
    bestIteration: 0,
    bestSeconds: (performance.now() - t0) / 1000,
    startSeed,
    seedCosts,
    seconds: (performance.now() - t0) / 1000,
    stoppedBy: "exhaustive",
  };
}

function sameStrategy(a: Strategy, b: Strategy): boolean {
  return Object.keys(a.ops).every((k) => b.ops[k] && sameConfig(a.ops[k], b.ops[k]));
}

/**
 * The baseline seeds (dp, mp, expert, and megatron when it differs from dp) and the search
 * space they extend: what `searchStrategy` searches, for tests and tools that enumerate it.
 */
export function searchSetup(graph: Graph, mesh: Mesh): { dp: Strategy; mp: Strategy; expert: Strategy; megatron?: Strategy; seeds: Strategy[]; space: SearchSpace } {
  const dp = baseline("dp", graph, mesh);
  const mp = baseline("mp", graph, mesh);
  const ex = baseline("expert", graph, mesh);
  const mg = baseline("megatron", graph, mesh);
  const megatronApplies = !sameStrategy(mg, dp);
  const seeds = [dp, mp, ex, ...(megatronApplies ? [mg] : [])];
  const out: ReturnType<typeof searchSetup> = { dp, mp, expert: ex, seeds, space: new SearchSpace(graph, mesh, { seeds }) };
  if (megatronApplies) out.megatron = mg;
  return out;
}

export function searchStrategy(graph: Graph, mesh: Mesh, options: SearchOptions): SearchResult {
  const started = performance.now();
  const optimizer = options.optimizer ?? "sgd";
  const costs = options.costs ?? defaultCosts(graph, mesh, { optimizer });
  const diagnostics = new Diagnostics();
  const onPhase = options.onPhase ?? (() => undefined);

  onPhase({ phase: "preparing" });
  const setup = searchSetup(graph, mesh);
  const { dp, mp, expert: ex, space } = setup;
  const mg = setup.megatron;
  const baselineSeeds = setup.seeds;

  const seeds: Strategy[] = [...baselineSeeds];
  const chain = chainOps(graph);
  if (chain) {
    let pairs = 0;
    for (let i = 1; i < chain.length; i++) pairs += space.configCount(chain[i - 1]) * space.configCount(chain[i]);
    const dp = pairs <= DP_MAX_PAIRS ? chainDp(graph, mesh, costs, space) : undefined;
    if (dp) seeds.push(dp.strategy);
  }
  for (let k = 1; k <= RANDOM_SEEDS; k++) seeds.push(randomStrategy(graph, mesh, space, options.seed * 7919 + k, `random-${k}`));

  // A small space is enumerated instead: exact, and about as much work as the MCMC would do
  // (single-op moves can miss optima that need two ops changed together, e.g. a
  // Megatron-style column/row pair). Small: at most EXACT_SPACE_LIMIT strategies, or the
  // iteration budget when that is larger.
  const size = spaceSize(graph, space);
  const exactLimit = Math.max(EXACT_SPACE_LIMIT, "iterations" in options.budget ? options.budget.iterations : 0);
  if (size <= exactLimit) onPhase({ phase: "enumerating", strategies: size });
  const exact = size <= exactLimit ? exhaustiveSearch(graph, mesh, costs, space, { optimizer, limit: exactLimit }) : undefined;
  // A seconds budget covers the seeding too (the chain DP can take a second).
  const setupSeconds = (performance.now() - started) / 1000;
  const budget: Budget = "seconds" in options.budget ? { seconds: Math.max(options.budget.seconds - setupSeconds, options.budget.seconds / 10) } : options.budget;
  const run = exact ? exactRun(graph, mesh, costs, seeds, exact, optimizer, started) : mcmcSearch(graph, mesh, costs, seeds, space, {
    budget,
    seed: options.seed,
    beta: options.beta,
    optimizer,
    onProgress: options.onProgress,
    progressEvery: options.progressEvery,
    onSeed: (done, total) => {
      onPhase({ phase: "seeds", done, total });
      if (done === total) onPhase({ phase: "searching" });
    },
  });

  const baselineCount = mg ? 4 : 3;
  let priced = 0;
  onPhase({ phase: "baselines", done: 0, total: baselineCount });
  const describe = (s: Strategy): BaselineResult => {
    const r = { strategy: s, iterationTime: simulateIterationTime(graph, mesh, s, costs), feasible: peakMemory(graph, s, mesh, optimizer).overCapacity.length === 0 };
    onPhase({ phase: "baselines", done: ++priced, total: baselineCount });
    return r;
  };
  const baselines: SearchResult["baselines"] = { dataParallel: describe(dp), modelParallel: describe(mp), expert: describe(ex) };
  if (mg) baselines.megatron = describe(mg);
  for (const [name, b] of Object.entries(baselines)) {
    if (!b.feasible) diagnostics.warning("PAR7005", `the ${name} baseline of \`${graph.name}\` does not fit in device memory on ${mesh.name}; its iteration time is shown for comparison only`);
  }

  const memory = peakMemory(graph, run.strategy, mesh, optimizer);
  if (!run.feasible) {
    const worst = memory.overCapacity.reduce((a, b) => (b.bytes - b.capacity > a.bytes - a.capacity ? b : a), memory.overCapacity[0]);
    diagnostics.error(
      "PAR7001",
      `no feasible strategy for \`${graph.name}\` on ${mesh.name}: every strategy the search visited needs more memory than some device has` +
        (worst ? ` (the best found needs ${(worst.bytes / 2 ** 30).toFixed(2)} GiB on device ${worst.device}, which has ${(worst.capacity / 2 ** 30).toFixed(2)} GiB)` : ""),
      { hint: "use a mesh with more or larger devices, a smaller batch (--set batch=N), or a lighter optimizer (sgd keeps no state)" },
    );
  }
  return {
    best: { strategy: run.strategy, iterationTime: run.iterationTime, memory },
    baselines,
    iterations: run.iterations,
    seconds: (performance.now() - started) / 1000,
    acceptanceRate: run.acceptanceRate,
    feasible: run.feasible,
    startSeed: seeds[run.startSeed].name,
    bestIteration: run.bestIteration,
    setupSeconds,
    bestSeconds: setupSeconds + (exact ? 0 : run.bestSeconds),
    stoppedBy: run.stoppedBy,
    beta: options.beta ?? DEFAULT_BETA,
    diagnostics: diagnostics.items,
  };
}
