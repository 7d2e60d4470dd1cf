import { describe, expect, it } from "vitest";
import { Diagnostics, type Diagnostic } from "../../src/core/diagnostics.js";
import { buildGraph, check, reportCycles, type CheckOptions } from "../../src/frontend/check.js";
import { CHECK_CODES } from "../../src/frontend/check-codes.js";
import { parse } from "../../src/frontend/parse.js";
import { STRATEGY_CHECK_CODES } from "../../src/frontend/strategy-codes.js";
import { Graph } from "../../src/ir/graph.js";

function run(text: string, options: CheckOptions = {}): { d: Diagnostics; items: Diagnostic[]; checked: ReturnType<typeof check> } {
  const d = new Diagnostics();
  const program = parse(text, "t.par", d);
  expect(d.items, "test source must parse").toEqual([]);
  const checked = check(program!, d, options);
  return { d, items: d.items, checked };
}

/** A model around `body` with inputs x: f32[8, 16] and labels: i32[8] and a loss on `out`. */
function model(body: string, params = "n = 8", name = "m"): string {
  return `model ${name}(${params}) {\n  input x : f32[8, 16]\n  input labels : i32[8]\n${body}\n  loss = softmax_cross_entropy(out, labels)\n}\n`;
}

const MLP = `model mlp(batch = 64, hidden = 32, classes = 10) {
  input  x      : f32[batch, 784]
  input  labels : i32[batch]
  h = relu(linear(x, out = hidden))
  repeat 2 { h = relu(linear(h, out = hidden)) }
  logits = linear(h, out = classes)
  loss   = softmax_cross_entropy(logits, labels)
}
`;

interface Case {
  name: string;
  text: string;
  options?: CheckOptions;
  code: string;
  /** 1-based line and column of the diagnostic, where it has a position. */
  at?: [number, number];
  hint?: string;
}

const CASES: Case[] = [
  { name: "undefined name", text: model("  out = linear(y, out = 4)"), code: "PAR2001", at: [4, 16] },
  { name: "undefined name in an int expression", text: model("  out = linear(x, out = nn)"), code: "PAR2001", at: [4, 25], hint: "did you mean `n`?" },
  { name: "duplicate model", text: MLP + MLP, code: "PAR2002", at: [9, 7] },
  { name: "duplicate block", text: "block b(x) { return x }\nblock b(x) { return x }\n", code: "PAR2002", at: [2, 7] },
  { name: "duplicate model parameter", text: model("  out = x", "n = 8, n = 9"), code: "PAR2003", at: [1, 16] },
  { name: "duplicate block parameter", text: "block b(x, x) { return x }\n", code: "PAR2003", at: [1, 12] },
  { name: "duplicate input", text: model("  input x : f32[8, 16]\n  out = x"), code: "PAR2004", at: [4, 3] },
  { name: "unknown op", text: model("  out = lineer(x, out = 4)"), code: "PAR2005", at: [4, 9], hint: "did you mean `linear`?" },
  { name: "unknown op suggests a block", text: "block my_layer(x) { return relu(x) }\n" + model("  out = my_layr(x)"), code: "PAR2005", hint: "did you mean `my_layer`?" },
  { name: "too many block arguments", text: "block b(x) { return relu(x) }\n" + model("  out = b(x, x)"), code: "PAR2006", at: [5, 9] },
  { name: "missing block argument", text: "block b(x, k) { return linear(x, out = k) }\n" + model("  out = b(x)"), code: "PAR2006" },
  { name: "unknown named block argument", text: "block b(x, width = 4) { return linear(x, out = width) }\n" + model("  out = b(x, widt = 3)"), code: "PAR2007", at: [5, 14], hint: "did you mean `width`?" },
  { name: "tensor where an int is expected", text: model("  out = linear(x, out = x)"), code: "PAR2008", at: [4, 25] },
  { name: "int where a tensor is expected", text: model("  out = relu(n)"), code: "PAR2009", at: [4, 14] },
  { name: "literal where a tensor is expected", text: model("  out = relu(3)"), code: "PAR2009" },
  { name: "non-positive dim", text: "model m(n = 0) {\n  input x : f32[n, 4]\n  loss = relu(x)\n}\n", code: "PAR2010", at: [2, 17] },
  { name: "inexact division", text: model("  out = linear(x, out = n / 3)"), code: "PAR2011", at: [4, 25] },
  { name: "division by zero", text: model("  out = linear(x, out = n // 0)"), code: "PAR2012" },
  { name: "overflow", text: model("  out = linear(x, out = n * 4294967296 * 4294967296)"), code: "PAR2013" },
  { name: "override that is not an integer", text: MLP, options: { overrides: { hidden: 1.5 } }, code: "PAR2013" },
  { name: "unknown override", text: MLP, options: { overrides: { hiden: 4 } }, code: "PAR2014", hint: "did you mean `hidden`?" },
  { name: "unused value", text: model("  t = relu(x)\n  out = linear(x, out = 4)"), code: "PAR2016", at: [4, 7] },
  { name: "unused input", text: "model m() {\n  input x : f32[2, 3]\n  input y : f32[2, 3]\n  loss = relu(x)\n}\n", code: "PAR2016", at: [3, 3] },
  { name: "return in a model", text: model("  out = relu(x)\n  return out"), code: "PAR2017", at: [5, 3] },
  { name: "return not last in a block", text: "block b(x) {\n  return x\n  y = relu(x)\n  return y\n}\n" + model("  out = b(x)"), code: "PAR2017", at: [2, 3] },
  { name: "block without return used as a value", text: "block b(x) {\n  y = relu(x)\n}\n" + model("  out = b(x)"), code: "PAR2018", at: [1, 7] },
  { name: "block returning two values to one target", text: "block b(x) {\n  return relu(x), relu(x)\n}\n" + model("  out = b(x)"), code: "PAR2018", at: [7, 9] },
  { name: "direct recursion", text: "block b(x) {\n  return b(x)\n}\n" + model("  out = b(x)"), code: "PAR2019", at: [2, 10] },
  { name: "mutual recursion", text: "block a(x) {\n  return c(x)\n}\nblock c(x) {\n  return relu(a(x))\n}\n" + model("  out = a(x)"), code: "PAR2019" },
  { name: "negative repeat count", text: model("  out = x\n  repeat n - 9 { out = relu(out) }"), code: "PAR2020", at: [5, 10] },
  { name: "negative range bound", text: model("  out = x\n  for i in 0 - 1..2 { out = relu(out) }"), code: "PAR2020" },
  { name: "too many ops", text: model("  out = x\n  repeat 100 { out = relu(out) }"), options: { limits: { maxOps: 50, maxSteps: 1000 } }, code: "PAR2021" },
  { name: "too many steps", text: model("  out = x\n  repeat 1000000000000 { }"), code: "PAR2021" },
  { name: "parameter without default", text: model("  out = linear(x, out = k)", "k"), code: "PAR2022", at: [1, 9] },
  { name: "float in an integer expression", text: model("  out = linear(x, out = 2.5 * n)"), code: "PAR2023" },
  { name: "op yields fewer outputs than targets", text: model("  a, b = relu(x)\n  out = add(a, b)"), code: "PAR2024", at: [4, 10] },
  { name: "unknown model selected", text: MLP, options: { model: "mlpp" }, code: "PAR2025", hint: "did you mean `mlp`?" },
  { name: "block argument given twice", text: "block b(x, k = 2) { return linear(x, out = k) }\n" + model("  out = b(x, 3, k = 4)"), code: "PAR2026", at: [5, 17] },
  { name: "attribute given twice", text: model("  out = linear(x, out = 4, out = 5)"), code: "PAR2026" },
  { name: "input inside a block", text: "block b(x) {\n  input y : f32[2]\n  return relu(x)\n}\n" + model("  out = b(x)"), code: "PAR2027", at: [2, 3] },
  { name: "range as an attribute", text: model("  out = linear(x, out = 1..3)"), code: "PAR2028" },
  { name: "block named like an op", text: "block relu(x) { return x }\n", code: "PAR2029", at: [1, 7] },
  {
    name: "block calls nested too deeply",
    text: Array.from({ length: 120 }, (_, i) => `block b${i}(x) { return b${i + 1}(x) }\n`).join("") + "block b120(x) { return relu(x) }\n" + model("  out = b0(x)"),
    code: "PAR2030",
    at: [100, 23],
  },
  { name: "a file that declares nothing", text: "# only a comment\n", code: "PAR2031", at: [1, 1] },
  { name: "shape errors from the op carry the call's position", text: model("  out = add(x, linear(x, out = 3))"), code: "PAR2107", at: [4, 9] },
  // strategies
  { name: "strategy for an unknown model", text: MLP + "strategy s for mlpp on p100x16 { *: sample = 2 }\n", code: "PAR3101", at: [9, 16], hint: "did you mean `mlp`?" },
  { name: "strategy on an unknown mesh", text: MLP + "strategy s for mlp on p100x61 { *: sample = 2 }\n", code: "PAR3102", at: [9, 23] },
  { name: "pattern matching no op", text: MLP + "strategy s for mlp on p100x16 { layer9.*: sample = 2 }\n", code: "PAR3170", at: [9, 33] },
  { name: "unknown strategy key", text: MLP + "strategy s for mlp on p100x16 { *.linear: chanel = 2 }\n", code: "PAR3171", hint: "did you mean `channel`?" },
  { name: "key on no matched op", text: MLP + "strategy s for mlp on p100x16 { h: in_channel = 2 }\n", code: "PAR3171" },
  { name: "non-positive degree", text: MLP + "strategy s for mlp on p100x16 { *: sample = 0 }\n", code: "PAR3152" },
  { name: "degree of the wrong kind", text: MLP + 'strategy s for mlp on p100x16 { *: sample = "two" }\n', code: "PAR3172" },
  { name: "device outside the mesh", text: MLP + "strategy s for mlp on p100x16 { *: devices = 0..16 }\n", code: "PAR3157" },
  { name: "devices of the wrong kind", text: MLP + 'strategy s for mlp on p100x16 { *: devices = ["gpu0"] }\n', code: "PAR3173" },
  { name: "key set twice in a rule", text: MLP + "strategy s for mlp on p100x16 { *: sample = 2, sample = 4 }\n", code: "PAR3174" },
  { name: "degree larger than the dim", text: MLP + "strategy s for mlp on p100x16 { logits: channel = 11 }\n", code: "PAR3155" },
];

describe("check: every diagnostic code", () => {
  for (const c of CASES) {
    it(`${c.code}: ${c.name}`, () => {
      const { items } = run(c.text, c.options);
      const d = items.find((x) => x.code === c.code);
      expect(d, JSON.stringify(items, null, 1)).toBeDefined();
      if (c.at) expect([d!.pos?.line, d!.pos?.column]).toEqual(c.at);
      if (c.at) expect(d!.pos?.file).toBe("t.par");
      if (c.hint) expect(d!.hint).toBe(c.hint);
      expect(d!.message.length).toBeGreaterThan(0);
    });
  }

  it("PAR2015: reports a cycle in a graph built outside the elaborator", () => {
    // Elaborated graphs cannot have cycles (an op reads only existing tensors); an importer's
    // graph can. Emulate one whose cycle search finds a loop.
    class Imported extends Graph {
      override cycles(): string[][] {
        return [["a", "b"]];
      }
    }
    const d = new Diagnostics();
    expect(reportCycles(new Graph("fine"), "model.onnx", d)).toBe(true);
    expect(d.items).toEqual([]);
    expect(reportCycles(new Imported("imported"), "model.onnx", d)).toBe(false);
    expect(d.items.map((x) => x.code)).toEqual(["PAR2015"]);
    expect(d.items[0].message).toContain("a → b → a");
    expect(d.items[0].pos).toEqual({ file: "model.onnx", line: 1, column: 1 });
  });

  it("covers every code in the checker's tables", () => {
    const seen = new Set(CASES.map((c) => c.code));
    seen.add("PAR2015");
    for (const code of [...Object.keys(CHECK_CODES), ...Object.keys(STRATEGY_CHECK_CODES)]) expect(seen.has(code), code).toBe(true);
    for (const code of Object.keys(CHECK_CODES)) expect(code).toMatch(/^PAR20\d\d$/);
    for (const code of Object.keys(STRATEGY_CHECK_CODES)) expect(Number(code.slice(3))).toBeGreaterThanOrEqual(3100);
  });
});

describe("check: results", () => {
  it("returns graphs, builtin-mesh strategies and no diagnostics for a good program", () => {
    const { items, checked } = run(MLP + "strategy dp for mlp on p100x16 {\n  *: sample = 4, devices = [0..3];\n  *.linear, logits: channel = 2\n}\n");
    expect(items).toEqual([]);
    expect([...checked.models.keys()]).toEqual(["mlp"]);
    expect(checked.strategies.map((s) => s.name)).toEqual(["dp"]);
  });

  it("elaborates only the selected model and reports nothing for the other", () => {
    const other = model("  out = lineer(x)", "n = 8", "broken");
    const { items, checked } = run(MLP + other, { model: "mlp" });
    expect(items).toEqual([]);
    expect([...checked.models.keys()]).toEqual(["mlp"]);
  });

  it("buildGraph elaborates one model with overrides", () => {
    const d = new Diagnostics();
    const g = buildGraph(parse(MLP, "t.par", d)!, "mlp", { hidden: 8 }, d);
    expect(d.items).toEqual([]);
    expect(g!.op("logits").sig.params[0].shape).toEqual([8, 10]);
  });

  it("loss ops, values named `loss` and the last statement are outputs, not unused", () => {
    const { items } = run("model m() {\n  input x : f32[2, 3]\n  loss = relu(x)\n  y = relu(x)\n}\n");
    expect(items).toEqual([]);
  });

  it("reports an error once even when a block is inlined many times", () => {
    const { items } = run("block b(x) {\n  return relu(lineer(x))\n}\n" + model("  out = x\n  repeat 12 { out = b(out) }"));
    expect(items.map((x) => x.code)).toEqual(["PAR2005"]);
  });

  it("does not cascade: a failed value is not reported again where it is used", () => {
    const { items } = run(model("  h = lineer(x)\n  g = relu(h)\n  out = linear(g, out = 4)"));
    expect(items.map((x) => x.code)).toEqual(["PAR2005"]);
  });

  it("a model with errors yields no graph", () => {
    const { checked } = run(model("  out = relu(y)"));
    expect(checked.models.size).toBe(0);
  });
});
