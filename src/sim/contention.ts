// Contention between devices that share one machine (the `local` mesh: one device per
// core). Such devices share memory bandwidth and caches, so a kernel runs slower while
// its neighbours compute; a measured table can carry each task's time alone and its time
// while every other device computes ("loaded", src/cost/compute.ts). A task's cost then
// depends on the schedule (how much of it overlaps other devices' compute), and the
// schedule on the costs, so the prediction is a fixed point:
//
//   f ← 0 (every task alone)
//   repeat: simulate with cost(task) = alone + f(task) · (loaded − alone);
//           f(task) ← the mean, over the task's duration, of the fraction of the OTHER
//                     devices computing at that instant (0 alone, 1 all of them busy),
//                     averaged over the tasks of one (op, device, direction)
//   until the iteration time moves by < 0.1 % (or after MAX_ROUNDS rounds; the last
//   simulation is returned, so the timeline is self-consistent with its own costs).
//
// Communication and the optimizer's updates keep their model costs: only forward and
// backward kernels were measured under load. Deterministic: no randomness, fixed order.

import type { Mesh } from "../core/mesh.js";
import type { Graph, OpNode } from "../ir/graph.js";
import type { Strategy } from "../ir/strategy.js";
import { simulate, type SimulateOptions, type Timeline, type TimelineTask } from "./simulate.js";
import type { SimCosts } from "./costs.js";

type TaskTime = ReturnType<SimCosts["compute"]>;

/** SimCosts plus each compute task's time under load (undefined where not measured). */
export interface ContentionCosts extends SimCosts {
  computeLoaded(op: OpNode, extent: readonly number[], device: number): TaskTime | undefined;
  /** False when nothing was measured under load: one plain simulation then suffices. */
  readonly hasLoadedCosts?: boolean;
}

const MAX_ROUNDS = 8;
const TOLERANCE = 1e-3;

export interface ContentionResult {
  timeline: Timeline;
  /** Simulations run until the fixed point (1 when nothing was measured under load). */
  rounds: number;
  /** Mean load fraction per "op@device/fwd|bwd" of the final round. */
  load: Map<string, number>;
}

/** Sums, for each compute task, how long the other devices computed during it. */
function loadFractions(timeline: Timeline, devices: number): Map<string, number> {
  const busy: TimelineTask[][] = Array.from({ length: devices }, () => []);
  const computeKinds = new Set(["fwd", "bwd", "reduce", "update"]);
  for (const t of timeline.tasks) if (computeKinds.has(t.kind) && t.device >= 0 && t.end > t.start) busy[t.device].push(t);
  for (const list of busy) list.sort((a, b) => a.start - b.start);
  // Overlap of [s, e) with device d's busy intervals (a device runs one task at a time).
  const overlap = (d: number, s: number, e: number): number => {
    const list = busy[d];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].end <= s) lo = mid + 1;
      else hi = mid;
    }
    let sum = 0;
    for (let i = lo; i < list.length && list[i].start < e; i++) sum += Math.min(e, list[i].end) - Math.max(s, list[i].start);
    return sum;
  };
  const sums = new Map<string, { load: number; time: number }>();
  for (let d = 0; d < devices; d++) {
    for (const t of busy[d]) {
      if (t.kind !== "fwd" && t.kind !== "bwd") continue;
      let other = 0;
      for (let e = 0; e < devices; e++) if (e !== d) other += overlap(e, t.start, t.end);
      const key = `${t.op}@${d}/${t.kind}`;
      const acc = sums.get(key) ?? { load: 0, time: 0 };
      acc.load += other / (devices - 1);
      acc.time += t.end - t.start;
      sums.set(key, acc);
    }
  }
  const out = new Map<string, number>();
  for (const [k, v] of sums) out.set(k, v.time > 0 ? Math.min(1, v.load / v.time) : 0);
  return out;
}

/** `costs` with compute blended between alone and loaded by the given load fractions. */
function blended(costs: ContentionCosts, load: Map<string, number>): SimCosts {
  const blend = (alone: number, loaded: number, f: number) => alone + f * (loaded - alone);
  return {
    compute(op, extent, device) {
      const alone = costs.compute(op, extent, device);
      const loaded = costs.computeLoaded(op, extent, device);
      if (!loaded) return alone;
      return {
        forward: blend(alone.forward, loaded.forward, load.get(`${op.name}@${device}/fwd`) ?? 0),
        backward: blend(alone.backward, loaded.backward, load.get(`${op.name}@${device}/bwd`) ?? 0),
      };
    },
    partialSum: (bytes, count, device) => costs.partialSum(bytes, count, device),
    transfer: (bytes, src, dst) => costs.transfer(bytes, src, dst),
    allReduce: (bytes, devices) => costs.allReduce(bytes, devices),
    update: (bytes, device) => costs.update(bytes, device),
    // Load differs per device, so no two devices share compute costs.
    computeClass: (device) => device,
  };
}

/** The timeline of `strategy` with each kernel charged for the contention it meets. */
export function simulateWithContention(graph: Graph, mesh: Mesh, strategy: Strategy, costs: ContentionCosts, options: SimulateOptions = {}): ContentionResult {
  let load = new Map<string, number>();
  if (mesh.devices.length < 2 || costs.hasLoadedCosts === false) return { timeline: simulate(graph, mesh, strategy, costs, options), rounds: 1, load };
  let timeline = simulate(graph, mesh, strategy, blended(costs, load), options);
  let rounds = 1;
  while (rounds < MAX_ROUNDS) {
    const next = loadFractions(timeline, mesh.devices.length);
    const t = simulate(graph, mesh, strategy, blended(costs, next), options);
    rounds++;
    const moved = Math.abs(t.iterationTime - timeline.iterationTime) / Math.max(timeline.iterationTime, 1e-12);
    timeline = t;
    load = next;
    if (moved < TOLERANCE) break;
  }
  return { timeline, rounds, load };
}
