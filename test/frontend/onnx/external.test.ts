// External data (weights in a side file, ONNX's format past 2 GB): the structure imports
// from the proto alone; values are read by offset when a command needs them; a side file
// that is missing, too short or outside the model's folder is a coded error.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics, ParError } from "../../../src/core/diagnostics.js";
import { forwardOf } from "../../../src/pipeline.js";
import { loadForForward } from "./forward-helpers.js";
import { compareArrays } from "../../../src/cli/commands/forward.js";
import { loadModel } from "../../../src/frontend/load-model.js";
import type { TF } from "../../../src/ops/contract.js";
import { ortRun } from "../../support/ort.js";
import { useBackend } from "../../support/tf.js";
import { encodeOnnx, floats, intAttr, node, valueInfo } from "./build-onnx.js";

const values = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.cos(i * 0.37 + k) / 2);
const W = values(8 * 6, 1);
const B = values(6, 2);
const W2 = values(6 * 3, 3);

/** An initializer whose data is `location` at `offset` (data_location = EXTERNAL). */
const external = (name: string, dims: number[], location: string, offset: number, length?: number) => ({
  name,
  dims,
  data_type: 1,
  data_location: 1,
  external_data: [{ key: "location", value: location }, { key: "offset", value: String(offset) }, ...(length === undefined ? [] : [{ key: "length", value: String(length) }])],
});

const f32bytes = (v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

function model(inits: Record<string, unknown>[]): Uint8Array {
  return encodeOnnx({
    nodes: [node("Gemm", ["x", "w"], ["h"], "/fc1/Gemm", [intAttr("transB", 0)]), node("Add", ["h", "b"], ["hb"], "/fc1/Add"), node("Tanh", ["hb"], ["t"]), node("MatMul", ["t", "w2"], ["y"], "/fc2/MatMul")],
    inputs: [valueInfo("x", ["N", 8])],
    initializers: inits,
  });
}

let dir: string;
const x = { dtype: "f4" as const, shape: [2, 8], data: Float32Array.from(values(16, 5)) };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "par-external-"));
  // The side file: w at 0, b at 4096 (a page, as onnx aligns), w2 right after b.
  const side = new Uint8Array(4096 + 24 + 72);
  side.set(f32bytes(W), 0);
  side.set(f32bytes(B), 4096);
  side.set(f32bytes(W2), 4096 + 24);
  writeFileSync(join(dir, "weights.bin"), side);
  writeFileSync(join(dir, "short.bin"), side.subarray(0, 4096 + 10));
  const ext = (loc: string) => [external("w", [8, 6], loc, 0, 192), external("b", [6], loc, 4096), external("w2", [6, 3], loc, 4096 + 24)];
  writeFileSync(join(dir, "ext.onnx"), model(ext("weights.bin")));
  writeFileSync(join(dir, "inline.onnx"), model([floats("w", [8, 6], W), floats("b", [6], B), floats("w2", [6, 3], W2)]));
  writeFileSync(join(dir, "missing.onnx"), model(ext("gone.bin")));
  writeFileSync(join(dir, "short.onnx"), model(ext("short.bin")));
  writeFileSync(join(dir, "outside.onnx"), model(ext("../weights.bin")));
  writeFileSync(join(dir, "badlength.onnx"), model([external("w", [8, 6], "weights.bin", 0, 100), external("b", [6], "weights.bin", 4096), external("w2", [6, 3], "weights.bin", 4096 + 24)]));
  mkdirSync(join(dir, "sub"));
});

const load = (file: string, batch = 2) => {
  const d = new Diagnostics();
  const m = loadModel(file, { sources: new Map(), diagnostics: d, cwd: dir }, { batch });
  return { m, d, codes: d.items.map((e) => `${e.severity} ${e.code}`) };
};

describe("external data", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  it("reads the weights by offset: the same values, the same forward as inline data, and as ONNX Runtime", async () => {
    const ext = load("ext.onnx");
    const inline = load("inline.onnx");
    expect(ext.codes).toEqual([]);
    expect(ext.m!.graph.parameterCount()).toBe(48 + 6 + 18);
    for (const id of ["fc1.weight", "fc1_add.bias", "fc2.weight"]) expect(Array.from(ext.m!.weights!.get(id)!)).toEqual(Array.from(inline.m!.weights!.get(id)!));
    const run = async (file: string) => {
      const d = new Diagnostics();
      const m = loadForForward(file, [{ source: "x.npy", array: x }], { sources: new Map(), diagnostics: d, cwd: dir });
      expect(d.errors).toEqual([]);
      return (await forwardOf(m!, tf))[0];
    };
    const [a, b] = [await run("ext.onnx"), await run("inline.onnx")];
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    // ONNX Runtime resolves the side file against the model's path, as par does.
    const ort = (await import("onnxruntime-node")).default;
    const s = await ort.InferenceSession.create(join(dir, "ext.onnx"));
    const ref = (await s.run({ x: new ort.Tensor("float32", x.data, x.shape) })).y;
    expect(compareArrays(a.data, Float32Array.from(ref.data as Float32Array)).maxRelError).toBeLessThan(1e-6);
    expect(compareArrays(b.data, (await ortRun(new Uint8Array(await import("node:fs").then((fs) => fs.readFileSync(join(dir, "inline.onnx")))), { x })).get("y")!.data).maxRelError).toBeLessThan(1e-6);
  });

  it("a missing side file: the structure imports with a warning (PAR6007); reading values is PAR6008", async () => {
    const r = load("missing.onnx");
    expect(r.codes).toEqual(["warning PAR6007"]);
    expect(r.d.warnings[0].message).toContain("`gone.bin`, which is missing");
    expect(r.m!.graph.parameterCount()).toBe(72);
    expect(r.m!.missingWeights!.sort()).toEqual(["fc1.weight", "fc1_add.bias", "fc2.weight"]);
    let err: unknown;
    try {
      r.m!.weights!.get("fc1.weight");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParError);
    expect((err as ParError).diagnostics[0].code).toBe("PAR6008");
    expect((err as ParError).diagnostics[0].hint).toContain("par import");
  });

  it("a side file too short for a tensor, or outside the model's folder, is PAR6008 at import", () => {
    const short = load("short.onnx");
    expect(short.codes).toContain("error PAR6008");
    expect(short.d.errors.find((e) => e.code === "PAR6008")!.message).toMatch(/needs bytes 4096 to 4120 of `short\.bin`, which has 4106/);
    const outside = load("outside.onnx");
    expect(outside.codes).toContain("error PAR6008");
    expect(outside.d.errors[0].message).toContain("outside the model's folder");
  });

  it("an external length that contradicts the tensor's dims is PAR6007", () => {
    const r = load("badlength.onnx");
    expect(r.codes).toEqual(["error PAR6007"]);
    expect(r.d.errors[0].message).toContain("100 bytes of external data, but its dims and type need 192");
  });
});
