// import → print → parse → check: the same op kinds, shapes and par params; the header
// states the model's own parameter count.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { check } from "../../../src/frontend/check.js";
import { graphToPar } from "../../../src/frontend/import-to-par.js";
import { importOnnx } from "../../../src/frontend/onnx/import.js";
import { parse } from "../../../src/frontend/parse.js";
import type { Graph } from "../../../src/ir/graph.js";

/** Elements of par's own params (the .par form has no buffers, which the imported count includes). */
const parParams = (g: Graph) => g.params().reduce((n, p) => n + p.spec.shape.reduce((a, b) => a * b, 1), 0);
const summary = (g: Graph) => g.topoOrder().map((o) => `${o.op}:${o.outputs.map((t) => g.tensor(t).type.shape.join("x")).join(",")}`).sort();

describe("imported graphs print as .par that checks back to the same graph", () => {
  for (const name of ["mlp", "cnn_bn", "resnet18", "transformer", "lstm_lm"]) {
    it(name, () => {
      const dir = new URL("../../fixtures/onnx/", import.meta.url);
      const side = JSON.parse(readFileSync(new URL(`${name}.json`, dir), "utf8"));
      const d = new Diagnostics();
      const m = importOnnx(new Uint8Array(readFileSync(new URL(`${name}.onnx`, dir))), `${name}.onnx`, { inputs: side.inputs }, d)!;
      const text = graphToPar(m.graph, name);
      const program = parse(text, `${name}.par`, d);
      expect(d.errors.map((e) => `${e.code} ${e.message}`)).toEqual([]);
      const checked = check(program!, d);
      expect(d.errors.map((e) => `${e.code} ${e.message} ${e.pos?.line}`)).toEqual([]);
      const g = checked.models.get(name)!;
      expect(parParams(g)).toBe(parParams(m.graph));
      // The header states the model's own count: its weights, each once, buffers included.
      expect(text.split("\n")[0]).toContain(`, ${side.parameters} parameters (${side.trainableParameters} trainable, ${side.parameters - side.trainableParameters} in buffers)`);
      expect(summary(g)).toEqual(summary(m.graph));
      expect([...g.ops.keys()].sort()).toEqual([...m.graph.ops.keys()].sort());
    });
  }
});

describe("composites print back as the composite call", () => {
  const graphOf = (text: string): Graph => {
    const d = new Diagnostics();
    const g = check(parse(text, "m.par", d)!, d).models.get("m")!;
    expect(d.errors).toEqual([]);
    return g;
  };

  it("a batchnorm expansion (found from OpEntry.expansion) prints as batchnorm with its non-default eps", () => {
    const g = graphOf("model m() {\n  input x : f32[8, 4, 5, 5]\n  bn1 = batchnorm(x, eps = 0.001)\n  loss = mse(bn1, x)\n}\n");
    expect([...g.ops.keys()]).toEqual(["bn1.mean", "bn1.var", "bn1", "loss"]);
    const text = graphToPar(g, "m");
    expect(text).toContain("  bn1 = batchnorm(x, eps = 0.001)\n");
    expect(text).not.toMatch(/moments|central_moment|batchnorm_apply/);
    const back = graphOf(text);
    expect(summary(back)).toEqual(summary(g));
  });

  it("the final part alone (statistics made elsewhere) prints as itself", () => {
    const g = graphOf(
      "model m() {\n  input x : f32[8, 4, 5, 5]\n  mu = moments(x)\n  v = central_moment(x, mu)\n  y = batchnorm_apply(x, mu, v)\n  loss = mse(y, x)\n}\n",
    );
    const text = graphToPar(g, "m");
    expect(text).toContain("  y = batchnorm_apply(x, mu, v)\n");
    expect(text).toContain("  mu = moments(x)\n");
  });
});
