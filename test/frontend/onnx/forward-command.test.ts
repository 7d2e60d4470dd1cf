// `par forward`: an imported model's own outputs on .npy inputs, with its own weights;
// --out FILE / DIR, --expect and its tolerance, .par models with seeded init, and the
// coded errors for arrays that do not fit the model.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/main.js";
import { decodeNpy, encodeNpy, type NpyArray } from "../../../src/frontend/npy.js";
import { captureIo } from "../../cli/cli-helpers.js";
import { encodeOnnx, floats, node, valueInfo } from "./build-onnx.js";

const ONNX = fileURLToPath(new URL("../../fixtures/onnx/", import.meta.url));
const side = JSON.parse(readFileSync(join(ONNX, "mlp.json"), "utf8")) as { input: number[]; output: number[]; output_shape: number[] };

let dir: string;
const f32 = (shape: number[], values: number[]): NpyArray => ({ dtype: "f4", shape, data: Float32Array.from(values) });
const save = (name: string, a: NpyArray) => writeFileSync(join(dir, name), encodeNpy(a));
const load = (name: string) => decodeNpy(new Uint8Array(readFileSync(join(dir, name))), name);

async function par(...argv: string[]) {
  const io = captureIo(dir);
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

const errorCodes = (err: string) => [...err.matchAll(/PAR\d{4}/g)].map((m) => m[0]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "par-forward-"));
  copyFileSync(join(ONNX, "mlp.onnx"), join(dir, "mlp.onnx"));
  save("x.npy", f32([3, 8], side.input));
  save("torch.npy", f32(side.output_shape, side.output));
  save("wrong.npy", f32(side.output_shape, side.output.map((v) => v + 0.5)));
  save("x_rank3.npy", f32([3, 8, 1], side.input));
  save("x_wide.npy", f32([3, 9], [...side.input, 0, 0, 0]));
  save("x_batch5.npy", f32([5, 8], [...side.input, ...side.input.slice(0, 16)]));
  save("ids.npy", { dtype: "i8", shape: [3, 8], data: BigInt64Array.from(side.input, () => 1n) });
  writeFileSync(join(dir, "junk.npy"), "junk");
  // Two outputs: y = relu(x), z = x + 0.5 (a constant bias).
  writeFileSync(
    join(dir, "two.onnx"),
    encodeOnnx({ nodes: [node("Relu", ["x"], ["y"]), node("Add", ["x", "b"], ["z"])], inputs: [valueInfo("x", ["N", 4])], initializers: [floats("b", [4], [0.5, 0.5, 0.5, 0.5])], outputs: ["y", "z"] }),
  );
  save("x4.npy", f32([2, 4], [-1, 2, -3, 4, 5, -6, 7, -8]));
});

describe("par forward on an imported model", () => {
  it("writes the model's output (not the training loss) as .npy, equal to torch's", async () => {
    const r = await par("forward", "mlp.onnx", "--input", "x.npy", "--out", "y.npy", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.outputs).toEqual([{ name: "logits", shape: [3, 4], dtype: "f32", file: "y.npy" }]);
    expect(j.inputs).toEqual([{ name: "x", file: "x.npy", shape: [3, 8], dtype: "f4" }]);
    const y = load("y.npy");
    expect(y.shape).toEqual([3, 4]);
    Array.from(y.data as Float32Array).forEach((v, i) => expect(Math.abs(v - side.output[i])).toBeLessThan(1e-5));
  });

  it("--expect: within the tolerance exits 0 with its errors; beyond it exits 1", async () => {
    const ok = await par("forward", "mlp.onnx", "--input", "x=x.npy", "--expect", "torch.npy", "--json");
    expect(ok.code).toBe(0);
    const j = JSON.parse(ok.out);
    expect(j.ok).toBe(true);
    expect(j.maxRelError).toBeLessThan(1e-5);
    expect(j.expect.tolerance).toBe(1e-4);
    const bad = await par("forward", "mlp.onnx", "--input", "x.npy", "--expect", "wrong.npy", "--json");
    expect(bad.code).toBe(1);
    const b = JSON.parse(bad.out);
    expect(b.ok).toBe(false);
    expect(b.maxAbsError).toBeCloseTo(0.5, 4);
    const loose = await par("forward", "mlp.onnx", "--input", "x.npy", "--expect", "wrong.npy", "--tolerance", "10");
    expect(loose.code).toBe(0);
    expect(loose.out).toContain(": ok");
  });

  it("the arrays' shapes bind the symbolic batch dim", async () => {
    const r = await par("forward", "mlp.onnx", "--input", "x_batch5.npy", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).outputs[0].shape).toEqual([5, 4]);
  });

  it("--out DIR writes every output, named after the model's outputs", async () => {
    const r = await par("forward", "two.onnx", "--input", "x4.npy", "--out", "outs");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(Array.from(load("outs/y.npy").data as Float32Array)).toEqual([0, 2, 0, 4, 5, 0, 7, 0]);
    expect(Array.from(load("outs/z.npy").data as Float32Array)).toEqual([-0.5, 2.5, -2.5, 4.5, 5.5, -5.5, 7.5, -7.5]);
  });

  it("--out is checked before the run: no tree of folders, no file as a DIR, not the model itself (PAR4002)", async () => {
    const cases: [string, RegExp][] = [
      ["no/such/dir/y.npy", /folder `no\/such\/dir` does not exist/],
      ["no/such/outs", /folder `no\/such` does not exist/],
      ["x.npy/outs", /`x\.npy` is a file, not a folder/],
      ["two.onnx", /it is an input of this command/],
    ];
    save("a-file", f32([1], [0]));
    cases.push(["a-file", /it is a file, not a folder/]);
    for (const [out, message] of cases) {
      const r = await par("forward", "two.onnx", "--input", "x4.npy", "--out", out);
      expect(r.code, out).toBe(1);
      expect(errorCodes(r.err), out).toEqual(["PAR4002"]);
      expect(r.err, out).toMatch(message);
    }
  });

  it("arrays that do not fit the model are coded errors naming the input", async () => {
    const cases: [string[], string, RegExp][] = [
      [["--input", "nope=x.npy"], "PAR6042", /no input `nope`/],
      [["--input", "x.npy", "--input", "x.npy"], "PAR6042", /2 unnamed --input arrays/],
      [["--input", "ids.npy"], "PAR6043", /input `x`.*expects float32.*holds i8/],
      [["--input", "x_rank3.npy"], "PAR6044", /input `x`.*expects \[batch, 8\].*is \[3, 8, 1\]/],
      [["--input", "x_wide.npy"], "PAR6044", /expects \[batch, 8\].*is \[3, 9\]/],
      [[], "PAR6045", /no array for model input x/],
      [["--input", "x.npy", "--expect", "x.npy"], "PAR6046", /the array is \[3, 8\].*first output `logits` is \[3, 4\]/],
      [["--input", "junk.npy"], "PAR6040", /not a valid \.npy file/],
    ];
    for (const [flags, code, message] of cases) {
      const r = await par("forward", "mlp.onnx", ...flags);
      expect(r.code, flags.join(" ")).toBe(1);
      expect(errorCodes(r.err), flags.join(" ")).toContain(code);
      expect(r.err, flags.join(" ")).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it("--engine torch: the torch engine computes the same outputs (torch's own numbers for the MLP)", async () => {
    const r = await par("forward", "mlp.onnx", "--input", "x.npy", "--engine", "torch", "--expect", "torch.npy", "--out", "yt.npy", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect([j.engine, j.backend, j.ok]).toEqual(["torch", "torch", true]);
    expect(j.maxRelError).toBeLessThan(1e-5);
    const tfjs = await par("forward", "two.onnx", "--input", "x4.npy", "--out", "two-tfjs");
    const torch = await par("forward", "two.onnx", "--input", "x4.npy", "--engine", "torch", "--out", "two-torch");
    expect(tfjs.code + torch.code).toBe(0);
    for (const o of ["y", "z"]) expect(Array.from(load(`two-torch/${o}.npy`).data as Float32Array)).toEqual(Array.from(load(`two-tfjs/${o}.npy`).data as Float32Array));
    const both = await par("forward", "mlp.onnx", "--input", "x.npy", "--engine", "torch", "--backend", "cpu");
    expect(both.code).toBe(2);
  }, 120_000);
});

describe("par forward on a .par model (seeded initial weights)", () => {
  const model = join(fileURLToPath(new URL("../../../models/", import.meta.url)), "mlp.par");
  const flags = ["--set", "batch=2", "--set", "hidden=8", "--set", "layers=1"];

  it("outputs what the loss trains, the same for the same seed and different for another", async () => {
    const missing = await par("forward", model, ...flags, "--input", "x=nowhere.npy");
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/PAR4001.*nowhere\.npy/);
    save("xm.npy", f32([2, 784], Array.from({ length: 2 * 784 }, (_, i) => Math.sin(i))));
    const a = await par("forward", model, ...flags, "--input", "x=xm.npy", "--out", "a.npy", "--json");
    expect(a.err).toBe("");
    expect(a.code).toBe(0);
    const out = JSON.parse(a.out).outputs;
    expect(out.length).toBe(1);
    const b = await par("forward", model, ...flags, "--input", "x=xm.npy", "--out", "b.npy");
    const c = await par("forward", model, ...flags, "--input", "x=xm.npy", "--out", "c.npy", "--seed", "7");
    expect(b.code + c.code).toBe(0);
    expect(Array.from(load("b.npy").data as Float32Array)).toEqual(Array.from(load("a.npy").data as Float32Array));
    expect(Array.from(load("c.npy").data as Float32Array)).not.toEqual(Array.from(load("a.npy").data as Float32Array));
  });
});
