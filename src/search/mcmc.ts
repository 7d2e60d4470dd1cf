// Metropolis–Hastings over strategies, as in FlexFlow (Jia et al., SysML 2019, §6).
//
// State: a complete strategy, held in an Evaluator (DeltaSimulator + MemoryTracker). A
// proposal re-configures ONE op: with probability RANDOM_MOVE_SHARE a uniformly random
// config of its space (FlexFlow's move, which lets the chain jump anywhere), otherwise a
// random one-step neighbour (space.ts `neighbours`: a degree up/down, a factor moved between
// dims, the block moved, the producer's devices), which refines a good strategy faster.
// The delta simulator re-times only what the change touches; a rejected proposal is undone
// with a second setConfig.
//
// Acceptance: a proposal no worse than the current state is always taken; a worse one with
// probability exp(−β·Δ/cost), Δ = new − current cost. β multiplies the RELATIVE change, so
// one β suits models whose iteration times differ by orders of magnitude. Default
// β = DEFAULT_BETA = 20: a proposal 1 % worse is taken 82 % of the time, 5 % worse 37 %,
// 10 % worse 14 %, 25 % worse 0.7 %: hot enough to cross the ridge between two local
// optima that differ in two ops (measured on tiny graphs against the exhaustive optimum;
// β = 100 got stuck there), cold enough not to wander far from good strategies.
//
// Seeds and restarts: the chain starts from the cheapest seed; when it has not improved on
// its own best for `restartAfter` iterations (default max(100, 10 × ops): a few proposals
// per op) it restarts, in turn, from the best strategy so far, from a fresh random strategy
// of the space, and from the next seed. On 80 random tiny graphs (seed 11) this restart
// length hit the exhaustive optimum 80/80 times, a fixed 500 only 76/80.
//
// Budget (src/search/budget.ts): a number of iterations (deterministic: the result is a
// pure function of graph, mesh, seeds, options and seed) or seconds (wall clock; not
// deterministic). The search also stops once the best has not improved for half the
// budget. The result is the best state seen, so never worse than the best seed.

import type { Mesh } from "../core/mesh.js";
import type { Optimizer } from "../cost/memory.js";
import type { Graph } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import type { SimCosts } from "../sim/costs.js";
import type { Budget } from "./budget.js";
import { Evaluator, INFEASIBLE_COST } from "./evaluate.js";
import { makeRng } from "./rng.js";
import { sameConfig, type SearchSpace } from "./space.js";

export const DEFAULT_BETA = 20;
export const RANDOM_MOVE_SHARE = 0.25;
/** Iterations without improving the chain's best before a restart: 10 per op, at least 100. */
export function defaultRestartAfter(opCount: number): number {
  return Math.max(100, 10 * opCount);
}

export interface SearchProgress {
  iterations: number;
  iterationsPerSecond: number;
  /** Seconds per training iteration of the best strategy so far. */
  bestIterationTime: number;
  bestFeasible: boolean;
  /** Accepted proposals / proposals so far. */
  acceptanceRate: number;
  elapsedSeconds: number;
}

export interface McmcOptions {
  budget: Budget;
  seed: number;
  beta?: number;
  optimizer?: Optimizer;
  restartAfter?: number;
  onProgress?: (p: SearchProgress) => void;
  /** Iterations between progress callbacks (default 100). */
  progressEvery?: number;
  /** Called after each seed is priced (a full simulation each: seconds on large models). */
  onSeed?: (done: number, total: number) => void;
  /** Milliseconds clock for seconds budgets and rates (default performance.now). */
  now?: () => number;
}

export interface McmcResult {
  strategy: Strategy;
  /** The objective of `strategy` (see evaluate.ts). */
  cost: number;
  iterationTime: number;
  feasible: boolean;
  iterations: number;
  accepted: number;
  acceptanceRate: number;
  /** Iteration at which the best was found (0: a seed). */
  bestIteration: number;
  /** Seconds from the start to the moment the best was found (the time to convergence). */
  bestSeconds: number;
  /** Index into `seeds` of the seed the search started from. */
  startSeed: number;
  seedCosts: number[];
  seconds: number;
  /** "exhaustive": searchStrategy enumerated a space no larger than the budget instead. */
  stoppedBy: "budget" | "no-improvement" | "exhaustive";
}

export function mcmcSearch(graph: Graph, mesh: Mesh, costs: SimCosts, seeds: readonly Strategy[], space: SearchSpace, options: McmcOptions): McmcResult {
  if (seeds.length === 0) throw new Error("mcmcSearch needs at least one seed");
  const now = options.now ?? (() => performance.now());
  const t0 = now();
  const beta = options.beta ?? DEFAULT_BETA;
  const restartAfter = options.restartAfter ?? defaultRestartAfter(graph.ops.size);
  const progressEvery = options.progressEvery ?? 100;
  const rng = makeRng(options.seed);
  const ops = graph.topoOrder();
  const byIterations = "iterations" in options.budget;
  const maxIterations = byIterations ? (options.budget as { iterations: number }).iterations : Infinity;
  const maxMs = byIterations ? Infinity : (options.budget as { seconds: number }).seconds * 1000;

  // Seeds: evaluated in order on one evaluator; the cheapest (first on ties) starts the chain.
  const ev = new Evaluator(graph, mesh, seeds[0], costs, options.optimizer);
  const seedCosts = seeds.map((s, i) => {
    ev.moveTo(s.ops);
    const cost = ev.cost();
    options.onSeed?.(i + 1, seeds.length);
    return cost;
  });
  const order = seeds.map((_, i) => i).sort((a, b) => seedCosts[a] - seedCosts[b] || a - b);
  const startSeed = order[0];
  ev.moveTo(seeds[startSeed].ops);
  let cur = ev.cost();
  let best = ev.snapshot();
  let bestCost = cur;
  let bestTime = ev.iterationTime();
  let bestIteration = 0;
  let bestMs = now() - t0;
  let chainBest = cur;
  let chainBestAt = 0;
  let restartIndex = 0;

  let iterations = 0;
  let accepted = 0;
  let stoppedBy: McmcResult["stoppedBy"] = "budget";
  const report = (): void => {
    if (!options.onProgress) return;
    const elapsed = (now() - t0) / 1000;
    options.onProgress({
      iterations,
      iterationsPerSecond: elapsed > 0 ? iterations / elapsed : 0,
      bestIterationTime: bestTime,
      bestFeasible: bestCost < INFEASIBLE_COST,
      acceptanceRate: iterations ? accepted / iterations : 0,
      elapsedSeconds: elapsed,
    });
  };

  while (iterations < maxIterations) {
    const elapsedMs = now() - t0;
    if (elapsedMs >= maxMs) break;
    if (byIterations ? iterations - bestIteration >= maxIterations / 2 : elapsedMs - bestMs >= maxMs / 2) {
      stoppedBy = "no-improvement";
      break;
    }
    iterations++;
    const op = ops[rng.int(ops.length)];
    const old = ev.ops[op.name];
    let proposal: OpConfig;
    if (rng.next() < RANDOM_MOVE_SHARE) proposal = space.randomConfig(op, rng);
    else {
      const ns = space.neighbours(op, old, { name: "", model: "", mesh: "", ops: ev.ops });
      proposal = ns.length ? ns[rng.int(ns.length)] : space.randomConfig(op, rng);
    }
    if (!sameConfig(proposal, old)) {
      ev.set(op.name, proposal);
      const next = ev.cost();
      const delta = next - cur;
      if (delta <= 0 || rng.next() < Math.exp((-beta * delta) / cur)) {
        accepted++;
        cur = next;
        if (cur < bestCost) {
          bestCost = cur;
          bestTime = ev.iterationTime();
          best = ev.snapshot();
          bestIteration = iterations;
          bestMs = now() - t0;
        }
        if (cur < chainBest) {
          chainBest = cur;
          chainBestAt = iterations;
        }
      } else ev.set(op.name, old);
    }
    if (iterations - chainBestAt >= restartAfter) {
      // Restart, in turn: from the best so far, from a fresh random strategy, from the next seed.
      const k = restartIndex++;
      if (k % 3 === 0) ev.moveTo(best);
      else if (k % 3 === 1) for (const o of ops) ev.set(o.name, space.randomConfig(o, rng));
      else ev.moveTo(seeds[order[(1 + Math.floor(k / 3)) % order.length]].ops);
      cur = ev.cost();
      chainBest = cur;
      chainBestAt = iterations;
    }
    if (iterations % progressEvery === 0) report();
  }
  ev.moveTo(best);
  const iterationTime = ev.iterationTime();
  report();
  return {
    strategy: { name: "searched", model: graph.name, mesh: mesh.name, ops: best },
    cost: bestCost,
    iterationTime,
    feasible: bestCost < INFEASIBLE_COST,
    iterations,
    accepted,
    acceptanceRate: iterations ? accepted / iterations : 0,
    bestIteration,
    bestSeconds: bestMs / 1000,
    startSeed,
    seedCosts,
    seconds: (now() - t0) / 1000,
    stoppedBy,
  };
}
