// Synthetic data per graph input, decided by the consuming ops' declared input roles and
// class counts (InputSpec.role, .classes), never by op names.
import { describe, expect, it } from "vitest";
import { feeds } from "../../src/codegen/feeds.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { check } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import type { Graph } from "../../src/ir/graph.js";

function graphOf(body: string): Graph {
  const d = new Diagnostics();
  const g = check(parse(`model m() {\n${body}\n}\n`, "m.par", d)!, d).models.get("m");
  expect(d.errors).toEqual([]);
  return g!;
}

describe("feeds", () => {
  it("labels range over the logits' classes, embedding indices over vocab, mse targets are targets", () => {
    const g = graphOf(
      [
        "  input x : f32[4, 6]",
        "  input tokens : i32[4, 3]",
        "  input labels : i32[4]",
        "  input y : f32[4, 2]",
        "  e = embedding(tokens, vocab = 7, dim = 6)",
        "  logits = linear(x, out = 5)",
        "  l1 = softmax_cross_entropy(logits, labels)",
        "  l2 = mse(linear(x, out = 2), y)",
        "  loss = add(l1, add(l2, reduce_sum(e)))",
      ].join("\n"),
    );
    const f = feeds(g);
    expect(f.get("x")).toEqual({ kind: "uniform" });
    expect(f.get("labels")).toEqual({ kind: "classes", classes: 5, teacher: "x" });
    expect(f.get("tokens")).toEqual({ kind: "classes", classes: 7, teacher: "x" });
    expect(f.get("y")).toEqual({ kind: "target", teacher: "x" });
  });

  it("an integer input whose consumers declare no class count draws from two values (gather's indices)", () => {
    const g = graphOf(
      ["  input x : f32[4, 6]", "  input ids : i32[4]", "  table = param(shape = [9, 6])", "  loss = mse(gather(table, ids), x)"].join("\n"),
    );
    expect(feeds(g).get("ids")).toEqual({ kind: "classes", classes: 2, teacher: null });
  });
});
