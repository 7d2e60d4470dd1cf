// Meshes usable by name (`--mesh p100x16`): this machine, FlexFlow's evaluation clusters,
// today's common GPU boxes and DGX clusters at the sizes large models train on (up to
// 4,096 A100s; `a100x<N>` for any whole number of nodes). A link's bandwidth is what one device can send to one peer in
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
const NVLINK3: LinkSpec = { name: "nvlink", bandwidth: 300 * GBs, latency: 2e-6 };
const NVLINK4: LinkSpec = { name: "nvlink", bandwidth: 450 * GBs, latency: 2e-6 };
const HDR_IB: LinkSpec = { name: "infiniband", bandwidth: 200 * Gbits, latency: 5e-6 };
const NDR_IB: LinkSpec = { name: "infiniband", bandwidth: 400 * Gbits, latency: 5e-6 };

/** GPUs per node of the DGX clusters below. */
const DGX_GPUS = 8;

/**
 * `count` A100-80GB in DGX A100 nodes (NVIDIA's Selene, where Megatron-LM's PTD-P paper
 * measured): NVLink 3 through NVSwitch inside a node; 8 HDR InfiniBand ports per node, one
 * per GPU (rail-optimised), modelled as a 200 Gb/s = 25 GB/s link per GPU.
 */
function a100Cluster(name: string, count: number): Mesh {
  return cluster(name, "A100-80GB", count / DGX_GPUS, DGX_GPUS, NVLINK3, HDR_IB,
    `${count / DGX_GPUS} NVIDIA DGX A100 (80GB) nodes: NVLink 3 through NVSwitch (300 GB/s per direction per GPU) inside a node; 8 ConnectX-6 200 Gb/s HDR InfiniBand ports per node, one per GPU (rail-optimised, as NVIDIA's Selene), modelled as a 200 Gb/s = 25 GB/s link per GPU, 5 us`);
}

/** `count` H100 in DGX H100 nodes: NVLink 4 inside a node, one 400 Gb/s NDR port per GPU. */
function h100Cluster(name: string, count: number): Mesh {
  return cluster(name, "H100", count / DGX_GPUS, DGX_GPUS, NVLINK4, NDR_IB,
    `${count / DGX_GPUS} NVIDIA DGX H100 nodes: NVLink 4 (450 GB/s per direction) inside a node; 8 ConnectX-7 400 Gb/s NDR InfiniBand ports per node, one per GPU (rail-optimised), modelled as a 400 Gb/s = 50 GB/s link per GPU, 5 us`);
}

/**
 * Cluster families usable at any size that fills whole nodes (`a100x2520`: 315 DGX A100),
 * so that a strategy can name the exact GPU count of a published configuration. The
 * listed sizes are in BUILDERS; the family answers the others.
 */
const FAMILIES: { prefix: string; build: (name: string, count: number) => Mesh }[] = [
  { prefix: "a100x", build: a100Cluster },
  { prefix: "h100x", build: h100Cluster },
];

/** The largest cluster a family builds (a guard against typos; the mesh builder's own limit). */
const MAX_FAMILY_DEVICES = 65_536;

function familyMesh(name: string): Mesh | undefined {
  for (const f of FAMILIES) {
    if (!name.startsWith(f.prefix)) continue;
    const digits = name.slice(f.prefix.length);
    if (!/^[1-9][0-9]*$/.test(digits)) return undefined;
    const count = Number(digits);
    // One node is a box of its own (a100x8, h100x8); clusters fill whole nodes.
    if (count <= DGX_GPUS || count % DGX_GPUS !== 0 || count > MAX_FAMILY_DEVICES) return undefined;
    return f.build(name, count);
  }
  return undefined;
}

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
  h100x64: () => h100Cluster("h100x64", 64),
  a100x64: () => a100Cluster("a100x64", 64),
  a100x128: () => a100Cluster("a100x128", 128),
  a100x256: () => a100Cluster("a100x256", 256),
  a100x512: () => a100Cluster("a100x512", 512),
  a100x1024: () => a100Cluster("a100x1024", 1024),
  a100x2048: () => a100Cluster("a100x2048", 2048),
  // 384 nodes: the largest run of the PTD-P paper (1T parameters on 3,072 GPUs).
  a100x3072: () => a100Cluster("a100x3072", 3072),
  a100x4096: () => a100Cluster("a100x4096", 4096),
  h100x1024: () => h100Cluster("h100x1024", 1024),
};

export function builtinMeshNames(): string[] {
  return Object.keys(BUILDERS);
}

/**
 * A fresh copy of the built-in mesh `name`, or undefined. Besides the listed names, the
 * DGX cluster families answer every whole number of nodes: `a100x<N>` and `h100x<N>` for N a
 * multiple of 8 above 8.
 */
export function builtinMesh(name: string): Mesh | undefined {
  return Object.hasOwn(BUILDERS, name) ? BUILDERS[name]() : familyMesh(name);
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
