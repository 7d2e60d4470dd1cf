import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { loadModel, loadModelResult, modelFormatOf, sniffFormat, type LoadModelOptions } from "../../src/frontend/load-model.js";
import { onnxModelType } from "../../src/frontend/onnx/decode.js";

const ONNX = fileURLToPath(new URL("../fixtures/onnx/", import.meta.url));
const KERAS = fileURLToPath(new URL("../fixtures/keras/", import.meta.url));

const TWO = `model a(batch = 4) {
  input x : f32[batch, 3]
  loss = mse(linear(x, out = 2), linear(x, out = 2))
}
model b(batch = 4) {
  input x : f32[batch, 5]
  input y : i32[batch]
  loss = softmax_cross_entropy(linear(x, out = 3), y)
}
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "par-load-model-"));
  writeFileSync(join(dir, "two.par"), TWO);
  writeFileSync(join(dir, "one.par"), TWO.slice(TWO.indexOf("model b")));
  writeFileSync(join(dir, "one.txt"), TWO.slice(TWO.indexOf("model b")));
  copyFileSync(join(ONNX, "mlp.onnx"), join(dir, "mlp.bin"));
  writeFileSync(join(dir, "garbage.bin"), Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02]));
  writeFileSync(join(dir, "plan.json"), JSON.stringify({ format: "par-plan", version: 1 }));
  writeFileSync(join(dir, "broken.json"), "{ nope");
  // A model.json whose shard path leaves its folder.
  mkdirSync(join(dir, "web"));
  const dense = JSON.parse(readFileSync(join(KERAS, "dense.json"), "utf8")) as { weightsManifest: { paths: string[] }[] };
  dense.weightsManifest[0].paths = ["../secret.bin"];
  writeFileSync(join(dir, "web", "model.json"), JSON.stringify(dense));
  writeFileSync(join(dir, "secret.bin"), Buffer.alloc(32));
  // An ONNX model with an operator par does not map (mlp's first node renamed).
  const T = onnxModelType();
  const msg = T.toObject(T.decode(readFileSync(join(ONNX, "mlp.onnx")))) as { graph: { node: { op_type: string }[] } };
  msg.graph.node[0].op_type = "FancyOp";
  writeFileSync(join(dir, "fancy.onnx"), T.encode(T.fromObject(msg)).finish());
});

function load(path: string, options: LoadModelOptions = {}, cwd = dir) {
  const d = new Diagnostics();
  const r = loadModelResult(path, { sources: new Map(), diagnostics: d, cwd }, options);
  return { r, m: r.model, d, codes: d.errors.map((e) => e.code), text: d.items.map((e) => `${e.code} ${e.message} ${e.hint ?? ""}`).join("\n") };
}

describe("loadModel: dispatch by extension and content", () => {
  it(".par: the only model, or the one --model names; several without --model is PAR4012 listing them", () => {
    const one = load("one.par");
    expect(one.text).toBe("");
    expect(one.m!.format).toBe("par");
    expect(one.m!.graph.name).toBe("b");
    expect(one.m!.program!.models.has("b")).toBe(true);
    expect(one.m!.weights).toBeUndefined();

    const two = load("two.par");
    expect(two.codes).toEqual(["PAR4012"]);
    expect(two.text).toContain("declares 2 models");
    expect(two.text).toContain("a, b");
    expect(two.m).toBeUndefined();

    const picked = load("two.par", { model: "a", overrides: { batch: 6 } });
    expect(picked.text).toBe("");
    expect(picked.m!.graph.name).toBe("a");
    expect(picked.m!.graph.tensor("x").type.shape).toEqual([6, 3]);
    expect(load("two.par", { model: "c" }).codes).toEqual(["PAR2025"]);
  });

  it(".onnx: the imported graph and its weights", () => {
    const r = load("mlp.onnx", { inputs: { x: [2, 8] } }, ONNX);
    expect(r.codes).toEqual([]);
    expect(r.m!.format).toBe("onnx");
    expect(r.m!.parameters).toBe(484);
    expect(r.m!.graph.parameterCount()).toBe(484);
    expect([...r.m!.weights!.values()].reduce((n, w) => n + w.length, 0)).toBe(484);
    expect(r.m!.graph.tensor(r.m!.graph.inputs[0]).type.shape).toEqual([2, 8]);
  });

  it("model.json: Keras topology with its weight shards read beside it", () => {
    const r = load("dense.json", { batch: 2 }, KERAS);
    expect(r.codes).toEqual([]);
    expect(r.m!.format).toBe("keras");
    expect(r.m!.parameters).toBe(8);
    expect([...r.m!.weights!.values()].every((w) => w.length > 0)).toBe(true);
    // loadModel resolves a path given relative to cwd.
    const d = new Diagnostics();
    expect(loadModel(join(KERAS, "dense.json"), { sources: new Map(), diagnostics: d }, { batch: 2 })?.format).toBe("keras");
  });

  it("model.json: a shard path that leaves the model's folder is refused (PAR6032)", () => {
    const r = load(join("web", "model.json"), { batch: 2 });
    expect(r.codes).toEqual(["PAR6032"]);
    expect(r.text).toContain("leaves the model's folder");
  });

  it("other extensions by content: ONNX bytes, .par text; anything else PAR4010", () => {
    expect(load("mlp.bin", { inputs: { x: [2, 8] } }).m?.format).toBe("onnx");
    expect(load("one.txt").m?.format).toBe("par");
    expect(load("garbage.bin").codes).toEqual(["PAR4010"]);
    expect(modelFormatOf("mlp.bin", dir)).toBe("onnx");
    expect(modelFormatOf("nothing.bin", dir)).toBeUndefined();
    expect(sniffFormat(new TextEncoder().encode("  {\"modelTopology\": {}}"))).toBe("keras");
    expect(sniffFormat(new TextEncoder().encode("# a model\nmodel m() {}"))).toBe("par");
  });

  it("JSON that is not a model.json: PAR4011 (a plan), PAR6030 (not JSON)", () => {
    const plan = load("plan.json");
    expect(plan.codes).toEqual(["PAR4011"]);
    expect(plan.text).toContain("par-plan");
    expect(load("broken.json").codes).toEqual(["PAR6030"]);
  });

  it("unreadable files: PAR4001 with a near name", () => {
    const r = load("mlp.onx", {}, ONNX);
    expect(r.codes).toEqual(["PAR4001"]); // an unknown extension is sniffed only when the file exists
    expect(r.text).toContain("mlp.onnx");
    const missing = load("mpl.onnx", {}, ONNX);
    expect(missing.codes).toEqual(["PAR4001"]);
    expect(missing.text).toContain("mlp.onnx");
    expect(load("nope.par").codes).toEqual(["PAR4001"]);
    expect(load("web", {}).codes).toEqual(["PAR4001"]);
  });

  it("options that do not apply to the format: PAR4013", () => {
    expect(load("mlp.onnx", { overrides: { batch: 2 } }, ONNX).codes).toEqual(["PAR4013"]);
    expect(load("mlp.onnx", { model: "m" }, ONNX).codes).toEqual(["PAR4013"]);
    const par = load("one.par", { batch: 2, loss: "mse" });
    expect(par.codes).toEqual(["PAR4013"]);
    expect(par.text).toContain("--batch, --loss");
  });

  it("a failed import still says which operators are unsupported", () => {
    const r = load("fancy.onnx", { inputs: { x: [2, 8] } });
    expect(r.codes).toEqual(["PAR6010"]);
    expect(r.m).toBeUndefined();
    expect(r.r.unsupported.map((u) => u.op)).toEqual(["FancyOp"]);
    expect(r.r.format).toBe("onnx");
  });
});
