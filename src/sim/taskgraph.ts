// The task graph of one training iteration under a strategy (FlexFlow's simulator, §5 of
// Jia et al., SysML 2019), built incrementally so that one op's config can be swapped.
//
// Tasks (all in one slot store, typed arrays indexed by slot):
//   fwd / bwd         one compute task per (op, task index) on the task's device
//   xfer              a transfer per overlapping (holder of a producer output region,
//                     consumer task input region) pair on different devices; the same pair
//                     reversed carries the input gradient back in backward
//   psum xfer / add   an op with split reduction dims produces partial sums: the partials of
//                     one output region travel to its owner (the task first along every
//                     reduction dim) and are added there; consumers read from the owners
//   grad bcast        in backward the owner sends the output gradient to its partial tasks
//   allreduce         weight-gradient sync among the devices holding the same weight shard
//   update            the optimizer step per weight shard per device
// Same-device reuse of a region is a plain dependency (no task, no cost). Graph inputs are
// assumed resident where they are read (the data loader puts each batch shard there).
//
// Every task has a structural key (op rank, category, local index), independent of slot
// numbers: the scheduler breaks ties by it, so a graph rebuilt incrementally schedules
// exactly like one built from scratch. See docs/simulator.md.

import type { Mesh } from "../core/mesh.js";
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

/** Compute kinds run on a device's queue; the others on link queues. */
export function isComputeKind(kind: number): boolean {
  return kind === KIND_FWD || kind === KIND_BWD || kind === KIND_PSUM || kind === KIND_UPDATE;
}

// Key categories, in the order ties are broken within one op.
const CAT_FWD = 0;
const CAT_XFER_FWD = 1;
const CAT_PSUM_XFER = 2;
const CAT_PSUM_ADD = 3;
const CAT_GRAD_BCAST = 4;
const CAT_BWD = 5;
const CAT_XFER_BWD = 6;
const CAT_ALLREDUCE = 7;
const CAT_UPDATE = 8;
const LOCAL_BITS = 2 ** 26;
const INPUT_STRIDE = 2 ** 21;

function taskKey(opRank: number, cat: number, local: number): number {
  return (opRank * 16 + cat) * LOCAL_BITS + local;
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
 * Resource ids 0..D−1 are the devices' compute queues; link queues follow, made on demand.
 */
export class Links {
  readonly deviceCount: number;
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

// ------------------------------------------------------------------ the slot store

/**
 * Growable typed-array store of tasks. Dependencies are edges in a typed-array pool, each
 * on two doubly linked lists (its source's successors, its target's predecessors): adding
 * and removing an edge is O(1) and allocates nothing, and repeated builds reuse the pool.
 */
export class TaskStore {
  size = 0;
  private cap = 0;
  kind = new Uint8Array(0);
  alive = new Uint8Array(0);
  res = new Int32Array(0);
  op = new Int32Array(0);
  /** Task index (fwd/bwd), holder (psum add), param index (allreduce/update), -1 otherwise. */
  idx = new Int32Array(0);
  src = new Int32Array(0);
  dst = new Int32Array(0);
  dur = new Float64Array(0);
  key = new Float64Array(0);
  bytes = new Float64Array(0);
  /** The last schedule: ready (all predecessors done), start and end times. */
  ready = new Float64Array(0);
  start = new Float64Array(0);
  end = new Float64Array(0);
  /** Scratch for the scheduler. */
  count = new Int32Array(0);
  mark = new Int32Array(0);
  /** First edge of each task's successor / predecessor list (−1: none). */
  succHead = new Int32Array(0);
  predHead = new Int32Array(0);
  /** Edge pool: endpoints and the links of both lists. */
  eFrom = new Int32Array(0);
  eTo = new Int32Array(0);
  eNextSucc = new Int32Array(0);
  ePrevSucc = new Int32Array(0);
  eNextPred = new Int32Array(0);
  ePrevPred = new Int32Array(0);
  private edgeCap = 0;
  private edgeTop = 0;
  private edgeFree = -1;
  private free: number[] = [];

  // Change tracking between two schedules (see DeltaSimulator).
  epoch = 1;
  /** Smallest old ready time among removed tasks and tasks whose predecessors changed. */
  touchedMin = Infinity;
  /** Tasks created or whose predecessor set changed since the last schedule. */
  changed: number[] = [];
  /** True once a schedule exists (before that every change is moot). */
  scheduled = false;

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    const g8 = (a: Uint8Array) => { const b = new Uint8Array(cap); b.set(a); return b; };
    const g32 = (a: Int32Array) => { const b = new Int32Array(cap); b.set(a); return b; };
    const g64 = (a: Float64Array) => { const b = new Float64Array(cap); b.set(a); return b; };
    this.kind = g8(this.kind); this.alive = g8(this.alive);
    this.res = g32(this.res); this.op = g32(this.op); this.idx = g32(this.idx); this.src = g32(this.src); this.dst = g32(this.dst);
    this.count = g32(this.count); this.mark = g32(this.mark);
    this.succHead = g32(this.succHead); this.predHead = g32(this.predHead);
    this.dur = g64(this.dur); this.key = g64(this.key); this.bytes = g64(this.bytes);
    this.ready = g64(this.ready); this.start = g64(this.start); this.end = g64(this.end);
    this.cap = cap;
  }

  private growEdges(): void {
    const cap = Math.max(2048, this.edgeCap * 2);
    const g32 = (a: Int32Array) => { const b = new Int32Array(cap); b.set(a); return b; };
    this.eFrom = g32(this.eFrom); this.eTo = g32(this.eTo);
    this.eNextSucc = g32(this.eNextSucc); this.ePrevSucc = g32(this.ePrevSucc);
    this.eNextPred = g32(this.eNextPred); this.ePrevPred = g32(this.ePrevPred);
    this.edgeCap = cap;
  }

  add(kind: number, res: number, dur: number, key: number, op: number, idx: number, src: number, dst: number, bytes: number): number {
    let s: number;
    if (this.free.length) s = this.free.pop()!;
    else {
      if (this.size === this.cap) this.grow();
      s = this.size++;
    }
    this.kind[s] = kind; this.alive[s] = 1; this.res[s] = res; this.op[s] = op; this.idx[s] = idx;
    this.src[s] = src; this.dst[s] = dst; this.dur[s] = dur; this.key[s] = key; this.bytes[s] = bytes;
    this.ready[s] = Infinity; this.start[s] = Infinity; this.end[s] = Infinity;
    this.succHead[s] = -1;
    this.predHead[s] = -1;
    if (this.scheduled) this.noteChanged(s);
    return s;
  }

  private noteChanged(s: number): void {
    if (this.mark[s] === this.epoch) return;
    this.mark[s] = this.epoch;
    this.changed.push(s);
    if (this.ready[s] < this.touchedMin) this.touchedMin = this.ready[s];
  }

  /** a must finish before b starts. */
  link(a: number, b: number): void {
    let e: number;
    if (this.edgeFree >= 0) {
      e = this.edgeFree;
      this.edgeFree = this.eNextSucc[e];
    } else {
      if (this.edgeTop === this.edgeCap) this.growEdges();
      e = this.edgeTop++;
    }
    this.eFrom[e] = a;
    this.eTo[e] = b;
    const sh = this.succHead[a];
    this.eNextSucc[e] = sh;
    this.ePrevSucc[e] = -1;
    if (sh >= 0) this.ePrevSucc[sh] = e;
    this.succHead[a] = e;
    const ph = this.predHead[b];
    this.eNextPred[e] = ph;
    this.ePrevPred[e] = -1;
    if (ph >= 0) this.ePrevPred[ph] = e;
    this.predHead[b] = e;
    if (this.scheduled) this.noteChanged(b);
  }

  /** Unlinks edge e from both lists and frees it. */
  private unlink(e: number): void {
    const a = this.eFrom[e];
    const b = this.eTo[e];
    const ns = this.eNextSucc[e];
    const ps = this.ePrevSucc[e];
    if (ps >= 0) this.eNextSucc[ps] = ns;
    else this.succHead[a] = ns;
    if (ns >= 0) this.ePrevSucc[ns] = ps;
    const np = this.eNextPred[e];
    const pp = this.ePrevPred[e];
    if (pp >= 0) this.eNextPred[pp] = np;
    else this.predHead[b] = np;
    if (np >= 0) this.ePrevPred[np] = pp;
    this.eNextSucc[e] = this.edgeFree;
    this.edgeFree = e;
  }

  remove(s: number): void {
    if (!this.alive[s]) return;
    this.alive[s] = 0;
    if (this.scheduled && this.ready[s] < this.touchedMin) this.touchedMin = this.ready[s];
    while (this.predHead[s] >= 0) this.unlink(this.predHead[s]);
    while (this.succHead[s] >= 0) {
      const e = this.succHead[s];
      const q = this.eTo[e];
      this.unlink(e);
      if (this.alive[q] && this.scheduled) this.noteChanged(q);
    }
    this.free.push(s);
  }

  /** Predecessors of s (allocates; for tests and timelines). */
  predsOf(s: number): number[] {
    const out: number[] = [];
    for (let e = this.predHead[s]; e >= 0; e = this.eNextPred[e]) out.push(this.eFrom[e]);
    return out.reverse();
  }

  /** Successors of s (allocates; for tests and timelines). */
  succsOf(s: number): number[] {
    const out: number[] = [];
    for (let e = this.succHead[s]; e >= 0; e = this.eNextSucc[e]) out.push(this.eTo[e]);
    return out.reverse();
  }

  /** Alive slots, in slot order. */
  slots(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.size; s++) if (this.alive[s]) out.push(s);
    return out;
  }

  /**
   * Empties the store but keeps its buffers, so that a caller running many full
   * simulations (simulateIterationTime) does not reallocate and collect them every time.
   */
  reset(): void {
    this.size = 0;
    this.free.length = 0;
    this.edgeTop = 0;
    this.edgeFree = -1;
    this.epoch++;
    this.touchedMin = Infinity;
    this.changed.length = 0;
    this.scheduled = false;
  }

  /** Forget change tracking (after a schedule). */
  resetChanges(): void {
    this.epoch++;
    this.touchedMin = Infinity;
    this.changed.length = 0;
    this.scheduled = true;
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

// ------------------------------------------------------------------ op blocks

interface OpBlock {
  cfg: OpConfig;
  layout: Layout;
  fwd: Int32Array;
  bwd: Int32Array;
  /** Per output, per holder position: the task whose end makes the region available. */
  holderSrc: Int32Array[];
  holderDev: Int32Array[];
  /** Per output, per holder position: tasks that the region's gradient must reach. */
  gradTargets: number[][][];
  /** Slots of this op's own tasks (compute, psum, bcast, allreduce, update). */
  own: number[];
  /** Per input: transfer slots of that input edge (forward and backward). */
  inEdges: number[][];
}

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
  ops?: { size: number; infos: OpInfo[]; rankOf: Map<string, number> };
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
  private readonly overlapCache: Map<string, EdgeOverlaps>;
  private readonly classOf: Int32Array;

  /** `store`: an emptied store to reuse (see TaskStore.reset); a new one by default. */
  constructor(readonly graph: Graph, readonly mesh: Mesh, readonly costs: SimCosts, store?: TaskStore) {
    this.store = store ?? new TaskStore();
    this.links = new Links(mesh);
    const caches = cachesFor(graph);
    this.overlapCache = caches.overlaps;
    const n = mesh.devices.length;
    this.classOf = new Int32Array(n);
    for (let d = 0; d < n; d++) this.classOf[d] = costs.computeClass ? costs.computeClass(d) : d;
    if (!caches.ops || caches.ops.size !== graph.ops.size) caches.ops = { size: graph.ops.size, ...opInfos(graph, caches) };
    this.ops = caches.ops.infos;
    this.rankOf = caches.ops.rankOf;
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
  }

  /** Replaces op `name`'s config: its tasks, its input edges and its consumers' input edges. */
  setOp(name: string, cfg: OpConfig): void {
    const rank = this.rankOf.get(name);
    if (rank === undefined) throw new Error(`graph ${this.graph.name} has no op ${name}`);
    const info = this.ops[rank];
    const s = this.store;
    for (const outs of info.consumers) {
      for (const c of outs) {
        const cb = this.blocks[c.op]!;
        for (const t of cb.inEdges[c.input]) s.remove(t);
        cb.inEdges[c.input] = [];
      }
    }
    const old = this.blocks[rank]!;
    for (const t of old.own) s.remove(t);
    for (const e of old.inEdges) for (const t of e) s.remove(t);
    this.buildOp(rank, cfg);
    for (const outs of info.consumers) for (const c of outs) this.buildEdge(c.op, c.input);
  }

  private buildOp(rank: number, cfgIn: OpConfig): void {
    const info = this.ops[rank];
    const op = info.node;
    const s = this.store;
    const cfg: OpConfig = { degrees: [...cfgIn.degrees], devices: [...cfgIn.devices] };
    const L = this.layout(info, cfg.degrees);
    if (cfg.devices.length !== L.count) throw new Error(`op ${op.name}: ${cfg.devices.length} devices for ${L.count} tasks`);
    for (const d of cfg.devices) {
      if (!(Number.isInteger(d) && d >= 0 && d < this.mesh.devices.length)) throw new Error(`op ${op.name}: no device ${d} in mesh ${this.mesh.name}`);
    }
    const own: number[] = [];
    const fwd = new Int32Array(L.count);
    const bwd = new Int32Array(L.count);
    // Compute costs once per (extent, device class).
    const costCache = new Map<number, { forward: number; backward: number }>();
    const nd = this.mesh.devices.length;
    for (let t = 0; t < L.count; t++) {
      const dev = cfg.devices[t];
      const ck = L.extentOf[t] * nd + this.classOf[dev];
      let c = costCache.get(ck);
      if (!c) costCache.set(ck, (c = this.costs.compute(op, L.extents[L.extentOf[t]], dev)));
      fwd[t] = s.add(KIND_FWD, dev, c.forward, taskKey(rank, CAT_FWD, t), rank, t, dev, dev, 0);
      bwd[t] = s.add(KIND_BWD, dev, c.backward, taskKey(rank, CAT_BWD, t), rank, t, dev, dev, 0);
      s.link(fwd[t], bwd[t]);
      own.push(fwd[t], bwd[t]);
    }
    const nOut = op.outputs.length;
    const holderSrc: Int32Array[] = [];
    const holderDev: Int32Array[] = [];
    const gradTargets: number[][][] = [];
    let psumCounter = 0;
    let bcastCounter = 0;
    for (let o = 0; o < nOut; o++) {
      const hs = new Int32Array(L.owners.length);
      const hd = new Int32Array(L.owners.length);
      const gt: number[][] = [];
      const elem = dtypeBytes(op.sig.outputs[o].dtype);
      const hasGrad = info.consumers[o].length > 0 && isFloat(op.sig.outputs[o].dtype);
      for (let h = 0; h < L.owners.length; h++) {
        const ow = L.owners[h];
        const odev = cfg.devices[ow];
        hd[h] = odev;
        if (!L.hasPartials) {
          hs[h] = fwd[ow];
          gt.push([bwd[ow]]);
          continue;
        }
        const parts = L.partials[h];
        const bytes = regionVolume(L.outRegions[o][ow]) * elem;
        const add = s.add(KIND_PSUM, odev, this.costs.partialSum(bytes, parts.length, odev), taskKey(rank, CAT_PSUM_ADD, h * nOut + o), rank, h, odev, odev, bytes);
        own.push(add);
        const targets: number[] = [];
        for (const p of parts) {
          const pdev = cfg.devices[p];
          if (pdev === odev) {
            s.link(fwd[p], add);
            if (hasGrad) targets.push(bwd[p]);
            continue;
          }
          const x = s.add(KIND_XFER, this.links.transfer(pdev, odev), this.costs.transfer(bytes, pdev, odev), taskKey(rank, CAT_PSUM_XFER, psumCounter++), rank, -1, pdev, odev, bytes);
          s.link(fwd[p], x);
          s.link(x, add);
          own.push(x);
          if (hasGrad) {
            const b = s.add(KIND_XFER, this.links.transfer(odev, pdev), this.costs.transfer(bytes, odev, pdev), taskKey(rank, CAT_GRAD_BCAST, bcastCounter++), rank, -1, odev, pdev, bytes);
            s.link(b, bwd[p]);
            own.push(b);
            targets.push(b);
          }
        }
        hs[h] = add;
        gt.push(targets);
      }
      holderSrc.push(hs);
      holderDev.push(hd);
      gradTargets.push(gt);
    }
    // Weight-gradient sync and optimizer updates, per weight shard.
    let arCounter = 0;
    let upCounter = 0;
    L.paramGroups.forEach((groups, p) => {
      const elem = dtypeBytes(info.paramDtypes[p]);
      for (const g of groups) {
        const bytes = g.volume * elem;
        const devs = [...new Set(g.tasks.map((t) => cfg.devices[t]))].sort((a, b) => a - b);
        if (devs.length > 1) {
          const sent = 2 * (devs.length - 1) * bytes;
          const ar = s.add(KIND_ALLREDUCE, this.links.collective(devs), this.costs.allReduce(bytes, devs), taskKey(rank, CAT_ALLREDUCE, arCounter++), rank, p, -1, -1, sent);
          own.push(ar);
          for (const t of g.tasks) s.link(bwd[t], ar);
          for (const d of devs) {
            const u = s.add(KIND_UPDATE, d, this.costs.update(bytes, d), taskKey(rank, CAT_UPDATE, upCounter++), rank, p, d, d, bytes);
            s.link(ar, u);
            own.push(u);
          }
        } else {
          const d = devs[0];
          const u = s.add(KIND_UPDATE, d, this.costs.update(bytes, d), taskKey(rank, CAT_UPDATE, upCounter++), rank, p, d, d, bytes);
          for (const t of g.tasks) s.link(bwd[t], u);
          own.push(u);
        }
      }
    });
    this.blocks[rank] = { cfg, layout: L, fwd, bwd, holderSrc, holderDev, gradTargets, own, inEdges: op.inputs.map(() => []) };
    for (let k = 0; k < op.inputs.length; k++) this.buildEdge(rank, k);
  }

  /** Transfers and dependencies carrying input `input` of op `rank` (forward and backward). */
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
    const targets = pb.gradTargets[prodRef.output];
    const list = cb.inEdges[input];
    let n = 0;
    for (let i = 0; i < ov.holder.length; i++) {
      const h = ov.holder[i];
      const j = ov.task[i];
      const from = hdev[h];
      const to = cb.cfg.devices[j];
      if (from === to) {
        s.link(src[h], cb.fwd[j]);
        if (withGrad) for (const g of targets[h]) s.link(cb.bwd[j], g);
        continue;
      }
      const bytes = ov.volume[i] * elem;
      const local = input * INPUT_STRIDE + n++;
      const f = s.add(KIND_XFER, this.links.transfer(from, to), this.costs.transfer(bytes, from, to), taskKey(rank, CAT_XFER_FWD, local), rank, -1, from, to, bytes);
      s.link(src[h], f);
      s.link(f, cb.fwd[j]);
      list.push(f);
      if (withGrad && targets[h].length) {
        const b = s.add(KIND_XFER, this.links.transfer(to, from), this.costs.transfer(bytes, to, from), taskKey(rank, CAT_XFER_BWD, local), rank, -1, to, from, bytes);
        s.link(cb.bwd[j], b);
        for (const g of targets[h]) s.link(b, g);
        list.push(b);
      }
    }
  }

  /** The current config of op `name`. */
  config(name: string): OpConfig {
    const b = this.blocks[this.rankOf.get(name)!];
    if (!b) throw new Error(`op ${name} is not built`);
    return b.cfg;
  }
}
