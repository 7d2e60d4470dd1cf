// The simulation-at-scale codes (src/ir/scale-codes.ts), each raised where it belongs.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { analyseForMegatron, megatronStrategy } from "../../src/ir/megatron.js";
import { microbatchGraph } from "../../src/ir/microbatch-graph.js";
import { planStages } from "../../src/ir/stage-plan.js";
import { createContext, load } from "../../src/pipeline.js";
import { searchAtScale } from "../../src/search/scale/scale-search.js";
import { tinyGpt } from "../sim/scale/gpt-fixture.js";
import { thrownCode } from "../support/errors.js";

function model(body: string) {
  const dir = mkdtempSync(join(tmpdir(), "par-scale-codes-"));
  const file = join(dir, "m.par");
  writeFileSync(file, `model m(batch = 8) {\n  input x : f32[batch, 4]\n${body}\n}\n`);
  return load(file, createContext()).graph;
}

describe("simulation-at-scale codes", () => {
  it("PAR7050: an op whose attributes keep the batch at the micro-batch size", () => {
    const g = model("  y = reshape(x, shape = [8, -1, 2])");
    expect(thrownCode(() => microbatchGraph(g, g.topoOrder(), 2, "f32"))).toBe("PAR7050");
  });
  it("PAR7051: an op that cannot be typed at the micro-batch size", () => {
    const g = model("  y = reshape(x, shape = [8, 2, 2])");
    expect(thrownCode(() => microbatchGraph(g, g.topoOrder(), 2, "f32"))).toBe("PAR7051");
  });
  it("PAR7053: a batch that does not split into the micro-batches", () => {
    const g = model("  y = relu(x)");
    expect(thrownCode(() => microbatchGraph(g, g.topoOrder(), 3, "f32"))).toBe("PAR7053");
  });
  const gpt = tinyGpt();
  const mesh = builtinMesh("a100x64")!;
  it("PAR7052: an op placed outside its stage's devices", () => {
    const s = megatronStrategy(gpt, mesh, { tensor: 2, pipeline: 2, data: 1, microbatchSize: 8 });
    const op = s.pipeline!.stages[1].last;
    s.ops[op] = { ...s.ops[op], devices: s.ops[op].devices.map(() => 0) };
    expect(thrownCode(() => planStages(gpt, mesh, s))).toBe("PAR7052");
  });
  it("PAR7054: a model without a batch", () => {
    expect(() => analyseForMegatron(gpt)).not.toThrow();
    const g2 = model("  w = param(shape = [4, 4])");
    expect(thrownCode(() => analyseForMegatron(g2))).toBe("PAR7054");
  });
  it("PAR7055: sizes that do not fit the model or the mesh", () => {
    expect(thrownCode(() => megatronStrategy(gpt, mesh, { tensor: 8, pipeline: 4, data: 4, microbatchSize: 1 }))).toBe("PAR7055");
    expect(thrownCode(() => megatronStrategy(gpt, mesh, { tensor: 1, pipeline: 1, data: 3, microbatchSize: 1 }))).toBe("PAR7055");
    expect(thrownCode(() => megatronStrategy(gpt, mesh, { tensor: 1, pipeline: 8, data: 1, microbatchSize: 1 }))).toBe("PAR7055");
  });
  it("PAR7057: a search past its time budget says so and returns its best", () => {
    let t = 0;
    const r = searchAtScale(gpt, mesh, { budget: { seconds: 1 }, now: () => (t += 400) });
    expect(r.iterations).toBeGreaterThanOrEqual(1);
    expect(r.stoppedBy).toBe("budget");
    expect(r.diagnostics.map((d) => d.code)).toContain("PAR7057");
  });
});
