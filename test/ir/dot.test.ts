import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { check } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import { dotString, graphToDot } from "../../src/ir/dot.js";
import { Graph } from "../../src/ir/graph.js";
import { getOp } from "../../src/ops/registry.js";

const SMALL = `model small(batch = 2) {
  input x : f32[batch, 3]
  input labels : i32[batch]
  logits = linear(relu(x), out = 4)
  loss = softmax_cross_entropy(logits, labels)
}
`;

function graphOf(text: string): Graph {
  const d = new Diagnostics();
  const g = [...check(parse(text, "g.par", d)!, d).models.values()][0];
  expect(d.items).toEqual([]);
  return g;
}

describe("graphToDot", () => {
  it("prints inputs as ellipses, ops as boxes and shape-labelled edges", () => {
    expect(graphToDot(graphOf(SMALL))).toBe(
      [
        'digraph "small" {',
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
        '  "x" [shape=ellipse, label="x\\nf32[batch=2, 3]"];',
        '  "labels" [shape=ellipse, label="labels\\ni32[batch=2]"];',
        '  "logits.relu" [shape=box, label="logits.relu\\nrelu\\nf32[batch=2, 3]"];',
        '  "logits" [shape=box, label="logits\\nlinear\\nf32[batch=2, logits.out=4]"];',
        '  "loss" [shape=box, label="loss\\nsoftmax_cross_entropy\\nf32[]"];',
        '  "x" -> "logits.relu" [label="f32[batch=2, 3]"];',
        '  "logits.relu" -> "logits" [label="f32[batch=2, 3]"];',
        '  "logits" -> "loss" [label="f32[batch=2, logits.out=4]"];',
        '  "labels" -> "loss" [label="i32[batch=2]"];',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("is deterministic and has one edge per op input", () => {
    const g = graphOf(SMALL);
    const a = graphToDot(g);
    expect(graphToDot(graphOf(SMALL))).toBe(a);
    const edges = a.split("\n").filter((l) => l.includes(" -> "));
    expect(edges.length).toBe([...g.ops.values()].reduce((n, o) => n + o.inputs.length, 0));
  });

  it("escapes quotes, backslashes and newlines in names", () => {
    expect(dotString('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    const g = new Graph('we"ird');
    g.addInput('in"put', { dtype: "f32", shape: [1], dims: ["d0"] });
    const sig = getOp("relu")!.infer([g.tensor('in"put').type], {}, { opName: "r", diagnostics: new Diagnostics() })!;
    g.addOp({ name: "r", op: "relu", attrs: {}, inputs: ['in"put'], sig });
    const dot = graphToDot(g);
    expect(dot).toContain('digraph "we\\"ird" {');
    expect(dot).toContain('"in\\"put" -> "r"');
  });
});
