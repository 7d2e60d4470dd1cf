import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { captureIo as capture } from "./cli-helpers.js";
import { onnxModelType } from "../../src/frontend/onnx/decode.js";

const ONNX = fileURLToPath(new URL("../fixtures/onnx/", import.meta.url));
const KERAS = fileURLToPath(new URL("../fixtures/keras/", import.meta.url));


async function par(cwd: string, ...argv: string[]) {
  const io = capture(cwd);
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "par-import-"));
  for (const f of ["mlp.onnx", "cnn_bn.onnx"]) copyFileSync(join(ONNX, f), join(dir, f));
  for (const f of ["dense.json", "dense.weights.bin"]) copyFileSync(join(KERAS, f), join(dir, f));
  const T = onnxModelType();
  const msg = T.toObject(T.decode(readFileSync(join(ONNX, "mlp.onnx")))) as { graph: { node: { op_type: string; domain?: string }[] } };
  msg.graph.node[0].op_type = "FancyOp";
  msg.graph.node[1].op_type = "OtherOp";
  writeFileSync(join(dir, "fancy.onnx"), T.encode(T.fromObject(msg)).finish());
  writeFileSync(join(dir, "m.par"), "model m(batch = 2) {\n  input x : f32[batch, 3]\n  input y : i32[batch]\n  loss = softmax_cross_entropy(linear(x, out = 4), y)\n}\n");
});

describe("par import", () => {
  it("prints a readable .par that par check accepts with the same ops and parameters", async () => {
    const r = await par(dir, "import", "mlp.onnx", "--input", "x=2x8");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# Imported by par: \d+ ops, 484 parameters \(484 trainable, 0 in buffers\)\./);
    expect(r.out).toContain("input x : f32[2, 8]");
    writeFileSync(join(dir, "printed.par"), r.out);
    const c = await par(dir, "check", "printed.par", "--json");
    expect(c.code).toBe(0);
    const summary = JSON.parse(c.out).files[0].models[0];
    expect(summary.parameters).toBe(484);
  });

  it("--out writes the file atomically; --name renames the model", async () => {
    // par creates no folder (a typo would make a tree): out/ must exist.
    const missing = await par(dir, "import", "cnn_bn.onnx", "--batch", "2", "--out", "out/cnn.par", "--name", "cnn");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("PAR4002: cannot write `out/cnn.par`: the folder `out` does not exist");
    mkdirSync(join(dir, "out"), { recursive: true });
    const r = await par(dir, "import", "cnn_bn.onnx", "--batch", "2", "--out", "out/cnn.par", "--name", "cnn");
    expect(r.code).toBe(0);
    expect(r.out).toContain("-> out/cnn.par");
    const text = readFileSync(join(dir, "out", "cnn.par"), "utf8");
    expect(text).toContain("model cnn() {");
    expect((await par(dir, "check", "out/cnn.par")).code).toBe(0);
  });

  it("--json: parameters, ops, weights, unsupported (and the .par text without --out)", async () => {
    const r = await par(dir, "import", "mlp.onnx", "--batch", "3", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ file: "mlp.onnx", format: "onnx", ok: true, parameters: 484, unsupported: [] });
    expect(j.ops).toBeGreaterThan(2);
    expect(j.weights).toBeGreaterThan(0);
    expect(j.par).toContain("model ");
    expect(j.inputs[0]).toEqual({ name: "x", shape: [3, 8], dtype: "f32" });
    expect(j.losses).toEqual(["softmax_cross_entropy"]);
    const k = JSON.parse((await par(dir, "import", "dense.json", "--batch", "2", "--loss", "mse", "--json", "--out", "dense.par")).out);
    expect(k).toMatchObject({ format: "keras", ok: true, parameters: 8, out: "dense.par", losses: ["mse"] });
    expect(k.par).toBeUndefined();
    expect(existsSync(join(dir, "dense.par"))).toBe(true);
  });

  it("a failed import because of unsupported operators still lists them in --json, exit 1", async () => {
    const r = await par(dir, "import", "fancy.onnx", "--json", "--input", "x=2x8");
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.ok).toBe(false);
    expect(j.unsupported.map((u: { op: string }) => u.op)).toEqual(["FancyOp", "OtherOp"]);
    expect(j.errors).toEqual(["PAR6010"]);
    expect(JSON.parse(r.err).diagnostics[0].code).toBe("PAR6010");
    const text = await par(dir, "import", "fancy.onnx");
    expect(text.code).toBe(1);
    expect(text.err).toContain("PAR6010");
  });

  it("usage errors: no file, a .par file, a bad --name, --input, --loss, --set", async () => {
    expect((await par(dir, "import")).code).toBe(2);
    expect((await par(dir, "import", "m.par")).err).toContain("already a .par model");
    expect((await par(dir, "import", "mlp.onnx", "--name", "a-b")).code).toBe(2);
    expect((await par(dir, "import", "mlp.onnx", "--input", "x=2by8")).code).toBe(2);
    expect((await par(dir, "import", "mlp.onnx", "--loss", "hinge")).code).toBe(2);
    expect((await par(dir, "import", "mlp.onnx", "--set", "batch=2")).code).toBe(2);
    expect((await par(dir, "import", "missing.onnx")).err).toContain("PAR4001");
  });
});

describe("every model command accepts imported models", () => {
  it("par check: .onnx and model.json beside .par files", async () => {
    const r = await par(dir, "check", "mlp.onnx", "dense.json", "m.par", "--batch", "2", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const files = JSON.parse(r.out).files;
    expect(files.map((f: { models: { parameters: number }[] }) => f.models[0].parameters)).toEqual([484, 8, 16]);
    const text = await par(dir, "check", "mlp.onnx", "--batch", "3");
    expect(text.out).toContain("mlp.onnx: ok");
    // The batch dim is symbolic: without --batch/--input the importer says so (PAR6014).
    const unbound = await par(dir, "check", "mlp.onnx");
    expect(unbound.code).toBe(1);
    expect(unbound.err).toContain("PAR6014");
    // Flags for the wrong format are usage errors, never silently ignored.
    expect((await par(dir, "check", "mlp.onnx", "--set", "batch=4")).code).toBe(2);
    expect((await par(dir, "check", "m.par", "--batch", "4")).code).toBe(2);
    const one = await par(dir, "graph", "mlp.onnx", "--set", "batch=4");
    expect(one.code).toBe(2);
    expect(one.err).toContain("PAR4013");
  });

  it("par graph: an imported model's op listing and DOT", async () => {
    const r = await par(dir, "graph", "mlp.onnx", "--input", "x=2x8");
    expect(r.code).toBe(0);
    expect(r.out).toContain("input x: f32[batch=2, 8]");
    expect((await par(dir, "graph", "dense.json", "--batch", "2", "--dot")).out).toContain("digraph");
  });

  it("par simulate: an imported model on a built-in mesh", async () => {
    const r = await par(dir, "simulate", "cnn_bn.onnx", "--batch", "2", "--mesh", "local", "--strategy", "dp", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.mesh).toBe("local");
    // The model's count: its weights and its batch-norm statistics, each once.
    expect(j.parameters).toBe(4050);
    expect(j.iterationTimeMs).toBeGreaterThan(0);
  });

  it("par strategy baseline / import with an imported model", async () => {
    const r = await par(dir, "strategy", "baseline", "dp", "mlp.onnx", "--mesh", "local", "--input", "x=4x8", "--out", "s.json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const back = await par(dir, "strategy", "import", "s.json", "--model-file", "mlp.onnx", "--input", "x=4x8");
    expect(back.err).toBe("");
    expect(back.code).toBe(0);
    expect(back.out).toContain("strategy ");
  });
});
