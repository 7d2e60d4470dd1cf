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
