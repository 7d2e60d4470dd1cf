// Parameters counted once, trainable vs buffers, and shared weights staying shared: the
// rules of src/frontend/onnx/accounting.ts, differentiable.ts and sharing.ts, through the
// importer, the lowering (frozen params are never updated) and ONNX Runtime (a tied model
// computes what it computes).
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { lower, singleDeviceStrategy } from "../../../src/codegen/lower.js";
import { forwardOf } from "../../../src/pipeline.js";
import { prepareForward } from "../../../src/frontend/forward-inputs.js";
import { compareArrays } from "../../../src/cli/commands/forward.js";
import { fromImported } from "../../../src/frontend/load-model.js";
import { importOnnx } from "../../../src/frontend/onnx/import.js";
import { baseline } from "../../../src/ir/baselines.js";
import type { TF } from "../../../src/ops/contract.js";
import { runPlanInProcess } from "../../../src/runtime/exec/run-inprocess.js";
import { verifyPlan } from "../../../src/runtime/exec/verify.js";
import { meshOf } from "../../runtime/graphs.js";
import { ortRun } from "../../support/ort.js";
import { useBackend } from "../../support/tf.js";
import { encodeOnnx, floats, importSpec, intAttr, ints, intsAttr, node, valueInfo, type GraphSpec } from "./build-onnx.js";

const [V, D, T] = [7, 4, 3];
const table = (name: string, rows: number, cols: number) => floats(name, [rows, cols], Array.from({ length: rows * cols }, (_, i) => Math.sin(i + rows) / 2));

/** A tied language model: tokens → embedding (wte) → relu → logits = h · wteᵀ. */
const tied: GraphSpec = {
  nodes: [node("Gather", ["wte", "ids"], ["h"], "/emb/Gather"), node("Relu", ["h"], ["a"]), node("Transpose", ["wte"], ["wt"], "/head/Transpose", [intsAttr("perm", [1, 0])]), node("MatMul", ["a", "wt"], ["logits"], "/head/MatMul")],
  inputs: [valueInfo("ids", ["N", T], 7)],
  initializers: [table("wte", V, D)],
  outputs: ["logits"],
};

describe("a weight read twice is one parameter and one shared tensor", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  it("tied embedding and LM head: counted once, one `param` op that gather and matmul read", () => {
    const r = importSpec(tied, { batch: 2 });
    expect(r.codes).toEqual([]);
    const g = r.model!.graph;
    expect(r.model!.parameters).toBe(V * D);
    expect(g.parameterCount()).toBe(V * D);
    expect(g.trainableParameterCount()).toBe(V * D);
    expect(g.params().map((p) => p.id)).toEqual(["wte.weight"]);
    expect(r.ops).toEqual(["wte:param", "emb_gather:gather", "a:relu", "head_matmul:matmul"]);
    expect(g.op("head_matmul").attrs).toMatchObject({ transpose_b: true });
    expect(g.tensor("wte").consumers.map((c) => c.op)).toEqual(["emb_gather", "head_matmul"]);
    expect(Array.from(r.model!.weights.get("wte.weight")!).slice(0, 3)).toEqual([Math.fround(Math.sin(7) / 2), Math.fround(Math.sin(8) / 2), Math.fround(Math.sin(9) / 2)]);
    // Per-token logits over a vocabulary from integer tokens: cross-entropy against labels [N, T].
    expect(r.model!.loss.kind).toBe("softmax_cross_entropy");
    expect(g.tensor(r.model!.loss.target).type.shape).toEqual([2, T]);
  });

  it("its gradients add up: data parallel on 2 devices verifies against one device, and the weight trains", async () => {
    const r = importSpec(tied, { batch: 2 });
    const g = r.model!.graph;
    const options = { seed: 3, optimizer: { kind: "sgd" as const, learningRate: 0.5 }, weights: r.model!.weights };
    const single = lower(g, singleDeviceStrategy(g), meshOf(1), options);
    const dp = lower(g, baseline("dp", g, meshOf(2) as never), meshOf(2), options);
    const v = await verifyPlan(dp, single, tf, { steps: 2 });
    expect(v.firstMismatch).toBeUndefined();
    expect(v.ok).toBe(true);
    const run = await runPlanInProcess(single, tf, { steps: 1 });
    const grad = run.grads.get("wte.weight")!;
    expect(grad.some((x) => x !== 0)).toBe(true);
  });

  it("Gemm with transB by the table shares it too (matmul, transposed)", () => {
    const spec: GraphSpec = {
      nodes: [node("Gather", ["w", "ids"], ["h"]), node("ReduceMean", ["h"], ["m"], "mean", [intsAttr("axes", [1]), intAttr("keepdims", 0)]), node("Gemm", ["m", "w"], ["y"], "head", [intAttr("transB", 1)])],
      inputs: [valueInfo("ids", [2, T], 7)],
      initializers: [table("w", V, D)],
    };
    const r = importSpec(spec);
    expect(r.codes).toEqual([]);
    expect(r.model!.parameters).toBe(V * D);
    expect(r.ops).toEqual(["w:param", "h:gather", "mean:reduce_mean", "head:matmul"]);
    expect(r.model!.graph.op("head").attrs).toMatchObject({ transpose_b: true });
  });

  it("computes what ONNX Runtime computes", async () => {
    const bytes = encodeOnnx(tied);
    const ids = { dtype: "i8" as const, shape: [2, T], data: BigInt64Array.from([0, 3, 6, 1, 1, 5], BigInt) };
    const d = new Diagnostics();
    const m = prepareForward((bind) => {
      const x = importOnnx(bytes, "tied.onnx", { bind }, d);
      return x && fromImported(x, "onnx");
    }, [{ source: "ids.npy", array: ids }], d);
    expect(d.errors).toEqual([]);
    const ours = await forwardOf(m!, tf);
    const theirs = (await ortRun(bytes, { ids })).get("logits")!;
    expect(ours[0].shape).toEqual(theirs.dims);
    expect(compareArrays(ours[0].data, theirs.data).maxRelError).toBeLessThan(1e-5);
  });

  it("a shared weight whose reader holds its own copy (two Convs) is counted once and warned about (PAR6022)", () => {
    const r = importSpec({
      nodes: [node("Conv", ["x", "w"], ["a"], "c1", [intsAttr("pads", [1, 1, 1, 1])]), node("Conv", ["a", "w"], ["y"], "c2", [intsAttr("pads", [1, 1, 1, 1])])],
      inputs: [valueInfo("x", [1, 2, 4, 4])],
      initializers: [floats("w", [2, 2, 3, 3])],
    });
    expect(r.codes).toEqual([]);
    expect(r.model!.parameters).toBe(36);
    const d = new Diagnostics();
    importOnnx(encodeOnnx({ nodes: [node("Conv", ["x", "w"], ["a"], "c1", [intsAttr("pads", [1, 1, 1, 1])]), node("Conv", ["a", "w"], ["y"], "c2", [intsAttr("pads", [1, 1, 1, 1])])], inputs: [valueInfo("x", [1, 2, 4, 4])], initializers: [floats("w", [2, 2, 3, 3])] }), "m.onnx", {}, d);
    expect(d.warnings.map((w) => w.code)).toEqual(["PAR6022"]);
    expect(d.warnings[0].message).toContain("weight `w` is read by several nodes");
  });
});

describe("buffers: weights no gradient reaches, or holding non-finite values", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  it("a position table read through a constant-index lookup counts and trains", () => {
    const r = importSpec({
      nodes: [node("Gather", ["wpe", "pos"], ["p"], "/wpe/Gather"), node("Add", ["x", "p"], ["y"], "/add/Add")],
      inputs: [valueInfo("x", [2, T, D])],
      initializers: [table("wpe", 8, D), ints("pos", [0, 1, 2])],
    });
    expect(r.codes).toEqual([]);
    const g = r.model!.graph;
    // The table's 8 rows count (the integer position ids do not), though only 3 rows are read.
    expect(g.parameterCount()).toBe(8 * D);
    expect(g.trainableParameterCount()).toBe(8 * D);
    expect(r.ops).toEqual(["add_add:bias_add"]);
    expect(g.frozen.size).toBe(0);
    expect(Array.from(r.model!.weights.get("add_add.bias")!)).toEqual(Array.from({ length: T * D }, (_, i) => Math.fround(Math.sin(i + 8) / 2)));
  });

  it("a −inf causal mask is a buffer: its par param is frozen, has no update, and stays put while the rest trains", async () => {
    const mask = Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -Infinity : 0));
    const spec: GraphSpec = {
      nodes: [node("MatMul", ["x", "w"], ["s"], "/q/MatMul"), node("Add", ["s", "mask"], ["m"], "/mask/Add"), node("Softmax", ["m"], ["y"], "/sm/Softmax", [intAttr("axis", -1)])],
      inputs: [valueInfo("x", [2, T, D])],
      initializers: [table("w", D, T), floats("mask", [T, T], mask)],
    };
    const r = importSpec(spec);
    expect(r.codes).toEqual([]);
    const g = r.model!.graph;
    expect(g.parameterCount()).toBe(D * T + T * T);
    expect(g.bufferCount()).toBe(T * T);
    expect(g.trainableParameterCount()).toBe(D * T);
    expect([...g.frozen]).toEqual(["mask_add.bias"]);
    const plan = lower(g, singleDeviceStrategy(g), meshOf(1), { seed: 1, optimizer: { kind: "sgd", learningRate: 0.5 }, weights: r.model!.weights });
    expect(plan.params.find((p) => p.tensor === "mask_add.bias")!.trainable).toBe(false);
    expect(plan.params.find((p) => p.tensor === "q.weight")!.trainable).toBeUndefined();
    const updates = plan.programs[0].instructions.filter((i) => i.kind === "update").map((i) => (i as { param: string }).param);
    expect(updates.some((u) => u.includes("mask_add.bias"))).toBe(false);
    expect(updates.some((u) => u.includes("q.weight"))).toBe(true);
    const run = await runPlanInProcess(plan, tf, { steps: 2 });
    expect(Array.from(run.params.get("mask_add.bias")!)).toEqual(mask.map(Math.fround));
    expect(Array.from(run.params.get("q.weight")!)).not.toEqual(Array.from(r.model!.weights.get("q.weight")!));
  });

  it("batch-norm statistics and Clip bounds are buffers: no gradient reaches them", () => {
    const r = importSpec({
      nodes: [node("BatchNormalization", ["x", "g", "b", "rm", "rv"], ["n"], "bn", [intAttr("training_mode", 1)]), node("Clip", ["n", "lo", "hi"], ["y"])],
      inputs: [valueInfo("x", [2, 3, 4, 4])],
      initializers: [floats("g", [3]), floats("b", [3]), floats("rm", [3]), floats("rv", [3]), floats("lo", [], [-1]), floats("hi", [], [1])],
      opset: 15,
    });
    expect(r.codes).toEqual([]);
    const g = r.model!.graph;
    expect([g.parameterCount(), g.trainableParameterCount(), g.bufferCount()]).toEqual([14, 6, 8]);
  });

  it("--freeze GLOB makes matching weights non-trainable; one matching nothing is PAR6009", () => {
    const spec: GraphSpec = {
      nodes: [node("MatMul", ["x", "enc.w"], ["h"], "/enc/MatMul"), node("MatMul", ["h", "head.w"], ["y"], "/head/MatMul")],
      inputs: [valueInfo("x", [2, 4])],
      initializers: [floats("enc.w", [4, 4]), floats("head.w", [4, 3])],
    };
    const r = importSpec(spec, { freeze: ["enc.*"] });
    expect(r.codes).toEqual([]);
    const g = r.model!.graph;
    expect([g.parameterCount(), g.trainableParameterCount(), g.bufferCount()]).toEqual([28, 12, 0]);
    expect([...g.frozen]).toEqual(["enc.weight"]);
    const bad = importSpec(spec, { freeze: ["encoder.*"] });
    expect(bad.codes).toEqual(["PAR6009"]);
    expect(bad.messages[0]).toContain('--freeze "encoder.*" matches no weight');
  });
});

describe("an import reports every problem it finds, not just the first", () => {
  it("unsupported ops and unmappable forms in independent branches are all listed; what reads them is skipped", () => {
    const d = new Diagnostics();
    const bytes = encodeOnnx({
      nodes: [
        node("Gemm", ["x", "w"], ["a"], "g1", [{ name: "alpha", type: 1, f: 2 }]),
        node("Relu", ["a"], ["a2"]),
        node("Gemm", ["x", "w"], ["b"], "g2", [{ name: "alpha", type: 1, f: 3 }]),
        node("LpNormalization", ["x"], ["c"], "lp"),
        node("Tanh", ["c"], ["c2"]),
        node("Sum", ["a2", "b", "c2"], ["y"], "sum"),
      ],
      initializers: [floats("w", [4, 4])],
    });
    const r = importOnnx(bytes, "m.onnx", {}, d);
    expect(r).toBeUndefined();
    expect(d.errors.map((e) => e.code)).toEqual(["PAR6010", "PAR6016", "PAR6016"]);
    // Sum reads the failed nodes' outputs: skipped, not reported.
    expect(d.errors[0].message).toContain("LpNormalization (lp)");
    expect(d.errors[0].message).not.toContain("Sum");
    expect(d.errors[1].message).toContain("node g1 (Gemm): Gemm with alpha = 2");
    expect(d.errors[2].message).toContain("node g2 (Gemm): Gemm with alpha = 3");
  });
});
