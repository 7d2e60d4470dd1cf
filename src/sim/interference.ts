// Prediction under interference: on a shared machine a device's kernels do not run at one
// speed. Whatever else needs a core (the other devices' helper threads, the garbage
// collector, the OS, other tenants) takes it from one device for a while, and a strategy
// pays for that at every point where devices wait for each other: the slowest device sets
// the pace of an all-reduce, a late sender delays its receiver. One deterministic
// simulation with median task times sees none of this (the median of a maximum exceeds the
// maximum of the medians), so it predicts strategies with many synchronisations too fast on
// a busy host, and ranks them wrongly against the single device.
//
// Messages meet it too: a receiver that waited past its spin sleeps, and on a busy host the
// OS takes tens to hundreds of microseconds to wake it once the data is there, an order of
// magnitude above the latency of two spinning threads (the local mesh's shm figure).
//
// The model, both parts measured in a run (`par profile --in-run`, src/runtime/
// profile-run.ts): in one iteration a device's own work (kernels, partial sums, optimizer)
// all runs `s` times slower than its measured median, `s` drawn from the measured
// slowdowns (one per device and step: the time of everything the device did but wait for
// peers, over the sum of those instructions' medians) independently per device; and every
// message between two devices arrives later than its modelled transfer by a delay drawn
// from the measured delivery delays. Each draw is one ordinary simulation with those
// costs; the prediction is the median over the draws, so it is comparable to a measured
// median step. Draws come from a seeded generator: same
// inputs, same prediction. Collectives keep their model costs (a run times them as one
// instruction, waits included, so there is no delivery delay to measure apart).

import type { Mesh } from "../core/mesh.js";
import { mulberry32 } from "../core/random.js";
import { median, quantile } from "../core/stats.js";
import type { Graph, OpNode } from "../ir/graph.js";
import type { Strategy } from "../ir/strategy.js";
import { simulateIterationTime } from "./simulate.js";
import type { SimCosts } from "./costs.js";

/** Draws per prediction unless told: odd, so the median is one simulated iteration. */
export const DEFAULT_DRAWS = 101;

/** What a run measured (src/cost/compute.ts's CostModel serves it from measured tables). */
export interface MeasuredInterference {
  /** Kernel slowdown factors of `device` (one per measured device and step), if measured. */
  slowdowns(device: number): readonly number[] | undefined;
  /** Delivery delays in seconds of messages from `src` to `dst`, if measured. */
  deliveryDelays(src: number, dst: number): readonly number[] | undefined;
}

export interface InterferenceOptions {
  /** Simulated iterations (default DEFAULT_DRAWS). */
  draws?: number;
  /** Seed of the draws (default 1). */
  seed?: number;
}

export interface InterferencePrediction {
  /** Median simulated iteration time over the draws (seconds). */
  median: number;
  /** 10th and 90th percentiles of the draws (seconds). */
  p10: number;
  p90: number;
  draws: number;
}

/** A uniformly drawn element of `list`, or `none` when there is nothing to draw from. */
function drawFrom(list: readonly number[] | undefined, random: () => number, none: number): number {
  return list && list.length ? list[Math.floor(random() * list.length)] : none;
}

/**
 * `costs` with device `d`'s own work (kernels, partial sums, optimizer) `factor[d]` times
 * slower, and every message between two devices `delay(src, dst)` seconds later.
 */
export function scaledCosts(costs: SimCosts, factor: Float64Array, delay: (src: number, dst: number) => number = () => 0): SimCosts {
  // No computeClass: scaled devices no longer share costs by kind.
  return {
    compute(op: OpNode, extent: readonly number[], device: number) {
      const t = costs.compute(op, extent, device);
      const f = factor[device];
      return { forward: t.forward * f, backward: t.backward * f };
    },
    partialSum: (bytes, count, device) => costs.partialSum(bytes, count, device) * factor[device],
    transfer: (bytes, src, dst) => costs.transfer(bytes, src, dst) + (src === dst || bytes <= 0 ? 0 : delay(src, dst)),
    allReduce: (bytes, devices) => costs.allReduce(bytes, devices),
    update: (bytes, device) => costs.update(bytes, device) * factor[device],
  };
}

/**
 * The iteration time of `strategy` under `measured` interference: each device's kernels
 * slower by a factor drawn per iteration, each message later by a drawn delay (a device or
 * pair without measurements runs at its costs).
 */
export function predictUnderInterference(
  graph: Graph,
  mesh: Mesh,
  strategy: Strategy,
  costs: SimCosts,
  measured: MeasuredInterference,
  options: InterferenceOptions = {},
): InterferencePrediction {
  const draws = options.draws ?? DEFAULT_DRAWS;
  if (!(Number.isInteger(draws) && draws >= 1)) throw new RangeError(`draws must be an integer ≥ 1, got ${draws}`);
  const random = mulberry32(options.seed ?? 1);
  const n = mesh.devices.length;
  const lists = Array.from({ length: n }, (_, d) => measured.slowdowns(d));
  for (const [d, list] of lists.entries()) {
    if (list && !list.every((s) => s > 0 && Number.isFinite(s))) throw new RangeError(`device ${d}: slowdowns must be finite numbers > 0`);
  }
  const delays = new Map<number, readonly number[] | undefined>();
  const delay = (src: number, dst: number): number => {
    const k = src * n + dst;
    if (!delays.has(k)) {
      const list = measured.deliveryDelays(src, dst);
      if (list && !list.every((x) => x >= 0 && Number.isFinite(x))) throw new RangeError(`${src}→${dst}: delivery delays must be finite numbers ≥ 0`);
      delays.set(k, list);
    }
    return drawFrom(delays.get(k), random, 0);
  };
  const factor = new Float64Array(n);
  const scaled = scaledCosts(costs, factor, delay);
  const times: number[] = [];
  for (let k = 0; k < draws; k++) {
    for (let d = 0; d < n; d++) factor[d] = drawFrom(lists[d], random, 1);
    times.push(simulateIterationTime(graph, mesh, strategy, scaled));
  }
  return { median: median(times), p10: quantile(times, 0.1), p90: quantile(times, 0.9), draws };
}
