// Scheduling of the task graph (FlexFlow's simulator, with a static per-resource order)
// and its delta form.
//
// Scheduling: every resource (a device's compute queue or a link queue, see Links) runs its
// tasks in structural-key order, as par's runtime runs each device's program in the order
// of one global instruction sequence (src/codegen/lower.ts). A task starts at
//   max(end of each predecessor, end of the previous task on its resource)
// so the schedule is a longest-path computation over the DAG of dependencies plus
// resource-order edges, done by one sweep over the tasks in key order (a linear extension
// of both kinds of edge; segments.ts gives the order). No heap, no ready queue.
//
// Delta simulation (DeltaSimulator): the builder swaps one op's tasks and the transfers on
// its edges, which only changes segments at or after the op's first segment XF(r,0); every
// task before it has the same duration, resource and predecessors, all of them before it
// too, so its times are unchanged. The sweep restarts at that segment from the state a full
// sweep would have there (each resource free from the end of its last earlier task, read
// off a checkpoint) and runs the same code on the same inputs: exactly the full result.
// Putting an op's previous config back rolls the graph back instead of rebuilding it.
// docs/simulator.md has the argument.

import type { Mesh } from "../core/mesh.js";
import type { Graph } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import type { SimCosts } from "./costs.js";
import { ARRIVE, isComputeKind, KIND_ALLREDUCE, KIND_BWD, KIND_FWD, KIND_JOIN, KIND_NAMES, KIND_PSUM, KIND_UPDATE, KIND_XFER } from "./task-kinds.js";
import { TaskGraphBuilder } from "./taskgraph.js";
import { TaskStore } from "./task-store.js";

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

// ------------------------------------------------------------------ the sweep

let freeBuf = new Float64Array(256);
/** Tasks (re-)timed by the last sweep() call. */
let lastSweptCount = 0;

/**
 * Times every task in key order from segment `from` on, keeping the times of the tasks
 * before it, and returns the makespan. Each resource runs its tasks in key order, so a
 * task ends at max(end of its predecessors, end of the previous task on its resource) +
 * its duration: a longest-path sweep over the DAG plus resource-order edges. The key order
 * is a linear extension of the dependencies, so every predecessor has been timed when a
 * task is reached. This is the search's inner loop: typed arrays read front to back, no
 * allocation once warm. Only end times are kept (`sweepWithStarts` also records starts).
 */
export function sweep(builder: TaskGraphBuilder, from: number, checkpoints?: Checkpoints): number {
  return run(builder, from, undefined, checkpoints);
}

/** A full sweep that also records every task's start (for timelines); same end times. */
export function sweepWithStarts(builder: TaskGraphBuilder): number {
  return run(builder, 0, builder.store.start, undefined);
}

/**
 * Every resource's free time at some segment boundaries of the forward section, recorded
 * by sweeps (about one per 2 × resources tasks), so that a sweep from segment `from`
 * starts from the nearest one at or before it instead of scanning the whole kept prefix.
 * A checkpoint at segment g depends only on the segments before g: a change at or after
 * it leaves it valid, and `truncate` drops the others.
 */
export class Checkpoints {
  /** Tasks between checkpoints; 0: max(512, 2 × resources). */
  every = 0;
  /** Checkpoints held (for tests). */
  get count(): number {
    return this.n;
  }
  private seg = new Int32Array(64);
  private off = new Int32Array(64);
  private len = new Int32Array(64);
  private n = 0;
  private data = new Float64Array(4096);

  /** Drops the checkpoints after segment g. */
  truncate(g: number): void {
    while (this.n > 0 && this.seg[this.n - 1] > g) this.n--;
  }

  /** Loads the last checkpoint (at or before every change) into `free`; returns its segment (0: none). */
  load(free: Float64Array): number {
    if (this.n === 0) return 0;
    const i = this.n - 1;
    const o = this.off[i];
    for (let q = 0, l = this.len[i]; q < l; q++) free[q] = this.data[o + q];
    return this.seg[i];
  }

  push(g: number, free: Float64Array, R: number): void {
    const i = this.n;
    if (i === this.seg.length) {
      const grow = (a: Int32Array) => { const b = new Int32Array(2 * a.length); b.set(a); return b; };
      this.seg = grow(this.seg);
      this.off = grow(this.off);
      this.len = grow(this.len);
    }
    const o = i > 0 ? this.off[i - 1] + this.len[i - 1] : 0;
    if (o + R > this.data.length) {
      const d = new Float64Array(2 * (o + R));
      d.set(this.data.subarray(0, o));
      this.data = d;
    }
    for (let q = 0; q < R; q++) this.data[o + q] = free[q];
    this.seg[i] = g;
    this.off[i] = o;
    this.len[i] = R;
    this.n = i + 1;
  }
}

/** Times tasks b..e−1 of one segment: the sweep's inner loop. */
function time(b: number, e: number, res: Int32Array, dur: Float64Array, end: Float64Array, predOff: Int32Array, predEnd: Int32Array, preds: Int32Array, free: Float64Array): void {
  for (let s = b; s < e; s++) {
    const q = res[s];
    let t = free[q];
    for (let i = predOff[s], pe = predEnd[s]; i < pe; i++) {
      const x = end[preds[i]];
      if (x > t) t = x;
    }
    const f = t + dur[s];
    end[s] = f;
    free[q] = f;
  }
}

/** `time`, also recording starts. */
function timeWithStarts(b: number, e: number, res: Int32Array, dur: Float64Array, end: Float64Array, predOff: Int32Array, predEnd: Int32Array, preds: Int32Array, free: Float64Array, starts: Float64Array): void {
  for (let s = b; s < e; s++) {
    const q = res[s];
    let t = free[q];
    for (let i = predOff[s], pe = predEnd[s]; i < pe; i++) {
      const x = end[preds[i]];
      if (x > t) t = x;
    }
    starts[s] = t;
    const f = t + dur[s];
    end[s] = f;
    free[q] = f;
  }
}

/** Joins: no resource to wait for or to occupy. */
function timeJoins(b: number, e: number, dur: Float64Array, end: Float64Array, predOff: Int32Array, predEnd: Int32Array, preds: Int32Array, starts: Float64Array | undefined): void {
  for (let s = b; s < e; s++) {
    let t = 0;
    for (let i = predOff[s], pe = predEnd[s]; i < pe; i++) {
      const x = end[preds[i]];
      if (x > t) t = x;
    }
    if (starts) starts[s] = t;
    end[s] = t + dur[s];
  }
}

function run(builder: TaskGraphBuilder, from: number, starts: Float64Array | undefined, ck: Checkpoints | undefined): number {
  const store = builder.store;
  const { res, dur, end, predOff, predEnd, preds, segBeg, segEnd } = store;
  const G = builder.segmentCount;
  const R = builder.links.count;
  const none = builder.links.none;
  const noResource = builder.seg.noResource;
  if (freeBuf.length < R) freeBuf = new Float64Array(2 * R);
  const free = freeBuf;
  free.fill(0, 0, R);
  // The kept prefix: each resource is free from the end of its last task before `from`
  // (ends along one resource never decrease, so the last in key order is the latest),
  // scanned from the last checkpoint before it.
  let g0 = 0;
  if (ck) {
    ck.truncate(from);
    g0 = ck.load(free);
  }
  let since = 0;
  for (let g = g0; g < from; g++) {
    for (let s = segBeg[g], e = segEnd[g]; s < e; s++) free[res[s]] = end[s];
    since += segEnd[g] - segBeg[g];
  }
  free[none] = 0;
  const every = ck && ck.every > 0 ? ck.every : Math.max(512, 2 * R);
  const fwdEnd = ck ? builder.forwardEnd : 0;
  let count = 0;
  for (let g = from; g < G; g++) {
    const b = segBeg[g];
    const e = segEnd[g];
    if (g < fwdEnd && since >= every && g > g0) {
      ck!.push(g, free, R);
      since = 0;
    }
    since += e - b;
    count += e - b;
    // One small function per kind of segment: each stays monomorphic and optimised.
    if (noResource[g]) timeJoins(b, e, dur, end, predOff, predEnd, preds, starts);
    else if (starts) timeWithStarts(b, e, res, dur, end, predOff, predEnd, preds, free, starts);
    else time(b, e, res, dur, end, predOff, predEnd, preds, free);
  }
  let makespan = 0;
  for (let q = 0; q < R; q++) if (free[q] > makespan) makespan = free[q];
  lastSweptCount = count;
  return makespan;
}

// ------------------------------------------------------------------ simulators

function sameConfig(a: OpConfig, b: OpConfig): boolean {
  if (a.degrees.length !== b.degrees.length || a.devices.length !== b.devices.length) return false;
  for (let i = 0; i < a.degrees.length; i++) if (a.degrees[i] !== b.degrees[i]) return false;
  for (let i = 0; i < a.devices.length; i++) if (a.devices[i] !== b.devices[i]) return false;
  return true;
}

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
  /** Changes undone by rolling the graph back (for benchmarks and tests). */
  rollbacks = 0;

  constructor(readonly graph: Graph, readonly mesh: Mesh, strategy: Strategy, readonly costs: SimCosts, readonly options: SimulateOptions = {}, store?: TaskStore) {
    this.builder = new TaskGraphBuilder(graph, mesh, costs, store);
    this.ops = { ...strategy.ops };
    this.strategyMeta = { name: strategy.name, model: strategy.model, mesh: strategy.mesh };
    this.builder.buildAll(strategy);
    // Edits append at the top of the store until garbage reaches twice the live data
    // (then it compacts): reserving that room now keeps the steps free of reallocation.
    this.builder.store.reserveHeadroom();
  }

  private readonly strategyMeta: { name: string; model: string; mesh: string };

  /** The strategy as it stands after the changes so far. */
  strategy(): Strategy {
    return { ...this.strategyMeta, ops: { ...this.ops } };
  }

  /**
   * Changes one op's config; the next `iterationTime()` re-times only what it touches.
   * Putting back the config an op had before the last change (an MCMC rejection) rolls
   * the task graph back instead of rebuilding it; the next schedule re-times from where
   * that change did.
   */
  setConfig(opName: string, config: OpConfig): void {
    const b = this.builder;
    const u = this.undo;
    this.undo = undefined;
    if (u && u.op === opName && b.undoableOp === b.rankOf.get(opName) && sameConfig(config, u.config)) {
      if (!b.rollback()) throw new Error("simulation: undo record lost");
      // The graph is as before the change; its times are not: re-time from where it did.
      const first = b.seg.first[u.rank];
      if (first < b.dirtyFrom) b.dirtyFrom = first;
      this.rollbacks++;
      this.ops[opName] = u.config;
      this.stale = true;
      return;
    }
    const before = this.ops[opName];
    b.setOp(opName, config, true);
    this.undo = before && b.undoableOp >= 0 ? { op: opName, config: before, rank: b.rankOf.get(opName)! } : undefined;
    this.ops[opName] = { degrees: [...config.degrees], devices: [...config.devices] };
    this.stale = true;
  }

  /** Undo of the last change: the op, the config it replaced, the op's rank. */
  private undo: { op: string; config: OpConfig; rank: number } | undefined;
  /** Free-time snapshots the sweeps restart from (see Checkpoints). */
  readonly checkpoints = new Checkpoints();

  private update(): void {
    if (!this.stale) return;
    const b = this.builder;
    this.makespan = sweep(b, b.dirtyFrom, this.checkpoints);
    this.lastRetimed = lastSweptCount;
    b.markClean();
    this.stale = false;
  }

  /** Seconds per training iteration under the current strategy. */
  iterationTime(): number {
    this.update();
    return this.makespan;
  }

  /** The full timeline (allocates; not for the search's inner loop). */
  timeline(): Timeline {
    this.update();
    sweepWithStarts(this.builder);
    return buildTimeline(this.builder, this.makespan, this.options.memory ? this.options.memory(this.strategy()) : undefined);
  }
}

/** Full simulation: builds the task graph of `strategy` and schedules it from scratch. */
export function simulate(graph: Graph, mesh: Mesh, strategy: Strategy, costs: SimCosts, options: SimulateOptions = {}): Timeline {
  const b = new TaskGraphBuilder(graph, mesh, costs);
  b.buildAll(strategy);
  const makespan = sweepWithStarts(b);
  return buildTimeline(b, makespan, options.memory ? options.memory(strategy) : undefined);
}

/** Iteration time only (no timeline objects): what the search calls for a fresh strategy. */
export function simulateIterationTime(graph: Graph, mesh: Mesh, strategy: Strategy, costs: SimCosts): number {
  // The builder is borrowed from a one-slot pool (the call is synchronous, so never
  // shared): repeated full simulations of one (graph, mesh, costs), a search's, rebuild in
  // its buffers; another triple gets a new builder on the pooled store.
  let b = sparePool;
  sparePool = undefined;
  if (!b || b.graph !== graph || b.mesh !== mesh || b.costs !== costs || !b.isCurrent()) {
    const store = b?.store ?? new TaskStore();
    store.reset();
    b = new TaskGraphBuilder(graph, mesh, costs, store);
  }
  try {
    b.rebuildAll(strategy);
    return sweep(b, 0);
  } finally {
    // After a failed build too: rebuildAll starts over from any state.
    sparePool = b;
  }
}

let sparePool: TaskGraphBuilder | undefined;

function taskName(b: TaskGraphBuilder, s: number): string {
  const st = b.store;
  const op = b.ops[st.op[s]].node;
  switch (st.kind[s]) {
    case KIND_FWD: return `${op.name} fwd [${st.idx[s]}]`;
    case KIND_BWD: return `${op.name} bwd [${st.idx[s]}]`;
    case KIND_XFER: return `xfer ${st.src[s]}→${st.dst[s]}`;
    case KIND_PSUM: return `${op.name} reduce [${st.idx[s]}]`;
    case KIND_ALLREDUCE: return `allreduce ${op.name}.${op.sig.params[st.idx[s]].name}${st.dst[s] === ARRIVE ? " (arrive)" : ""}`;
    case KIND_UPDATE: return `update ${op.name}.${op.sig.params[st.idx[s]].name}`;
    default: return `task ${s}`;
  }
}

function buildTimeline(b: TaskGraphBuilder, makespan: number, peakMemory: number[] | undefined): Timeline {
  const st = b.store;
  // Tasks sorted by (start, key): a stable, slot-independent order.
  // Joins are not tasks of the timeline: dependencies are routed through them.
  const slots = st.slots().filter((s) => st.kind[s] !== KIND_JOIN).sort((x, y) => st.start[x] - st.start[y] || st.keyOf(x) - st.keyOf(y));
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
      // An in-line collective runs on a device's queue; its bytes go over the mesh's link.
      const cls = r < nDev ? (b.mesh.root.link?.name ?? "link") : b.links.classOf[r];
      bytesByLinkClass[cls] = (bytesByLinkClass[cls] ?? 0) + st.bytes[s];
    }
    return {
      id: st.keyOf(s),
      name: taskName(b, s),
      kind: KIND_NAMES[kind],
      op: b.ops[st.op[s]].node.name,
      resource: b.links.names[r],
      resourceId: r,
      device: r < nDev ? r : -1,
      start: st.start[s],
      end: st.end[s],
      bytes: st.bytes[s],
      deps: st.predsOf(s).flatMap((p) => (st.kind[p] === KIND_JOIN ? st.predsOf(p) : [p])).map((p) => pos.get(p)!),
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
