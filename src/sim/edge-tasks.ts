// The tasks on one edge of the graph (input k of op r reading a producer's output): in
// XF(r,k) the forward transfers of what r's tasks read from the producer's holders, and in
// XB(r,k) the gradient transfers back. The pairs that overlap come from src/layout.
//
// A device keeps one copy of each region of a tensor it reads, whichever tasks and ops
// read it, and one gradient buffer for it that all of them add into: the lowering's
// `v:T[R]` and `g:T[R]` buffers. So a (device, region) pair that needs data from another
// device (a *unit*) is fetched once: the first reader (by op rank, then input index, then
// task) *claims* it and its edge carries the transfers; later readers depend on those
// transfers. Its gradient goes back once too, from the claiming edge's XB segment, after
// the bwd tasks of every reader: that segment is the last of the readers' in backward,
// which visits ranks in reverse. Pieces on the reader's own device need no transfer: they
// are plain dependencies (pushes) for every reader.
//
// So an edge's tasks depend on the edges reading the same tensor before it (which units
// they claimed) and, in backward, on the readers after it (their bwd tasks): the builder
// rebuilds them together (TaskGraphBuilder.replaceOp).

import { dtypeBytes, isFloat } from "../core/tensor.js";
import type { LayoutCache } from "../layout/cache.js";
import type { EdgeOverlaps } from "../layout/overlaps.js";
import type { SimCosts } from "./costs.js";
import type { Links } from "./links.js";
import type { EdgeRef, OpInfo } from "./op-infos.js";
import type { OpBlock } from "./op-tasks.js";
import type { SegmentMap } from "./segments.js";
import { KIND_XFER } from "./task-kinds.js";
import type { TaskStore } from "./task-store.js";

/**
 * The units an edge claimed. Unit keys (region id × devices + device) are looked up in an
 * open-addressing table in a plain array: a full simulation makes hundreds of these, and a
 * Map, or a typed array over 64 bytes (it gets a backing store of its own), costs more to
 * make than the edge's tasks.
 */
export interface EdgeClaims {
  /** Slots of (key + 1, claim index); 0 marks an empty slot. Its size is a power of two. */
  table: number[];
  /** Claims made: claim c is at index c of `task` and `pos` (at most one per consumer task). */
  count: number;
  /** Per claim: the consumer task whose overlaps made its transfers. */
  task: number[];
  /** Per claim: the position of its first transfer in the edge's XF segment (they are consecutive). */
  pos: number[];
}

function slotsFor(tasks: number): number {
  let slots = 4;
  while (slots < 2 * tasks) slots *= 2;
  return slots;
}

/** Empty claims for an edge of `tasks` consumer tasks; `reuse`'s arrays when it has the size. */
function newClaims(tasks: number, reuse: EdgeClaims | undefined): EdgeClaims {
  const slots = slotsFor(tasks);
  if (reuse && reuse.table.length === 2 * slots && reuse.task.length === tasks) {
    reuse.table.fill(0);
    reuse.count = 0;
    return reuse;
  }
  return { table: filled(2 * slots, 0), count: 0, task: filled(tasks, 0), pos: filled(tasks, 0) };
}

/** A packed array of `n` copies of `value`. */
function filled(n: number, value: number): number[] {
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(value);
  return a;
}

function slotOf(table: number[], key: number): number {
  const mask = (table.length >> 1) - 1;
  let i = Math.imul(key | 0, 0x9e3779b1) >>> 0 & mask;
  while (table[2 * i] !== 0 && table[2 * i] !== key + 1) i = (i + 1) & mask;
  return i;
}

/** The claim of unit `key`, or −1. */
function findClaim(c: EdgeClaims, key: number): number {
  const i = slotOf(c.table, key);
  return c.table[2 * i] === 0 ? -1 : c.table[2 * i + 1];
}

function addClaim(c: EdgeClaims, key: number, task: number, pos: number): number {
  const i = slotOf(c.table, key);
  const claim = c.count++;
  c.table[2 * i] = key + 1;
  c.table[2 * i + 1] = claim;
  c.task[claim] = task;
  c.pos[claim] = pos;
  return claim;
}

/** What an edge's forward build leaves for its backward build and for the other readers. */
export interface EdgeState {
  overlaps: EdgeOverlaps;
  /** Undefined when the edge claimed nothing. */
  claims: EdgeClaims | undefined;
  /**
   * Per consumer task j whose region needs data from another device: at 2j the edge whose
   * transfers fetch it (its position among the tensor's readers), at 2j + 1 that edge's
   * claim; −1 at 2j for the tasks that need none. Undefined when no task needs any.
   */
  fetched: number[] | undefined;
}

/** The state of an edge not built yet (or reading a graph input). */
export const UNBUILT_EDGE: EdgeState = {
  overlaps: { holder: new Int32Array(0), task: new Int32Array(0), volume: new Float64Array(0), taskStart: [0] },
  claims: undefined,
  fetched: undefined,
};

/** What the edge builders read and write. */
export interface EdgeContext {
  readonly store: TaskStore;
  readonly links: Links;
  readonly costs: SimCosts;
  readonly seg: SegmentMap;
  readonly ops: readonly OpInfo[];
  readonly layouts: LayoutCache;
  readonly blocks: readonly (OpBlock | undefined)[];
  /** Per op rank, per input: its edge's state. */
  readonly edges: EdgeState[][];
}

/** The readers of the tensor that input `input` of op `rank` reads (by rank, then input). */
function readersOf(ctx: EdgeContext, rank: number, input: number): EdgeRef[] {
  const p = ctx.ops[rank].producers[input]!;
  return ctx.ops[p.op].consumers[p.output];
}

/**
 * XF(rank, input): the forward transfers of the units this edge claims (each pulling from a
 * producer's holder), and pushes into the consumer's fwd tasks from them, from earlier
 * readers' transfers of the units they claimed, and from same-device holders. Sets the
 * edge's state; the earlier readers' edges must be built. `reuse`: a state that nothing
 * refers to any more (a rebuild of the whole graph), overwritten with its arrays.
 */
export function buildEdgeForward(ctx: EdgeContext, rank: number, input: number, reuse?: EdgeState): void {
  const info = ctx.ops[rank];
  const prodRef = info.producers[input];
  if (!prodRef) return;
  if (reuse === UNBUILT_EDGE) reuse = undefined;
  const cb = ctx.blocks[rank]!;
  const pb = ctx.blocks[prodRef.op]!;
  const prod = ctx.ops[prodRef.op];
  const ov = ctx.layouts.overlaps(prod.layouts, pb.layout, prodRef.output, info.layouts, cb.layout, input);
  const s = ctx.store;
  const elem = dtypeBytes(info.inputDtypes[input]);
  const src = pb.holderSrc[prodRef.output];
  const hdev = pb.holderDev[prodRef.output];
  const devices = cb.cfg.devices;
  const fwd = cb.fwd;
  const ids = cb.layout.inputIds[input];
  const D = ctx.links.deviceCount;
  const { holder, volume, taskStart } = ov;
  const readers = readersOf(ctx, rank, input);
  const me = info.readerIndex[input];
  let claims: EdgeClaims | undefined;
  let fetched: number[] | undefined;
  s.openSegment(ctx.seg.first[rank] + input);
  const base = s.top;
  for (let j = 0; j < devices.length; j++) {
    const to = devices[j];
    // The transfer carrying the task's next remote piece when another task or reader
    // fetched its unit already (−2: not looked up yet; −1: this task claims it).
    let next = -2;
    for (let i = taskStart[j], e = taskStart[j + 1]; i < e; i++) {
      const h = holder[i];
      const from = hdev[h];
      if (from === to) {
        s.push(src[h], fwd[j]);
        continue;
      }
      if (next === -2) {
        if (!fetched) {
          const old = reuse?.fetched;
          if (old && old.length === 2 * devices.length) (fetched = old).fill(-1);
          else fetched = filled(2 * devices.length, -1);
        }
        const key = ids[j] * D + to;
        for (let r = me; r >= 0 && next === -2; r--) {
          const other = r === me ? claims : ctx.edges[readers[r].op][readers[r].input].claims;
          const c = other ? findClaim(other, key) : -1;
          if (c < 0) continue;
          next = (r === me ? base : s.segBeg[ctx.seg.first[readers[r].op] + readers[r].input]) + other!.pos[c];
          fetched[2 * j] = r;
          fetched[2 * j + 1] = c;
        }
        if (next === -2) {
          next = -1;
          claims ??= newClaims(devices.length, reuse?.claims);
          fetched[2 * j] = me;
          fetched[2 * j + 1] = addClaim(claims, key, j, s.top - base);
        }
      }
      if (next >= 0) {
        s.push(next++, fwd[j]);
        continue;
      }
      const bytes = volume[i] * elem;
      const f = s.add(KIND_XFER, ctx.links.transfer(from, to), ctx.costs.transfer(bytes, from, to), rank, i, from, to, bytes);
      s.pred(f, src[h]);
      s.push(f, fwd[j]);
    }
  }
  s.closeSegment();
  if (reuse) {
    reuse.overlaps = ov;
    reuse.claims = claims;
    reuse.fetched = fetched;
    ctx.edges[rank][input] = reuse;
  } else ctx.edges[rank][input] = { overlaps: ov, claims, fetched };
}

/**
 * XB(rank, input): for every unit the edge claimed, the gradient transfers back to the
 * producer's holders (each after the bwd tasks of every reader of the unit, pushed into
 * the holder's gradient target); for same-device pieces, pushes from each reader's bwd.
 * Every op's block and the edge's forward state must be built.
 */
export function buildEdgeBackward(ctx: EdgeContext, rank: number, input: number): void {
  const info = ctx.ops[rank];
  const prodRef = info.producers[input];
  if (!prodRef) return;
  const s = ctx.store;
  s.openSegment(ctx.seg.bo[rank] + 1 + input);
  if (isFloat(info.inputDtypes[input])) gradientTasks(ctx, rank, input);
  s.closeSegment();
}

function gradientTasks(ctx: EdgeContext, rank: number, input: number): void {
  const info = ctx.ops[rank];
  const prodRef = info.producers[input]!;
  const cb = ctx.blocks[rank]!;
  const pb = ctx.blocks[prodRef.op]!;
  const { overlaps, claims, fetched } = ctx.edges[rank][input];
  const s = ctx.store;
  const elem = dtypeBytes(info.inputDtypes[input]);
  const hdev = pb.holderDev[prodRef.output];
  const targets = pb.gradTarget[prodRef.output];
  const devices = cb.cfg.devices;
  const bwd = cb.bwd;
  const me = info.readerIndex[input];
  const { holder, volume, taskStart } = overlaps;
  if (claims) unitReaders(ctx, rank, input, claims.count);
  for (let j = 0; j < devices.length; j++) {
    const to = devices[j];
    // This task makes the transfers of its unit's gradient when it claimed the unit.
    const c = fetched && fetched[2 * j] === me && claims!.task[fetched[2 * j + 1]] === j ? fetched[2 * j + 1] : -1;
    for (let i = taskStart[j], e = taskStart[j + 1]; i < e; i++) {
      const h = holder[i];
      const tg = targets[h];
      if (tg < 0) continue;
      const from = hdev[h];
      if (from === to) {
        s.push(bwd[j], tg);
        continue;
      }
      if (c < 0) continue; // another task's transfer carries this task's gradient
      const bytes = volume[i] * elem;
      const x = s.add(KIND_XFER, ctx.links.transfer(to, from), ctx.costs.transfer(bytes, to, from), rank, i, to, from, bytes);
      for (let k = readerStart[c], ke = readerStart[c + 1]; k < ke; k++) s.pred(x, readerBwd[k]);
      s.push(x, tg);
    }
  }
}

// unitReaders' result: claim c's readers are readerBwd[readerStart[c] .. readerStart[c + 1]).
// Scratch, reused by every edge (the builder runs one edge at a time).
let readerStart = new Int32Array(64);
let readerBwd = new Int32Array(64);

/**
 * Per claim of the edge: the bwd tasks of every reader of its unit, this edge's tasks first
 * (the claiming task leads), then later readers' in order (into readerStart/readerBwd).
 * Claims exist only where a task fetched them, so every range is non-empty.
 */
function unitReaders(ctx: EdgeContext, rank: number, input: number, claimCount: number): void {
  const all = readersOf(ctx, rank, input);
  const me = ctx.ops[rank].readerIndex[input];
  if (readerStart.length < claimCount + 1) readerStart = new Int32Array(2 * claimCount + 2);
  const start = readerStart;
  // Counts, then their running sums (start[c]: the end of claim c's range), then a fill
  // from each range's end backwards, readers and tasks in reverse: start[c] ends at the
  // range's beginning and every range lists its readers in order.
  start.fill(0, 0, claimCount + 1);
  for (let r = me; r < all.length; r++) {
    const f = ctx.edges[all[r].op][all[r].input].fetched;
    if (!f) continue;
    for (let j = 0; j < f.length; j += 2) if (f[j] === me) start[f[j + 1]]++;
  }
  for (let c = 1; c < claimCount; c++) start[c] += start[c - 1];
  const total = start[claimCount - 1];
  start[claimCount] = total;
  if (readerBwd.length < total) readerBwd = new Int32Array(2 * total);
  const bwd = readerBwd;
  for (let r = all.length - 1; r >= me; r--) {
    const f = ctx.edges[all[r].op][all[r].input].fetched;
    if (!f) continue;
    const tasks = ctx.blocks[all[r].op]!.bwd;
    for (let j = f.length - 2; j >= 0; j -= 2) if (f[j] === me) bwd[--start[f[j + 1]]] = tasks[j >> 1];
  }
}
