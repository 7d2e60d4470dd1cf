// The per-op search space of the strategy search (docs/search.md, "The space").
//
// Degrees. Each splittable parallel dim takes a degree that divides its size (even splits:
// an uneven split leaves one straggler task that every other task waits for, and the
// baselines split evenly too); unsplittable dims stay at 1. The task count (the product of
// the degrees) must be an *aligned count* of the mesh: a divisor of the device count that,
// at every level of the mesh hierarchy, divides each group's device count or is a multiple
// of it (on 4 nodes × 4 devices: 1, 2, 4, 8, 16; never 3 or 6), or the length of a seed's
// device list (see below).
//
// Placements. n tasks run on a contiguous block of n devices starting at a multiple of n
// (task t on device offset + t). With an aligned count such a block never straddles a
// node boundary unless it spans whole nodes, so the traffic between an op's tasks (partial
// sums, weight all-reduces) stays on the fastest links available for that many devices,
// and the space shrinks from D!/(D−n)! device lists to D/n blocks, the ones that matter
// for a homogeneous mesh (any other list is a relabelling with slower links).
// Placements used by the seed strategies (e.g. one device per node, from the expert and
// Megatron designs) are added, so that the search can move ops onto the hand-designed
// layouts too, and each seed's own config is a member of its op's space.
//
// Moves (`neighbours`): change one dim's degree to the next smaller or larger divisor
// (placement re-aligned around the current first device), move a factor between two dims
// (same task count and placement), move the block, or take the device list of a producer
// or consumer with the same task count ("same devices as the producer": a consumer placed
// like its producer reads its input locally).

import type { Mesh, MeshGroup } from "../core/mesh.js";
import type { Graph, OpNode } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import type { Rng } from "./rng.js";
import { divisors } from "../core/integers.js";

export { divisors };

function devicesUnder(g: MeshGroup): number {
  return g.devices.length + g.children.reduce((n, c) => n + devicesUnder(c), 0);
}

/**
 * The aligned task counts of a mesh: divisors n of the device count D such that for every
 * group of the hierarchy with g devices, n divides g or g divides n. 1 and D always qualify
 * when the groups are uniform; on an irregular mesh D is kept so that the whole mesh is a
 * placement.
 */
export function alignedCounts(mesh: Mesh): number[] {
  const D = mesh.devices.length;
  const sizes = new Set<number>();
  const walk = (g: MeshGroup): void => {
    sizes.add(devicesUnder(g));
    g.children.forEach(walk);
  };
  walk(mesh.root);
  const out = divisors(D).filter((n) => [...sizes].every((g) => g % n === 0 || n % g === 0));
  if (!out.includes(D)) out.push(D);
  return out;
}

const keyOf = (devices: readonly number[]): string => devices.join(",");

export function configKey(c: OpConfig): string {
  return `${c.degrees.join("x")}@${keyOf(c.devices)}`;
}

export function sameConfig(a: OpConfig, b: OpConfig): boolean {
  return a.degrees.length === b.degrees.length && a.devices.length === b.devices.length &&
    a.degrees.every((d, i) => d === b.degrees[i]) && a.devices.every((d, i) => d === b.devices[i]);
}

function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

export interface SpaceOptions {
  /** Strategies whose placements and configs join the space (the search's seeds). */
  seeds?: readonly Strategy[];
}

export class SearchSpace {
  readonly deviceCount: number;
  /** Aligned task counts, ascending. */
  readonly counts: readonly number[];
  private readonly countSet: Set<number>;
  private readonly degreeCache = new Map<string, number[][]>();
  private readonly placementCache = new Map<number, number[][]>();
  /** Device lists of the seeds, by length (beyond the aligned blocks). */
  private readonly extraPlacements = new Map<number, Map<string, number[]>>();
  /** Seed configs per op (deduplicated). */
  private readonly seedConfigs = new Map<string, OpConfig[]>();

  constructor(readonly graph: Graph, readonly mesh: Mesh, options: SpaceOptions = {}) {
    this.deviceCount = mesh.devices.length;
    this.counts = alignedCounts(mesh);
    this.countSet = new Set(this.counts);
    for (const s of options.seeds ?? []) {
      for (const [name, c] of Object.entries(s.ops)) {
        if (!graph.ops.has(name)) continue;
        const list = this.seedConfigs.get(name) ?? [];
        if (!list.some((x) => sameConfig(x, c))) list.push({ degrees: [...c.degrees], devices: [...c.devices] });
        this.seedConfigs.set(name, list);
        const byLen = this.extraPlacements.get(c.devices.length) ?? new Map<string, number[]>();
        byLen.set(keyOf(c.devices), [...c.devices]);
        this.extraPlacements.set(c.devices.length, byLen);
      }
    }
  }

  /** Candidate degrees of dim `i` of `op`: divisors of its size up to the device count; [1] when unsplittable. */
  dimDegrees(op: OpNode, i: number): number[] {
    const d = op.sig.space[i];
    if (d.splittable === false) return [1];
    return divisors(d.size).filter((x) => x <= this.deviceCount);
  }

  /**
   * True when n tasks have a placement: an aligned count, or the length of a seed's device
   * list (a seed may use, say, 3 of 4 devices; its op's neighbours keep that count).
   */
  allowedCount(n: number): boolean {
    return this.countSet.has(n) || this.extraPlacements.has(n);
  }

  /** Every degree vector of `op` whose task count has placements (cached per op). */
  degreeVectors(op: OpNode): number[][] {
    let out = this.degreeCache.get(op.name);
    if (out) return out;
    out = [];
    const per = op.sig.space.map((_, i) => this.dimDegrees(op, i));
    const cur: number[] = [];
    const rec = (i: number, p: number): void => {
      if (i === per.length) {
        if (this.allowedCount(p)) out!.push([...cur]);
        return;
      }
      for (const d of per[i]) {
        if (p * d > this.deviceCount) break;
        cur.push(d);
        rec(i + 1, p * d);
        cur.pop();
      }
    };
    rec(0, 1);
    this.degreeCache.set(op.name, out);
    return out;
  }

  /** Placements of n tasks: aligned contiguous blocks, then the seeds' device lists of length n. */
  placements(n: number): number[][] {
    let out = this.placementCache.get(n);
    if (out) return out;
    out = [];
    const seen = new Set<string>();
    if (this.countSet.has(n)) {
      for (let o = 0; o + n <= this.deviceCount; o += n) {
        const block = Array.from({ length: n }, (_, t) => o + t);
        seen.add(keyOf(block));
        out.push(block);
      }
    }
    for (const [k, devs] of this.extraPlacements.get(n) ?? []) {
      if (!seen.has(k)) {
        seen.add(k);
        out.push(devs);
      }
    }
    this.placementCache.set(n, out);
    return out;
  }

  /** All configs of `op`: degree vectors × placements, plus the seeds' configs of the op. */
  enumerateConfigs(op: OpNode): OpConfig[] {
    const out: OpConfig[] = [];
    const seen = new Set<string>();
    for (const degrees of this.degreeVectors(op)) {
      for (const devices of this.placements(product(degrees))) {
        const c = { degrees, devices };
        seen.add(configKey(c));
        out.push(c);
      }
    }
    for (const c of this.seedConfigs.get(op.name) ?? []) if (!seen.has(configKey(c))) out.push(c);
    return out;
  }

  /** Number of configs of `op` (without building them). */
  configCount(op: OpNode): number {
    let n = 0;
    const seen = new Set<string>();
    for (const degrees of this.degreeVectors(op)) {
      const ps = this.placements(product(degrees));
      n += ps.length;
      for (const devices of ps) seen.add(configKey({ degrees, devices }));
    }
    for (const c of this.seedConfigs.get(op.name) ?? []) if (!seen.has(configKey(c))) n++;
    return n;
  }

  /** A uniformly random degree vector of `op` on a uniformly random placement of its task count. */
  randomConfig(op: OpNode, rng: Rng): OpConfig {
    const degrees = rng.pick(this.degreeVectors(op));
    const devices = rng.pick(this.placements(product(degrees)));
    return { degrees: [...degrees], devices: [...devices] };
  }

  /** The aligned block of n devices that contains `device` (or the first, if n is not aligned). */
  private blockAround(n: number, device: number): number[] {
    const ps = this.placements(n);
    return ps.find((p) => p[0] <= device && device <= p[p.length - 1] && p.length === n && p[n - 1] - p[0] === n - 1) ?? ps[0];
  }

  /**
   * One-step moves from `config` (see the file comment), deduplicated, without `config`
   * itself. `strategy` supplies the producers' and consumers' configs for the
   * "same devices" move.
   */
  neighbours(op: OpNode, config: OpConfig, strategy?: Strategy): OpConfig[] {
    const out = new Map<string, OpConfig>();
    const add = (c: OpConfig | undefined): void => {
      if (!c || c.devices.length !== product(c.degrees)) return;
      const k = configKey(c);
      if (!out.has(k) && !sameConfig(c, config)) out.set(k, c);
    };
    const n = config.devices.length;
    const first = config.devices[0] ?? 0;
    // Degree of one dim up or down to the adjacent divisor.
    op.sig.space.forEach((_, i) => {
      const ds = this.dimDegrees(op, i);
      const at = ds.indexOf(config.degrees[i]);
      for (const j of [at - 1, at + 1]) {
        if (at < 0 || j < 0 || j >= ds.length) continue;
        const degrees = config.degrees.map((d, k) => (k === i ? ds[j] : d));
        const m = product(degrees);
        if (!this.allowedCount(m)) continue;
        const devices = this.blockAround(m, first);
        if (devices) add({ degrees, devices: [...devices] });
      }
    });
    // A prime factor moved from dim i to dim j: same task count and placement.
    op.sig.space.forEach((_, i) => {
      for (const p of primeFactors(config.degrees[i])) {
        op.sig.space.forEach((dim, j) => {
          if (j === i || dim.splittable === false) return;
          const dj = config.degrees[j] * p;
          if (dim.size % dj !== 0) return;
          const degrees = config.degrees.map((d, k) => (k === i ? d / p : k === j ? dj : d));
          add({ degrees, devices: [...config.devices] });
        });
      }
    });
    // The block moved.
    for (const devices of this.placements(n)) add({ degrees: [...config.degrees], devices: [...devices] });
    // Same devices as a producer or consumer with as many tasks.
    if (strategy) {
      for (const other of this.adjacentOps(op)) {
        const c = strategy.ops[other];
        if (c && c.devices.length === n) add({ degrees: [...config.degrees], devices: [...c.devices] });
      }
    }
    return [...out.values()];
  }

  private readonly adjacency = new Map<string, string[]>();

  /** Producers of the op's inputs and consumers of its outputs, in graph order. */
  adjacentOps(op: OpNode): string[] {
    let a = this.adjacency.get(op.name);
    if (a) return a;
    const set = new Set<string>();
    for (const t of op.inputs) {
      const p = this.graph.tensor(t).producer;
      if (p) set.add(p.op);
    }
    for (const t of op.outputs) for (const c of this.graph.tensor(t).consumers) set.add(c.op);
    set.delete(op.name);
    a = [...set];
    this.adjacency.set(op.name, a);
    return a;
  }
}

function primeFactors(n: number): number[] {
  const out: number[] = [];
  for (let p = 2; p * p <= n; p++) {
    if (n % p === 0) {
      out.push(p);
      while (n % p === 0) n /= p;
    }
  }
  if (n > 1) out.push(n);
  return out;
}
