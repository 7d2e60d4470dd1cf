// Memory per device at scale against the ZeRO paper's formulas (Rajbhandari et al. 2020,
// §5): with mixed-precision Adam (K = 12) and Ψ parameters on each of N_d data-parallel
// devices, model states take (2 + 2 + K)·Ψ without ZeRO, 4Ψ + KΨ/N_d at stage 1,
// 2Ψ + (2 + K)Ψ/N_d at stage 2 and (2 + 2 + K)Ψ/N_d at stage 3.
import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { megatronStrategy } from "../../src/ir/megatron.js";
import { planStages } from "../../src/ir/stage-plan.js";
import type { ZeroStage } from "../../src/ir/strategy.js";
import { bytesPerWeight, scaleMemory } from "../../src/cost/scale-memory.js";
import { tinyGpt } from "../sim/scale/gpt-fixture.js";

const graph = tinyGpt();
const mesh = builtinMesh("a100x64")!;
const psi = [...graph.ops.values()].reduce((n, op) => n + op.sig.params.reduce((m, p) => m + p.shape.reduce((a, b) => a * b, 1), 0), 0);

function states(zero: ZeroStage, precision: "bf16" | "f32", N: number, optimizer: "adam" | "sgd" = "adam") {
  const s = megatronStrategy(graph, mesh, { tensor: 1, pipeline: 1, data: N, microbatchSize: 32 / N, zero, precision });
  const m = scaleMemory(planStages(graph, mesh, s), optimizer).devices[0];
  return m.weights + m.gradients + m.optimizer;
}

describe("scale memory: ZeRO model states", () => {
  it("counts every parameter once", () => {
    expect(psi).toBeGreaterThan(0);
    expect(states(0, "bf16", 1)).toBe(16 * psi);
  });
  for (const N of [2, 8, 32]) {
    it(`mixed-precision Adam on N_d = ${N}: stages 0–3 match (2 + 2 + K)Ψ with K = 12`, () => {
      const K = 12;
      expect(states(0, "bf16", N)).toBeCloseTo((2 + 2 + K) * psi, 3);
      expect(states(1, "bf16", N)).toBeCloseTo(4 * psi + (K * psi) / N, 3);
      expect(states(2, "bf16", N)).toBeCloseTo(2 * psi + ((2 + K) * psi) / N, 3);
      expect(states(3, "bf16", N)).toBeCloseTo(((2 + 2 + K) * psi) / N, 3);
    });
  }
  it("f32 Adam keeps no master copy: (4 + 4 + 8)Ψ, stage 3 divides all of it", () => {
    expect(bytesPerWeight("f32", "adam")).toEqual({ weights: 4, gradients: 4, optimizer: 8 });
    expect(states(3, "f32", 8)).toBeCloseTo((16 * psi) / 8, 3);
    expect(bytesPerWeight("bf16", "sgd")).toEqual({ weights: 2, gradients: 2, optimizer: 4 });
  });
});

describe("scale memory: activations", () => {
  const base = { tensor: 1, pipeline: 4, data: 1, microbatchSize: 4, precision: "bf16" as const };
  it("GPipe holds all M micro-batches on every stage, 1F1B p − s on stage s", () => {
    const gpipe = scaleMemory(planStages(graph, mesh, megatronStrategy(graph, mesh, { ...base, schedule: "gpipe" })));
    const f1b = scaleMemory(planStages(graph, mesh, megatronStrategy(graph, mesh, { ...base, schedule: "1f1b" })));
    const first = (r: typeof gpipe, g: number) => r.devices.find((d) => d.device === g * 1)!;
    for (let s = 0; s < 4; s++) {
      expect(first(gpipe, s).inFlight).toBe(8);
      expect(first(f1b, s).inFlight).toBe(4 - s);
      expect(first(f1b, s).activations).toBeCloseTo((first(gpipe, s).activations * (4 - s)) / 8, 3);
    }
  });
  it("full recomputation keeps less and pays one checkpoint segment", () => {
    const keep = scaleMemory(planStages(graph, mesh, megatronStrategy(graph, mesh, { ...base, recompute: "none" }))).devices[0];
    const full = scaleMemory(planStages(graph, mesh, megatronStrategy(graph, mesh, { ...base, recompute: "full" }))).devices[0];
    expect(keep.recompute).toBe(0);
    expect(full.activations).toBeLessThan(keep.activations / 3);
    expect(full.recompute).toBeGreaterThan(0);
    expect(full.activations + full.recompute).toBeLessThan(keep.activations);
  });
});
