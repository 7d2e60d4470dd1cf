// The stage functions of src/pipeline.ts, the one composer of the road: each from one type
// to the next, timings and diagnostics in the context, coded errors thrown (never printed).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtinMesh } from "../src/core/builtin-meshes.js";
import { ParError } from "../src/core/diagnostics.js";
import { baseline } from "../src/ir/baselines.js";
import { writePlan } from "../src/plan/io.js";
import { compile, createContext, load, loadPlan, reference, search, simulate } from "../src/pipeline.js";

const MLP = { overrides: { batch: 8, hidden: 16, layers: 1 } };

function thrown(fn: () => unknown): ParError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParError) return e;
    throw e;
  }
  throw new Error("expected a ParError");
}

describe("pipeline stages", () => {
  const mesh = builtinMesh("p100x16")!;

  it("load → search → compile → reference, each stage timed, no diagnostics on a good model", () => {
    const ctx = createContext();
    const model = load("models/mlp.par", ctx, MLP);
    expect(model.format).toBe("par");
    const found = search(model.graph, mesh, ctx, { budget: { iterations: 100 }, seed: 3 });
    expect(found.feasible).toBe(true);
    const plan = compile(model.graph, mesh, found.best.strategy, ctx, { seed: 3 });
    expect(plan.programs.length).toBeGreaterThan(0);
    expect(plan.seed).toBe(3);
    const single = reference(model.graph, plan, ctx);
    expect(single.programs.length).toBe(1);
    expect(single.seed).toBe(3);
    for (const stage of ["load", "search", "lower"] as const) expect(ctx.timings[stage]).toBeGreaterThan(0);
    expect(ctx.diagnostics.items).toEqual([]);
  });

  it("search is deterministic for an iteration budget", () => {
    const ctx = createContext();
    const { graph } = load("models/mlp.par", ctx, MLP);
    const a = search(graph, mesh, ctx, { budget: { iterations: 200 }, seed: 5 });
    const b = search(graph, mesh, ctx, { budget: { iterations: 200 }, seed: 5 });
    expect(a.best.strategy).toEqual(b.best.strategy);
  });

  it("simulate: the timeline and peak memory of a strategy", () => {
    const ctx = createContext();
    const { graph } = load("models/mlp.par", ctx, MLP);
    const sim = simulate(graph, mesh, baseline("dp", graph, mesh), ctx);
    expect(sim.timeline.iterationTime).toBeGreaterThan(0);
    expect(sim.memory.devices.length).toBe(mesh.devices.length);
    expect(sim.interference).toBeUndefined();
  });

  it("a failing stage throws its coded errors and leaves them in the context", () => {
    const ctx = createContext();
    const missing = thrown(() => load("models/nope.par", ctx));
    expect(missing.diagnostics.map((d) => d.code)).toEqual(["PAR4001"]);
    expect(ctx.diagnostics.errors.map((d) => d.code)).toEqual(["PAR4001"]);

    const { graph } = load("models/mlp.par", ctx, MLP);
    const dp = baseline("dp", graph, mesh);
    const broken = { ...dp, ops: { ...dp.ops, [graph.topoOrder()[0].name]: { degrees: [3], devices: [0] } } };
    const invalid = thrown(() => compile(graph, mesh, broken, ctx));
    expect(invalid.diagnostics.length).toBeGreaterThan(0);
    expect(invalid.diagnostics.every((d) => /^PAR\d{4}$/.test(d.code) && ctx.diagnostics.items.includes(d))).toBe(true);
    // An earlier failure does not fail a later, good stage.
    expect(compile(graph, mesh, dp, ctx).programs.length).toBe(mesh.devices.length);
  });

  it("loadPlan: a plan file and the graph rebuilt from it compile the same reference", () => {
    const ctx = createContext({ cwd: mkdtempSync(join(tmpdir(), "par-pipeline-")) });
    const { graph } = load(join(process.cwd(), "models/mlp.par"), ctx, MLP);
    const plan = compile(graph, mesh, baseline("dp", graph, mesh), ctx);
    writePlan(join(ctx.cwd!, "p.json"), plan);
    const back = loadPlan("p.json", ctx);
    expect(back.plan).toEqual(plan);
    expect(reference(back.graph, back.plan, ctx)).toEqual(reference(graph, plan, ctx));
    // A missing plan is a file that cannot be read, like any other (PAR4001, with the path as given).
    const missing = thrown(() => loadPlan("absent.json", ctx)).diagnostics;
    expect(missing.map((d) => d.code)).toEqual(["PAR4001"]);
    expect(missing[0].message).toBe("cannot read file `absent.json`: no such file");
  });
});
