// Meshes usable by name (`--mesh p100x16`): this machine, FlexFlow's evaluation clusters and
// today's common GPU boxes. A link's bandwidth is what one device can send to one peer in
// one direction; topologies richer than a tree (DGX-1's hybrid cube-mesh) are simplified
// to the tree the route model understands, as each mesh's `source` says.

import { availableParallelism } from "node:os";
import { CPU_MEASUREMENT, lookupDevice } from "./catalog.js";
import type { DeviceSpec, LinkSpec, Mesh, MeshGroup } from "./mesh.js";
import { assembleMesh, type GroupTemplate } from "./mesh-assemble.js";
import { localDeviceMemoryBytes } from "./local-memory.js";
import type { DType } from "./tensor.js";

const GBs = 1e9;
const Gbits = 1e9 / 8;

function spec(kind: string): DeviceSpec {
  const found = lookupDevice(kind);
  if (!found.ok) throw new Error(`built-in mesh uses ${kind}, which is not in the catalog`);
  return found.spec;
}

/** `nodes` groups of `perNode` devices: `intra` joins a node's devices, `inter` the nodes. */
function cluster(name: string, kind: string, nodes: number, perNode: number, intra: LinkSpec, inter: LinkSpec, source: string): Mesh {
  const node: GroupTemplate = { label: "node", link: intra, items: [{ device: spec(kind), count: perNode }] };
  return assembleMesh(name, { label: "cluster", link: inter, items: [{ group: node, count: nodes }] }, source);
}

/** One box of `count` devices joined by one link. */
function box(name: string, kind: string, count: number, link: LinkSpec, source: string): Mesh {
  return assembleMesh(name, { label: "node", link, items: [{ device: spec(kind), count }] }, source);
}

const NVLINK1: LinkSpec = { name: "nvlink", bandwidth: 20 * GBs, latency: 2e-6 };
const NVLINK4: LinkSpec = { name: "nvlink", bandwidth: 450 * GBs, latency: 2e-6 };

/**
 * The `local` mesh with `count` devices (the built-in one has one per core): benchmarks
 * use fewer on a machine with many cores, so that the devices do not contend.
 */
export function localMeshOf(count: number): Mesh {
  const shm: LinkSpec = { name: "shm", bandwidth: CPU_MEASUREMENT.shm.bandwidth, latency: CPU_MEASUREMENT.shm.latency, hostCopies: true };
  const mesh = box(
    "local",
    "cpu",
    count,
    shm,
    `this machine: one cpu device per core (os.availableParallelism()); cpu and shm figures measured on ${CPU_MEASUREMENT.date.slice(0, 10)} (src/core/cpu-measured.json); ` +
      "memory per device: its share of this machine's RAM, at most the 4 GiB wasm heap when the local runtime runs tfjs on wasm (src/core/local-memory.ts)",
  );
  // This machine's RAM, not the measured machine's: the devices share it (and the wasm heap caps each).
  const memoryBytes = localDeviceMemoryBytes(count);
  for (const d of mesh.devices) d.spec = { ...d.spec, memoryBytes };
  return mesh;
}

const BUILDERS: Record<string, () => Mesh> = {
  local: () => localMeshOf(availableParallelism()),
  p100x16: () =>
    cluster("p100x16", "P100", 4, 4, NVLINK1, { name: "infiniband", bandwidth: 100 * Gbits, latency: 5e-6 },
      "FlexFlow (Jia et al., SysML 2019) P100 cluster: 4 nodes of 4 P100 with NVLink (modelled at 20 GB/s, 2 us per direction) and 100 Gb/s EDR InfiniBand between nodes (5 us)"),
  k80x64: () =>
    cluster("k80x64", "K80", 16, 4, { name: "pcie", bandwidth: 12 * GBs, latency: 5e-6 }, { name: "infiniband", bandwidth: 56 * Gbits, latency: 5e-6 },
      "FlexFlow (Jia et al., SysML 2019) K80 cluster: 16 nodes of 4 K80 dies (2 boards) on PCIe 3.0 x16 (15.75 GB/s raw, ~12 GB/s effective) and 56 Gb/s FDR InfiniBand between nodes"),
  v100x8: () =>
    box("v100x8", "V100", 8, { name: "nvlink", bandwidth: 25 * GBs, latency: 2e-6 },
      "NVIDIA DGX-1 (V100): each GPU has 6 NVLink 2 links of 25 GB/s per direction in a hybrid cube-mesh. Simplified to one uniform 25 GB/s link between any two GPUs: pairs with 2 direct links get half, pairs without a direct link (relayed by a peer) are over-estimated"),
  a100x8: () =>
    box("a100x8", "A100-80GB", 8, { name: "nvlink", bandwidth: 300 * GBs, latency: 2e-6 },
      "NVIDIA DGX A100: NVLink 3 through NVSwitch, 600 GB/s bidirectional = 300 GB/s per direction per GPU, any pair at full rate"),
  h100x8: () =>
    box("h100x8", "H100", 8, NVLINK4,
      "NVIDIA DGX H100: NVLink 4 through NVSwitch, 900 GB/s bidirectional = 450 GB/s per direction per GPU"),
  h100x64: () =>
    cluster("h100x64", "H100", 8, 8, NVLINK4, { name: "infiniband", bandwidth: 400 * Gbits, latency: 5e-6 },
      "8 NVIDIA DGX H100 nodes: NVLink 4 (450 GB/s per direction) inside a node; 8 ConnectX-7 400 Gb/s NDR InfiniBand ports per node, one per GPU (rail-optimised), modelled as a 400 Gb/s = 50 GB/s link per GPU, 5 us"),
};

export function builtinMeshNames(): string[] {
  return Object.keys(BUILDERS);
}

/** A fresh copy of the built-in mesh `name`, or undefined. */
export function builtinMesh(name: string): Mesh | undefined {
  return Object.hasOwn(BUILDERS, name) ? BUILDERS[name]() : undefined;
}

// ---------------------------------------------------------------- summaries for `par meshes`

export interface MeshLevelSummary {
  /** 0 is the mesh itself, 1 its sub-groups, ... */
  depth: number;
  /** Distinct group labels at this depth. */
  labels: string[];
  groups: number;
  /** Members (sub-groups and devices) per group: one number when uniform. */
  members: number[];
  /** Distinct links at this depth. */
  links: LinkSpec[];
}

export interface MeshSummary {
  name: string;
  devices: number;
  kinds: { kind: string; count: number }[];
  levels: MeshLevelSummary[];
  /** Sum of the devices' peaks per dtype. */
  peakFlops: Partial<Record<DType, number>>;
  memoryBytes: number;
  source?: string;
}

export function describeMesh(mesh: Mesh): MeshSummary {
  const kinds = new Map<string, number>();
  const peakFlops: Partial<Record<DType, number>> = {};
  let memoryBytes = 0;
  for (const d of mesh.devices) {
    kinds.set(d.spec.kind, (kinds.get(d.spec.kind) ?? 0) + 1);
    memoryBytes += d.spec.memoryBytes;
    for (const [dt, f] of Object.entries(d.spec.peakFlops) as [DType, number][]) peakFlops[dt] = (peakFlops[dt] ?? 0) + f;
  }
  const levels: MeshLevelSummary[] = [];
  let layer: MeshGroup[] = [mesh.root];
  for (let depth = 0; layer.length > 0; depth++) {
    const links: LinkSpec[] = [];
    for (const g of layer) {
      if (g.link && !links.some((l) => sameLink(l, g.link!))) links.push(g.link);
    }
    levels.push({
      depth,
      labels: [...new Set(layer.map((g) => g.label))],
      groups: layer.length,
      members: [...new Set(layer.map((g) => g.children.length + g.devices.length))],
      links,
    });
    layer = layer.flatMap((g) => g.children);
  }
  const summary: MeshSummary = {
    name: mesh.name,
    devices: mesh.devices.length,
    kinds: [...kinds].map(([kind, count]) => ({ kind, count })),
    levels,
    peakFlops,
    memoryBytes,
  };
  if (mesh.source !== undefined) summary.source = mesh.source;
  return summary;
}

function sameLink(a: LinkSpec, b: LinkSpec): boolean {
  return a.name === b.name && a.bandwidth === b.bandwidth && a.latency === b.latency;
}
