// Random small graphs, strategies and meshes for the simulator's property tests (delta,
// rebuild), drawn from a seeded generator `r` so that a failing case replays.
import type { Mesh } from "../../src/core/mesh.js";
import { Graph } from "../../src/ir/graph.js";
import type { OpConfig, Strategy } from "../../src/ir/strategy.js";
import { addOp, clusterMesh, f32, i32 } from "./fixtures.js";

/**
 * A random small graph: 1..maxOps linears, relus and residual adds (tensors read several
 * times), then a loss. A draw below 0.45 makes a linear, below `reluBelow` a relu, else an add.
 */
export function randomGraph(r: () => number, maxOps: number, reluBelow: number): Graph {
  const g = new Graph("rand");
  const batch = 4 + Math.floor(r() * 8);
  const width = 4 + Math.floor(r() * 6);
  g.addInput("x", f32(batch, width));
  g.addInput("labels", i32(batch));
  const tensors = ["x"];
  const n = 1 + Math.floor(r() * maxOps);
  for (let i = 0; i < n; i++) {
    const cur = tensors[tensors.length - 1];
    const pick = r();
    if (pick < 0.45) addOp(g, `fc${i}`, "linear", [cur], { out: width, bias: r() < 0.5 });
    else if (pick < reluBelow) addOp(g, `relu${i}`, "relu", [cur]);
    else addOp(g, `add${i}`, "add", [cur, tensors[Math.floor(r() * tensors.length)]]);
    tensors.push([...g.ops.keys()].pop()!);
  }
  addOp(g, "head", "linear", [tensors[tensors.length - 1]], { out: 3 });
  addOp(g, "loss", "softmax_cross_entropy", ["head", "labels"]);
  return g;
}

/** A random config over dims of these sizes: at most 8 tasks, each on a random device. */
export function randomConfig(r: () => number, sizes: number[], devices: number): OpConfig {
  let budget = 8;
  const degrees = sizes.map((s) => {
    const d = 1 + Math.floor(r() * Math.min(s, budget, 3));
    budget = Math.max(1, Math.floor(budget / d));
    return d;
  });
  const n = degrees.reduce((a, b) => a * b, 1);
  return { degrees, devices: Array.from({ length: n }, () => Math.floor(r() * devices)) };
}

export function randomStrategy(r: () => number, g: Graph, devices: number): Strategy {
  const ops: Record<string, OpConfig> = {};
  for (const o of g.ops.values()) ops[o.name] = randomConfig(r, o.sig.space.map((d) => d.size), devices);
  return { name: "rand", model: g.name, mesh: "m", ops };
}

/** 1–2 nodes of 1–3 devices; a third of them CPU-worker meshes (all-reduces in line at the end). */
export function randomMesh(r: () => number): Mesh {
  const nodes = 1 + Math.floor(r() * 2);
  const per = 1 + Math.floor(r() * 3);
  if (r() < 1 / 3) {
    const shm = { name: "shm", bandwidth: 3e9, latency: 14e-6, hostCopies: true };
    return clusterMesh(nodes, per, shm, shm);
  }
  return clusterMesh(nodes, per);
}
