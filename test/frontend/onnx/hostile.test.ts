// Hostile and malformed ONNX input: every failure is a coded diagnostic, quickly.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { onnxModelType } from "../../../src/frontend/onnx/decode.js";
import { importOnnx } from "../../../src/frontend/onnx/import.js";
import { IMPORT_CODES } from "../../../src/frontend/import-codes.js";

const mlp = new Uint8Array(readFileSync(new URL("../../fixtures/onnx/mlp.onnx", import.meta.url)));

type Obj = Record<string, unknown>;
const vi = (name: string, dims: (number | string)[], elem = 1): Obj => ({
  name,
  type: { tensor_type: { elem_type: elem, shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) } } },
});
const node = (op_type: string, input: string[], output: string[], name = output[0], attribute: Obj[] = []): Obj => ({ op_type, input, output, name, attribute });
const floats = (name: string, dims: number[], values?: number[]): Obj => ({ name, dims, data_type: 1, float_data: values ?? new Array(dims.reduce((a, b) => a * b, 1)).fill(0.5) });
const ints = (name: string, values: number[]): Obj => ({ name, dims: [values.length], data_type: 7, int64_data: values });

function encode(graph: Obj, opset = 13): Uint8Array {
  const T = onnxModelType();
  return T.encode(T.fromObject({ ir_version: 8, opset_import: [{ domain: "", version: opset }], graph })).finish();
}

function run(bytes: Uint8Array, options = {}) {
  const d = new Diagnostics();
  const t0 = Date.now();
  const m = importOnnx(bytes, "m.onnx", options, d);
  return { m, d, codes: d.errors.map((e) => e.code), ms: Date.now() - t0, text: d.items.map((e) => `${e.code} ${e.message}`).join("\n") };
}

const base = (nodes: Obj[], extra: Obj = {}): Obj => ({ name: "g", node: nodes, input: [vi("x", [2, 4])], output: [vi("y", [2, 4])], initializer: [], ...extra });

describe("hostile ONNX input → coded errors, quickly", () => {
  it("truncated file → PAR6002", () => {
    for (const cut of [mlp.length - 1, Math.floor(mlp.length / 2), 7]) {
      const r = run(mlp.subarray(0, cut));
      expect(r.codes.length).toBeGreaterThan(0);
      expect(["PAR6002", "PAR6003", "PAR6007", "PAR6011"]).toContain(r.codes[0]);
      expect(r.ms).toBeLessThan(2000);
    }
    expect(run(mlp.subarray(0, mlp.length - 1)).codes).toEqual(["PAR6002"]);
  });

  it("random bytes → a coded error, never a throw or hang", () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let k = 0; k < 200; k++) {
      const bytes = Uint8Array.from({ length: 1 + (k * 37) % 900 }, rnd);
      const r = run(bytes);
      expect(r.m).toBeUndefined();
      expect(r.codes.length).toBeGreaterThan(0);
      for (const c of r.codes) expect(IMPORT_CODES[c]).toBeDefined();
    }
  });

  it("empty input and a model without a graph → PAR6003", () => {
    expect(run(new Uint8Array(0)).codes).toEqual(["PAR6003"]);
  });

  it("file over the size limit → PAR6001", () => {
    const d = new Diagnostics();
    expect(importOnnx(mlp, "m.onnx", {}, d, { maxBytes: 100 })).toBeUndefined();
    expect(d.errors.map((e) => e.code)).toEqual(["PAR6001"]);
  });

  it("too many nodes → PAR6005", () => {
    const d = new Diagnostics();
    expect(importOnnx(mlp, "m.onnx", {}, d, { maxNodes: 2 })).toBeUndefined();
    expect(d.errors.map((e) => e.code)).toEqual(["PAR6005"]);
  });

  it("a 10^12 dim → PAR6006 without allocating", () => {
    const r = run(encode(base([node("Relu", ["x"], ["y"])], { input: [vi("x", [1e12, 4])] })));
    expect(r.codes).toEqual(["PAR6006"]);
    const r2 = run(encode(base([node("Add", ["x", "w"], ["y"])], { initializer: [{ name: "w", dims: [2 ** 20, 2 ** 20], data_type: 1 }] })));
    expect(r2.codes).toEqual(["PAR6006"]);
    expect(r.ms + r2.ms).toBeLessThan(2000);
  });

  it("tensor data that does not match its dims → PAR6007", () => {
    expect(run(encode(base([node("Add", ["x", "w"], ["y"])], { initializer: [floats("w", [4], [1, 2])] }))).codes).toEqual(["PAR6007"]);
  });

  it("unsupported opset → PAR6004", () => {
    expect(run(encode(base([node("Relu", ["x"], ["y"])]), 9)).codes).toEqual(["PAR6004"]);
  });

  it("a node cycle → PAR6012", () => {
    const r = run(encode(base([node("Relu", ["b"], ["a"]), node("Relu", ["a"], ["b"]), node("Relu", ["b"], ["y"])])));
    expect(r.codes).toEqual(["PAR6012"]);
    expect(r.text).toContain("cycle");
  });

  it("a dangling name → PAR6011", () => {
    const r = run(encode(base([node("Add", ["x", "nowhere"], ["y"])])));
    expect(r.codes).toEqual(["PAR6011"]);
    expect(r.text).toContain("nowhere");
  });

  it("a name produced twice → PAR6013", () => {
    expect(run(encode(base([node("Relu", ["x"], ["y"], "a"), node("Tanh", ["x"], ["y"], "b")]))).codes).toEqual(["PAR6013"]);
  });

  it("ONE error lists every unsupported op with a node name → PAR6010", () => {
    const r = run(encode(base([node("Relu", ["x"], ["a"]), node("NonMaxSuppression", ["a"], ["b"], "nms1"), node("TopK", ["b"], ["c"], "topk1"), node("TopK", ["c"], ["y"], "topk2")])));
    expect(r.codes).toEqual(["PAR6010"]);
    expect(r.text).toContain("NonMaxSuppression (nms1)");
    expect(r.text).toContain("TopK (topk1, topk2)");
  });

  it("symbolic dims need --batch/--input (PAR6014); a wrong --input → PAR6015", () => {
    const g = base([node("Relu", ["x"], ["y"])], { input: [vi("x", ["N", "F"])] });
    expect(run(encode(g)).codes).toEqual(["PAR6014"]);
    expect(run(encode(g), { batch: 4 }).codes).toEqual(["PAR6014"]);
    expect(run(encode(g), { inputs: { x: [4, 3] } }).codes).toEqual([]);
    expect(run(encode(g), { inputs: { nope: [4, 3] } }).codes).toEqual(["PAR6015", "PAR6014"]);
    expect(run(encode(g), { inputs: { x: [4, 3, 2] } }).codes).toEqual(["PAR6015"]);
    const g2 = base([node("Relu", ["x"], ["y"])], { input: [vi("x", ["N", 4])] });
    const r = run(encode(g2), { batch: 8 });
    expect(r.codes).toEqual([]);
    expect(r.m!.graph.tensor(r.m!.graph.inputs[0]).type.shape).toEqual([8, 4]);
  });

  it("unrepresentable attributes → PAR6016 (Gemm alpha ≠ 1)", () => {
    const g = base([node("Gemm", ["x", "w"], ["y"], "fc", [{ name: "alpha", type: 1, f: 2 }])], { initializer: [floats("w", [4, 4])] });
    expect(run(encode(g)).codes).toEqual(["PAR6016"]);
  });

  it("a Reshape whose shape is computed from data → PAR6017", () => {
    const g = base([node("Relu", ["x"], ["s"]), node("Cast", ["s"], ["si"], "c", [{ name: "to", type: 2, i: 7 }]), node("Reshape", ["x", "si"], ["y"])]);
    expect(run(encode(g)).codes).toEqual(["PAR6017"]);
    const g2 = base([node("Range", ["x", "x", "x"], ["y"])]);
    expect(run(encode(g2)).codes).toEqual(["PAR6017"]);
  });

  it("Gather with float indices → PAR6018", () => {
    const g = base([node("Gather", ["x", "i"], ["y"])], { input: [vi("x", [2, 4]), vi("i", [3], 1)] });
    expect(run(encode(g)).codes).toEqual(["PAR6018"]);
  });

  it("a folded constant over the element limit → PAR6019", () => {
    const g = base([node("ConstantOfShape", ["s"], ["big"]), node("Shape", ["big"], ["y2"]), node("Relu", ["x"], ["y"])], { initializer: [ints("s", [4096, 4096])] });
    expect(run(encode(g)).codes).toEqual(["PAR6019"]);
  });

  it("a par op rejecting the node → its PAR2xxx diagnostic and PAR6020", () => {
    const g = base([node("Add", ["x", "z"], ["y"])], { input: [vi("x", [2, 4]), vi("z", [3])] });
    const r = run(encode(g));
    expect(r.codes).toEqual(["PAR2107", "PAR6020"]);
  });

  it("a loss that cannot apply → PAR6021", () => {
    const g = base([node("ReduceSum", ["x"], ["y"], "r", [{ name: "keepdims", type: 2, i: 0 }])], { output: [vi("y", [])] });
    expect(run(encode(g, 11), { loss: "softmax_cross_entropy" }).codes).toEqual(["PAR6021"]);
  });
});
