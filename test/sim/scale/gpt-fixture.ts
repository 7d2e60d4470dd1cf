// A small GPT (models/gpt3.par at toy sizes) for the scale simulator's tests.
import { createContext, load } from "../../../src/pipeline.js";
import type { Graph } from "../../../src/ir/graph.js";

export function tinyGpt(overrides: Record<string, number> = {}): Graph {
  const ctx = createContext();
  return load("models/gpt3.par", ctx, { overrides: { layers: 4, hidden: 64, heads: 4, seq: 16, vocab: 256, batch: 32, ...overrides } }).graph;
}
