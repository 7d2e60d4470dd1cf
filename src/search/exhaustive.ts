// Exhaustive search for tiny graphs: every combination of the ops' configs (space.ts
// `enumerateConfigs`), the reference the MCMC and the chain DP are tested against.
//
// Objective "simulate" (default) is the search's own cost (evaluate.ts: simulated iteration
// time, memory-infeasible strategies penalised), walked in odometer order on one
// Evaluator, so consecutive combinations differ in few ops and the delta simulator re-times
// little. Objective "chain" is the chain DP's additive cost (dp.ts ChainCost), for checking
// the DP. Ties keep the first combination in odometer order.

import type { Mesh } from "../core/mesh.js";
import { Diagnostics } from "../core/diagnostics.js";
import type { Optimizer } from "../cost/memory.js";
import type { Graph } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import type { SimCosts } from "../sim/costs.js";
import { chainOps, ChainCost } from "./dp.js";
import { Evaluator, INFEASIBLE_COST } from "./evaluate.js";
import type { SearchSpace } from "./space.js";

export const DEFAULT_EXHAUSTIVE_LIMIT = 200_000;

export interface ExhaustiveOptions {
  objective?: "simulate" | "chain";
  optimizer?: Optimizer;
  /** Most combinations to evaluate; larger spaces report PAR7003. */
  limit?: number;
}

export interface ExhaustiveResult {
  strategy: Strategy;
  cost: number;
  feasible: boolean;
  /** Combinations evaluated. */
  evaluated: number;
}

/** The number of combinations of the space over `graph` (may exceed 2^53 as a float). */
export function spaceSize(graph: Graph, space: SearchSpace): number {
  let n = 1;
  for (const op of graph.ops.values()) n *= space.configCount(op);
  return n;
}

export function exhaustiveSearch(graph: Graph, mesh: Mesh, costs: SimCosts, space: SearchSpace, options: ExhaustiveOptions = {}, diagnostics: Diagnostics = new Diagnostics()): ExhaustiveResult | undefined {
  const limit = options.limit ?? DEFAULT_EXHAUSTIVE_LIMIT;
  const ops = graph.topoOrder();
  const configs = ops.map((op) => space.enumerateConfigs(op));
  const total = configs.reduce((n, c) => n * c.length, 1);
  if (total > limit) {
    diagnostics.error("PAR7003", `the exhaustive space of \`${graph.name}\` on ${mesh.name} has ${total.toExponential(2)} strategies, more than the limit of ${limit}`, {
      hint: "use the MCMC search, or the chain DP when the model is a chain",
    });
    return undefined;
  }
  const idx = ops.map(() => 0);
  const current = (): Record<string, OpConfig> => Object.fromEntries(ops.map((op, i) => [op.name, configs[i][idx[i]]]));
  const strategyOf = (o: Record<string, OpConfig>): Strategy => ({ name: "exhaustive", model: graph.name, mesh: mesh.name, ops: o });

  let evaluate: () => number;
  let set: (i: number) => void;
  let feasibleOf: (cost: number) => boolean;
  if (options.objective === "chain") {
    const chain = chainOps(graph);
    if (!chain) {
      diagnostics.error("PAR7004", `model \`${graph.name}\` is not a chain, so the chain objective does not apply`);
      return undefined;
    }
    const model = new ChainCost(graph, mesh, costs);
    let state = current();
    set = (i) => {
      state = { ...state, [ops[i].name]: configs[i][idx[i]] };
    };
    evaluate = () => model.total(chain, state);
    feasibleOf = () => true;
  } else {
    const ev = new Evaluator(graph, mesh, strategyOf(current()), costs, options.optimizer);
    set = (i) => ev.set(ops[i].name, configs[i][idx[i]]);
    evaluate = () => ev.cost();
    feasibleOf = (c) => c < INFEASIBLE_COST;
  }
  let bestCost = evaluate();
  let best = current();
  let evaluated = 1;
  for (;;) {
    // Odometer step: the last op turns fastest.
    let i = ops.length - 1;
    while (i >= 0 && idx[i] === configs[i].length - 1) {
      idx[i] = 0;
      set(i);
      i--;
    }
    if (i < 0) break;
    idx[i]++;
    set(i);
    const c = evaluate();
    evaluated++;
    if (c < bestCost) {
      bestCost = c;
      best = current();
    }
  }
  return { strategy: strategyOf(best), cost: bestCost, feasible: feasibleOf(bestCost), evaluated };
}
