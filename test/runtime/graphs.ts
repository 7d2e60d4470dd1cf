// Small graphs for the lowering/runtime tests, built with Graph.addInput/addOp and the
// op registry's own shape inference.
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { DType, TensorType } from "../../src/core/tensor.js";
import { Graph } from "../../src/ir/graph.js";
import type { Attrs } from "../../src/ops/contract.js";
import { getOp } from "../../src/ops/registry.js";
import { lower, singleDeviceStrategy, type LowerMesh } from "../../src/codegen/lower.js";
import type { OptimizerConfig, Plan } from "../../src/plan/plan.js";
import type { Strategy } from "../../src/ir/strategy.js";

export function tt(shape: number[], dtype: DType = "f32"): TensorType {
  return { dtype, shape, dims: shape.map((_, i) => `d${i}`) };
}

/** Adds op `kind` named `name` reading `inputs`; returns its (first) output tensor id. */
export function addOp(g: Graph, name: string, kind: string, inputs: string[], attrs: Attrs = {}): string {
  const entry = getOp(kind);
  if (!entry) throw new Error(`no op ${kind}`);
  const full: Attrs = {};
  for (const a of entry.attrs) if (a.default !== undefined) full[a.name] = a.default;
  Object.assign(full, attrs);
  const diagnostics = new Diagnostics();
  const sig = entry.infer(inputs.map((t) => g.tensor(t).type), full, { opName: name, diagnostics });
  if (!sig) throw new Error(`infer ${name}: ${diagnostics.items.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return g.addOp({ name, op: kind, attrs: full, inputs, sig }).outputs[0];
}

/** x[n, k] → linear(h) → relu → linear(c) → softmax_cross_entropy(labels). */
export function mlp(n = 8, k = 6, h = 5, c = 3): Graph {
  const g = new Graph("mlp");
  g.addInput("x", tt([n, k]));
  g.addInput("labels", tt([n], "i32"));
  const h1 = addOp(g, "fc1", "linear", ["x"], { out: h });
  const a1 = addOp(g, "act", "relu", [h1]);
  const y = addOp(g, "fc2", "linear", [a1], { out: c });
  addOp(g, "loss", "softmax_cross_entropy", [y, "labels"]);
  return g;
}

/**
 * mlp() with a frozen `bias_add` ("mask", b of shape [1, h] broadcast over the batch)
 * after fc1: an imported model's constant added to activations (Swin's attention mask).
 */
export function maskedMlp(n = 4, k = 6, h = 5, c = 3): Graph {
  const g = new Graph("masked");
  g.addInput("x", tt([n, k]));
  g.addInput("labels", tt([n], "i32"));
  const h1 = addOp(g, "fc1", "linear", ["x"], { out: h });
  const m = addOp(g, "mask", "bias_add", [h1], { shape: [1, h] });
  const a1 = addOp(g, "act", "relu", [m]);
  const y = addOp(g, "fc2", "linear", [a1], { out: c });
  addOp(g, "loss", "softmax_cross_entropy", [y, "labels"]);
  g.frozen.add("mask.bias");
  return g;
}

export function meshOf(n: number): LowerMesh {
  return { name: `cpu${n}`, devices: Array.from({ length: n }, (_, index) => ({ index, spec: { kind: "cpu" } })) };
}

export const SGD: OptimizerConfig = { kind: "sgd", learningRate: 0.1 };

export function plans(g: Graph, s: Strategy, devices: number, optimizer: OptimizerConfig = SGD, seed = 7): { plan: Plan; single: Plan } {
  return {
    plan: lower(g, s, meshOf(devices), { seed, optimizer }),
    single: lower(g, singleDeviceStrategy(g), meshOf(1), { seed, optimizer }),
  };
}

/** mlp()'s fc1 channel- and reduction-split over 3 devices, the rest data parallel: sends, partial sums, all-reduces. */
export function mixedStrategy(): Strategy {
  return {
    name: "mixed",
    model: "mlp",
    mesh: "cpu3",
    ops: {
      fc1: { degrees: [1, 2, 2], devices: [0, 1, 2, 0] },
      act: { degrees: [3, 1], devices: [2, 1, 0] },
      fc2: { degrees: [2, 1, 1], devices: [1, 2] },
      loss: { degrees: [2], devices: [0, 2] },
    },
  };
}

/** Every op whole; fc1 and act on device 0, the rest on device 1: activations and gradients cross as messages. */
export function pipelineStrategy(g: Graph): Strategy {
  const ops: Strategy["ops"] = {};
  for (const o of g.topoOrder()) ops[o.name] = { degrees: o.sig.space.map(() => 1), devices: [o.name === "fc1" || o.name === "act" ? 0 : 1] };
  return { name: "pipe", model: g.name, mesh: "cpu2", ops };
}
