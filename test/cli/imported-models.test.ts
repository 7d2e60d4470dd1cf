// `par compile`, `run`, `verify` and `profile` read imported models (ONNX, TensorFlow.js
// model.json) exactly like .par files, and plans keep the imported weights.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, scratch } from "./cli-helpers.js";

describe("commands that lower and run read imported models", () => {
  const dir = scratch();
  const plan = join(dir, "plan.json");

  it("par compile an ONNX model keeps its trained weights in the plan", async () => {
    const r = await cli("compile", "test/fixtures/onnx/mlp.onnx", "--batch", "4", "--mesh", "local", "--strategy", "dp", "--out", plan, "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ strategy: "dp", mesh: "local" });
    const p = JSON.parse(readFileSync(plan, "utf8"));
    expect(Object.keys(p.weights ?? {}).length).toBeGreaterThan(0);
    expect(p.params.some((q: { init: { kind: string } }) => q.init.kind === "values")).toBe(true);
  });

  it("par verify the compiled plan file: its reference starts from the same weights", async () => {
    const r = await cli("verify", plan, "--steps", "2", "--backend", "cpu", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.ok).toBe(true);
    expect(j.steps).toBe(2);
  });

  it("par verify an ONNX CNN with batchnorm directly (--batch)", async () => {
    const r = await cli("verify", "test/fixtures/onnx/cnn_bn.onnx", "--batch", "2", "--strategy", "dp", "--steps", "1", "--backend", "cpu", "--json");
    // The fixture keeps 3 weights as external data: a warning (PAR6007), they start at random.
    expect(r.err).not.toMatch(/"severity": "error"/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).ok).toBe(true);
  });

  it("par verify and par run a TensorFlow.js model.json", async () => {
    const v = await cli("verify", "test/fixtures/keras/dense.json", "--batch", "2", "--strategy", "dp", "--steps", "1", "--backend", "cpu", "--json");
    expect(v.err).toBe("");
    expect(v.code).toBe(0);
    expect(JSON.parse(v.out).ok).toBe(true);
    const r = await cli("run", "test/fixtures/keras/dense.json", "--batch", "2", "--strategy", "dp", "--steps", "2", "--backend", "cpu", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).losses.length).toBe(2);
  });

  it("par profile an ONNX model", async () => {
    const out = join(dir, "costs.json");
    const r = await cli("profile", "test/fixtures/onnx/mlp.onnx", "--batch", "4", "--backend", "cpu", "--repeats", "1", "--warmup", "0", "--out", out);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/profiled \d+ distinct tasks of \S+ \/ dp on cpu/);
  });

  it("usage errors: .par flags on an imported model, model flags on a plan", async () => {
    const a = await cli("compile", "test/fixtures/onnx/mlp.onnx", "--set", "batch=2", "--strategy", "dp", "--out", join(dir, "x.json"));
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/PAR4013/);
    const b = await cli("verify", plan, "--batch", "2");
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/--batch applies to a model FILE/);
  });
});
