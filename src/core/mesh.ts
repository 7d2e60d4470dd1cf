// Device meshes: devices grouped hierarchically (devices in a node, nodes in a cluster),
// each group joined by a link. Routes between two devices climb to their lowest common
// group and back down; a route's bandwidth is its slowest link, its latency the sum.
// (Types here are the contract; builders live in src/frontend/mesh-build.ts and
// src/core/builtin-meshes.ts.)

import type { DType } from "./tensor.js";

export interface DeviceSpec {
  /** Catalog name ("P100", "A100-80GB", "cpu") or a custom name. */
  kind: string;
  /** Peak FLOP/s per dtype (dense math). */
  peakFlops: Partial<Record<DType, number>>;
  /** f32 matmul peak with TF32 tensor cores enabled (Ampere and later), when the device has them. */
  peakTf32Flops?: number;
  /** Memory capacity in bytes. */
  memoryBytes: number;
  /** Memory bandwidth in bytes/s. */
  memoryBandwidth: number;
  /** Per-kernel launch overhead in seconds. */
  launchOverhead: number;
  /** Where the figures come from (datasheet, measurement). */
  source: string;
}

export interface LinkSpec {
  /** "nvlink", "infiniband", "pcie", ... */
  name: string;
  /** Bytes per second, one direction. */
  bandwidth: number;
  /** Seconds per message. */
  latency: number;
  /**
   * The devices' own threads move the bytes (shared memory between CPU workers): there is
   * no copy engine, so a collective occupies its members' compute. See `collectivesInLine`.
   */
  hostCopies?: boolean;
}

export interface MeshGroup {
  /** Label of this level ("node", "rack"); the root is the mesh itself. */
  label: string;
  /** This group's index among its siblings. */
  index: number;
  /** The link joining this group's members (children groups or devices). */
  link?: LinkSpec;
  /** Sub-groups (empty at the lowest level). */
  children: MeshGroup[];
  /** Device indices directly in this group (for the lowest level), in order. */
  devices: number[];
}

export interface MeshDevice {
  index: number;
  spec: DeviceSpec;
  /** Group indices from the root's children down to the device's own group. */
  path: number[];
}

export interface Mesh {
  name: string;
  devices: MeshDevice[];
  root: MeshGroup;
  /** Where the figures of a built-in mesh come from (papers, datasheets, measurement). */
  source?: string;
}

export interface RouteHop {
  /** The group whose link carries this hop, as a path of indices from the root. */
  group: number[];
  link: LinkSpec;
}

export interface Route {
  hops: RouteHop[];
  /** Bottleneck bandwidth (bytes/s); Infinity for a device to itself. */
  bandwidth: number;
  /** Summed latency (s); 0 for a device to itself. */
  latency: number;
}

/**
 * Whether every link of `mesh` is moved by the devices' own threads (LinkSpec.hostCopies):
 * then par's runtime runs weight-gradient all-reduces in line, as a barrier of their
 * members at the end of the backward pass (src/codegen/lower.ts), and the simulator models
 * them there, on the members' compute queues, instead of on a collective queue that
 * overlaps backward (NCCL's model for GPUs).
 */
export function collectivesInLine(mesh: Mesh): boolean {
  let any = false;
  let all = true;
  const visit = (g: MeshGroup): void => {
    if (g.link) {
      any = true;
      if (!g.link.hostCopies) all = false;
    }
    g.children.forEach(visit);
  };
  visit(mesh.root);
  return any && all;
}
