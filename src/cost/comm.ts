// Communication costs (alpha–beta model). A message of n bytes over a route costs
// latency + n / bandwidth, the route's bandwidth being its slowest hop's. Collectives use
// the textbook ring formulas (Thakur, Rabenseifner & Gropp, "Optimization of Collective
// Communication Operations in MPICH", 2005; what NCCL's rings achieve for large messages):
//   all-reduce       2(p−1)/p · n/B + 2(p−1)·α
//   all-gather       (p−1)/p · n/B + (p−1)·α      (n = the gathered, whole size)
//   reduce-scatter   (p−1)/p · n/B + (p−1)·α      (n = the whole size before scattering)
// with B the bottleneck bandwidth and α the worst latency among the group's routes: a ring
// moves in lock-step, so its slowest link sets the pace. When the group spans several
// nodes the all-reduce is hierarchical (NCCL's tree/ring hybrid, Horovod's hierarchical
// all-reduce): reduce-scatter inside each node, all-reduce of the 1/k shards between
// nodes, all-gather inside each node. docs/simulator.md derives and discusses these.

import type { Mesh, Route } from "../core/mesh.js";
import { routeTable, type RouteTable } from "../core/routes.js";

/** Point-to-point: latency + bytes / bandwidth; nothing to move or a device to itself costs 0. */
export function p2pTime(bytes: number, route: Pick<Route, "bandwidth" | "latency">): number {
  if (bytes <= 0 || route.bandwidth === Infinity) return 0;
  return route.latency + bytes / route.bandwidth;
}

/** Ring all-reduce of `bytes` over `p` members: 2(p−1)/p · n/B + 2(p−1)α. */
export function ringAllReduceTime(bytes: number, p: number, bandwidth: number, latency: number): number {
  if (p <= 1 || bytes <= 0) return 0;
  return (2 * (p - 1) / p) * (bytes / bandwidth) + 2 * (p - 1) * latency;
}

/** Ring all-gather producing `bytes` in total on every member: (p−1)/p · n/B + (p−1)α. */
export function allGatherTime(bytes: number, p: number, bandwidth: number, latency: number): number {
  if (p <= 1 || bytes <= 0) return 0;
  return ((p - 1) / p) * (bytes / bandwidth) + (p - 1) * latency;
}

/** Ring reduce-scatter of `bytes` (each member ends with a reduced 1/p): same cost as all-gather. */
export function reduceScatterTime(bytes: number, p: number, bandwidth: number, latency: number): number {
  return allGatherTime(bytes, p, bandwidth, latency);
}

/** The slowest bandwidth and the largest latency among the routes joining `devices` pairwise. */
export function groupBottleneck(devices: readonly number[], routes: RouteTable): { bandwidth: number; latency: number } {
  let bandwidth = Infinity;
  let latency = 0;
  for (let i = 0; i < devices.length; i++) {
    for (let j = 0; j < devices.length; j++) {
      if (i === j || devices[i] === devices[j]) continue;
      const r = routes.get(devices[i], devices[j]);
      if (r.bandwidth < bandwidth) bandwidth = r.bandwidth;
      if (r.latency > latency) latency = r.latency;
    }
  }
  return { bandwidth, latency };
}

/** Devices grouped by their node: the lowest mesh group holding them (same `path`). */
export function nodesOf(mesh: Mesh, devices: readonly number[]): number[][] {
  const byPath = new Map<string, number[]>();
  for (const d of devices) {
    const key = mesh.devices[d].path.join(",");
    let list = byPath.get(key);
    if (!list) byPath.set(key, (list = []));
    list.push(d);
  }
  return [...byPath.values()];
}

export interface AllReducePlan {
  /** "none" (one member), "ring" (one node, or one device per node) or "hierarchical". */
  algorithm: "none" | "ring" | "hierarchical";
  seconds: number;
  /** Bytes sent over intra-node links and over inter-node links, all members together. */
  intraBytes: number;
  interBytes: number;
}

/**
 * All-reduce of `bytes` among `devices` (distinct). Within one node, or with one member per
 * node, a flat ring over the group's bottleneck route. Across nodes with several members
 * each: with k = the largest member count of a node (the slowest node paces the others)
 * and m nodes, reduce-scatter(n, k, intra) + all-reduce(n/k, m, inter) + all-gather(n, k, intra).
 */
export function allReduce(bytes: number, devices: readonly number[], mesh: Mesh, routes: RouteTable): AllReducePlan {
  const p = devices.length;
  if (p <= 1 || bytes <= 0) return { algorithm: "none", seconds: 0, intraBytes: 0, interBytes: 0 };
  const nodes = nodesOf(mesh, devices);
  const k = Math.max(...nodes.map((n) => n.length));
  if (nodes.length === 1 || k === 1) {
    const b = groupBottleneck(devices, routes);
    const sent = 2 * (p - 1) * (bytes / p) * p;
    return {
      algorithm: "ring",
      seconds: ringAllReduceTime(bytes, p, b.bandwidth, b.latency),
      intraBytes: nodes.length === 1 ? sent : 0,
      interBytes: nodes.length === 1 ? 0 : sent,
    };
  }
  let intra = { bandwidth: Infinity, latency: 0 };
  for (const n of nodes) {
    const b = groupBottleneck(n, routes);
    intra = { bandwidth: Math.min(intra.bandwidth, b.bandwidth), latency: Math.max(intra.latency, b.latency) };
  }
  // Inter-node bottleneck: the slowest route between members of different nodes.
  let inter = { bandwidth: Infinity, latency: 0 };
  for (let a = 0; a < nodes.length; a++) {
    for (let b = a + 1; b < nodes.length; b++) {
      const bb = groupBottleneck([nodes[a][0], nodes[b][0]], routes);
      inter = { bandwidth: Math.min(inter.bandwidth, bb.bandwidth), latency: Math.max(inter.latency, bb.latency) };
    }
  }
  const m = nodes.length;
  const seconds =
    reduceScatterTime(bytes, k, intra.bandwidth, intra.latency) +
    ringAllReduceTime(bytes / k, m, inter.bandwidth, inter.latency) +
    allGatherTime(bytes, k, intra.bandwidth, intra.latency);
  // Every member sends (k−1)/k·n inside its node twice; the k shard rings between nodes each
  // send 2(m−1)/m·(n/k) per node.
  const intraBytes = 2 * ((k - 1) / k) * bytes * p;
  const interBytes = 2 * ((m - 1) / m) * (bytes / k) * m * k;
  return { algorithm: "hierarchical", seconds, intraBytes, interBytes };
}

/** A comm cost model bound to one mesh (its route table built once). */
export class CommModel {
  readonly routes: RouteTable;
  private readonly collectiveCache = new Map<string, AllReducePlan>();

  constructor(readonly mesh: Mesh, routes?: RouteTable) {
    this.routes = routes ?? routeTable(mesh);
  }

  transfer(bytes: number, src: number, dst: number): number {
    if (src === dst) return 0;
    return p2pTime(bytes, this.routes.get(src, dst));
  }

  allReducePlan(bytes: number, devices: readonly number[]): AllReducePlan {
    // Weight groups repeat across ops (every data-parallel layer all-reduces over the same
    // devices); the pairwise bottleneck scan is O(p²), so plans are cached.
    const key = `${bytes}|${devices.join(",")}`;
    let plan = this.collectiveCache.get(key);
    if (!plan) {
      plan = allReduce(bytes, devices, this.mesh, this.routes);
      if (this.collectiveCache.size > 100_000) this.collectiveCache.clear();
      this.collectiveCache.set(key, plan);
    }
    return plan;
  }

  allReduce(bytes: number, devices: readonly number[]): number {
    return this.allReducePlan(bytes, devices).seconds;
  }
}

// ------------------------------------------------------------------ collectives at scale

export type CollectiveKind = "all-reduce" | "reduce-scatter" | "all-gather";

type Link = { bandwidth: number; latency: number };

/**
 * What a collective's cost depends on: p members; within one node or one member per node,
 * the group's bottleneck route (`flat`); across nodes with several members each, k the
 * largest member count of a node, m nodes, the slowest intra-node and inter-node routes.
 */
export type GroupTopology = { p: number; flat: Link } | { p: number; k: number; m: number; intra: Link; inter: Link };

export function groupTopology(devices: readonly number[], mesh: Mesh, routes: RouteTable): GroupTopology {
  const p = devices.length;
  const nodes = nodesOf(mesh, devices);
  const k = Math.max(...nodes.map((n) => n.length));
  if (nodes.length === 1 || k === 1) return { p, flat: groupBottleneck(devices, routes) };
  let intra = { bandwidth: Infinity, latency: 0 };
  for (const n of nodes) {
    const b = groupBottleneck(n, routes);
    intra = { bandwidth: Math.min(intra.bandwidth, b.bandwidth), latency: Math.max(intra.latency, b.latency) };
  }
  return { p, k, m: nodes.length, intra, inter: groupBottleneck(nodes.map((n) => n[0]), routes) };
}

/**
 * Seconds of a collective of `bytes` (the whole buffer) over a group. All-reduce as
 * `allReduce` above. Reduce-scatter and all-gather: a flat ring over the bottleneck, or
 * across nodes with several members each the two-level form
 *   reduce-scatter   reduce-scatter(n, k, intra) + reduce-scatter(n/k, m, inter)
 *   all-gather       all-gather(n/k, m, inter) + all-gather(n, k, intra)
 */
export function collectiveTime(kind: CollectiveKind, bytes: number, t: GroupTopology): number {
  if (t.p <= 1 || bytes <= 0) return 0;
  if ("flat" in t) {
    const { bandwidth, latency } = t.flat;
    return kind === "all-reduce" ? ringAllReduceTime(bytes, t.p, bandwidth, latency) : allGatherTime(bytes, t.p, bandwidth, latency);
  }
  const { k, m, intra, inter } = t;
  if (kind === "all-reduce") {
    return reduceScatterTime(bytes, k, intra.bandwidth, intra.latency) + ringAllReduceTime(bytes / k, m, inter.bandwidth, inter.latency) + allGatherTime(bytes, k, intra.bandwidth, intra.latency);
  }
  return allGatherTime(bytes, k, intra.bandwidth, intra.latency) + allGatherTime(bytes / k, m, inter.bandwidth, inter.latency);
}

/**
 * Whether every group at each depth of `mesh` has the same link and every device the same
 * figures: then a collective's cost depends only on the shape of its group in the mesh
 * tree (`groupShape`), not on which devices it uses.
 */
export function isUniformMesh(mesh: Mesh): boolean {
  const linkAt: string[] = [];
  let uniform = true;
  const visit = (g: Mesh["root"], depth: number): void => {
    const l = g.link ? `${g.link.name}|${g.link.bandwidth}|${g.link.latency}|${g.link.hostCopies ? 1 : 0}` : "";
    if (linkAt.length <= depth) linkAt.push(l);
    else if (linkAt[depth] !== l) uniform = false;
    for (const c of g.children) visit(c, depth + 1);
  };
  visit(mesh.root, 0);
  const figures = (i: number) => {
    const s = mesh.devices[i].spec;
    return JSON.stringify([s.kind, s.peakFlops, s.peakTf32Flops, s.memoryBytes, s.memoryBandwidth, s.launchOverhead, mesh.devices[i].path.length]);
  };
  const first = mesh.devices.length ? figures(0) : "";
  for (let i = 1; uniform && i < mesh.devices.length; i++) uniform = figures(i) === first;
  return uniform;
}

/**
 * The shape of a group of devices in the mesh tree: at each level, how its members spread
 * over sub-groups (canonical: children sorted). Equal shapes in a uniform mesh cost the same.
 */
export function groupShape(mesh: Mesh, devices: readonly number[]): string {
  const shape = (members: readonly number[], depth: number): string => {
    const byChild = new Map<number, number[]>();
    let here = 0;
    for (const d of members) {
      const path = mesh.devices[d].path;
      if (depth >= path.length) {
        here++;
        continue;
      }
      const list = byChild.get(path[depth]);
      if (list) list.push(d);
      else byChild.set(path[depth], [d]);
    }
    const kids = [...byChild.values()].map((l) => shape(l, depth + 1)).sort();
    return `${here}(${kids.join(",")})`;
  };
  return shape(devices, 0);
}

/**
 * Collectives among devices of one (large) mesh, with each group's topology cached: by the
 * group's shape on a uniform mesh (a 4,096-GPU cluster has thousands of data-parallel
 * groups of a few shapes), else by the devices themselves.
 */
export class CollectiveModel {
  private readonly uniform: boolean;
  private readonly topologies = new Map<string, GroupTopology>();

  constructor(readonly mesh: Mesh, readonly routes: RouteTable = routeTable(mesh)) {
    this.uniform = isUniformMesh(mesh);
  }

  /** By array identity first: callers pass the same group array many times. */
  private readonly byArray = new WeakMap<readonly number[], GroupTopology>();

  topology(devices: readonly number[]): GroupTopology {
    const known = this.byArray.get(devices);
    if (known) return known;
    const t = this.topologyOf(devices);
    this.byArray.set(devices, t);
    return t;
  }

  private topologyOf(devices: readonly number[]): GroupTopology {
    const key = this.uniform ? groupShape(this.mesh, devices) : devices.join(",");
    let t = this.topologies.get(key);
    if (!t) {
      t = groupTopology(devices, this.mesh, this.routes);
      if (this.topologies.size > 100_000) this.topologies.clear();
      this.topologies.set(key, t);
    }
    return t;
  }

  time(kind: CollectiveKind, bytes: number, devices: readonly number[]): number {
    if (devices.length <= 1 || bytes <= 0) return 0;
    return collectiveTime(kind, bytes, this.topology(devices));
  }
}
