// The costs the simulator needs, as functions: src/sim imports neither src/cost nor
// src/search (src/cost's CostModel satisfies this interface structurally).

import type { OpNode } from "../ir/graph.js";


export interface SimCosts {
  /** Forward and backward seconds of one task of `op` whose box has `extent`, on `device`. */
  compute(op: OpNode, extent: readonly number[], device: number): { forward: number; backward: number };
  /** Seconds to add `count` partial sums of `bytes` each on `device`. */
  partialSum(bytes: number, count: number, device: number): number;
  /** Seconds to move `bytes` from device `src` to `dst`. */
  transfer(bytes: number, src: number, dst: number): number;
  /** Seconds of an all-reduce of `bytes` among distinct `devices` (ascending). */
  allReduce(bytes: number, devices: readonly number[]): number;
  /** Seconds of the optimizer step on a weight shard of `bytes` on `device`. */
  update(bytes: number, device: number): number;
  /**
   * Optional: devices with equal class have equal compute costs (same kind). Lets the
   * builder ask `compute` once per (extent, class) instead of once per task.
   */
  computeClass?(device: number): number;
}
