// The search's objective: one strategy held in a DeltaSimulator and a MemoryTracker, both
// updated one op at a time, and its cost.
//
// cost = simulated iteration time (seconds) when every device's peak memory fits;
// otherwise INFEASIBLE_COST × (1 + excess bytes / total capacity) + iteration time. Any
// feasible strategy is cheaper than any infeasible one (iteration times are far below
// INFEASIBLE_COST), and among infeasible ones the cost still falls as memory overflow
// shrinks, so a search started from strategies that do not fit walks towards ones that do.

import type { Mesh } from "../core/mesh.js";
import type { Optimizer } from "../cost/memory.js";
import type { Graph } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import { DeltaSimulator } from "../sim/simulate.js";
import type { SimCosts } from "../sim/costs.js";
import { MemoryTracker } from "./memory-tracker.js";
import { sameConfig } from "./space.js";

/** Seconds: the cost floor of a strategy that does not fit in memory. */
export const INFEASIBLE_COST = 1e6;

export class Evaluator {
  readonly sim: DeltaSimulator;
  readonly memory: MemoryTracker;
  /** The current config of every op (owned; replaced, never mutated in place). */
  readonly ops: Record<string, OpConfig>;
  private readonly capacitySum: number;

  constructor(readonly graph: Graph, readonly mesh: Mesh, start: Strategy, costs: SimCosts, optimizer: Optimizer = "sgd") {
    this.ops = { ...start.ops };
    this.sim = new DeltaSimulator(graph, mesh, start, costs);
    this.memory = new MemoryTracker(graph, mesh, start.ops, optimizer);
    this.capacitySum = mesh.devices.reduce((s, d) => s + d.spec.memoryBytes, 0);
  }

  set(op: string, config: OpConfig): void {
    this.ops[op] = config;
    this.sim.setConfig(op, config);
    this.memory.setConfig(op, config);
  }

  /** Re-configures every op whose config differs from `target` (a restart). */
  moveTo(target: Record<string, OpConfig>): void {
    for (const [op, c] of Object.entries(target)) if (!sameConfig(this.ops[op], c)) this.set(op, c);
  }

  iterationTime(): number {
    return this.sim.iterationTime();
  }

  feasible(): boolean {
    return this.memory.feasible();
  }

  cost(): number {
    const t = this.sim.iterationTime();
    const excess = this.memory.excess();
    return excess > 0 ? INFEASIBLE_COST * (1 + excess / this.capacitySum) + t : t;
  }

  snapshot(): Record<string, OpConfig> {
    return { ...this.ops };
  }
}
