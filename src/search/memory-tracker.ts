// Per-device peak memory kept up to date under one-op changes, for the search's inner loop.
//
// It counts exactly what src/cost/memory.ts `peakMemory` counts (weights, gradients and
// optimizer state per distinct weight shard; each task's output regions; graph-input
// shards; received copies of remote input regions), keyed the same way, so its totals equal
// `peakMemory(...).peakBytes` (a test checks it). peakMemory deduplicates pieces per
// device by key, and some keys are shared between ops (two ops reading the same batch
// shard, two consumers receiving the same remote region), so each device keeps a
// reference count per key: a piece is charged while at least one op holds it. Only graph
// inputs and received copies can be shared; an op's weight and output pieces are its own
// (their keys name the op), so those are plain per-device sums with no keys at all: at 64
// devices most pieces are such, and string keys for them cost half the search's time.
// Changing op X re-derives the entries of X and of X's consumers (their received copies
// depend on where X's outputs live) and nothing else.

import type { Mesh } from "../core/mesh.js";
import { intersect, regionKey, regionVolume } from "../core/region.js";
import { dtypeBytes } from "../core/tensor.js";
import { optimizerStateFactor, type Optimizer } from "../cost/memory.js";
import type { Graph, OpNode } from "../ir/graph.js";
import type { OpConfig } from "../ir/strategy.js";
import { LayoutCache } from "../layout/cache.js";
import { holders, type Held } from "../layout/placement.js";

/**
 * What one op holds: its own pieces as (device, bytes) pairs, and pieces it may share with
 * other ops as parallel lists of "device#key" and bytes (flat lists: the search derives
 * thousands per iteration at 64 devices, and objects per piece were most of its garbage).
 */
interface Holding {
  own: number[];
  sharedKeys: string[];
  sharedBytes: number[];
}

/** The device of a shared piece's "device#key". */
const deviceOf = (k: string): number => parseInt(k, 10);

export class MemoryTracker {
  /** Bytes per device (the peak of one training iteration). */
  readonly totals: Float64Array;
  readonly capacity: Float64Array;
  /** Holders per shared piece, by "device#key". */
  private readonly refs = new Map<string, number>();
  private readonly entries = new Map<string, Holding>();
  private readonly holders = new Map<string, Held[]>();
  private readonly layouts: LayoutCache;
  private readonly configs = new Map<string, OpConfig>();
  private readonly consumers = new Map<string, string[]>();
  private readonly stateFactor: number;

  constructor(readonly graph: Graph, readonly mesh: Mesh, ops: Record<string, OpConfig>, optimizer: Optimizer = "sgd") {
    const n = mesh.devices.length;
    this.totals = new Float64Array(n);
    this.capacity = Float64Array.from(mesh.devices, (d) => d.spec.memoryBytes);
    this.stateFactor = optimizerStateFactor(optimizer);
    this.layouts = LayoutCache.of(graph);
    for (const op of graph.topoOrder()) {
      const cs = new Set<string>();
      for (const t of op.outputs) for (const c of graph.tensor(t).consumers) cs.add(c.op);
      this.consumers.set(op.name, [...cs]);
      const cfg = ops[op.name];
      if (!cfg) throw new Error(`strategy has no config for op ${op.name}`);
      this.configs.set(op.name, cfg);
    }
    // Topological order: a consumer's received copies need its producers' holders.
    for (const op of graph.topoOrder()) {
      this.setHolders(op);
      this.charge(op.name, this.derive(op));
    }
  }

  /** Re-derives the entries `op`'s new config changes (its own and its consumers'). */
  setConfig(opName: string, config: OpConfig): void {
    const op = this.graph.op(opName);
    this.configs.set(opName, config);
    this.release(opName);
    this.setHolders(op);
    this.charge(opName, this.derive(op));
    for (const c of this.consumers.get(opName)!) {
      this.release(c);
      this.charge(c, this.derive(this.graph.op(c)));
    }
  }

  /** Bytes above capacity, summed over devices (0 when the strategy fits). */
  excess(): number {
    let e = 0;
    for (let d = 0; d < this.totals.length; d++) if (this.totals[d] > this.capacity[d]) e += this.totals[d] - this.capacity[d];
    return e;
  }

  feasible(): boolean {
    for (let d = 0; d < this.totals.length; d++) if (this.totals[d] > this.capacity[d]) return false;
    return true;
  }

  /** Bytes each op's own entries charge per device (shared pieces split evenly), for `par diff`. */
  opBytes(opName: string): number {
    const h = this.entries.get(opName);
    if (!h) return 0;
    let b = 0;
    for (let i = 1; i < h.own.length; i += 2) b += h.own[i];
    h.sharedKeys.forEach((k, i) => (b += h.sharedBytes[i] / this.refs.get(k)!));
    return b;
  }

  private release(opName: string): void {
    const h = this.entries.get(opName);
    if (!h) return;
    for (let i = 0; i < h.own.length; i += 2) this.totals[h.own[i]] -= h.own[i + 1];
    h.sharedKeys.forEach((k, i) => {
      const r = this.refs.get(k)! - 1;
      if (r === 0) {
        this.refs.delete(k);
        this.totals[deviceOf(k)] -= h.sharedBytes[i];
      } else this.refs.set(k, r);
    });
    this.entries.delete(opName);
  }

  private charge(opName: string, h: Holding): void {
    for (let i = 0; i < h.own.length; i += 2) this.totals[h.own[i]] += h.own[i + 1];
    h.sharedKeys.forEach((k, i) => {
      const r = this.refs.get(k) ?? 0;
      if (r === 0) this.totals[deviceOf(k)] += h.sharedBytes[i];
      this.refs.set(k, r + 1);
    });
    this.entries.set(opName, h);
  }

  private setHolders(op: OpNode): void {
    const cfg = this.configs.get(op.name)!;
    const L = this.layouts.layout(op, cfg.degrees);
    op.outputs.forEach((tid, o) => this.holders.set(tid, holders(L, cfg.devices, o)));
  }

  /** The pieces `op` holds under the current configs, with peakMemory's keys where shared. */
  private derive(op: OpNode): Holding {
    const cfg = this.configs.get(op.name)!;
    const inputTypes = op.inputs.map((id) => this.graph.tensor(id).type);
    const L = this.layouts.layout(op, cfg.degrees);
    const red = L.reductionDims;
    const own: number[] = [];
    const sharedKeys: string[] = [];
    const sharedBytes: number[] = [];
    const seen = new Set<string>();
    const push = (device: number, key: string, bytes: number): void => {
      const k = `${device}#${key}`;
      if (seen.has(k)) return;
      seen.add(k);
      sharedKeys.push(k);
      sharedBytes.push(bytes);
    };
    // Two tasks on one device may hold the same weight or output piece (peakMemory counts
    // it once): only then do own pieces need keys to tell.
    const ownSeen = new Set(cfg.devices).size === cfg.devices.length ? undefined : new Set<string>();
    const pushOwn = (device: number, key: () => string, bytes: number): void => {
      if (ownSeen) {
        const k = `${device}#${key()}`;
        if (ownSeen.has(k)) return;
        ownSeen.add(k);
      }
      own.push(device, bytes);
    };
    const paramDtype = inputTypes.find((x) => x.dtype !== "i32" && x.dtype !== "i64")?.dtype ?? "f32";
    for (let t = 0; t < cfg.devices.length; t++) {
      const box = L.boxes[t];
      const dev = cfg.devices[t];
      L.params.forEach((regions, p) => {
        const r = regions[t];
        const b = regionVolume(r) * dtypeBytes(op.sig.params[p].dtype ?? paramDtype);
        pushOwn(dev, () => `p|${p}|${regionKey(r)}`, (2 + this.stateFactor) * b);
      });
      L.outputs.forEach((regions, o) => {
        const r = regions[t];
        pushOwn(dev, () => `o|${o}|${regionKey(r)}|${red.map((d) => box.lo[d]).join(",")}`, regionVolume(r) * dtypeBytes(op.sig.outputs[o].dtype));
      });
      L.inputs.forEach((regions, i) => {
        const r = regions[t];
        const tid = op.inputs[i];
        const bytesPer = dtypeBytes(inputTypes[i].dtype);
        const held = this.holders.get(tid);
        if (!this.graph.tensor(tid).producer || !held) {
          push(dev, `i|${tid}|${regionKey(r)}`, regionVolume(r) * bytesPer);
          return;
        }
        for (const h of held) {
          if (h.device === dev) continue;
          const common = intersect(r, h.region);
          if (common) push(dev, `x|${tid}|${regionKey(common)}`, regionVolume(common) * bytesPer);
        }
      });
    }
    return { own, sharedKeys, sharedBytes };
  }
}
