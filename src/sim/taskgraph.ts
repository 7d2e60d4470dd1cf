// The task graph of one training iteration under a strategy (FlexFlow's simulator, §5 of
// Jia et al., SysML 2019), built incrementally so that one op's config can be swapped.
//
// Tasks (typed arrays indexed by task id, see TaskStore):
//   fwd / bwd         one compute task per (op, task index) on the task's device
//   xfer              a transfer per overlapping (holder of a producer output region,
//                     consumer task input region) pair on different devices; the same pair
//                     reversed carries the input gradient back in backward
//   psum xfer / add   an op with split reduction dims produces partial sums: the partials of
//                     one output region travel to its owner (the task first along every
//                     reduction dim) and are added there; consumers read from the owners
//   join, grad bcast  in backward the gradient contributions to such a region meet at a
//                     zero-cost join (on no resource), which the owner then sends on to its
//                     partial tasks on other devices
//   allreduce         weight-gradient sync among the devices holding the same weight shard
//   update            the optimizer step per weight shard per device
// Same-device reuse of a region is a plain dependency (no task, no cost). Graph inputs are
// assumed resident where they are read (the data loader puts each batch shard there).
//
// Order. The tasks are kept in SEGMENTS, one per (op, part), in one fixed global order that
// depends only on the graph (ops by topological rank r, inputs by index k):
//
//   forward    for r = 0 .. n−1:   XF(r,0) … XF(r,m−1)   FO(r)
//   backward   for r = n−1 .. 0:   JN(r)   BO(r)   XB(r,0) … XB(r,m−1)   AR(r)
//   updates    for r = n−1 .. 0:   UP(r)
//
// On a mesh whose links are moved by the devices' own threads (collectivesInLine: CPU
// workers on shared memory) the all-reduces run in line on their members' compute queues,
// where par's runtime runs them: at the end, AR(r) moving from the backward section to the
// updates section (for r = n−1 .. 0: AR(r) UP(r)). There each member gets an `arrive`
// marker (zero time on its queue: the member has reached the collective) and its share of
// the all-reduce, which starts when every member has arrived (a barrier, as the runtime's
// blocking all-reduce is).
//
//   XF(r,k)  forward transfers of input k        FO(r)  fwd tasks, then per output region
//   XB(r,k)  gradient transfers of input k              its partial-sum transfers and add
//   JN(r)    gradient joins                      BO(r)  gradient broadcasts, then bwd tasks
//   AR(r)    all-reduces                         UP(r)  updates
//
// Every dependency goes from an earlier segment, or from earlier in the same segment, to a
// later one (a linear extension of the DAG; `checkOrder` asserts it). A task's structural
// key is (segment, position in it): it does not depend on storage, and it is the order in
// which every resource runs its tasks (see simulate.ts). Swapping one op's config replaces
// the contents of its own segments and of its consumers' XF/XB segments; no other task
// moves. See docs/simulator.md.

import { collectivesInLine, type Mesh } from "../core/mesh.js";
import { gridCoords, intersect, linearIndex, partRegion, regionVolume, type Region } from "../core/region.js";
import { dtypeBytes, isFloat, type DType } from "../core/tensor.js";
import type { Graph, OpNode } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import { reductionDims, spaceSizes, taskRegions } from "../ops/regions.js";

/** The costs the simulator needs, as functions (src/cost's CostModel satisfies this). */
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

export const KIND_FWD = 0;
export const KIND_BWD = 1;
export const KIND_XFER = 2;
export const KIND_PSUM = 3;
export const KIND_ALLREDUCE = 4;
export const KIND_UPDATE = 5;
export const KIND_NAMES = ["fwd", "bwd", "xfer", "reduce", "allreduce", "update"] as const;
/**
 * A zero-duration join on no resource: the point where every gradient contribution to one
 * partial-summed output region has arrived at its owner, ahead of the broadcasts to the
 * partial tasks. It stands for p·q direct edges with p + q (same times: a start is a max).
 * Not a timeline task: the timeline routes dependencies through it.
 */
export const KIND_JOIN = 6;

/** `dst` of an in-line all-reduce's arrive marker (zero time on a member's queue; see the header). */
export const ARRIVE = -2;

/** Compute kinds run on a device's queue; the others on link queues. */
export function isComputeKind(kind: number): boolean {
  return kind === KIND_FWD || kind === KIND_BWD || kind === KIND_PSUM || kind === KIND_UPDATE;
}

// ------------------------------------------------------------------ link queues

/**
 * Link queues. Granularity (docs/simulator.md, "Link queues"):
 *  - two devices in the same lowest group (a node): one queue per ordered device pair, as
 *    NVLink/NVSwitch or shared memory give every pair its own full-duplex path;
 *  - devices in different groups: one queue per (sender's sub-group under the lowest common
 *    group): the sender side's uplink (a node's NIC); transfers leaving one node serialise;
 *  - collectives: one queue per lowest common group of the participants (NCCL runs a
 *    communicator's collectives in order on its own channels).
 * Resource ids 0..D−1 are the devices' compute queues, D is `none` (the joins', which the
 * sweep times without a resource); link queues follow, made on demand.
 */
export class Links {
  readonly deviceCount: number;
  /** The resource id of tasks that occupy none (joins). */
  readonly none: number;
  readonly names: string[] = [];
  /** Link class (e.g. "nvlink") per resource; "compute" for devices. */
  readonly classOf: string[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly pair: Int32Array;

  constructor(readonly mesh: Mesh) {
    const n = mesh.devices.length;
    this.deviceCount = n;
    for (let d = 0; d < n; d++) {
      this.names.push(`device ${d}`);
      this.classOf.push("compute");
    }
    this.none = n;
    this.names.push("(none)");
    this.classOf.push("none");
    this.pair = new Int32Array(n * n).fill(-1);
  }

  get count(): number {
    return this.names.length;
  }

  private resource(key: string, name: string, cls: string): number {
    let r = this.byKey.get(key);
    if (r === undefined) {
      r = this.names.length;
      this.byKey.set(key, r);
      this.names.push(name);
      this.classOf.push(cls);
    }
    return r;
  }

  private linkName(path: readonly number[]): string {
    let g = this.mesh.root;
    for (const i of path) g = g.children[i];
    return g.link?.name ?? "link";
  }

  /** The queue a transfer from device a to device b waits in. */
  transfer(a: number, b: number): number {
    const i = a * this.deviceCount + b;
    let r = this.pair[i];
    if (r >= 0) return r;
    const pa = this.mesh.devices[a].path;
    const pb = this.mesh.devices[b].path;
    let k = 0;
    while (k < pa.length && k < pb.length && pa[k] === pb[k]) k++;
    const cls = this.linkName(pa.slice(0, k));
    if (k === pa.length) r = this.resource(`p${a}>${b}`, `link ${a}→${b} (${cls})`, cls);
    else {
      const up = pa.slice(0, k + 1).join(".");
      r = this.resource(`o${up}`, `uplink g${up} (${cls})`, cls);
    }
    this.pair[i] = r;
    return r;
  }

  /** The queue an all-reduce among `devices` runs in. */
  collective(devices: readonly number[]): number {
    let common = this.mesh.devices[devices[0]].path;
    let k = common.length;
    for (const d of devices) {
      const p = this.mesh.devices[d].path;
      let j = 0;
      while (j < k && j < p.length && p[j] === common[j]) j++;
      k = j;
    }
    common = common.slice(0, k);
    const cls = this.linkName(common);
    const key = common.join(".");
    return this.resource(`c${key}`, `collectives g${key === "" ? "root" : key} (${cls})`, cls);
  }
}

// ------------------------------------------------------------------ the task store

/** Positions per segment in a key: key = segment × SEGMENT_SPAN + position in it. */
export const SEGMENT_SPAN = 2 ** 24;

/** The per-task columns of a TaskStore (a spare set is kept for compaction). */
interface TaskColumns {
  cap: number;
  kind: Uint8Array<ArrayBuffer>;
  alive: Uint8Array<ArrayBuffer>;
  relisted: Uint8Array<ArrayBuffer>;
  res: Int32Array<ArrayBuffer>;
  op: Int32Array<ArrayBuffer>;
  idx: Int32Array<ArrayBuffer>;
  src: Int32Array<ArrayBuffer>;
  dst: Int32Array<ArrayBuffer>;
  segOf: Int32Array<ArrayBuffer>;
  predOff: Int32Array<ArrayBuffer>;
  predEnd: Int32Array<ArrayBuffer>;
  ownOff: Int32Array<ArrayBuffer>;
  ownEnd: Int32Array<ArrayBuffer>;
  dur: Float64Array<ArrayBuffer>;
  bytes: Float64Array<ArrayBuffer>;
  start: Float64Array<ArrayBuffer>;
  end: Float64Array<ArrayBuffer>;
}

function allocColumns(cap: number): TaskColumns {
  return {
    cap,
    kind: new Uint8Array(cap), alive: new Uint8Array(cap), relisted: new Uint8Array(cap),
    res: new Int32Array(cap), op: new Int32Array(cap), idx: new Int32Array(cap), src: new Int32Array(cap), dst: new Int32Array(cap),
    segOf: new Int32Array(cap), predOff: new Int32Array(cap), predEnd: new Int32Array(cap), ownOff: new Int32Array(cap), ownEnd: new Int32Array(cap),
    dur: new Float64Array(cap), bytes: new Float64Array(cap), start: new Float64Array(cap), end: new Float64Array(cap),
  };
}

/**
 * Tasks in typed arrays indexed by task id. A segment's tasks have consecutive ids (it is
 * filled in one go at the top of the store), so the sweep reads every array front to back.
 *
 * Dependencies. Every task has one predecessor list, CSR in `preds` ([predOff, predEnd)),
 * which is all the sweep reads. Edges are recorded in two forms:
 *  - own predecessors, appended when the task is made (edges inside one op, and a
 *    transfer's source): [ownOff, ownEnd);
 *  - pushes: (from, to) pairs owned by an input-edge segment, the edges it adds to tasks
 *    of its producer and consumer (which outlive it).
 * A task that receives pushes gets its list re-materialised (`relist`: own predecessors,
 * then every push aimed at it) whenever the segments pushing into it change; otherwise its
 * list is its own range.
 *
 * Replacing a segment appends its new tasks, predecessors and pushes at the top and leaves
 * the old ones as garbage; everything that refers to a segment's tasks is rebuilt with it,
 * so nothing is unlinked. When garbage reaches twice the live data, `compact` copies the
 * live segments down in key order.
 */
export class TaskStore implements TaskColumns {
  /** Task ids in use are < top; `count` of them are alive. */
  top = 0;
  count = 0;
  cap = 0;
  kind = new Uint8Array(0);
  alive = new Uint8Array(0);
  /** 1 when the task's list is a re-materialised range apart from its own predecessors. */
  relisted = new Uint8Array(0);
  res = new Int32Array(0);
  op = new Int32Array(0);
  /** Task index (fwd/bwd), holder (psum add, join), param index (allreduce/update), -1 otherwise. */
  idx = new Int32Array(0);
  src = new Int32Array(0);
  dst = new Int32Array(0);
  /** The segment a task belongs to. */
  segOf = new Int32Array(0);
  dur = new Float64Array(0);
  bytes = new Float64Array(0);
  /** The last schedule's start and end times. */
  start = new Float64Array(0);
  end = new Float64Array(0);
  /** Predecessor list of task s (what the sweep reads): preds[predOff[s] .. predEnd[s]). */
  predOff = new Int32Array(0);
  predEnd = new Int32Array(0);
  /** Own predecessors of task s: preds[ownOff[s] .. ownEnd[s]). */
  ownOff = new Int32Array(0);
  ownEnd = new Int32Array(0);
  preds = new Int32Array(0);
  predTop = 0;
  /** Entries of `preds` in use (own ranges of alive tasks plus their relisted ranges). */
  livePreds = 0;
  /** Push edges pushSrc[i] → pushDst[i], in ranges owned by segments. */
  pushSrc = new Int32Array(0);
  pushDst = new Int32Array(0);
  pushTop = 0;
  livePushes = 0;
  /** Per segment: task ids [segBeg, segEnd) and push edges [segPushBeg, segPushEnd). */
  segCount = 0;
  segBeg = new Int32Array(0);
  segEnd = new Int32Array(0);
  segPushBeg = new Int32Array(0);
  segPushEnd = new Int32Array(0);
  /** Garbage allowed beyond twice the live data before `shouldCompact` says so. */
  compactSlack = 8192;
  /** Compactions so far (for tests and benchmarks). */
  compactions = 0;
  /** The segment being filled (−1: none). */
  private open = -1;
  /** Columns, preds and pushes to compact into (the previous ones, kept to avoid reallocating). */
  private spare: TaskColumns = allocColumns(0);
  private sparePreds = new Int32Array(0);
  private sparePushSrc = new Int32Array(0);
  private sparePushDst = new Int32Array(0);

  /** Structural key of task s: segment × SEGMENT_SPAN + position in the segment. */
  keyOf(s: number): number {
    const g = this.segOf[s];
    return g * SEGMENT_SPAN + (s - this.segBeg[g]);
  }

  private columns(): TaskColumns {
    const { cap, kind, alive, relisted, res, op, idx, src, dst, segOf, predOff, predEnd, ownOff, ownEnd, dur, bytes, start, end } = this;
    return { cap, kind, alive, relisted, res, op, idx, src, dst, segOf, predOff, predEnd, ownOff, ownEnd, dur, bytes, start, end };
  }

  private install(c: TaskColumns): void {
    this.cap = c.cap;
    this.kind = c.kind; this.alive = c.alive; this.relisted = c.relisted;
    this.res = c.res; this.op = c.op; this.idx = c.idx; this.src = c.src; this.dst = c.dst;
    this.segOf = c.segOf; this.predOff = c.predOff; this.predEnd = c.predEnd; this.ownOff = c.ownOff; this.ownEnd = c.ownEnd;
    this.dur = c.dur; this.bytes = c.bytes; this.start = c.start; this.end = c.end;
  }

  private growTasks(): void {
    this.resizeTasks(Math.max(1024, 2 * this.cap));
  }

  private resizeTasks(cap: number): void {
    const n = this.top;
    const old = this.columns();
    const c = allocColumns(cap);
    c.kind.set(old.kind.subarray(0, n)); c.alive.set(old.alive.subarray(0, n)); c.relisted.set(old.relisted.subarray(0, n));
    c.res.set(old.res.subarray(0, n)); c.op.set(old.op.subarray(0, n)); c.idx.set(old.idx.subarray(0, n));
    c.src.set(old.src.subarray(0, n)); c.dst.set(old.dst.subarray(0, n)); c.segOf.set(old.segOf.subarray(0, n));
    c.predOff.set(old.predOff.subarray(0, n)); c.predEnd.set(old.predEnd.subarray(0, n));
    c.ownOff.set(old.ownOff.subarray(0, n)); c.ownEnd.set(old.ownEnd.subarray(0, n));
    c.dur.set(old.dur.subarray(0, n)); c.bytes.set(old.bytes.subarray(0, n));
    c.start.set(old.start.subarray(0, n)); c.end.set(old.end.subarray(0, n));
    this.install(c);
  }

  private growPreds(need: number): void {
    const b = new Int32Array(Math.max(2048, this.preds.length * 2, need));
    b.set(this.preds.subarray(0, this.predTop));
    this.preds = b;
  }

  private growPushes(need = 0): void {
    const cap = Math.max(2048, this.pushSrc.length * 2, need);
    const s = new Int32Array(cap);
    s.set(this.pushSrc.subarray(0, this.pushTop));
    const d = new Int32Array(cap);
    d.set(this.pushDst.subarray(0, this.pushTop));
    this.pushSrc = s;
    this.pushDst = d;
  }

  /** Makes segments 0..n−1 available, empty (the store must be empty). */
  prepareSegments(n: number): void {
    if (this.segBeg.length < n) {
      this.segBeg = new Int32Array(n);
      this.segEnd = new Int32Array(n);
      this.segPushBeg = new Int32Array(n);
      this.segPushEnd = new Int32Array(n);
    } else {
      this.segBeg.fill(0, 0, n);
      this.segEnd.fill(0, 0, n);
      this.segPushBeg.fill(0, 0, n);
      this.segPushEnd.fill(0, 0, n);
    }
    this.segCount = n;
  }

  /** Starts filling segment g (which must be empty): tasks and pushes go there until `close`. */
  openSegment(g: number): void {
    if (this.open >= 0) throw new Error(`segment ${this.open} is still open`);
    if (this.segEnd[g] !== this.segBeg[g] || this.segPushEnd[g] !== this.segPushBeg[g]) throw new Error(`segment ${g} is not empty`);
    this.open = g;
    this.segBeg[g] = this.top;
    this.segPushBeg[g] = this.pushTop;
  }

  closeSegment(): void {
    const g = this.open;
    this.segEnd[g] = this.top;
    this.segPushEnd[g] = this.pushTop;
    this.livePushes += this.pushTop - this.segPushBeg[g];
    this.open = -1;
  }

  /** A new task at the end of the open segment; its own predecessors follow with `pred`. */
  add(kind: number, res: number, dur: number, op: number, idx: number, src: number, dst: number, bytes: number): number {
    if (this.top === this.cap) this.growTasks();
    const s = this.top++;
    const g = this.open;
    this.count++;
    this.kind[s] = kind; this.alive[s] = 1; this.relisted[s] = 0; this.res[s] = res; this.op[s] = op; this.idx[s] = idx;
    this.src[s] = src; this.dst[s] = dst; this.dur[s] = dur; this.bytes[s] = bytes;
    this.segOf[s] = g;
    this.start[s] = Infinity; this.end[s] = Infinity;
    const p = this.predTop;
    this.predOff[s] = p; this.predEnd[s] = p; this.ownOff[s] = p; this.ownEnd[s] = p;
    return s;
  }

  /** p must finish before s (the task just added) starts. */
  pred(s: number, p: number): void {
    if (this.predTop === this.preds.length) this.growPreds(0);
    this.preds[this.predTop++] = p;
    this.ownEnd[s] = this.predTop;
    this.predEnd[s] = this.predTop;
    this.livePreds++;
  }

  /** `from` must finish before `to` starts (`to` in a later segment, relisted later). */
  push(from: number, to: number): void {
    if (this.pushTop === this.pushSrc.length) this.growPushes();
    this.pushSrc[this.pushTop] = from;
    this.pushDst[this.pushTop++] = to;
  }

  /**
   * While set, `clearSegment` and `relist` record what they overwrite (see
   * TaskGraphBuilder.rollback): segments as (g, beg, end, pushBeg, pushEnd), lists of tasks
   * below `top` as (task, predOff, predEnd, relisted).
   */
  journal: { top: number; segs: number[]; lists: number[] } | undefined;

  /** Drops every task and push of segment g (they become garbage until `compact`). */
  clearSegment(g: number): void {
    const b = this.segBeg[g];
    const e = this.segEnd[g];
    this.journal?.segs.push(g, b, e, this.segPushBeg[g], this.segPushEnd[g]);
    for (let s = b; s < e; s++) {
      this.alive[s] = 0;
      this.livePreds -= this.ownEnd[s] - this.ownOff[s];
      if (this.relisted[s]) this.livePreds -= this.predEnd[s] - this.predOff[s];
    }
    this.count -= e - b;
    this.livePushes -= this.segPushEnd[g] - this.segPushBeg[g];
    this.segEnd[g] = b;
    this.segPushEnd[g] = this.segPushBeg[g];
  }

  private counts = new Int32Array(256);

  /**
   * Re-materialises the lists of tasks base .. base+n−1 (consecutive, one segment) from
   * their own predecessors and the pushes of segments `from` (each aimed into that range or
   * elsewhere): a task with pushes gets own + pushes in a new range; one without, its own.
   */
  relist(base: number, n: number, from: readonly number[]): void {
    if (this.counts.length < n + 1) this.counts = new Int32Array(2 * n + 2);
    const cnt = this.counts;
    cnt.fill(0, 0, n);
    const { pushSrc, pushDst, segPushBeg, segPushEnd } = this;
    const journal = this.journal;
    if (journal) {
      for (let s = base; s < base + n && s < journal.top; s++) journal.lists.push(s, this.predOff[s], this.predEnd[s], this.relisted[s]);
    }
    let total = 0;
    for (const g of from) {
      for (let i = segPushBeg[g], e = segPushEnd[g]; i < e; i++) {
        const j = pushDst[i] - base;
        if (j >= 0 && j < n) {
          cnt[j]++;
          total++;
        }
      }
    }
    for (let j = 0; j < n; j++) {
      const s = base + j;
      if (this.relisted[s]) this.livePreds -= this.predEnd[s] - this.predOff[s];
      if (cnt[j] === 0) {
        this.relisted[s] = 0;
        this.predOff[s] = this.ownOff[s];
        this.predEnd[s] = this.ownEnd[s];
      } else total += this.ownEnd[s] - this.ownOff[s];
    }
    if (total === 0) return;
    if (this.predTop + total > this.preds.length) this.growPreds(this.predTop + total);
    const preds = this.preds;
    // Offsets: own predecessors first; cnt[j] becomes the fill position of the pushes.
    let k = this.predTop;
    for (let j = 0; j < n; j++) {
      if (cnt[j] === 0) continue;
      const s = base + j;
      this.relisted[s] = 1;
      this.predOff[s] = k;
      for (let i = this.ownOff[s], e = this.ownEnd[s]; i < e; i++) preds[k++] = preds[i];
      const c = cnt[j];
      cnt[j] = k;
      k += c;
      this.predEnd[s] = k;
    }
    for (const g of from) {
      for (let i = segPushBeg[g], e = segPushEnd[g]; i < e; i++) {
        const j = pushDst[i] - base;
        if (j >= 0 && j < n) preds[cnt[j]++] = pushSrc[i];
      }
    }
    this.livePreds += k - this.predTop;
    this.predTop = k;
  }

  /**
   * Grows the arrays to hold live data plus the garbage `shouldCompact` tolerates (twice
   * the live data), so that a run of edits appends without reallocating.
   */
  reserveHeadroom(): void {
    const tasks = 3 * this.count + this.compactSlack + 1024;
    if (this.cap < tasks) this.resizeTasks(tasks);
    const preds = 3 * this.livePreds + this.compactSlack + 1024;
    if (this.preds.length < preds) this.growPreds(preds);
    const pushes = 3 * this.livePushes + this.compactSlack + 1024;
    if (this.pushSrc.length < pushes) this.growPushes(pushes);
  }

  /** Whether garbage has reached twice the live data (tasks, predecessors or pushes). */
  shouldCompact(): boolean {
    const k = this.compactSlack;
    return this.top > 3 * this.count + k || this.predTop > 3 * this.livePreds + k || this.pushTop > 3 * this.livePushes + k;
  }

  /**
   * Copies the live segments down in key order into fresh arrays, dropping garbage. Task
   * ids change: `relocate(id)` maps an id from before to after (until the next compaction);
   * callers holding ids remap them. Times, keys and dependencies are preserved.
   */
  compact(): void {
    this.compactions++;
    const G = this.segCount;
    const oldBeg = this.segBeg.slice(0, G);
    let n = 0;
    let np = 0;
    for (let g = 0; g < G; g++) {
      n += this.segEnd[g] - this.segBeg[g];
      np += this.segPushEnd[g] - this.segPushBeg[g];
    }
    // Into the spare columns (the arrays of the previous compaction) when they are big
    // enough: no allocation, no page faults.
    const c = this.spare.cap >= this.cap ? this.spare : allocColumns(this.cap);
    const preds = this.sparePreds.length >= this.preds.length ? this.sparePreds : new Int32Array(this.preds.length);
    const pushSrc = this.sparePushSrc.length >= this.pushSrc.length ? this.sparePushSrc : new Int32Array(this.pushSrc.length);
    const pushDst = this.sparePushDst.length >= this.pushSrc.length ? this.sparePushDst : new Int32Array(this.pushSrc.length);
    const o = this.columns();
    const oPreds = this.preds;
    const oPushSrc = this.pushSrc;
    const oPushDst = this.pushDst;
    // New segment ranges first: relocating a reference needs its target's new place.
    const shift = new Int32Array(G);
    let t = 0;
    for (let g = 0; g < G; g++) {
      shift[g] = t - oldBeg[g];
      t += this.segEnd[g] - this.segBeg[g];
    }
    const oSegOf = o.segOf;
    const reloc = (x: number) => x + shift[oSegOf[x]];
    t = 0;
    let k = 0;
    let p = 0;
    for (let g = 0; g < G; g++) {
      for (let s = this.segBeg[g], e = this.segEnd[g]; s < e; s++, t++) {
        c.kind[t] = o.kind[s]; c.alive[t] = 1; c.res[t] = o.res[s]; c.op[t] = o.op[s]; c.idx[t] = o.idx[s];
        c.src[t] = o.src[s]; c.dst[t] = o.dst[s]; c.segOf[t] = g; c.dur[t] = o.dur[s];
        c.bytes[t] = o.bytes[s]; c.start[t] = o.start[s]; c.end[t] = o.end[s];
        c.ownOff[t] = k;
        for (let i = o.ownOff[s], pe = o.ownEnd[s]; i < pe; i++) preds[k++] = reloc(oPreds[i]);
        c.ownEnd[t] = k;
        if (o.relisted[s]) {
          c.relisted[t] = 1;
          c.predOff[t] = k;
          for (let i = o.predOff[s], pe = o.predEnd[s]; i < pe; i++) preds[k++] = reloc(oPreds[i]);
          c.predEnd[t] = k;
        } else {
          c.relisted[t] = 0;
          c.predOff[t] = c.ownOff[t];
          c.predEnd[t] = k;
        }
      }
      const pb = p;
      for (let i = this.segPushBeg[g], pe = this.segPushEnd[g]; i < pe; i++) {
        pushSrc[p] = reloc(oPushSrc[i]);
        pushDst[p++] = reloc(oPushDst[i]);
      }
      this.segPushBeg[g] = pb;
      this.segPushEnd[g] = p;
      this.segEnd[g] = this.segEnd[g] + shift[g];
      this.segBeg[g] = this.segBeg[g] + shift[g];
    }
    this.relocate = reloc;
    this.spare = o;
    this.sparePreds = oPreds;
    this.sparePushSrc = oPushSrc;
    this.sparePushDst = oPushDst;
    this.install(c);
    this.preds = preds;
    this.predTop = k;
    this.livePreds = k;
    this.pushSrc = pushSrc;
    this.pushDst = pushDst;
    this.pushTop = p;
    this.livePushes = np;
    this.top = n;
  }

  /** After `compact`: the new id of a task id from before it. */
  relocate: (id: number) => number = (id) => id;

  /** Predecessors of s (allocates; for tests and timelines). */
  predsOf(s: number): number[] {
    return Array.from(this.preds.subarray(this.predOff[s], this.predEnd[s]));
  }

  /** Alive task ids, ascending. */
  slots(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.top; s++) if (this.alive[s]) out.push(s);
    return out;
  }

  /**
   * Empties the store but keeps its buffers, so that a caller running many full
   * simulations (simulateIterationTime) does not reallocate and collect them every time.
   */
  reset(): void {
    this.top = 0;
    this.count = 0;
    this.predTop = 0;
    this.livePreds = 0;
    this.pushTop = 0;
    this.livePushes = 0;
    this.open = -1;
    this.segCount = 0;
  }
}

// ------------------------------------------------------------------ per-op layouts

/** Everything about an op's tasks that depends only on its degrees (not on devices). */
interface Layout {
  degrees: number[];
  count: number;
  /** Distinct task extents and each task's index into them. */
  extents: number[][];
  extentOf: Int32Array;
  inRegions: Region[][];
  outRegions: Region[][];
  /** Tasks holding each output region: owners (first along reduction dims). */
  owners: number[];
  /** For each owner position, its partial tasks (owner first); [[t]] without split reductions. */
  partials: number[][];
  hasPartials: boolean;
  /** Per param: groups of tasks holding the same shard, with the shard's element count. */
  paramGroups: { tasks: number[]; volume: number }[][];
}

function makeLayout(op: OpNode, inputShapes: readonly (readonly number[])[], degrees: readonly number[]): Layout {
  const sig = op.sig;
  const sizes = spaceSizes(sig);
  if (degrees.length !== sizes.length) throw new Error(`op ${op.name}: ${degrees.length} degrees for ${sizes.length} parallel dims`);
  let count = 1;
  for (const d of degrees) count *= d;
  const red = reductionDims(sig);
  const hasPartials = red.some((d) => degrees[d] > 1);
  const extents: number[][] = [];
  const extentIds = new Map<string, number>();
  const extentOf = new Int32Array(count);
  const inRegions: Region[][] = sig.inputMaps.map(() => []);
  const outRegions: Region[][] = sig.outputMaps.map(() => []);
  const ownerPos = new Map<number, number>();
  const owners: number[] = [];
  const partials: number[][] = [];
  const paramGroups: { tasks: number[]; volume: number }[][] = sig.params.map(() => []);
  const paramIds: Map<string, number>[] = sig.params.map(() => new Map());
  for (let t = 0; t < count; t++) {
    const box = partRegion(sizes, degrees, t);
    const ext = box.hi.map((h, i) => h - box.lo[i]);
    const ek = ext.join(",");
    let e = extentIds.get(ek);
    if (e === undefined) {
      e = extents.length;
      extentIds.set(ek, e);
      extents.push(ext);
    }
    extentOf[t] = e;
    const regs = taskRegions(sig, inputShapes, box);
    regs.inputs.forEach((r, i) => inRegions[i].push(r));
    regs.outputs.forEach((r, i) => outRegions[i].push(r));
    regs.params.forEach((r, p) => {
      const k = `${r.lo.join(",")}:${r.hi.join(",")}`;
      let g = paramIds[p].get(k);
      if (g === undefined) {
        g = paramGroups[p].length;
        paramIds[p].set(k, g);
        paramGroups[p].push({ tasks: [], volume: regionVolume(r) });
      }
      paramGroups[p][g].tasks.push(t);
    });
    let owner = t;
    if (hasPartials) {
      const c = gridCoords(t, degrees);
      for (const d of red) c[d] = 0;
      owner = linearIndex(c, degrees);
    }
    let pos = ownerPos.get(owner);
    if (pos === undefined) {
      pos = owners.length;
      ownerPos.set(owner, pos);
      owners.push(owner);
      partials.push([]);
    }
    partials[pos].push(t);
  }
  return { degrees: [...degrees], count, extents, extentOf, inRegions, outRegions, owners, partials, hasPartials, paramGroups };
}

/** Overlaps between a producer's holders (of one output) and a consumer's tasks (of one input). */
interface EdgeOverlaps {
  /** Triples flattened: holder position, consumer task, element count. */
  holder: Int32Array;
  task: Int32Array;
  volume: Float64Array;
}

function makeOverlaps(prod: Layout, output: number, cons: Layout, input: number): EdgeOverlaps {
  const h: number[] = [];
  const t: number[] = [];
  const v: number[] = [];
  const held = prod.owners.map((o) => prod.outRegions[output][o]);
  const wanted = cons.inRegions[input];
  for (let j = 0; j < wanted.length; j++) {
    const w = wanted[j];
    for (let i = 0; i < held.length; i++) {
      const c = intersect(held[i], w);
      if (!c) continue;
      const vol = regionVolume(c);
      if (vol === 0) continue;
      h.push(i);
      t.push(j);
      v.push(vol);
    }
  }
  return { holder: Int32Array.from(h), task: Int32Array.from(t), volume: Float64Array.from(v) };
}

// ------------------------------------------------------------------ op infos and segments

interface OpInfo {
  node: OpNode;
  rank: number;
  inputShapes: number[][];
  inputDtypes: DType[];
  /** Per input: producer op rank and output index, or undefined for graph inputs. */
  producers: ({ op: number; output: number } | undefined)[];
  /** Per output: consumers (op rank, input index). */
  consumers: { op: number; input: number }[][];
  /** Layouts by degrees; shared by every builder of the same graph (see graphCaches). */
  layouts: Map<string, Layout>;
  /** Dtype of the weights (params without their own dtype take the op's float dtype). */
  paramDtypes: DType[];
}

/**
 * Layouts and edge overlaps depend only on the graph and the degrees, so they are kept per
 * Graph object across builders: a search that simulates many strategies of one graph (or
 * a full re-simulation) computes each region intersection once.
 */
interface GraphCaches {
  layouts: Map<string, Map<string, Layout>>;
  overlaps: Map<string, EdgeOverlaps>;
  /** Ops in topological order with their static facts; rebuilt if the graph grew. */
  ops?: { size: number; infos: OpInfo[]; rankOf: Map<string, number>; seg: SegmentMap; segInLine?: SegmentMap };
}
const graphCaches = new WeakMap<Graph, GraphCaches>();

function cachesFor(graph: Graph): GraphCaches {
  let c = graphCaches.get(graph);
  if (!c) graphCaches.set(graph, (c = { layouts: new Map(), overlaps: new Map() }));
  return c;
}

/** The static facts of every op, in topological order (shared by builders of one graph). */
function opInfos(graph: Graph, caches: GraphCaches): { infos: OpInfo[]; rankOf: Map<string, number> } {
  const rankOf = new Map<string, number>();
  const infos: OpInfo[] = [];
  const order = graph.topoOrder();
  order.forEach((node, rank) => rankOf.set(node.name, rank));
  for (const node of order) {
    const types = node.inputs.map((id) => graph.tensor(id).type);
    const floatIn = types.find((t) => isFloat(t.dtype))?.dtype ?? "f32";
    infos.push({
      node,
      rank: rankOf.get(node.name)!,
      inputShapes: types.map((t) => t.shape),
      inputDtypes: types.map((t) => t.dtype),
      producers: node.inputs.map((id) => {
        const p = graph.tensor(id).producer;
        return p ? { op: rankOf.get(p.op)!, output: p.output } : undefined;
      }),
      consumers: node.outputs.map((id) => graph.tensor(id).consumers.map((c) => ({ op: rankOf.get(c.op)!, input: c.input }))),
      layouts: caches.layouts.get(node.name) ?? caches.layouts.set(node.name, new Map()).get(node.name)!,
      paramDtypes: node.sig.params.map((p) => p.dtype ?? floatIn),
    });
  }
  return { infos, rankOf };
}

/** Segment indices of every op (see the header): a pure function of the graph. */
export interface SegmentMap {
  count: number;
  /** Per op rank: XF(r,0) (= FO(r) when the op has no inputs); XF(r,k) = first + k. */
  first: Int32Array;
  fo: Int32Array;
  /** JN(r) = bo − 1: the op's gradient joins (tasks on no resource). */
  jn: Int32Array;
  /** BO(r); XB(r,k) = bo + 1 + k; AR(r) = bo + 1 + inputs (in the updates section, just before UP(r), with in-line collectives). */
  bo: Int32Array;
  ar: Int32Array;
  up: Int32Array;
  /** 1 for segments whose tasks occupy no resource (the JN segments). */
  noResource: Uint8Array;
}

function segmentMap(infos: readonly OpInfo[], inLineCollectives: boolean): SegmentMap {
  const n = infos.length;
  const first = new Int32Array(n);
  const fo = new Int32Array(n);
  const jn = new Int32Array(n);
  const bo = new Int32Array(n);
  const ar = new Int32Array(n);
  const up = new Int32Array(n);
  let g = 0;
  for (let r = 0; r < n; r++) {
    first[r] = g;
    g += infos[r].node.inputs.length;
    fo[r] = g++;
  }
  const noResource: number[] = [];
  for (let r = n - 1; r >= 0; r--) {
    jn[r] = g++;
    noResource.push(jn[r]);
    bo[r] = g;
    g += 1 + infos[r].node.inputs.length;
    if (!inLineCollectives) ar[r] = g++;
  }
  for (let r = n - 1; r >= 0; r--) {
    if (inLineCollectives) ar[r] = g++;
    up[r] = g++;
  }
  const free = new Uint8Array(g);
  for (const x of noResource) free[x] = 1;
  return { count: g, first, fo, jn, bo, ar, up, noResource: free };
}

/** Per op: its config and layout, and the tasks other ops' edges attach to. */
interface OpBlock {
  cfg: OpConfig;
  layout: Layout;
  fwd: Int32Array;
  bwd: Int32Array;
  /** Per output, per holder position: the task whose end makes the region available. */
  holderSrc: Int32Array[];
  holderDev: Int32Array[];
  /**
   * Per output, per holder position: the task that the region's gradient contributions
   * feed (the owner's bwd, or the join ahead of the broadcasts to partial tasks); −1: none.
   */
  gradTarget: Int32Array[];
}

/** What `TaskGraphBuilder.rollback` needs to undo one `setOp`. */
interface UndoRecord {
  rank: number;
  block: OpBlock;
  dirtyFrom: number;
  top: number;
  predTop: number;
  pushTop: number;
  count: number;
  livePreds: number;
  livePushes: number;
  journal?: { top: number; segs: number[]; lists: number[] };
}

/**
 * Builds and edits the task graph of (graph, mesh, strategy, costs). `setOp` replaces one
 * op's tasks and the transfers on its edges; everything else is left in place.
 */
export class TaskGraphBuilder {
  readonly store: TaskStore;
  readonly links: Links;
  readonly ops: OpInfo[];
  readonly rankOf: Map<string, number>;
  readonly blocks: (OpBlock | undefined)[] = [];
  readonly seg: SegmentMap;
  /**
   * The first segment whose contents changed since the last `markClean()` (segment
   * count: none). Every task whose duration or predecessors changed lies at or after it.
   */
  dirtyFrom = 0;
  private readonly overlapCache: Map<string, EdgeOverlaps>;
  private readonly classOf: Int32Array;
  private readonly costMemo = new Map<number, { forward: number; backward: number }>();
  private gradSrc = new Int32Array(256);
  private readonly scratch: number[] = [];
  private readonly arScratch: number[] = [];
  private readonly devMark: Int32Array;
  private readonly opMark: Int32Array;
  private stamp = 0;
  /** The last all-reduce group's devices, queue and times by bytes (data parallelism repeats one group). */
  private arDevs: number[] = [];
  private arRes = -1;
  private readonly arTimes = new Map<number, number>();
  /** All-reduces run in line on their members' compute queues (collectivesInLine). */
  readonly inLineCollectives: boolean;

  /** `store`: an emptied store to reuse (see TaskStore.reset); a new one by default. */
  constructor(readonly graph: Graph, readonly mesh: Mesh, readonly costs: SimCosts, store?: TaskStore) {
    this.store = store ?? new TaskStore();
    this.links = new Links(mesh);
    const caches = cachesFor(graph);
    this.overlapCache = caches.overlaps;
    const n = mesh.devices.length;
    this.classOf = new Int32Array(n);
    this.devMark = new Int32Array(n);
    for (let d = 0; d < n; d++) this.classOf[d] = costs.computeClass ? costs.computeClass(d) : d;
    if (!caches.ops || caches.ops.size !== graph.ops.size) {
      const { infos, rankOf } = opInfos(graph, caches);
      caches.ops = { size: graph.ops.size, infos, rankOf, seg: segmentMap(infos, false) };
    }
    this.ops = caches.ops.infos;
    this.rankOf = caches.ops.rankOf;
    this.inLineCollectives = collectivesInLine(mesh);
    this.seg = this.inLineCollectives ? (caches.ops.segInLine ??= segmentMap(this.ops, true)) : caches.ops.seg;
    this.opMark = new Int32Array(this.ops.length);
    this.store.prepareSegments(this.seg.count);
  }

  get segmentCount(): number {
    return this.seg.count;
  }

  /** The first segment of the backward section (every forward segment is before it). */
  get forwardEnd(): number {
    return this.ops.length ? this.seg.jn[this.ops.length - 1] : 0;
  }

  /** Called after a schedule: nothing has changed since. */
  markClean(): void {
    this.dirtyFrom = this.seg.count;
  }

  private layout(info: OpInfo, degrees: readonly number[]): Layout {
    const k = degrees.join(",");
    let l = info.layouts.get(k);
    if (!l) {
      l = makeLayout(info.node, info.inputShapes, degrees);
      // Bounded: a long search visits many degree vectors per op.
      if (info.layouts.size > 64) info.layouts.clear();
      info.layouts.set(k, l);
    }
    return l;
  }

  private overlaps(prod: OpInfo, pl: Layout, output: number, cons: OpInfo, cl: Layout, input: number): EdgeOverlaps {
    const k = `${prod.rank}|${output}|${pl.degrees.join(",")}|${cons.rank}|${input}|${cl.degrees.join(",")}`;
    let e = this.overlapCache.get(k);
    if (!e) {
      e = makeOverlaps(pl, output, cl, input);
      if (this.overlapCache.size > 20_000) this.overlapCache.clear();
      this.overlapCache.set(k, e);
    }
    return e;
  }

  /** Builds every op in topological order. */
  buildAll(strategy: Strategy): void {
    for (const info of this.ops) {
      const cfg = strategy.ops[info.node.name];
      if (!cfg) throw new Error(`strategy ${strategy.name} has no config for op ${info.node.name}`);
      this.buildOp(info.rank, cfg);
    }
    for (const info of this.ops) {
      this.relistFwd(info.rank);
      this.relistBwd(info.rank);
    }
    this.dirtyFrom = 0;
  }

  private readonly sources: number[] = [];
  private undo: UndoRecord | undefined;

  /** Re-materialises the lists of op `rank`'s fwd tasks from its input edges' pushes. */
  private relistFwd(rank: number): void {
    const from = this.sources;
    from.length = 0;
    const first = this.seg.first[rank];
    for (let k = 0; k < this.ops[rank].node.inputs.length; k++) from.push(first + k);
    const s = this.store;
    s.relist(s.segBeg[this.seg.fo[rank]], this.blocks[rank]!.fwd.length, from);
  }

  /** Re-materialises the lists of op `rank`'s BO tasks (gradient targets) from its consumers' pushes. */
  private relistBwd(rank: number): void {
    const from = this.sources;
    from.length = 0;
    for (const outs of this.ops[rank].consumers) for (const c of outs) from.push(this.seg.bo[c.op] + 1 + c.input);
    const s = this.store;
    const jn = this.seg.jn[rank];
    const bo = this.seg.bo[rank];
    s.relist(s.segBeg[jn], s.segEnd[jn] - s.segBeg[jn], from);
    s.relist(s.segBeg[bo], s.segEnd[bo] - s.segBeg[bo], from);
  }

  /**
   * Replaces op `name`'s config: its tasks, its input edges and its consumers' input edges.
   * With `undoable`, records what `rollback` needs to restore the graph as it was.
   */
  setOp(name: string, cfg: OpConfig, undoable = false): void {
    const rank = this.rankOf.get(name);
    if (rank === undefined) throw new Error(`graph ${this.graph.name} has no op ${name}`);
    const info = this.ops[rank];
    const s = this.store;
    this.checkConfig(info, cfg);
    this.undo = undefined;
    // Compact before, never during, an edit: the records of an undoable one stay valid.
    if (s.shouldCompact()) this.compact();
    if (undoable) {
      this.undo = {
        rank, block: this.blocks[rank]!, dirtyFrom: this.dirtyFrom,
        top: s.top, predTop: s.predTop, pushTop: s.pushTop, count: s.count, livePreds: s.livePreds, livePushes: s.livePushes,
      };
      s.journal = { top: s.top, segs: [], lists: [] };
    }
    try {
      this.replaceOp(rank, cfg);
    } finally {
      if (this.undo) this.undo.journal = s.journal;
      s.journal = undefined;
    }
  }

  /** The store's top when the undoable edit began: tasks with smaller ids existed before it. */
  get undoTop(): number {
    return this.undo ? this.undo.top : 0;
  }

  /** The op whose last `setOp(…, true)` can still be undone (−1: none). */
  get undoableOp(): number {
    return this.undo ? this.undo.rank : -1;
  }

  /**
   * Undoes the last `setOp(…, true)` if nothing has edited the store since: the segments,
   * lists, blocks and top of the store are put back exactly as they were (the new tasks
   * were appended at the top and are dropped). Task times are the caller's business.
   */
  rollback(): boolean {
    const u = this.undo;
    this.undo = undefined;
    if (!u || !u.journal) return false;
    const s = this.store;
    const { segs, lists } = u.journal;
    for (let i = lists.length - 4; i >= 0; i -= 4) {
      const t = lists[i];
      s.predOff[t] = lists[i + 1];
      s.predEnd[t] = lists[i + 2];
      s.relisted[t] = lists[i + 3];
    }
    for (let i = segs.length - 5; i >= 0; i -= 5) {
      const g = segs[i];
      const b = segs[i + 1];
      const e = segs[i + 2];
      s.segBeg[g] = b;
      s.segEnd[g] = e;
      s.segPushBeg[g] = segs[i + 3];
      s.segPushEnd[g] = segs[i + 4];
      for (let t = b; t < e; t++) s.alive[t] = 1;
    }
    s.top = u.top;
    s.predTop = u.predTop;
    s.pushTop = u.pushTop;
    s.count = u.count;
    s.livePreds = u.livePreds;
    s.livePushes = u.livePushes;
    this.blocks[u.rank] = u.block;
    this.dirtyFrom = u.dirtyFrom;
    return true;
  }

  private replaceOp(rank: number, cfg: OpConfig): void {
    const info = this.ops[rank];
    const s = this.store;
    const seg = this.seg;
    for (const outs of info.consumers) {
      for (const c of outs) {
        s.clearSegment(seg.first[c.op] + c.input);
        s.clearSegment(seg.bo[c.op] + 1 + c.input);
      }
    }
    for (let g = seg.first[rank]; g <= seg.fo[rank]; g++) s.clearSegment(g); // XF(r,·), FO(r)
    for (let g = seg.jn[rank], e = seg.bo[rank] + info.node.inputs.length; g <= e; g++) s.clearSegment(g); // JN(r), BO(r), XB(r,·)
    s.clearSegment(seg.ar[rank]);
    s.clearSegment(seg.up[rank]);
    this.buildOp(rank, cfg);
    for (const outs of info.consumers) for (const c of outs) this.buildEdge(c.op, c.input);
    // Lists fed by the rebuilt edges' pushes: this op's and its consumers' fwd tasks, this
    // op's and its producers' gradient targets.
    const stamp = ++this.stamp;
    const mark = this.opMark;
    this.relistFwd(rank);
    for (const outs of info.consumers) {
      for (const c of outs) {
        if (mark[c.op] === stamp) continue;
        mark[c.op] = stamp;
        this.relistFwd(c.op);
      }
    }
    this.relistBwd(rank);
    for (const p of info.producers) {
      if (!p || mark[p.op] === -stamp) continue;
      mark[p.op] = -stamp;
      this.relistBwd(p.op);
    }
    // Everything touched lies at or after XF(r,0): the consumers' segments come later in
    // the forward section, and every backward segment after every forward one.
    if (seg.first[rank] < this.dirtyFrom) this.dirtyFrom = seg.first[rank];
  }

  /** Compacts the store and remaps the task ids the blocks hold. */
  private compact(): void {
    this.undo = undefined;
    this.store.compact();
    const map = this.store.relocate;
    const re = (a: Int32Array) => {
      for (let i = 0; i < a.length; i++) if (a[i] >= 0) a[i] = map(a[i]);
    };
    for (const b of this.blocks) {
      if (!b) continue;
      re(b.fwd);
      re(b.bwd);
      for (const a of b.holderSrc) re(a);
      for (const a of b.gradTarget) re(a);
    }
  }

  private checkConfig(info: OpInfo, cfg: OpConfig): Layout {
    const op = info.node;
    const L = this.layout(info, cfg.degrees);
    if (cfg.devices.length !== L.count) throw new Error(`op ${op.name}: ${cfg.devices.length} devices for ${L.count} tasks`);
    const nd = this.mesh.devices.length;
    for (const d of cfg.devices) {
      if (!(Number.isInteger(d) && d >= 0 && d < nd)) throw new Error(`op ${op.name}: no device ${d} in mesh ${this.mesh.name}`);
    }
    return L;
  }

  /** Builds op `rank`'s segments FO, BO, AR, UP (in that order, each in one go), then its input edges. */
  private buildOp(rank: number, cfgIn: OpConfig): void {
    const info = this.ops[rank];
    const op = info.node;
    const s = this.store;
    const cfg: OpConfig = { degrees: [...cfgIn.degrees], devices: [...cfgIn.devices] };
    const L = this.checkConfig(info, cfg);
    const devices = cfg.devices;
    const nd = this.mesh.devices.length;
    const count = L.count;
    const nOut = op.outputs.length;
    const nH = L.owners.length;
    const fwd = new Int32Array(count);
    const bwd = new Int32Array(count);
    const holderSrc: Int32Array[] = [];
    const holderDev: Int32Array[] = [];
    const gradTarget: Int32Array[] = [];
    for (let o = 0; o < nOut; o++) {
      holderSrc.push(new Int32Array(nH));
      holderDev.push(new Int32Array(nH));
      gradTarget.push(new Int32Array(nH).fill(-1));
    }
    // Per (output, task): where the task's output gradient comes from when it is a partial
    // (the join on the owner's device, or the broadcast from it); −1: from consumers.
    if (this.gradSrc.length < count * nOut) this.gradSrc = new Int32Array(2 * count * nOut);
    const gradSrc = this.gradSrc;
    gradSrc.fill(-1, 0, count * nOut);
    const hasGrad = (o: number) => info.consumers[o].length > 0 && isFloat(op.sig.outputs[o].dtype);

    // FO(r): fwd tasks, then per output region its partial-sum transfers and add.
    s.openSegment(this.seg.fo[rank]);
    const costMemo = this.costMemo;
    costMemo.clear();
    for (let t = 0; t < count; t++) {
      const dev = devices[t];
      const ck = L.extentOf[t] * nd + this.classOf[dev];
      let c = costMemo.get(ck);
      if (!c) costMemo.set(ck, (c = this.costs.compute(op, L.extents[L.extentOf[t]], dev)));
      fwd[t] = s.add(KIND_FWD, dev, c.forward, rank, t, dev, dev, 0);
    }
    const xs = this.scratch;
    for (let o = 0; o < nOut; o++) {
      const elem = dtypeBytes(op.sig.outputs[o].dtype);
      for (let h = 0; h < nH; h++) {
        const ow = L.owners[h];
        const odev = devices[ow];
        holderDev[o][h] = odev;
        if (!L.hasPartials) {
          holderSrc[o][h] = fwd[ow];
          continue;
        }
        const parts = L.partials[h];
        const bytes = regionVolume(L.outRegions[o][ow]) * elem;
        xs.length = 0;
        for (const p of parts) {
          const pdev = devices[p];
          if (pdev === odev) continue;
          const x = s.add(KIND_XFER, this.links.transfer(pdev, odev), this.costs.transfer(bytes, pdev, odev), rank, -1, pdev, odev, bytes);
          s.pred(x, fwd[p]);
          xs.push(x);
        }
        const add = s.add(KIND_PSUM, odev, this.costs.partialSum(bytes, parts.length, odev), rank, h, odev, odev, bytes);
        for (const p of parts) if (devices[p] === odev) s.pred(add, fwd[p]);
        for (const x of xs) s.pred(add, x);
        holderSrc[o][h] = add;
      }
    }
    s.closeSegment();

    // JN(r): per partial-summed output region its gradient join (on no resource).
    s.openSegment(this.seg.jn[rank]);
    for (let o = 0; o < nOut; o++) {
      if (!hasGrad(o)) continue;
      if (!L.hasPartials) {
        for (let h = 0; h < nH; h++) gradTarget[o][h] = -2; // the owner's bwd, known below
        continue;
      }
      for (let h = 0; h < nH; h++) {
        const odev = devices[L.owners[h]];
        gradTarget[o][h] = s.add(KIND_JOIN, this.links.none, 0, rank, h, odev, odev, 0);
      }
    }
    s.closeSegment();

    // BO(r): the broadcasts from each join to the partials elsewhere; then the bwd tasks.
    s.openSegment(this.seg.bo[rank]);
    for (let o = 0; o < nOut; o++) {
      if (!hasGrad(o) || !L.hasPartials) continue;
      const elem = dtypeBytes(op.sig.outputs[o].dtype);
      for (let h = 0; h < nH; h++) {
        const ow = L.owners[h];
        const odev = devices[ow];
        const bytes = regionVolume(L.outRegions[o][ow]) * elem;
        const join = gradTarget[o][h];
        for (const p of L.partials[h]) {
          const pdev = devices[p];
          if (pdev === odev) {
            gradSrc[p * nOut + o] = join;
            continue;
          }
          const b = s.add(KIND_XFER, this.links.transfer(odev, pdev), this.costs.transfer(bytes, odev, pdev), rank, -1, odev, pdev, bytes);
          s.pred(b, join);
          gradSrc[p * nOut + o] = b;
        }
      }
    }
    for (let t = 0; t < count; t++) {
      const dev = devices[t];
      const c = costMemo.get(L.extentOf[t] * nd + this.classOf[dev])!;
      const b = s.add(KIND_BWD, dev, c.backward, rank, t, dev, dev, 0);
      s.pred(b, fwd[t]);
      for (let o = 0; o < nOut; o++) if (gradSrc[t * nOut + o] >= 0) s.pred(b, gradSrc[t * nOut + o]);
      bwd[t] = b;
    }
    s.closeSegment();
    for (let o = 0; o < nOut; o++) {
      const gt = gradTarget[o];
      for (let h = 0; h < nH; h++) if (gt[h] === -2) gt[h] = bwd[L.owners[h]];
    }

    // AR(r) and UP(r): weight-gradient sync and optimizer updates, per weight shard.
    const arOf = this.arScratch;
    arOf.length = 0;
    s.openSegment(this.seg.ar[rank]);
    for (let p = 0; p < L.paramGroups.length; p++) {
      const elem = dtypeBytes(info.paramDtypes[p]);
      for (const g of L.paramGroups[p]) {
        const devs = this.groupDevices(g.tasks, devices);
        if (devs.length < 2) {
          arOf.push(-1);
          continue;
        }
        const bytes = g.volume * elem;
        const time = this.allReduce(bytes, devs);
        if (this.inLineCollectives) {
          // Every member arrives after its own replicas' bwd; every member's share waits
          // for all arrivals (so, through them, for every replica's gradient).
          const arrive = s.top;
          for (const d of devs) {
            // A task's predecessors are appended right after it (own ranges are contiguous).
            const a = s.add(KIND_ALLREDUCE, d, 0, rank, p, d, ARRIVE, 0);
            for (const t of g.tasks) if (devices[t] === d) s.pred(a, bwd[t]);
          }
          const first = s.top;
          const share = (2 * (devs.length - 1) * bytes) / devs.length;
          for (const d of devs) {
            const ar = s.add(KIND_ALLREDUCE, d, time, rank, p, d, -1, share);
            for (let m = 0; m < devs.length; m++) s.pred(ar, arrive + m);
          }
          arOf.push(first);
          continue;
        }
        const ar = s.add(KIND_ALLREDUCE, this.arRes, time, rank, p, -1, -1, 2 * (devs.length - 1) * bytes);
        for (const t of g.tasks) s.pred(ar, bwd[t]);
        arOf.push(ar);
      }
    }
    s.closeSegment();
    s.openSegment(this.seg.up[rank]);
    let k = 0;
    for (let p = 0; p < L.paramGroups.length; p++) {
      const elem = dtypeBytes(info.paramDtypes[p]);
      for (const g of L.paramGroups[p]) {
        const bytes = g.volume * elem;
        const ar = arOf[k++];
        if (ar >= 0) {
          const devs = this.groupDevices(g.tasks, devices);
          for (let m = 0; m < devs.length; m++) {
            const d = devs[m];
            const u = s.add(KIND_UPDATE, d, this.costs.update(bytes, d), rank, p, d, d, bytes);
            // In line, each member updates after its own share (member m's is first + m).
            s.pred(u, this.inLineCollectives ? ar + m : ar);
          }
        } else {
          const d = devices[g.tasks[0]];
          const u = s.add(KIND_UPDATE, d, this.costs.update(bytes, d), rank, p, d, d, bytes);
          for (const t of g.tasks) s.pred(u, bwd[t]);
        }
      }
    }
    s.closeSegment();
    this.blocks[rank] = { cfg, layout: L, fwd, bwd, holderSrc, holderDev, gradTarget };
    for (let k2 = 0; k2 < op.inputs.length; k2++) this.buildEdge(rank, k2);
  }

  /** The distinct devices of `tasks`, ascending. */
  private groupDevices(tasks: readonly number[], devices: readonly number[]): number[] {
    const stamp = ++this.stamp;
    const mark = this.devMark;
    const out: number[] = [];
    for (const t of tasks) {
      const d = devices[t];
      if (mark[d] !== stamp) {
        mark[d] = stamp;
        out.push(d);
      }
    }
    if (out.length > 1) out.sort((a, b) => a - b);
    return out;
  }

  /** Seconds of an all-reduce of `bytes` over `devs`; sets `arRes` to its queue (none when collectives run in line). */
  private allReduce(bytes: number, devs: number[]): number {
    const last = this.arDevs;
    let same = last.length === devs.length;
    for (let i = 0; same && i < devs.length; i++) same = last[i] === devs[i];
    if (!same) {
      this.arDevs = devs;
      this.arRes = this.inLineCollectives ? -1 : this.links.collective(devs);
      this.arTimes.clear();
    }
    let t = this.arTimes.get(bytes);
    if (t === undefined) this.arTimes.set(bytes, (t = this.costs.allReduce(bytes, devs)));
    return t;
  }

  /**
   * Input `input` of op `rank`: XF(rank, input), its forward transfers (each pulling from
   * the producer's holder) and pushes into the consumer's fwd tasks; then XB(rank, input),
   * the gradient transfers (each pulling from a bwd task) and pushes into the producer's
   * gradient targets. Same-device overlaps are pushes without a transfer.
   */
  private buildEdge(rank: number, input: number): void {
    const info = this.ops[rank];
    const prodRef = info.producers[input];
    if (!prodRef) return;
    const cb = this.blocks[rank]!;
    const pb = this.blocks[prodRef.op]!;
    const prod = this.ops[prodRef.op];
    const ov = this.overlaps(prod, pb.layout, prodRef.output, info, cb.layout, input);
    const s = this.store;
    const elem = dtypeBytes(info.inputDtypes[input]);
    const withGrad = isFloat(info.inputDtypes[input]);
    const src = pb.holderSrc[prodRef.output];
    const hdev = pb.holderDev[prodRef.output];
    const targets = pb.gradTarget[prodRef.output];
    const devices = cb.cfg.devices;
    const { holder, task, volume } = ov;
    const n = holder.length;
    s.openSegment(this.seg.first[rank] + input);
    for (let i = 0; i < n; i++) {
      const h = holder[i];
      const j = task[i];
      const from = hdev[h];
      const to = devices[j];
      if (from === to) {
        s.push(src[h], cb.fwd[j]);
        continue;
      }
      const bytes = volume[i] * elem;
      const f = s.add(KIND_XFER, this.links.transfer(from, to), this.costs.transfer(bytes, from, to), rank, -1, from, to, bytes);
      s.pred(f, src[h]);
      s.push(f, cb.fwd[j]);
    }
    s.closeSegment();
    s.openSegment(this.seg.bo[rank] + 1 + input);
    if (withGrad) {
      for (let i = 0; i < n; i++) {
        const h = holder[i];
        const tg = targets[h];
        if (tg < 0) continue;
        const j = task[i];
        const from = hdev[h];
        const to = devices[j];
        if (from === to) {
          s.push(cb.bwd[j], tg);
          continue;
        }
        const bytes = volume[i] * elem;
        const b = s.add(KIND_XFER, this.links.transfer(to, from), this.costs.transfer(bytes, to, from), rank, -1, to, from, bytes);
        s.pred(b, cb.bwd[j]);
        s.push(b, tg);
      }
    }
    s.closeSegment();
  }

  /** The current config of op `name`. */
  config(name: string): OpConfig {
    const b = this.blocks[this.rankOf.get(name)!];
    if (!b) throw new Error(`op ${name} is not built`);
    return b.cfg;
  }

  /**
   * Checks that the key order is a linear extension of the dependencies and that the
   * sweep sees every predecessor timed: a pull's source has a smaller key than its task; a
   * push's source lies in its owner segment or before, its target after. Also that every
   * alive task lies in its segment's range with the key naming its position. Throws on the
   * first violation. For tests: O(tasks + edges).
   */
  checkOrder(): void {
    const s = this.store;
    let placed = 0;
    // Expected lists: own predecessors plus every push aimed at the task.
    const expected = new Map<number, number[]>();
    for (let g = 0; g < this.seg.count; g++) {
      for (let t = s.segBeg[g]; t < s.segEnd[g]; t++) expected.set(t, Array.from(s.preds.subarray(s.ownOff[t], s.ownEnd[t])));
    }
    for (let g = 0; g < this.seg.count; g++) {
      for (let i = s.segPushBeg[g]; i < s.segPushEnd[g]; i++) {
        const l = expected.get(s.pushDst[i]);
        if (!l || !s.alive[s.pushSrc[i]]) throw new Error(`push ${s.pushSrc[i]} → ${s.pushDst[i]} of segment ${g} involves a dead task`);
        l.push(s.pushSrc[i]);
      }
    }
    for (let g = 0; g < this.seg.count; g++) {
      for (let t = s.segBeg[g]; t < s.segEnd[g]; t++) {
        if (!s.alive[t] || s.segOf[t] !== g) throw new Error(`task ${t} is misplaced in segment ${g}`);
        placed++;
        const got = Array.from(s.preds.subarray(s.predOff[t], s.predEnd[t]));
        const want = expected.get(t)!;
        if (got.length !== want.length || [...got].sort().join() !== [...want].sort().join()) throw new Error(`task ${t}: stale predecessor list [${got}] ≠ [${want}]`);
        for (const p of got) {
          if (!s.alive[p] || !(s.keyOf(p) < s.keyOf(t))) throw new Error(`dependency ${p} → ${t} goes against the key order`);
        }
      }
    }
    if (placed !== s.count) throw new Error(`${s.count - placed} alive tasks are in no segment`);
  }
}
