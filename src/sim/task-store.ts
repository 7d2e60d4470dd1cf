// The task graph's storage: tasks in typed-array columns, grouped in segments, with
// predecessor lists and compaction. It knows nothing of ops or regions (taskgraph.ts fills it).

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
  /**
   * Task index (fwd/bwd); group (psum add, join); param index (allreduce/update); for a
   * transfer, what it moves (see movements.ts): the overlap index of an edge transfer,
   * group × outputs + output of a partial-sum transfer or a gradient broadcast.
   */
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
   * Re-materialises the lists of tasks base .. base+n−1 (consecutive ids) from
   * their own predecessors and the pushes of segments `from` (its first `fromCount`; each
   * aimed into that range or elsewhere): a task with pushes gets own + pushes in a new
   * range; one without, its own.
   */
  relist(base: number, n: number, from: readonly number[], fromCount = from.length): void {
    if (this.counts.length < n + 1) this.counts = new Int32Array(2 * n + 2);
    const cnt = this.counts;
    cnt.fill(0, 0, n);
    const { pushSrc, pushDst, segPushBeg, segPushEnd } = this;
    const journal = this.journal;
    if (journal) {
      for (let s = base; s < base + n && s < journal.top; s++) journal.lists.push(s, this.predOff[s], this.predEnd[s], this.relisted[s]);
    }
    let total = 0;
    for (let f = 0; f < fromCount; f++) {
      const g = from[f];
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
    for (let f = 0; f < fromCount; f++) {
      const g = from[f];
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
