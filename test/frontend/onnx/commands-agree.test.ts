// The same model, the same numbers everywhere: `parameters` (the file's float
// initializers, each once) in par import, check, simulate, search, compile and the .par
// header; and the training loss an imported model gets, with its reason.
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/main.js";
import { captureIo } from "../../cli/cli-helpers.js";
import { encodeOnnx, floats, importSpec, intAttr, ints, intsAttr, node, valueInfo } from "./build-onnx.js";

const [V, D, T, P] = [11, 4, 3, 8];
let dir: string;

async function par(...argv: string[]) {
  const io = captureIo(dir);
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "par-agree-"));
  // A tiny GPT-like model: tied embedding and head, a position table read through a
  // constant-index lookup, a −inf causal mask: parameters V·D + P·D + T·T, buffers T·T.
  const mask = Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -Infinity : 0));
  writeFileSync(
    join(dir, "gpt.onnx"),
    encodeOnnx({
      nodes: [
        node("Gather", ["wte", "ids"], ["tok"], "/wte/Gather"),
        node("Gather", ["wpe", "pos"], ["p"], "/wpe/Gather"),
        node("Add", ["tok", "p"], ["h"], "/pos/Add"),
        node("Transpose", ["h"], ["ht"], "/attn/Transpose", [intsAttr("perm", [0, 2, 1])]),
        node("MatMul", ["h", "ht"], ["s"], "/attn/MatMul"),
        node("Add", ["s", "mask"], ["sm"], "/attn/Add"),
        node("Softmax", ["sm"], ["a"], "/attn/Softmax", [intAttr("axis", -1)]),
        node("MatMul", ["a", "h"], ["o"], "/attn/MatMul_1"),
        node("Transpose", ["wte"], ["wt"], "/head/Transpose", [intsAttr("perm", [1, 0])]),
        node("MatMul", ["o", "wt"], ["logits"], "/head/MatMul"),
      ],
      inputs: [valueInfo("ids", ["N", T], 7)],
      initializers: [floats("wte", [V, D]), floats("wpe", [P, D]), ints("pos", [0, 1, 2]), floats("mask", [T, T], mask)],
      outputs: ["logits"],
    }),
  );
});

describe("every command reports the same parameter count for the same model", () => {
  const expected = V * D + P * D + T * T;

  it("import, check, simulate, search, compile and the .par header", async () => {
    const imp = await par("import", "gpt.onnx", "--batch", "2", "--json");
    expect(imp.code).toBe(0);
    const j = JSON.parse(imp.out);
    expect([j.parameters, j.trainableParameters, j.buffers]).toEqual([expected, V * D + P * D, T * T]);
    expect(j.par.split("\n")[0]).toContain(`${expected} parameters (${V * D + P * D} trainable, ${T * T} in buffers)`);
    const check = JSON.parse((await par("check", "gpt.onnx", "--batch", "2", "--json")).out).files[0].models[0];
    expect([check.parameters, check.trainableParameters, check.buffers]).toEqual([expected, V * D + P * D, T * T]);
    const sim = JSON.parse((await par("simulate", "gpt.onnx", "--batch", "2", "--mesh", "local", "--strategy", "dp", "--json")).out);
    expect(sim.parameters).toBe(expected);
    const search = JSON.parse((await par("search", "gpt.onnx", "--batch", "2", "--mesh", "local", "--budget", "20", "--json")).out);
    expect(search.parameters).toBe(expected);
    const compile = await par("compile", "gpt.onnx", "--batch", "2", "--mesh", "local", "--strategy", "dp", "--out", "gpt.plan.json", "--json");
    expect(compile.err).toBe("");
    expect(JSON.parse(compile.out).parameters).toBe(expected);
  });

  it("check --json states the loss chosen and why", async () => {
    const check = JSON.parse((await par("check", "gpt.onnx", "--batch", "2", "--json")).out).files[0].models[0];
    expect(check.loss.kind).toBe("softmax_cross_entropy");
    expect(check.loss.reason).toMatch(/per-token logits \[N, T, V\] over a vocabulary of 11 \(the model reads integer tokens\)/);
    const mse = JSON.parse((await par("check", "gpt.onnx", "--batch", "2", "--loss", "mse", "--json")).out).files[0].models[0];
    expect([mse.loss.kind, mse.loss.reason]).toEqual(["mse", "--loss mse"]);
    const text = await par("check", "gpt.onnx", "--batch", "2");
    expect(text.out).toMatch(/loss {9}softmax_cross_entropy on head_matmul: the output \[2, 3, 11\] reads as per-token logits/);
  });
});

describe("--freeze and failed imports on the command line", () => {
  it("--freeze GLOB lowers trainableParameters; on a .par model it is a usage error (PAR4013)", async () => {
    const j = JSON.parse((await par("check", "gpt.onnx", "--batch", "2", "--freeze", "wpe", "--json")).out).files[0].models[0];
    expect([j.parameters, j.trainableParameters, j.buffers]).toEqual([V * D + P * D + T * T, V * D, T * T]);
    writeFileSync(join(dir, "m.par"), "model m(batch = 2) {\n  input x : f32[batch, 3]\n  input y : i32[batch]\n  loss = softmax_cross_entropy(linear(x, out = 4), y)\n}\n");
    const r = await par("compile", "m.par", "--freeze", "x*", "--strategy", "dp", "--mesh", "local", "--out", "m.json");
    expect(r.code).toBe(2);
    expect(r.err).toContain("PAR4013");
  });

  it("on a Keras model.json --freeze matches par param ids; a glob matching none is PAR6009", async () => {
    const keras = join(fileURLToPath(new URL("../../fixtures/keras/", import.meta.url)));
    for (const f of ["dense.json", "dense.weights.bin"]) copyFileSync(join(keras, f), join(dir, f));
    const all = JSON.parse((await par("check", "dense.json", "--batch", "2", "--json")).out).files[0].models[0];
    const frozen = JSON.parse((await par("check", "dense.json", "--batch", "2", "--freeze", "*.bias", "--json")).out).files[0].models[0];
    expect(all.trainableParameters).toBe(all.parameters);
    expect(frozen.parameters).toBe(all.parameters);
    expect(frozen.trainableParameters).toBeLessThan(all.parameters);
    const bad = await par("check", "dense.json", "--batch", "2", "--freeze", "nothing*", "--json");
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("PAR6009");
  });

  it("a failed import --json still gives the parameters, the unsupported ops and the unmappable forms", async () => {
    writeFileSync(
      join(dir, "gaps.onnx"),
      encodeOnnx({
        nodes: [node("LpNormalization", ["x"], ["a"], "lp"), node("Gemm", ["x", "w"], ["b"], "g", [{ name: "alpha", type: 1, f: 2 }]), node("Add", ["a", "b"], ["y"])],
        inputs: [valueInfo("x", [2, 4])],
        initializers: [floats("w", [4, 4])],
      }),
    );
    const r = await par("import", "gaps.onnx", "--json");
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.ok).toBe(false);
    expect([j.parameters, j.trainableParameters]).toEqual([16, 16]);
    expect(j.unsupported).toEqual([{ op: "LpNormalization", nodes: ["lp"] }]);
    expect(j.unmappable).toEqual([{ op: "Gemm", code: "PAR6016", reason: "Gemm with alpha = 2, beta = 1 (par maps only alpha = beta = 1)", nodes: ["g"] }]);
  });
});

describe("the training loss an imported model gets by its output", () => {
  const loss = (dims: (number | string)[], elem = 1, extra: Record<string, unknown> = {}) => {
    const r = importSpec({ nodes: [node("Relu", ["x"], ["y"])], inputs: [valueInfo("x", dims, elem)] }, extra);
    return r.model ? { kind: r.model.loss.kind, reason: r.model.loss.reason, target: r.model.graph.tensor(r.model.loss.target).type } : r.codes;
  };

  it("[N, C] class logits: softmax cross-entropy on labels [N]", () => {
    const l = loss([4, 10]) as { kind: string; reason: string; target: { shape: number[]; dtype: string } };
    expect([l.kind, l.target.shape, l.target.dtype]).toEqual(["softmax_cross_entropy", [4], "i32"]);
    expect(l.reason).toContain("class logits [N, C]");
  });

  it("[N, T, V] logits of a model reading integer tokens: cross-entropy per token on labels [N, T]", () => {
    const r = importSpec({ nodes: [node("Gather", ["w", "ids"], ["y"])], inputs: [valueInfo("ids", [2, 5], 7)], initializers: [floats("w", [9, 6])] });
    expect([r.model!.loss.kind, r.model!.graph.tensor(r.model!.loss.target).type.shape]).toEqual(["softmax_cross_entropy", [2, 5]]);
  });

  it("a dense output ([N, T, F] of float inputs, images): mean squared error against a target of its shape", () => {
    for (const dims of [[2, 5, 6], [2, 3, 4, 4], [4, 1]]) {
      const l = loss(dims) as { kind: string; reason: string; target: { shape: number[]; dtype: string } };
      expect([l.kind, l.target.shape, l.target.dtype]).toEqual(["mse", dims, "f32"]);
      expect(l.reason).toContain("dense regression output");
    }
  });

  it("--loss overrides the default; a loss that cannot apply is PAR6021", () => {
    expect((loss([4, 10], 1, { loss: "mse" }) as { kind: string }).kind).toBe("mse");
    const r = importSpec({ nodes: [node("ReduceSum", ["x"], ["y"], "r", [intAttr("keepdims", 0)])], inputs: [valueInfo("x", [4])] }, { loss: "softmax_cross_entropy" });
    expect(r.codes).toEqual(["PAR6021"]);
  });
});
