import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { check } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import { Graph, outputTensorId, type OpNode } from "../../src/ir/graph.js";
import { getOp } from "../../src/ops/registry.js";

function graphOf(text: string): Graph {
  const d = new Diagnostics();
  const g = [...check(parse(text, "g.par", d)!, d).models.values()][0];
  expect(d.items).toEqual([]);
  return g;
}

const MLP = `model mlp(batch = 64, hidden = 1024, classes = 10) {
  input  x      : f32[batch, 784]
  input  labels : i32[batch]
  h = relu(linear(x, out = hidden))
  repeat 2 { h = relu(linear(h, out = hidden)) }
  logits = linear(h, out = classes)
  loss   = softmax_cross_entropy(logits, labels)
}
`;

/** True when every op comes after the producers of its inputs. */
function isTopological(g: Graph, order: OpNode[]): boolean {
  const at = new Map(order.map((o, i) => [o.name, i]));
  return order.length === g.ops.size && order.every((o, i) => o.inputs.every((t) => { const p = g.tensor(t).producer; return !p || at.get(p.op)! < i; }));
}

describe("Graph", () => {
  it("summarizes the MLP: parameters, FLOPs, activations, losses, outputs", () => {
    const g = graphOf(MLP);
    expect(g.parameterCount()).toBe(2_913_290);
    expect(g.params().map((p) => p.id).slice(0, 3)).toEqual(["h.linear.weight", "h.linear.bias", "layer0.h.linear.weight"]);
    const mm = 64 * (784 * 1024 + 2 * 1024 * 1024 + 1024 * 10);
    const f = g.flops();
    expect(f.forward).toBe(2 * mm + 3 * 64 * 1024 + 5 * 10 * 64);
    expect(f.total).toBe(f.forward + f.backward);
    // Outputs: linear+relu ×3 of [64,1024], logits [64,10], the scalar loss; f32.
    expect(g.activationBytes()).toBe(4 * (6 * 64 * 1024 + 64 * 10 + 1));
    expect(g.lossOps().map((o) => o.name)).toEqual(["loss"]);
    expect(g.outputs()).toEqual(["loss"]);
    expect(g.cycles()).toEqual([]);
  });

  it("rejects duplicate names and unknown input tensors", () => {
    const g = new Graph("t");
    g.addInput("x", { dtype: "f32", shape: [2, 3], dims: ["a", "b"] });
    expect(() => g.addInput("x", { dtype: "f32", shape: [2], dims: ["a"] })).toThrow(/duplicate/);
    const relu = getOp("relu")!;
    const sig = relu.infer([g.tensor("x").type], {}, { opName: "r", diagnostics: new Diagnostics() })!;
    g.addOp({ name: "r", op: "relu", attrs: {}, inputs: ["x"], sig });
    expect(() => g.addOp({ name: "r", op: "relu", attrs: {}, inputs: ["x"], sig })).toThrow(/duplicate/);
    expect(() => g.addOp({ name: "s", op: "relu", attrs: {}, inputs: ["nope"], sig })).toThrow(/unknown tensor/);
    expect(outputTensorId("a", 1, 2)).toBe("a:1");
    expect(outputTensorId("a", 0, 1)).toBe("a");
  });

  it("topoOrder is insertion order when that is topological, and fast on wide graphs", () => {
    const lines = ["model w() {", "  input x : f32[4, 8]"];
    for (let i = 0; i < 3000; i++) lines.push(`  t${i} = relu(x)`);
    lines.push("  s = add(t0, t1)");
    for (let i = 2; i < 3000; i++) lines.push(`  s = add(s, t${i})`);
    lines.push("}");
    const g = graphOf(lines.join("\n"));
    const t0 = performance.now();
    const order = g.topoOrder();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(order.map((o) => o.name)).toEqual([...g.ops.keys()]);
    // Reversed insertion: every `t` is ready at once and they come out in (new) insertion order.
    const entries = [...g.ops.entries()].reverse();
    g.ops.clear();
    for (const [k, v] of entries) g.ops.set(k, v);
    const reordered = g.topoOrder();
    expect(isTopological(g, reordered)).toBe(true);
    expect(reordered.slice(0, 3).map((o) => o.name)).toEqual(["t2999", "t2998", "t2997"]);
  });

  it("topoOrder falls back to Kahn's algorithm (ties by insertion order) when the map was reordered", () => {
    const g = graphOf(MLP);
    const entries = [...g.ops.entries()].reverse();
    g.ops.clear();
    for (const [k, v] of entries) g.ops.set(k, v);
    const order = g.topoOrder();
    expect(isTopological(g, order)).toBe(true);
    // Only `h.linear` is ready at first; each step frees exactly one op or the label-free loss.
    expect(order.map((o) => o.name)).toEqual(["h.linear", "h", "layer0.h.linear", "layer0.h", "layer1.h.linear", "layer1.h", "logits", "loss"]);
  });
});
