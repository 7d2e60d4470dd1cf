// Tiny graphs and meshes for the search tests (built directly, no front end).
import { Graph } from "../../src/ir/graph.js";
import { addOp, clusterMesh, f32, i32 } from "../sim/fixtures.js";
import { mulberry32 } from "../../src/core/random.js";

export { clusterMesh, addOp };

export { mulberry32 as rng };

/** A random graph of `n` ops (2–4) over small dims: linears, relus, residual adds. */
export function tinyGraph(r: () => number, n: number, chain = false): Graph {
  const g = new Graph(chain ? "tinychain" : "tiny");
  const batch = [2, 4, 8][Math.floor(r() * 3)];
  const width = [2, 3, 4, 64][Math.floor(r() * 4)];
  g.addInput("x", f32(batch, width));
  const tensors = ["x"];
  for (let i = 0; i < n; i++) {
    const cur = tensors[tensors.length - 1];
    const pick = r();
    if (pick < 0.55 || i === 0) addOp(g, `fc${i}`, "linear", [cur], { out: width, bias: r() < 0.5 });
    else if (pick < 0.8 || chain) addOp(g, `relu${i}`, "relu", [cur]);
    else addOp(g, `add${i}`, "add", [cur, tensors[Math.floor(r() * (tensors.length - 1))]]);
    tensors.push([...g.ops.keys()].pop()!);
  }
  return g;
}

/** A tiny mesh: 1–4 devices, flat or 2 nodes of 2. */
export function tinyMesh(r: () => number) {
  const k = Math.floor(r() * 5);
  return k === 4 ? clusterMesh(2, 2) : clusterMesh(1, k + 1);
}

/** The mlp of the simulator tests with a loss (x → fc → relu → head → loss). */
export function smallMlp(batch = 64, width = 256, depth = 2): Graph {
  const g = new Graph("mlp");
  g.addInput("x", f32(batch, width));
  g.addInput("labels", i32(batch));
  let cur = "x";
  for (let i = 0; i < depth; i++) {
    addOp(g, `fc${i}`, "linear", [cur], { out: width });
    addOp(g, `relu${i}`, "relu", [`fc${i}`]);
    cur = `relu${i}`;
  }
  addOp(g, "head", "linear", [cur], { out: 10 });
  addOp(g, "loss", "softmax_cross_entropy", ["head", "labels"]);
  return g;
}
