// Scheduling of the task graph (FlexFlow's simulator, with a static per-resource order)
// and its delta form.
//
// Scheduling: every resource (a device's compute queue or a link queue, see Links) runs its
// tasks in structural-key order, as par's runtime runs each device's program in the order
// of one global instruction sequence (src/codegen/lower.ts). A task starts at
//   max(end of each predecessor, end of the previous task on its resource)
// so the schedule is a longest-path computation over the DAG of dependencies plus
// resource-order edges, done by one sweep over the tasks in key order (a linear extension
// of both kinds of edge; taskgraph.ts's header gives the order). No heap, no ready queue.
//
// Delta simulation (DeltaSimulator.setConfig): the builder swaps one op's tasks and the
// transfers on its edges, which only changes segments at or after the op's first segment
// XF(r,0); every task before it has the same duration, resource and predecessors, all of
// them before it too, so its times are unchanged. The sweep restarts at that segment from
// the state a full sweep would have there (each resource free from the end of its last
// earlier task) and runs the same code on the same inputs: exactly the full result.
// docs/simulator.md has the argument.

import type { Mesh } from "../core/mesh.js";
import type { Graph } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import {
  isComputeKind, KIND_ALLREDUCE, KIND_BWD, KIND_FWD, KIND_JOIN, KIND_NAMES, KIND_PSUM, KIND_UPDATE, KIND_XFER,
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

// ------------------------------------------------------------------ the sweep

let freeBuf = new Float64Array(256);
/** Tasks (re-)timed by the last sweep() call. */
let lastSweptCount = 0;

/**
 * Times every task in key order from segment `from` on, keeping the times of the tasks
 * before it, and returns the makespan. Each resource runs its tasks in key order, so a
 * task starts at max(end of its predecessors, end of the previous task on its resource):
 * a longest-path sweep over the DAG plus resource-order edges. The key order is a linear
 * extension of the dependencies, so every predecessor has been timed when a task is
 * reached. This is the search's inner loop: typed arrays, no allocation once warm.
 */
export function sweep(builder: TaskGraphBuilder, from: number): number {
  const store = builder.store;
  const { res, dur, start, end, ready, predOff, predEnd, preds, pushSrc, pushDst, segBeg, segEnd, segPushBeg, segPushEnd } = store;
  const G = builder.segmentCount;
  const R = builder.links.count;
  const none = builder.links.none;
  if (freeBuf.length < R) freeBuf = new Float64Array(2 * R);
  const free = freeBuf;
  free.fill(0, 0, R);
  // The kept prefix: each resource is free from the end of its last task before `from`
  // (ends along one resource never decrease, so the last in key order is the latest).
  for (let g = 0; g < from; g++) {
    for (let s = segBeg[g], e = segEnd[g]; s < e; s++) free[res[s]] = end[s];
  }
  free[none] = 0;
  let count = 0;
  for (let g = from; g < G; g++) {
    const b = segBeg[g];
    const e = segEnd[g];
    count += e - b;
    for (let s = b; s < e; s++) {
      const q = res[s];
      let t = free[q];
      const r = ready[s];
      if (r > t) t = r;
      ready[s] = 0;
      for (let i = predOff[s], pe = predEnd[s]; i < pe; i++) {
        const x = end[preds[i]];
        if (x > t) t = x;
      }
      start[s] = t;
      const f = t + dur[s];
      end[s] = f;
      free[q] = f;
      free[none] = 0; // joins occupy no resource: `none` stays free (a store beats a branch)
    }
    // This segment's pushes: their sources are timed, their targets come later.
    for (let i = segPushBeg[g], pe = segPushEnd[g]; i < pe; i++) {
      const d = pushDst[i];
      const x = end[pushSrc[i]];
      if (x > ready[d]) ready[d] = x;
    }
  }
  let makespan = 0;
  for (let q = 0; q < R; q++) if (free[q] > makespan) makespan = free[q];
  lastSweptCount = count;
  return makespan;
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
    const b = this.builder;
    this.makespan = sweep(b, b.dirtyFrom);
    this.lastRetimed = lastSweptCount;
    b.markClean();
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
  // Joins are not tasks of the timeline: dependencies are routed through them.
  const slots = st.slots().filter((s) => st.kind[s] !== KIND_JOIN).sort((x, y) => st.start[x] - st.start[y] || st.key[x] - st.key[y]);
  const pos = new Map<number, number>();
  slots.forEach((s, i) => pos.set(s, i));
  const preds = st.allPreds();
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
      deps: preds.get(s)!.flatMap((p) => (st.kind[p] === KIND_JOIN ? preds.get(p)! : [p])).map((p) => pos.get(p)!),
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
