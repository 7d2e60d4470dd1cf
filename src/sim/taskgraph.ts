// The task graph of one training iteration under a strategy (FlexFlow's simulator, §5 of
// Jia et al., SysML 2019), built incrementally so that one op's config can be swapped.
//
// Tasks (typed arrays indexed by task id, see TaskStore):
//   fwd / bwd         one compute task per (op, task index) on the task's device
//   xfer              a transfer per piece of a producer's output region (its holder: the
//                     owner of its output group, src/layout) that a device reads from another
//                     device, once per (device, region) however many tasks read it; the same
//                     piece carries the gradient back in backward (edge-tasks.ts)
//   psum xfer / add   an op with split reduction dims produces partial sums: the partials of
//                     one output group travel to its owner and are added there; consumers
//                     read from the owners (op-tasks.ts)
//   join, grad bcast  in backward the gradient contributions to such a region meet at a
//                     zero-cost join (on no resource), which the owner then sends on to the
//                     other devices holding partial tasks
//   allreduce         weight-gradient sync among the devices holding the same weight shard
//   update            the optimizer step per weight shard per device
// Same-device reuse of a region is a plain dependency (no task, no cost). Graph inputs are
// assumed resident where they are read (the data loader puts each batch shard there).
// What moves is what the lowered plan moves (test/sim/movements.property.test.ts).
//
// The tasks live in segments in one global order (segments.ts): a task's structural key is
// (segment, position in it), the order in which every resource runs its tasks (see
// simulate.ts). Swapping one op's config replaces the contents of its own segments, of its
// consumers' XF/XB segments and, where units of data are shared, of the segments of the
// other readers of its inputs (replaceOp); no other task moves. See docs/simulator.md.

import { collectivesInLine, type Mesh } from "../core/mesh.js";
import type { Graph } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import type { LayoutCache } from "../layout/cache.js";
import type { OpLayout } from "../layout/op-layout.js";
import type { SimCosts } from "./costs.js";
import { buildEdgeBackward, buildEdgeForward, UNBUILT_EDGE, type EdgeContext, type EdgeState } from "./edge-tasks.js";
import { Links } from "./links.js";
import { graphFacts, segmentsOf, type EdgeRef, type OpInfo } from "./op-infos.js";
import { OpTasks, type OpBlock } from "./op-tasks.js";
import type { SegmentMap } from "./segments.js";
import { TaskStore } from "./task-store.js";

function sameConfig(a: OpConfig, b: OpConfig): boolean {
  if (a.degrees.length !== b.degrees.length || a.devices.length !== b.devices.length) return false;
  for (let i = 0; i < a.degrees.length; i++) if (a.degrees[i] !== b.degrees[i]) return false;
  for (let i = 0; i < a.devices.length; i++) if (a.devices[i] !== b.devices[i]) return false;
  return true;
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
  /** Edges whose state was replaced, with their state before: (rank, input, state). */
  edges: [number, number, EdgeState][];
}

/**
 * Builds and edits the task graph of (graph, mesh, strategy, costs). `setOp` replaces one
 * op's tasks and the transfers on its edges; everything else is left in place.
 */
export class TaskGraphBuilder implements EdgeContext {
  readonly store: TaskStore;
  readonly links: Links;
  readonly ops: OpInfo[];
  readonly rankOf: Map<string, number>;
  readonly blocks: (OpBlock | undefined)[] = [];
  /** Per op rank, per input: its edge's overlaps and the units of data it claimed (edge-tasks.ts). */
  readonly edges: EdgeState[][];
  readonly seg: SegmentMap;
  readonly layouts: LayoutCache;
  /**
   * The first segment whose contents changed since the last `markClean()` (segment
   * count: none). Every task whose duration or predecessors changed lies at or after it.
   */
  dirtyFrom = 0;
  private readonly opTasks: OpTasks;
  private readonly opMark: Int32Array;
  private stamp = 0;
  /** All-reduces run in line on their members' compute queues (collectivesInLine). */
  readonly inLineCollectives: boolean;

  /** `store`: an emptied store to reuse (see TaskStore.reset); a new one by default. */
  constructor(readonly graph: Graph, readonly mesh: Mesh, readonly costs: SimCosts, store?: TaskStore) {
    this.store = store ?? new TaskStore();
    this.links = new Links(mesh);
    const facts = graphFacts(graph);
    this.ops = facts.infos;
    this.rankOf = facts.rankOf;
    this.layouts = facts.layouts;
    this.inLineCollectives = collectivesInLine(mesh);
    this.seg = segmentsOf(facts, this.inLineCollectives);
    this.edges = this.ops.map((info) => info.node.inputs.map(() => UNBUILT_EDGE));
    this.opMark = new Int32Array(this.ops.length);
    this.opTasks = new OpTasks(this.store, this.links, costs, this.seg, this.inLineCollectives);
    this.store.prepareSegments(this.seg.count);
  }

  /** Whether the graph is as it was when this builder was made (it can still `rebuildAll`). */
  isCurrent(): boolean {
    return graphFacts(this.graph).infos === this.ops;
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

  /**
   * Builds every op in topological order (see buildOp). The gradient transfers of the
   * regions an edge claimed wait for every reader's bwd tasks: they are built as soon as the
   * tensor's last reader is, while its data are still in cache.
   */
  buildAll(strategy: Strategy): void {
    const ops = this.ops;
    for (let r = 0; r < ops.length; r++) {
      const info = ops[r];
      const cfg = strategy.ops[info.node.name];
      if (!cfg) throw new Error(`strategy ${strategy.name} has no config for op ${info.node.name}`);
      this.buildOp(r, cfg);
      for (let k = 0; k < info.producers.length; k++) {
        const p = info.producers[k];
        if (!p) continue;
        const readers = ops[p.op].consumers[p.output];
        if (info.readerIndex[k] !== readers.length - 1) continue;
        for (let i = 0; i < readers.length; i++) {
          const e = readers[i];
          if (this.edges[e.op][e.input].claims) buildEdgeBackward(this, e.op, e.input);
        }
      }
    }
    this.deferredCount = 0;
    for (let r = 0; r < ops.length; r++) {
      this.relistFwd(r);
      this.relistBwd(r);
    }
    this.dirtyFrom = 0;
  }

  /**
   * Builds the graph of `strategy` from scratch, as a new builder's `buildAll` would, in
   * this builder's storage: the store's buffers, the blocks' arrays and the edges' states
   * are refilled rather than reallocated (what repeated full simulations of one graph on
   * one mesh do). Drops any undo record and every task built before.
   */
  rebuildAll(strategy: Strategy): void {
    this.undo = undefined;
    this.deferredCount = 0;
    this.opTasks.restart();
    const s = this.store;
    s.reset();
    s.prepareSegments(this.seg.count);
    // The blocks and edge states built before: nothing refers to them any more.
    const spare = (this.spareStore ??= { blocks: [], edges: this.edges.map((es) => es.slice()) });
    for (let r = 0; r < this.ops.length; r++) {
      spare.blocks[r] = this.blocks[r];
      this.blocks[r] = undefined;
      const es = this.edges[r];
      for (let k = 0; k < es.length; k++) {
        spare.edges[r][k] = es[k];
        es[k] = UNBUILT_EDGE;
      }
    }
    this.spare = spare;
    try {
      this.buildAll(strategy);
    } finally {
      this.spare = undefined;
    }
  }

  /** During `rebuildAll`: the previous build's blocks and edge states, to refill. */
  private spare: { blocks: (OpBlock | undefined)[]; edges: EdgeState[][] } | undefined;
  private spareStore: { blocks: (OpBlock | undefined)[]; edges: EdgeState[][] } | undefined;

  /**
   * Edges whose gradient transfers wait (they claimed units: see buildEdge). An edit builds
   * them after every other edge it rebuilds; buildAll, when the tensor's last reader is
   * built, and then drops the list.
   */
  private readonly deferred: number[] = [];
  /** Entries of `deferred`: edge i is (op, input) = (deferred[2i], deferred[2i + 1]). */
  private deferredCount = 0;

  private defer(rank: number, input: number): void {
    const i = 2 * this.deferredCount++;
    this.deferred[i] = rank;
    this.deferred[i + 1] = input;
  }

  /**
   * An edge's forward transfers, and its gradient transfers at once unless it claimed units
   * of data: theirs depend on later readers' bwd tasks, so they go to `deferred`. (Building
   * the rest at once, while the edge's data are in cache, is what keeps a full build fast.)
   */
  private buildEdge(rank: number, input: number): void {
    buildEdgeForward(this, rank, input, this.spare?.edges[rank][input]);
    if (this.edges[rank][input].claims) this.defer(rank, input);
    else buildEdgeBackward(this, rank, input);
  }

  /** Scratch: the segments whose pushes a relist reads (the first `sourceCount`). */
  private readonly sources: number[] = [];
  private undo: UndoRecord | undefined;

  /** Re-materialises the lists of op `rank`'s fwd tasks from its input edges' pushes. */
  private relistFwd(rank: number): void {
    const from = this.sources;
    const first = this.seg.first[rank];
    const m = this.ops[rank].node.inputs.length;
    for (let k = 0; k < m; k++) from[k] = first + k;
    const s = this.store;
    s.relist(s.segBeg[this.seg.fo[rank]], this.blocks[rank]!.layout.count, from, m);
  }

  /** Re-materialises the lists of op `rank`'s BO tasks (gradient targets) from its consumers' pushes. */
  private relistBwd(rank: number): void {
    const from = this.sources;
    let m = 0;
    const consumers = this.ops[rank].consumers;
    for (let o = 0; o < consumers.length; o++) {
      const outs = consumers[o];
      for (let i = 0; i < outs.length; i++) from[m++] = this.seg.bo[outs[i].op] + 1 + outs[i].input;
    }
    const s = this.store;
    const jn = this.seg.jn[rank];
    const bo = this.seg.bo[rank];
    // JN(r) and BO(r) are built one after the other: usually one range, one pass over the pushes.
    if (s.segEnd[jn] === s.segBeg[bo]) s.relist(s.segBeg[jn], s.segEnd[bo] - s.segBeg[jn], from, m);
    else {
      s.relist(s.segBeg[jn], s.segEnd[jn] - s.segBeg[jn], from, m);
      s.relist(s.segBeg[bo], s.segEnd[bo] - s.segBeg[bo], from, m);
    }
  }

  /**
   * Replaces op `name`'s config: its tasks, its input edges and its consumers' input edges
   * (and the other readers' of its inputs where they share units, see replaceOp).
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
        edges: [],
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
    for (let i = u.edges.length - 1; i >= 0; i--) {
      const [rank, input, state] = u.edges[i];
      this.edges[rank][input] = state;
    }
    this.dirtyFrom = u.dirtyFrom;
    return true;
  }

  /** Records edge (rank, input)'s state for rollback before it is rebuilt. */
  private keepEdge(rank: number, input: number): void {
    this.undo?.edges.push([rank, input, this.edges[rank][input]]);
  }

  /** Whether edge (rank, input) claimed units of data (edge-tasks.ts). */
  private claims(rank: number, input: number): boolean {
    return this.edges[rank][input].claims !== undefined;
  }

  /**
   * Rebuilds op `rank` under `cfg` with every segment that depends on it: its own, its
   * consumers' edges (they read its holders), and those of the other readers of its
   * inputs that share units of data with it (edge-tasks.ts): the later readers' edges when
   * this op's edge claimed units before or claims some now (which they then claim or
   * read from it), the gradient transfers of earlier readers that claimed units (their
   * predecessors include the bwd tasks of every reader). Forward edges are built in reader
   * order, gradient transfers after every forward edge.
   */
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
    const claimedBefore = info.node.inputs.map((_, k) => this.claims(rank, k));
    for (let k = 0; k < info.node.inputs.length; k++) this.keepEdge(rank, k);
    this.deferredCount = 0;
    this.buildOp(rank, cfg);
    for (const outs of info.consumers) {
      for (const c of outs) {
        this.keepEdge(c.op, c.input);
        this.buildEdge(c.op, c.input);
      }
    }
    const later: EdgeRef[] = [];
    const earlier: EdgeRef[] = [];
    const add = (list: EdgeRef[], ref: EdgeRef) => {
      if (!list.some((x) => x.op === ref.op && x.input === ref.input)) list.push(ref);
    };
    info.producers.forEach((p, k) => {
      if (!p) return;
      const readers = this.ops[p.op].consumers[p.output];
      const at = info.readerIndex[k];
      for (let i = 0; i < at; i++) if (readers[i].op !== rank && this.claims(readers[i].op, readers[i].input)) add(earlier, readers[i]);
      if (claimedBefore[k] || this.claims(rank, k)) for (let i = at + 1; i < readers.length; i++) if (readers[i].op !== rank) add(later, readers[i]);
    });
    for (const e of later) {
      s.clearSegment(seg.first[e.op] + e.input);
      s.clearSegment(seg.bo[e.op] + 1 + e.input);
      this.keepEdge(e.op, e.input);
      this.buildEdge(e.op, e.input);
    }
    for (const e of earlier) {
      s.clearSegment(seg.bo[e.op] + 1 + e.input);
      this.defer(e.op, e.input);
    }
    for (let i = 0; i < this.deferredCount; i++) buildEdgeBackward(this, this.deferred[2 * i], this.deferred[2 * i + 1]);
    this.deferredCount = 0;
    // Lists fed by the rebuilt edges' pushes: this op's, its consumers' and the later
    // readers' fwd tasks; this op's and its producers' gradient targets.
    const stamp = ++this.stamp;
    const mark = this.opMark;
    this.relistFwd(rank);
    mark[rank] = stamp;
    const relistFwdOnce = (op: number) => {
      if (mark[op] === stamp) return;
      mark[op] = stamp;
      this.relistFwd(op);
    };
    for (const outs of info.consumers) for (const c of outs) relistFwdOnce(c.op);
    for (const e of later) relistFwdOnce(e.op);
    this.relistBwd(rank);
    for (const p of info.producers) {
      if (!p || mark[p.op] === -stamp) continue;
      mark[p.op] = -stamp;
      this.relistBwd(p.op);
    }
    // Everything touched lies at or after XF(r,0): the consumers' and later readers'
    // segments come later in the forward section, and every backward segment after every
    // forward one.
    if (seg.first[rank] < this.dirtyFrom) this.dirtyFrom = seg.first[rank];
  }

  /** Compacts the store and remaps the task ids the blocks hold (claims hold positions, which compaction keeps). */
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

  private checkConfig(info: OpInfo, cfg: OpConfig): OpLayout {
    const op = info.node;
    const L = info.layouts.get(cfg.degrees);
    if (cfg.devices.length !== L.count) throw new Error(`op ${op.name}: ${cfg.devices.length} devices for ${L.count} tasks`);
    const nd = this.mesh.devices.length;
    for (const d of cfg.devices) {
      if (!(Number.isInteger(d) && d >= 0 && d < nd)) throw new Error(`op ${op.name}: no device ${d} in mesh ${this.mesh.name}`);
    }
    return L;
  }

  /** Builds op `rank`'s own segments (op-tasks.ts), then its input edges. */
  private buildOp(rank: number, cfgIn: OpConfig): void {
    const info = this.ops[rank];
    const reuse = this.spare?.blocks[rank];
    // A rebuild keeps the previous build's copy of an unchanged config.
    const kept = reuse !== undefined && sameConfig(reuse.cfg, cfgIn);
    const cfg: OpConfig = kept ? reuse.cfg : { degrees: [...cfgIn.degrees], devices: [...cfgIn.devices] };
    // A kept copy was checked when it was made (on this builder's mesh).
    const L = kept ? info.layouts.get(cfg.degrees) : this.checkConfig(info, cfg);
    this.blocks[rank] = this.opTasks.build(info, cfg, L, reuse);
    for (let k = 0; k < info.node.inputs.length; k++) if (info.producers[k]) this.buildEdge(rank, k);
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

