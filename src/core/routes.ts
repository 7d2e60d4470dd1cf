// Routes between devices. A message from a to b climbs from a's own group to the lowest
// group holding both, then descends to b's group; each group passed uses its link once
// (the group's link joins its members). Bandwidth is the slowest link's, latency the sum.
// Groups without a link (single-member groups) add no hop.

import type { Mesh, MeshGroup, Route, RouteHop } from "./mesh.js";

const SELF: Route = Object.freeze({ hops: Object.freeze([]) as unknown as RouteHop[], bandwidth: Infinity, latency: 0 });

/** The group at `path` (indices from the root's children down). */
export function groupAt(mesh: Mesh, path: readonly number[]): MeshGroup | undefined {
  let g: MeshGroup | undefined = mesh.root;
  for (const i of path) {
    g = g.children[i];
    if (!g) return undefined;
  }
  return g;
}

/**
 * Depth of the lowest group holding both devices: 0 is the root, 1 one of its children, ...
 * For a device with itself it is the depth of the device's own group.
 */
export function commonGroupLevel(mesh: Mesh, a: number, b: number): number {
  const pa = device(mesh, a).path;
  const pb = device(mesh, b).path;
  let k = 0;
  while (k < pa.length && k < pb.length && pa[k] === pb[k]) k++;
  return k;
}

/** Every device in the group at `groupPath` and its sub-groups, in index order. */
export function devicesUnder(mesh: Mesh, groupPath: readonly number[]): number[] {
  const g = groupAt(mesh, groupPath);
  if (!g) throw new RangeError(`mesh ${mesh.name} has no group at [${groupPath.join(", ")}]`);
  const out: number[] = [];
  const walk = (x: MeshGroup): void => {
    out.push(...x.devices);
    for (const c of x.children) walk(c);
  };
  walk(g);
  return out.sort((x, y) => x - y);
}

function device(mesh: Mesh, i: number) {
  const d = mesh.devices[i];
  if (!d) throw new RangeError(`mesh ${mesh.name} has no device ${i} (it has ${mesh.devices.length})`);
  return d;
}

function routeBetweenPaths(mesh: Mesh, pa: readonly number[], pb: readonly number[]): Route {
  let k = 0;
  while (k < pa.length && k < pb.length && pa[k] === pb[k]) k++;
  const hops: RouteHop[] = [];
  const visit = (path: number[]): void => {
    const g = groupAt(mesh, path);
    if (g?.link) hops.push({ group: path, link: g.link });
  };
  for (let d = pa.length; d >= k; d--) visit(pa.slice(0, d)); // up, including the common group
  for (let d = k + 1; d <= pb.length; d++) visit(pb.slice(0, d)); // and down to b's group
  let bandwidth = Infinity;
  let latency = 0;
  for (const h of hops) {
    bandwidth = Math.min(bandwidth, h.link.bandwidth);
    latency += h.link.latency;
  }
  return { hops, bandwidth, latency };
}

/** The route from device a to device b (computed; use a RouteTable in hot loops). */
export function route(mesh: Mesh, a: number, b: number): Route {
  if (a === b) {
    device(mesh, a);
    return SELF;
  }
  return routeBetweenPaths(mesh, device(mesh, a).path, device(mesh, b).path);
}

export interface RouteTable {
  readonly mesh: Mesh;
  /** The route from a to b; the same frozen object on every call. */
  get(a: number, b: number): Route;
  bandwidth(a: number, b: number): number;
  latency(a: number, b: number): number;
}

/**
 * Above this many pairs of device groups the table fills lazily instead of up front: a
 * 512-node cluster has 262,144 pairs, of which a strategy's transfers and collectives touch
 * a few thousand.
 */
const EAGER_PAIRS = 1 << 14;

/**
 * Routes depend only on the two devices' own groups, so the table stores one route per pair
 * of groups: 8 nodes of 8 GPUs need 64 entries, not 4096. Lookups are two array reads.
 */
export function routeTable(mesh: Mesh): RouteTable {
  const n = mesh.devices.length;
  const keyOf = new Map<string, number>();
  const groupPaths: number[][] = [];
  const groupOf = new Int32Array(n);
  for (const d of mesh.devices) {
    const key = d.path.join(",");
    let g = keyOf.get(key);
    if (g === undefined) {
      g = groupPaths.length;
      keyOf.set(key, g);
      groupPaths.push(d.path);
    }
    groupOf[d.index] = g;
  }
  const G = groupPaths.length;
  const routes: (Route | undefined)[] = G * G <= EAGER_PAIRS ? new Array(G * G) : [];
  const lazy = new Map<number, Route>();
  const compute = (ga: number, gb: number): Route => freeze(routeBetweenPaths(mesh, groupPaths[ga], groupPaths[gb]));
  if (G * G <= EAGER_PAIRS) for (let ga = 0; ga < G; ga++) for (let gb = 0; gb < G; gb++) routes[ga * G + gb] = compute(ga, gb);

  const check = (i: number): void => {
    if (!(i >= 0 && i < n && Number.isInteger(i))) throw new RangeError(`mesh ${mesh.name} has no device ${i} (it has ${n})`);
  };
  const get = (a: number, b: number): Route => {
    check(a);
    check(b);
    if (a === b) return SELF;
    const key = groupOf[a] * G + groupOf[b];
    if (routes.length) return routes[key]!;
    let r = lazy.get(key);
    if (!r) lazy.set(key, (r = compute(groupOf[a], groupOf[b])));
    return r;
  };
  return {
    mesh,
    get,
    bandwidth: (a, b) => get(a, b).bandwidth,
    latency: (a, b) => get(a, b).latency,
  };
}

function freeze(r: Route): Route {
  for (const h of r.hops) Object.freeze(h);
  Object.freeze(r.hops);
  return Object.freeze(r);
}
