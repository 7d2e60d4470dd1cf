// The arbitraries of the large-scale property tests (tfjs: scale-strategies.property.test.ts;
// torch against tfjs: test/engines/torch/cross-engine.property.test.ts).
import fc from "fast-check";
import type { OptimizerConfig } from "../../src/plan/plan.js";
import type { Family } from "./random-cases.js";

const FAMILIES: Family[] = ["mlp", "seq", "conv"];

export const scaleCaseArb = fc.record({
  graphSeed: fc.integer({ min: 1, max: 1_000_000 }),
  family: fc.constantFrom(...FAMILIES),
  strategySeed: fc.integer({ min: 1, max: 1_000_000 }),
  devices: fc.integer({ min: 2, max: 4 }),
  optimizer: fc.constantFrom("sgd" as const, "momentum" as const, "adam" as const),
});

/** Adam turns the rounding noise of a gradient that is zero in theory (an attention key bias) into a learning-rate-sized step: not for the attention family. */
export function optimizerFor(a: { family: Family; optimizer: "sgd" | "momentum" | "adam" }): OptimizerConfig {
  return { kind: a.family === "seq" && a.optimizer === "adam" ? "momentum" : a.optimizer, learningRate: 0.02 };
}

