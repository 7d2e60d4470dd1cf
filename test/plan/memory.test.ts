// The plan's own memory account (src/plan/memory.ts): each buffer in its category, the
// engines' additions (cached batches, kept wasm weights, the largest kernel's transient),
// and the shortfalls against capacity.
import { describe, expect, it } from "vitest";
import { lower, singleDeviceStrategy } from "../../src/codegen/lower.js";
import { regionVolume } from "../../src/core/region.js";
import { dataParallel } from "../../src/ir/baselines.js";
import { contractedParams, DATASET_BATCHES, memoryShortfalls, planMemory, programMemory, tfjsMemoryRuntime, torchMemoryRuntime, WASM_HEAP_INITIAL_BYTES, WASM_HEAP_MAX_BYTES, wasmHeapSize, type MemoryRuntime } from "../../src/plan/memory.js";
import type { DeviceProgram, OptimizerConfig, Plan } from "../../src/plan/plan.js";
import { testMesh } from "../ir/fixtures.js";
import { meshOf, mixedStrategy, mlp, pipelineStrategy, SGD } from "../runtime/graphs.js";

const ADAM: OptimizerConfig = { kind: "adam", learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const CPU: MemoryRuntime = tfjsMemoryRuntime("cpu");
const WASM: MemoryRuntime = tfjsMemoryRuntime("wasm");

// mlp(n=8, k=6, h=5, c=3): fc1 6×5 + 5, fc2 5×3 + 3 = 53 floats.
const PARAM_BYTES = 53 * 4;

function bytesOfKind(p: DeviceProgram, kinds: string[]): number {
  return p.buffers.filter((b) => kinds.includes(b.kind)).reduce((a, b) => a + regionVolume(b.region) * 4, 0);
}

function dpPlan(optimizer: OptimizerConfig = SGD): Plan {
  const g = mlp();
  return lower(g, { ...dataParallel(g, testMesh(1, 2)), mesh: "cpu2" }, meshOf(2), { seed: 1, optimizer });
}

describe("planMemory", () => {
  it("data parallel: every device holds all weights, as many gradients, and adam's two moments", () => {
    for (const d of planMemory(dpPlan(ADAM), CPU)) {
      expect(d.byCategory.weights).toBe(PARAM_BYTES);
      expect(d.byCategory.gradients).toBe(PARAM_BYTES);
      expect(d.byCategory.optimizer).toBe(2 * PARAM_BYTES);
    }
    for (const d of planMemory(dpPlan(SGD), CPU)) expect(d.byCategory.optimizer).toBeUndefined();
  });

  it("counts every buffer of the program once, fed buffers with the engine's cached batches", () => {
    const plan = dpPlan();
    for (const rt of [CPU, torchMemoryRuntime("cpu")]) {
      plan.programs.forEach((p, i) => {
        const m = planMemory(plan, rt)[i];
        const fed = new Set(p.instructions.flatMap((x) => (x.kind === "feed" ? [x.buf] : [])));
        const fedBytes = p.buffers.filter((b) => fed.has(b.id)).reduce((a, b) => a + regionVolume(b.region) * 4, 0);
        expect(fedBytes).toBeGreaterThan(0);
        expect(m.byCategory.data).toBe(fedBytes * (1 + rt.dataCopies));
        const all = bytesOfKind(p, ["value", "grad", "param", "param_grad", "opt_m", "opt_v"]);
        const engine = (m.byCategory.workspace ?? 0) + (m.byCategory.overhead ?? 0) + (m.byCategory["kernel weights"] ?? 0) + (m.byCategory["all-reduce buffers"] ?? 0);
        expect(m.total).toBe(all + fedBytes * rt.dataCopies + engine);
        expect(m.total).toBe(m.consumers.reduce((a, c) => a + c.bytes, 0));
      });
    }
    expect(torchMemoryRuntime("cpu").dataCopies).toBe(DATASET_BATCHES - 1);
  });

  it("torch on Gloo: each all-reduced gradient gets the ring's inbox and outbox", () => {
    const [m] = planMemory(dpPlan(), torchMemoryRuntime("cpu"));
    expect(m.byCategory["all-reduce buffers"]).toBe(2 * PARAM_BYTES);
    expect(planMemory(dpPlan(), CPU)[0].byCategory["all-reduce buffers"]).toBeUndefined();
  });

  it("a pipeline's devices hold received activations and gradients; a split reduction's partial sums are their own category", () => {
    const g = mlp();
    const pipe = planMemory(lower(g, pipelineStrategy(g), meshOf(2), { seed: 1, optimizer: SGD }), CPU);
    expect(pipe[1].byCategory.received).toBeGreaterThan(0);
    expect(pipe[0].byCategory.received).toBeGreaterThan(0);
    const mixed = planMemory(lower(g, mixedStrategy(), meshOf(3), { seed: 1, optimizer: SGD }), CPU);
    expect(mixed.some((d) => (d.byCategory["partial sums"] ?? 0) > 0)).toBe(true);
    // Split weights: the shards add up to the whole.
    expect(mixed.reduce((a, d) => a + (d.byCategory.weights ?? 0), 0)).toBeGreaterThanOrEqual(PARAM_BYTES);
  });

  it("tfjs wasm: the heap holds the kept weights, the largest kernel's tensors and the heap's start", () => {
    const g = mlp();
    const plan = lower(g, singleDeviceStrategy(g), meshOf(1), { seed: 1, optimizer: SGD });
    const [m] = planMemory(plan, WASM);
    // fc1 and fc2's weights (6×5, 5×3) are contracted with their inputs: XNNPACK packs a copy of each; the biases are not.
    expect([...contractedParams(plan)].sort()).toEqual(["fc1.weight", "fc2.weight"]);
    const kept = PARAM_BYTES + (6 * 5 + 5 * 3) * 4;
    expect(m.byCategory["kernel weights"]).toBe(kept);
    const need = WASM_HEAP_INITIAL_BYTES + kept + m.heap!.consumers.find((c) => c.category === "workspace")!.bytes;
    // Just over its start: the heap grows one 20 % step.
    expect(m.heap!.bytes).toBe(wasmHeapSize(need));
    expect(m.heap!.bytes).toBe(Math.ceil((WASM_HEAP_INITIAL_BYTES * 1.2) / 65536) * 65536);
    expect(m.heap!.consumers.reduce((a, c) => a + c.bytes, 0)).toBe(m.heap!.bytes);
    // The heap is part of the worker's memory.
    expect(m.total).toBeGreaterThan(m.heap!.bytes);
    // No heap on the other runtimes; and no copies of operands on cpu: a smaller transient.
    const [c] = planMemory(plan, CPU);
    expect(c.heap).toBeUndefined();
    expect(c.byCategory["kernel weights"]).toBeUndefined();
    expect(c.byCategory.workspace!).toBeLessThan(m.byCategory.workspace!);
  });

  it("an embedding's table is gathered, not contracted: no packed copy", async () => {
    const { Graph } = await import("../../src/ir/graph.js");
    const { addOp, tt } = await import("../runtime/graphs.js");
    const g = new Graph("emb");
    g.addInput("ids", tt([4, 3], "i32"));
    g.addInput("labels", tt([4], "i32"));
    const e = addOp(g, "emb", "embedding", ["ids"], { vocab: 50, dim: 8 });
    const m = addOp(g, "pool", "reduce_mean", [e], { axes: [1] });
    const y = addOp(g, "fc", "linear", [m], { out: 5 });
    addOp(g, "loss", "softmax_cross_entropy", [y, "labels"]);
    const plan = lower(g, singleDeviceStrategy(g), meshOf(1), { seed: 1, optimizer: SGD });
    expect([...contractedParams(plan)]).toEqual(["fc.weight"]);
  });

  it("torch's initialisation of a large weight can be the largest transient", () => {
    const g = mlp(2, 400, 300, 3);
    const plan = lower(g, singleDeviceStrategy(g), meshOf(1), { seed: 1, optimizer: SGD });
    const [t] = planMemory(plan, torchMemoryRuntime("cpu"));
    expect(t.consumers.find((c) => c.category === "workspace")).toEqual({ category: "workspace", what: "initialisation of fc1.weight", bytes: 8 * 400 * 300 * 4 });
    // tfjs writes initial values in place.
    expect(planMemory(plan, CPU)[0].consumers.find((c) => c.category === "workspace")!.what).not.toMatch(/initialisation/);
  });

  it("the largest transient names its instruction", () => {
    const [m] = planMemory(dpPlan(), WASM);
    expect(m.consumers.find((c) => c.category === "workspace")!.what).toMatch(/^(forward|backward) \S+ task \d+$/);
  });
});

describe("memoryShortfalls", () => {
  it("reports devices over capacity with their largest consumers, and the wasm heap over its cap", () => {
    const report = planMemory(dpPlan(), WASM);
    expect(memoryShortfalls(report, () => 2 ** 40)).toEqual([]);
    const short = memoryShortfalls(report, (d) => (d === 1 ? 1000 : undefined), 3);
    expect(short).toHaveLength(1);
    expect(short[0]).toMatchObject({ device: 1, pool: "memory", bytes: report[1].total, capacity: 1000 });
    expect(short[0].consumers).toEqual(report[1].consumers.slice(0, 3));
    const tight = report.map((d) => ({ ...d, heap: { ...d.heap!, capBytes: 1024 } }));
    expect(memoryShortfalls(tight, () => undefined).map((s) => s.pool)).toEqual(["wasm heap", "wasm heap"]);
  });

  it("a v2 slice buffer counts its slice; a release does not lower the peak (buffers are allocated up front)", () => {
    const region = { lo: [0, 0], hi: [10, 10] };
    const program: DeviceProgram = {
      device: 0,
      buffers: [
        { id: "p", tensor: "w", kind: "param", region, dtype: "f32", slice: [0, 25] },
        { id: "g", tensor: "w", kind: "param_grad", region, dtype: "f32" },
      ],
      instructions: [{ kind: "release", buf: "g" }],
    };
    const m = programMemory(program, CPU);
    expect(m.byCategory.weights).toBe(25 * 4);
    expect(m.byCategory.gradients).toBe(100 * 4);
  });

  it("programMemory of an empty program is the engine's overhead alone", () => {
    const m = programMemory({ device: 0, buffers: [], instructions: [] }, CPU);
    expect(m.total).toBe(CPU.overheadBytes + CPU.warmupBytes + CPU.garbageBytes);
    expect(Object.keys(m.byCategory)).toEqual(["overhead"]);
  });

  it("the wasm heap climbs emscripten's growth ladder, and a need past the cap is reported whole", () => {
    expect(wasmHeapSize(WASM_HEAP_INITIAL_BYTES)).toBe(WASM_HEAP_INITIAL_BYTES);
    const s = wasmHeapSize(100 << 20);
    expect(s).toBeGreaterThanOrEqual(100 << 20);
    expect(s).toBeLessThan(1.21 * (100 << 20));
    expect(s % 65536).toBe(0);
    expect(wasmHeapSize(WASM_HEAP_MAX_BYTES)).toBe(WASM_HEAP_MAX_BYTES);
    expect(wasmHeapSize(5 * 2 ** 30)).toBe(5 * 2 ** 30);
  });
});
