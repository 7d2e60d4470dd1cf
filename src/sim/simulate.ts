// Event-driven list scheduling of the task graph (FlexFlow's simulator) and its delta form.
//
// Scheduling: a task is ready when all its predecessors have ended; ready tasks are taken
// in (ready time, structural key) order from one global queue, and each starts on its
// resource (a device's compute queue or a link queue, see Links) at max(ready, the time
// that resource frees up). So every resource serves its tasks FIFO in ready order, ties
// broken by key; compute and communication overlap because they are different resources.
// Pops come out in non-decreasing ready time (a successor is ready no earlier than its
// predecessor's end ≥ the predecessor's ready time).
//
// Delta simulation (DeltaSimulator.setConfig): the builder swaps one op's tasks and the
// transfers on its edges; then with t0 = the earliest of
//   - the old ready time of any removed task or any task whose predecessor set changed, and
//   - for each new or changed task whose predecessors are all unchanged, the latest end of
//     those predecessors (the earliest it can become ready),
// every task whose old ready time is < t0 is scheduled exactly as before (its predecessors
// are too, and no new task can enter the queue before t0), so the scheduler restarts at t0
// from the old schedule's state: each resource's free time and each remaining task's
// partial ready time are read off the kept prefix. docs/simulator.md has the proof.

import type { Mesh } from "../core/mesh.js";
import type { Graph } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import {
  isComputeKind, KIND_ALLREDUCE, KIND_BWD, KIND_FWD, KIND_NAMES, KIND_PSUM, KIND_UPDATE, KIND_XFER,
  TaskGraphBuilder, TaskStore, type SimCosts,
} from "./taskgraph.js";

export interface TimelineTask {
  /** Structural id: equal between a delta and a full simulation of the same strategy. */
  id: number;
  name: string;
  kind: (typeof KIND_NAMES)[number];
  op: string;
  /** "device 3", "link 0→1 (nvlink)", "uplink g1 (infiniband)", "collectives groot (...)". */
  resource: string;
  resourceId: number;
  /** Device index for compute tasks; -1 for link tasks. */
  device: number;
  start: number;
  end: number;
  bytes: number;
  /** Indices (into Timeline.tasks) of the predecessors. */
  deps: number[];
}

export interface Timeline {
  /** Seconds: the makespan of one training iteration. */
  iterationTime: number;
  tasks: TimelineTask[];
  /** Summed durations of compute tasks (device-seconds) and of link tasks (link-seconds). */
  computeTime: number;
  commTime: number;
  /** Busy seconds per device's compute queue. */
  deviceBusy: number[];
  /** Bytes sent per link class ("nvlink", "infiniband", ...). */
  bytesByLinkClass: Record<string, number>;
  /** Peak bytes per device, when the simulation was given a memory model. */
  peakMemory?: number[];
  /** Resource names by id (devices first). */
  resources: string[];
}

export interface SimulateOptions {
  /** Peak memory per device of a strategy (src/cost/memory.ts `peakMemory(...).peakBytes`). */
  memory?: (strategy: Strategy) => number[];
}

// ------------------------------------------------------------------ the scheduler

let heapBuf = new Int32Array(4096);
let suffixBuf = new Int32Array(4096);
let partialBuf = new Float64Array(4096);
let heapReady = new Float64Array(4096);
/** Tasks (re-)timed by the last schedule() call. */
let lastScheduledCount = 0;
let heapKey = new Float64Array(4096);

/**
 * Schedules every alive task whose old ready time is ≥ t0 (all of them for t0 = −∞),
 * keeping the tasks before t0 as they were. Returns the makespan. This is the search's
 * inner loop: one pass over typed arrays, and a binary heap of slots ordered by
 * (ready, key) inlined on module-level buffers (no allocation per call once warm).
 */
export function schedule(store: TaskStore, resourceCount: number, t0: number): number {
  const { size, alive, ready, start, end, dur, res, count, key, predHead, eNextPred, eFrom, succHead, eNextSucc, eTo } = store;
  const free = new Float64Array(resourceCount);
  let makespan = 0;
  if (suffixBuf.length < size) {
    suffixBuf = new Int32Array(size * 2);
    partialBuf = new Float64Array(size * 2);
  }
  const suffix = suffixBuf;
  const partial = partialBuf;
  // Pass 1: the kept prefix fixes each resource's free time; the rest is re-timed.
  let n = 0;
  for (let s = 0; s < size; s++) {
    if (!alive[s]) continue;
    if (ready[s] < t0) {
      const e = end[s];
      const q = res[s];
      if (e > free[q]) free[q] = e;
      if (e > makespan) makespan = e;
    } else suffix[n++] = s;
  }
  // Pass 2: predecessor counts and partial ready times of the re-timed tasks. Membership
  // of the kept prefix is `ready < t0`, so ready times are written only after the pass.
  for (let k = 0; k < n; k++) {
    const s = suffix[k];
    let c = 0;
    let r = 0;
    for (let e = predHead[s]; e >= 0; e = eNextPred[e]) {
      const p = eFrom[e];
      if (ready[p] < t0) {
        if (end[p] > r) r = end[p];
      } else c++;
    }
    partial[k] = r;
    count[s] = c;
  }
  // The heap keeps each entry's (ready, key) next to its slot: comparisons read contiguous
  // memory instead of chasing slots into the task arrays.
  if (heapBuf.length < n + 1) {
    heapBuf = new Int32Array(2 * n + 1);
    heapReady = new Float64Array(2 * n + 1);
    heapKey = new Float64Array(2 * n + 1);
  }
  const heap = heapBuf;
  const hr = heapReady;
  const hk = heapKey;
  let hn = 0;
  // Push: sift up by (ready, key).
  const push = (x: number): void => {
    const rx = ready[x];
    const kx = key[x];
    let i = hn++;
    while (i > 0) {
      const pi = (i - 1) >> 1;
      const rp = hr[pi];
      if (rp < rx || (rp === rx && hk[pi] < kx)) break;
      heap[i] = heap[pi];
      hr[i] = rp;
      hk[i] = hk[pi];
      i = pi;
    }
    heap[i] = x;
    hr[i] = rx;
    hk[i] = kx;
  };
  for (let k = 0; k < n; k++) ready[suffix[k]] = partial[k];
  for (let k = 0; k < n; k++) if (count[suffix[k]] === 0) push(suffix[k]);
  let done = 0;
  while (hn > 0) {
    const s = heap[0];
    // Pop: move the last entry down from the root.
    --hn;
    if (hn > 0) {
      const last = heap[hn];
      const rl = hr[hn];
      const kl = hk[hn];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= hn) break;
        if (c + 1 < hn && (hr[c + 1] < hr[c] || (hr[c + 1] === hr[c] && hk[c + 1] < hk[c]))) c++;
        if (rl < hr[c] || (rl === hr[c] && kl < hk[c])) break;
        heap[i] = heap[c];
        hr[i] = hr[c];
        hk[i] = hk[c];
        i = c;
      }
      heap[i] = last;
      hr[i] = rl;
      hk[i] = kl;
    }
    done++;
    const q = res[s];
    const rs = ready[s];
    const st = rs > free[q] ? rs : free[q];
    const e = st + dur[s];
    start[s] = st;
    end[s] = e;
    free[q] = e;
    if (e > makespan) makespan = e;
    for (let x = succHead[s]; x >= 0; x = eNextSucc[x]) {
      const u = eTo[x];
      if (e > ready[u]) ready[u] = e;
      if (--count[u] === 0) push(u);
    }
  }
  if (done !== n) throw new Error(`simulation: ${n - done} tasks never became ready (a dependency cycle)`);
  lastScheduledCount = n;
  return makespan;
}

/** The earliest time the schedule can differ from the last one after the store's changes. */
function changePoint(store: TaskStore): number {
  let t0 = store.touchedMin;
  const { mark, epoch, end, alive, predHead, eNextPred, eFrom } = store;
  for (const s of store.changed) {
    if (!alive[s]) continue;
    let r = 0;
    let frontier = true;
    for (let x = predHead[s]; x >= 0; x = eNextPred[x]) {
      const p = eFrom[x];
      if (mark[p] === epoch) {
        frontier = false;
        break;
      }
      if (end[p] > r) r = end[p];
    }
    if (frontier && r < t0) t0 = r;
  }
  return t0;
}

// ------------------------------------------------------------------ simulators

/**
 * Holds the task graph and last schedule of (graph, mesh, strategy) so that one-op changes
 * re-time only what they touch. `iterationTime()` always equals a fresh full simulation's.
 */
export class DeltaSimulator {
  readonly builder: TaskGraphBuilder;
  private readonly ops: Record<string, OpConfig>;
  private makespan = 0;
  private stale = true;
  /** Tasks re-timed by the last schedule (for benchmarks and tests). */
  lastRetimed = 0;

  constructor(readonly graph: Graph, readonly mesh: Mesh, strategy: Strategy, readonly costs: SimCosts, readonly options: SimulateOptions = {}, store?: TaskStore) {
    this.builder = new TaskGraphBuilder(graph, mesh, costs, store);
    this.ops = { ...strategy.ops };
    this.strategyMeta = { name: strategy.name, model: strategy.model, mesh: strategy.mesh };
    this.builder.buildAll(strategy);
  }

  private readonly strategyMeta: { name: string; model: string; mesh: string };

  /** The strategy as it stands after the changes so far. */
  strategy(): Strategy {
    return { ...this.strategyMeta, ops: { ...this.ops } };
  }

  /** Changes one op's config; the next `iterationTime()` re-times only what it touches. */
  setConfig(opName: string, config: OpConfig): void {
    this.builder.setOp(opName, config);
    this.ops[opName] = { degrees: [...config.degrees], devices: [...config.devices] };
    this.stale = true;
  }

  private run(): void {
    if (!this.stale) return;
    const store = this.builder.store;
    const t0 = store.scheduled ? changePoint(store) : -Infinity;
    this.makespan = schedule(store, this.builder.links.count, t0);
    this.lastRetimed = lastScheduledCount;
    store.resetChanges();
    this.stale = false;
  }

  /** Seconds per training iteration under the current strategy. */
  iterationTime(): number {
    this.run();
    return this.makespan;
  }

  /** The full timeline (allocates; not for the search's inner loop). */
  timeline(): Timeline {
    this.run();
    return buildTimeline(this.builder, this.makespan, this.options.memory ? this.options.memory(this.strategy()) : undefined);
  }
}

/** Full simulation: builds the task graph of `strategy` and schedules it from scratch. */
export function simulate(graph: Graph, mesh: Mesh, strategy: Strategy, costs: SimCosts, options: SimulateOptions = {}): Timeline {
  return new DeltaSimulator(graph, mesh, strategy, costs, options).timeline();
}

/** Iteration time only (no timeline objects): what the search calls for a fresh strategy. */
export function simulateIterationTime(graph: Graph, mesh: Mesh, strategy: Strategy, costs: SimCosts): number {
  // The store is borrowed from a one-slot pool (the call is synchronous, so never shared)
  // and handed back emptied: repeated full simulations reuse its buffers.
  const store = sparePool ?? new TaskStore();
  sparePool = undefined;
  store.reset();
  try {
    return new DeltaSimulator(graph, mesh, strategy, costs, {}, store).iterationTime();
  } finally {
    store.reset();
    sparePool = store;
  }
}

let sparePool: TaskStore | undefined;

function taskName(b: TaskGraphBuilder, s: number): string {
  const st = b.store;
  const op = b.ops[st.op[s]].node;
  switch (st.kind[s]) {
    case KIND_FWD: return `${op.name} fwd [${st.idx[s]}]`;
    case KIND_BWD: return `${op.name} bwd [${st.idx[s]}]`;
    case KIND_XFER: return `xfer ${st.src[s]}→${st.dst[s]}`;
    case KIND_PSUM: return `${op.name} reduce [${st.idx[s]}]`;
    case KIND_ALLREDUCE: return `allreduce ${op.name}.${op.sig.params[st.idx[s]].name}`;
    case KIND_UPDATE: return `update ${op.name}.${op.sig.params[st.idx[s]].name}`;
    default: return `task ${s}`;
  }
}

function buildTimeline(b: TaskGraphBuilder, makespan: number, peakMemory: number[] | undefined): Timeline {
  const st = b.store;
  // Tasks sorted by (start, key): a stable, slot-independent order.
  const slots = st.slots().sort((x, y) => st.start[x] - st.start[y] || st.key[x] - st.key[y]);
  const pos = new Map<number, number>();
  slots.forEach((s, i) => pos.set(s, i));
  const nDev = b.mesh.devices.length;
  const deviceBusy = new Array<number>(nDev).fill(0);
  const bytesByLinkClass: Record<string, number> = {};
  let computeTime = 0;
  let commTime = 0;
  const tasks = slots.map((s): TimelineTask => {
    const kind = st.kind[s];
    const r = st.res[s];
    if (isComputeKind(kind)) {
      computeTime += st.dur[s];
      deviceBusy[r] += st.dur[s];
    } else {
      commTime += st.dur[s];
      const cls = b.links.classOf[r];
      bytesByLinkClass[cls] = (bytesByLinkClass[cls] ?? 0) + st.bytes[s];
    }
    return {
      id: st.key[s],
      name: taskName(b, s),
      kind: KIND_NAMES[kind],
      op: b.ops[st.op[s]].node.name,
      resource: b.links.names[r],
      resourceId: r,
      device: r < nDev ? r : -1,
      start: st.start[s],
      end: st.end[s],
      bytes: st.bytes[s],
      deps: st.predsOf(s).map((p) => pos.get(p)!),
    };
  });
  const t: Timeline = { iterationTime: makespan, tasks, computeTime, commTime, deviceBusy, bytesByLinkClass, resources: [...b.links.names] };
  if (peakMemory) t.peakMemory = peakMemory;
  return t;
}

/** Length of the longest dependency chain of task durations (a lower bound on the makespan). */
export function criticalPath(t: Timeline): number {
  // Tasks are sorted by start time and a predecessor ends before its successor starts, so
  // predecessors come first unless both start at the same instant with zero duration: sort topologically.
  const n = t.tasks.length;
  const longest = new Float64Array(n);
  const indeg = new Int32Array(n);
  const succ: number[][] = Array.from({ length: n }, () => []);
  t.tasks.forEach((task, i) => {
    for (const d of task.deps) {
      succ[d].push(i);
      indeg[i]++;
    }
  });
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  let best = 0;
  for (let k = 0; k < queue.length; k++) {
    const i = queue[k];
    const task = t.tasks[i];
    const finish = longest[i] + (task.end - task.start);
    if (finish > best) best = finish;
    for (const j of succ[i]) {
      if (finish > longest[j]) longest[j] = finish;
      if (--indeg[j] === 0) queue.push(j);
    }
  }
  return best;
}
