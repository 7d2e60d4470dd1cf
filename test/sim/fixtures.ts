// Small graphs, meshes and strategies for the simulator tests (built directly, no front end).
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { DeviceSpec, LinkSpec, Mesh } from "../../src/core/mesh.js";
import { assembleMesh } from "../../src/core/mesh-assemble.js";
import type { TensorType } from "../../src/core/tensor.js";
import { Graph } from "../../src/ir/graph.js";
import type { OpConfig, Strategy } from "../../src/ir/strategy.js";
import type { Attrs } from "../../src/ops/contract.js";
import { getOp } from "../../src/ops/registry.js";

export const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });
export const i32 = (...shape: number[]): TensorType => ({ dtype: "i32", shape, dims: shape.map((_, i) => `d${i}`) });

export function addOp(g: Graph, name: string, op: string, inputs: string[], attrs: Attrs = {}): void {
  const entry = getOp(op)!;
  const full: Attrs = {};
  for (const a of entry.attrs) if (a.default !== undefined) full[a.name] = a.default;
  Object.assign(full, attrs);
  const d = new Diagnostics();
  const sig = entry.infer(inputs.map((t) => g.tensor(t).type), full, { opName: name, diagnostics: d });
  if (!sig) throw new Error(`infer ${op} failed: ${d.items.map((x) => x.message).join("; ")}`);
  g.addOp({ name, op, attrs: full, inputs, sig });
}

/** x[batch, features] → (linear → relu) × depth → linear → softmax_cross_entropy. */
export function mlp(batch: number, width: number, depth: number, classes = 10): Graph {
  const g = new Graph("mlp");
  g.addInput("x", f32(batch, width));
  g.addInput("labels", i32(batch));
  let cur = "x";
  for (let i = 0; i < depth; i++) {
    addOp(g, `fc${i}`, "linear", [cur], { out: width });
    addOp(g, `relu${i}`, "relu", [`fc${i}`]);
    cur = `relu${i}`;
  }
  addOp(g, "head", "linear", [cur], { out: classes });
  addOp(g, "loss", "softmax_cross_entropy", ["head", "labels"]);
  return g;
}

export const GiB = 1024 ** 3;

export function device(kind = "test", flops = 1e12, bw = 1e11): DeviceSpec {
  return { kind, peakFlops: { f32: flops }, memoryBytes: 16 * GiB, memoryBandwidth: bw, launchOverhead: 1e-6, source: "test" };
}

/** `nodes` nodes of `perNode` devices: intra link inside a node, inter between nodes. */
export function clusterMesh(nodes: number, perNode: number, intra: LinkSpec = { name: "nvlink", bandwidth: 20e9, latency: 2e-6 }, inter: LinkSpec = { name: "infiniband", bandwidth: 12.5e9, latency: 5e-6 }): Mesh {
  if (nodes === 1) return assembleMesh(`box${perNode}`, { label: "node", link: intra, items: [{ device: device(), count: perNode }] });
  return assembleMesh(`c${nodes}x${perNode}`, {
    label: "cluster",
    link: inter,
    items: [{ group: { label: "node", link: intra, items: [{ device: device(), count: perNode }] }, count: nodes }],
  });
}

/** Every op split `devices` ways along its first (sample) dim, task i on device i. */
export function dataParallel(g: Graph, devices: number): Strategy {
  const ops: Record<string, OpConfig> = {};
  for (const o of g.ops.values()) {
    const deg = o.sig.space.map((d, i) => (i === 0 ? Math.min(devices, d.size) : 1));
    const n = deg.reduce((a, b) => a * b, 1);
    ops[o.name] = { degrees: deg, devices: Array.from({ length: n }, (_, i) => i % devices) };
  }
  return { name: "dp", model: g.name, mesh: "test", ops };
}

/** Everything on device 0. */
export function singleDevice(g: Graph): Strategy {
  const ops: Record<string, OpConfig> = {};
  for (const o of g.ops.values()) ops[o.name] = { degrees: o.sig.space.map(() => 1), devices: [0] };
  return { name: "single", model: g.name, mesh: "test", ops };
}
