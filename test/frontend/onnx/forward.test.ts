// The imported MLP (real weights) computes what torch computed on the same input.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { Tensor } from "@tensorflow/tfjs-core";
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { importOnnx } from "../../../src/frontend/onnx/import.js";
import type { Graph } from "../../../src/ir/graph.js";
import type { TF } from "../../../src/ops/contract.js";
import { getOp } from "../../../src/ops/registry.js";
import { wholeShard } from "../../support/sharded.js";
import { useBackend } from "../../support/tf.js";

/** Runs every op of `graph` once, whole, in topological order; returns all tensors. */
export function runGraph(tf: TF, graph: Graph, feeds: Map<string, Tensor>, weights: ReadonlyMap<string, Float32Array>): Map<string, Tensor> {
  const vals = new Map(feeds);
  for (const o of graph.topoOrder()) {
    const entry = getOp(o.op)!;
    if (entry.isLoss) continue;
    const inputs = o.inputs.map((t) => vals.get(t)!);
    const params = o.sig.params.map((p) => tf.tensor(weights.get(`${o.name}.${p.name}`)!, p.shape));
    const ys = entry.forward(tf, { inputs, params, attrs: o.attrs, sig: o.sig, shard: wholeShard(o.sig, o.inputs.map((t) => graph.tensor(t).type)) });
    o.outputs.forEach((id, i) => vals.set(id, ys[i]));
  }
  return vals;
}

describe("ONNX MLP forward matches torch", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });
  it("logits within 1e-5", () => {
    const bytes = new Uint8Array(readFileSync(new URL("../../fixtures/onnx/mlp.onnx", import.meta.url)));
    const side = JSON.parse(readFileSync(new URL("../../fixtures/onnx/mlp.json", import.meta.url), "utf8"));
    const d = new Diagnostics();
    const m = importOnnx(bytes, "mlp.onnx", { batch: 3 }, d)!;
    expect(d.errors).toEqual([]);
    expect(m.weights.size).toBe(6);
    const x = tf.tensor(side.input as number[], [3, 8]);
    const vals = runGraph(tf, m.graph, new Map([[m.graph.inputs[0], x]]), m.weights);
    const loss = m.graph.lossOps()[0];
    const logits = vals.get(loss.inputs[0])!;
    expect(logits.shape).toEqual(side.output_shape);
    const got = Array.from(logits.dataSync());
    (side.output as number[]).forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-5));
  });
});
