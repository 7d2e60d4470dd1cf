import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { check, type CheckOptions } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import type { Graph } from "../../src/ir/graph.js";

const MLP = `
model mlp(batch = 64, hidden = 1024, classes = 10) {
  input  x      : f32[batch, 784]
  input  labels : i32[batch]
  h = relu(linear(x, out = hidden))
  repeat 2 { h = relu(linear(h, out = hidden)) }
  logits = linear(h, out = classes)
  loss   = softmax_cross_entropy(logits, labels)
}
`;

/** Parses and checks `text`; returns the diagnostics and the named model's graph. */
function elab(text: string, model?: string, options: CheckOptions = {}): { d: Diagnostics; g: Graph | undefined; codes: string[] } {
  const d = new Diagnostics();
  const program = parse(text, "t.par", d);
  expect(d.items, "test source must parse").toEqual([]);
  const checked = check(program!, d, options);
  const g = model ? checked.models.get(model) : [...checked.models.values()][0];
  return { d, g, codes: d.items.map((x) => x.code) };
}

function ok(text: string, options: CheckOptions = {}): Graph {
  const { d, g } = elab(text, undefined, options);
  expect(d.items).toEqual([]);
  return g!;
}

/** A model around `body` with inputs x: f32[8, 16] and labels: i32[8] and a loss on `out`. */
function model(body: string, params = "n = 8"): string {
  return `model m(${params}) {\n  input x : f32[8, 16]\n  input labels : i32[8]\n${body}\n  loss = softmax_cross_entropy(out, labels)\n}\n`;
}

describe("elaboration: the MLP example", () => {
  it("builds the graph with readable names and the right parameter count", () => {
    const g = ok(MLP);
    expect([...g.ops.keys()]).toEqual(["h.linear", "h", "layer0.h.linear", "layer0.h", "layer1.h.linear", "layer1.h", "logits", "loss"]);
    expect(g.parameterCount()).toBe(2_913_290);
    expect(g.inputs).toEqual(["x", "labels"]);
    expect(g.tensor("x").type).toEqual({ dtype: "f32", shape: [64, 784], dims: ["batch", "d1"] });
    expect(g.modelParams).toEqual({ batch: 64, hidden: 1024, classes: 10 });
    expect(g.op("layer1.h.linear").inputs).toEqual(["layer0.h"]);
  });

  it("uses overrides instead of defaults", () => {
    const g = ok(MLP, { overrides: { hidden: 16, batch: 2 } });
    expect(g.parameterCount()).toBe(784 * 16 + 16 + 2 * (16 * 16 + 16) + 16 * 10 + 10);
    expect(g.tensor("x").type.shape).toEqual([2, 784]);
  });
});

describe("elaboration: naming rules", () => {
  it("numbers a second nested call of the same op in source order", () => {
    const g = ok(model("  out = add(linear(x, out = 4), linear(x, out = 4))"));
    expect([...g.ops.keys()]).toEqual(["out.linear", "out.linear_2", "out", "loss"]);
    expect(g.op("out").inputs).toEqual(["out.linear", "out.linear_2"]);
  });

  it("keeps nested calls flat under the statement's name", () => {
    const g = ok(model("  out = relu(add(linear(x, out = 4), linear(x, out = 4)))"));
    // Ops are added inputs-first; names were claimed outer-first, left to right.
    expect([...g.ops.keys()]).toEqual(["out.linear", "out.linear_2", "out.add", "out", "loss"]);
    expect(g.op("out.add").inputs).toEqual(["out.linear", "out.linear_2"]);
  });

  it("gives a re-assigned name `_2`, `_3` and nests under the new name", () => {
    const g = ok(model("  h = linear(x, out = 4)\n  h = relu(h)\n  h = relu(linear(h, out = 4))\n  out = h"));
    expect([...g.ops.keys()]).toEqual(["h", "h_2", "h_3.linear", "h_3", "loss"]);
  });

  it("an op named like an input gets `_2`; inputs keep their names", () => {
    const g = ok(model("  x = relu(x)\n  out = linear(x, out = 4)"));
    expect(g.inputs).toEqual(["x", "labels"]);
    expect(g.op("x_2").inputs).toEqual(["x"]);
  });

  it("repeat prefixes `layer{i}.` or its label; for prefixes `{var}{value}.`", () => {
    const g = ok(model("  h = x\n  repeat 2 as blk { h = relu(h) }\n  for layer in 3..4 { h = relu(linear(h, out = 16 + layer - layer)) }\n  out = linear(h, out = 4)"));
    expect([...g.ops.keys()]).toEqual(["blk0.h", "blk1.h", "layer3.h.linear", "layer3.h", "layer4.h.linear", "layer4.h", "out", "loss"]);
  });

  it("nested loops accumulate prefixes; the loop variable is an integer", () => {
    const g = ok(model("  h = x\n  for i in 0..1 { repeat 2 { h = linear(h, out = 16 + i) \n h = linear(h, out = 16) } }\n  out = linear(h, out = 4)"));
    expect(g.op("i1.layer1.h").sig.outputs[0].shape).toEqual([8, 17]);
    expect(g.ops.has("i0.layer0.h_2")).toBe(true);
  });

  it("input dims: bare names, `name: expr` and anonymous `d<i>`", () => {
    const g = ok(`model m(batch = 4, seq = 3) {\n  input t : f32[batch, n: seq * 2, 5]\n  loss = relu(t)\n}\n`);
    expect(g.tensor("t").type).toEqual({ dtype: "f32", shape: [4, 6, 5], dims: ["batch", "n", "d2"] });
  });

  it("binds integers with plain assignment and uses them in attributes", () => {
    const g = ok(model("  k = n * 2\n  out = linear(x, out = k)"));
    expect(g.op("out").sig.outputs[0].shape).toEqual([8, 16]);
    expect(g.op("out").attrs).toEqual({ out: 16, bias: true });
  });

  it("passes bool attributes and fills defaults", () => {
    const g = ok(model("  out = linear(x, out = 4, bias = false)"));
    expect(g.op("out").sig.params.map((p) => p.name)).toEqual(["weight"]);
  });
});

const BLOCKS = `
block mlp_block(x, hidden, out_dim = hidden * 2) {
  h = relu(linear(x, out = hidden))
  return linear(h, out = out_dim)
}
block pair(x) {
  a = relu(x)
  return linear(a, out = 4), relu(a)
}
`;

describe("elaboration: blocks", () => {
  it("prefixes internal names with the target and names the returned op after it", () => {
    const g = ok(BLOCKS + model("  f = mlp_block(x, 8)\n  out = linear(f, out = 4)"));
    expect([...g.ops.keys()]).toEqual(["f.h.linear", "f.h", "f", "out", "loss"]);
    expect(g.op("f").sig.outputs[0].shape).toEqual([8, 16]);
  });

  it("binds named arguments and defaults that use earlier parameters", () => {
    const g = ok(BLOCKS + model("  f = mlp_block(x, out_dim = 6, hidden = 3)\n  out = linear(f, out = 4)"));
    expect(g.op("f.h").sig.outputs[0].shape).toEqual([8, 3]);
    expect(g.op("f").sig.outputs[0].shape).toEqual([8, 6]);
  });

  it("a block call nested in an expression uses `<target>.<block>`", () => {
    const g = ok(BLOCKS + model("  out = relu(mlp_block(x, 2))"));
    expect([...g.ops.keys()]).toEqual(["out.mlp_block.h.linear", "out.mlp_block.h", "out.mlp_block", "out", "loss"]);
  });

  it("two returns bind two targets named after them", () => {
    const g = ok(BLOCKS + model("  p, q = pair(x)\n  out = add(p, linear(q, out = 4))"));
    expect([...g.ops.keys()]).toEqual(["p.a", "p", "q", "out.linear", "out", "loss"]);
  });

  it("blocks inside loops and blocks calling blocks", () => {
    const text = BLOCKS + `block twice(x, w) {\n  first = mlp_block(x, w, out_dim = 16)\n  return mlp_block(first, w, out_dim = 16)\n}\n` + model("  h = x\n  for layer in 0..1 { h = twice(h, 4) }\n  out = linear(h, out = 4)");
    const g = ok(text);
    expect(g.ops.has("layer1.h.first.h.linear")).toBe(true);
    expect(g.ops.has("layer0.h.h.linear")).toBe(true);
    expect(g.op("layer1.h").op).toBe("linear");
  });
});

describe("elaboration: tuple assignment from a multi-output op", () => {
  it("`a, b = split(...)` names the op `a` and binds its outputs", () => {
    const g = ok(model("  a, b = split(x, parts = 2, axis = 1)\n  out = add(linear(a, out = 4), linear(b, out = 4))"));
    expect(g.op("a").op).toBe("split");
    expect(g.op("a").outputs).toEqual(["a:0", "a:1"]);
    expect(g.op("out.linear").inputs).toEqual(["a:0"]);
    expect(g.op("out.linear_2").inputs).toEqual(["a:1"]);
  });

  it("reports a multi-output count mismatch (PAR2024)", () => {
    expect(elab(model("  a, b = relu(x)\n  out = linear(a, out = 4)")).codes).toEqual(["PAR2024"]);
    expect(elab(model("  a = split(x, parts = 2, axis = 1)\n  out = linear(a, out = 4)")).codes).toEqual(["PAR2024"]);
    expect(elab(model("  a, b = n\n  out = linear(x, out = 4)")).codes).toEqual(["PAR2024"]);
  });
});

describe("elaboration: composite ops expand into their sub-ops", () => {
  it("`bn1 = batchnorm(x)` becomes `bn1.mean` (moments) + `bn1.var` (central_moment) + `bn1` (batchnorm_apply)", () => {
    const g = ok(`model m() {\n  input x : f32[8, 4, 5, 5]\n  bn1 = batchnorm(x)\n  loss = relu(bn1)\n}\n`);
    expect([...g.ops.keys()]).toEqual(["bn1.mean", "bn1.var", "bn1", "loss"]);
    expect(g.op("bn1.mean").op).toBe("moments");
    expect(g.op("bn1.var").op).toBe("central_moment");
    expect(g.op("bn1.var").inputs).toEqual(["x", "bn1.mean"]);
    expect(g.op("bn1").op).toBe("batchnorm_apply");
    expect(g.op("bn1").inputs).toEqual(["x", "bn1.mean", "bn1.var"]);
    expect(g.op("bn1").sig.outputs[0].shape).toEqual([8, 4, 5, 5]);
    expect(g.ops.has("bn1.mean") && g.op("bn1.mean").pos?.line).toBe(3);
    expect(g.ops.has("bn1.var") && g.op("bn1.var").pos?.line).toBe(3);
  });
});

describe("elaboration: scopes", () => {
  it("blocks see only their arguments; integer arguments and returns work", () => {
    const text = `block widen(x, k) {\n  w = k * 2\n  return linear(x, out = w)\n}\nblock double(k) {\n  return k * 2\n}\n` + model("  k = double(3)\n  out = widen(x, k)");
    const g = ok(text);
    expect(g.op("out").sig.outputs[0].shape).toEqual([8, 12]);
    // `n` is a model parameter, invisible inside a block.
    const r = elab(`block b(x) {\n  return linear(x, out = n)\n}\n` + model("  out = b(x)"));
    expect(r.codes).toEqual(["PAR2001"]);
  });

  it("a loop variable exists only inside its loop, and reassignments inside loops persist", () => {
    const r = elab(model("  h = x\n  for i in 0..1 { h = relu(h) }\n  out = linear(h, out = i)"));
    expect(r.codes).toEqual(["PAR2001"]);
    const g = ok(model("  h = x\n  for i in 0..1 { h = relu(h) }\n  out = linear(h, out = 4)"));
    expect(g.op("out").inputs).toEqual(["i1.h"]);
  });

  it("an empty range and `repeat 0` run their body zero times", () => {
    const g = ok(model("  h = x\n  for i in 3..2 { h = relu(h) }\n  repeat 0 { h = relu(h) }\n  out = linear(h, out = 4)"));
    expect([...g.ops.keys()]).toEqual(["out", "loss"]);
  });
});

describe("elaboration: names that collide with Object.prototype", () => {
  it("parameters named `constructor` and `__proto__` are ordinary names", () => {
    const text = `model m(constructor = 3, __proto__ = 5) {\n  input x : f32[2, constructor]\n  loss = linear(x, out = __proto__)\n}\n`;
    const g = ok(text);
    expect(g.tensor("x").type.shape).toEqual([2, 3]);
    expect(g.op("loss").sig.outputs[0].shape).toEqual([2, 5]);
    expect(Object.entries(g.modelParams)).toEqual([["constructor", 3], ["__proto__", 5]]);
    // (An object literal's `__proto__:` sets the prototype, so build the override record by entries.)
    const g2 = ok(text, { overrides: Object.fromEntries([["__proto__", 6]]) });
    expect(g2.op("loss").sig.outputs[0].shape).toEqual([2, 6]);
  });

  it("an attribute named `__proto__` is reported as unknown, not dropped", () => {
    expect(elab(model("  out = linear(x, out = 4, __proto__ = 1)")).codes).toEqual(["PAR2101"]);
    expect(elab(model("  out = linear(x, out = toString)")).codes).toEqual(["PAR2001"]);
  });
});
