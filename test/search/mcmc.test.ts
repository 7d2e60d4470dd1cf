import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { defaultCosts } from "../../src/cost/default-costs.js";
import { peakMemory } from "../../src/cost/memory.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import { Evaluator } from "../../src/search/evaluate.js";
import { MemoryTracker } from "../../src/search/memory-tracker.js";
import { parseBudget } from "../../src/search/budget.js";
import { mcmcSearch } from "../../src/search/mcmc.js";
import { makeRng } from "../../src/search/rng.js";
import { searchSetup, searchStrategy } from "../../src/search/search.js";
import { simulateIterationTime } from "../../src/sim/simulate.js";
import { smallMlp } from "./helpers.js";

describe("MCMC search", () => {
  const g = smallMlp(64, 512, 3);
  const mesh = builtinMesh("p100x16")!;

  it("parses budgets", () => {
    expect(parseBudget("20000")).toEqual({ iterations: 20000 });
    expect(parseBudget("10s")).toEqual({ seconds: 10 });
    expect(parseBudget("500ms")).toEqual({ seconds: 0.5 });
    expect(parseBudget("2m")).toEqual({ seconds: 120 });
    expect(parseBudget("fast")).toBeUndefined();
    expect(parseBudget("0")).toBeUndefined();
  });

  it("is deterministic for (input, iteration budget, seed)", () => {
    const a = searchStrategy(g, mesh, { budget: { iterations: 600 }, seed: 7 });
    const b = searchStrategy(g, mesh, { budget: { iterations: 600 }, seed: 7 });
    expect(b.best.strategy).toEqual(a.best.strategy);
    expect(b.best.iterationTime).toBe(a.best.iterationTime);
    expect(b.iterations).toBe(a.iterations);
    expect(b.acceptanceRate).toBe(a.acceptanceRate);
  });

  it("is never worse than its best seed, returns a valid strategy and reports progress", () => {
    for (const seed of [1, 2, 3]) {
      const progress: number[] = [];
      const r = searchStrategy(g, mesh, { budget: { iterations: 800 }, seed, onProgress: (p) => progress.push(p.bestIterationTime) });
      const seeds = [r.baselines.dataParallel, r.baselines.modelParallel, r.baselines.expert, ...(r.baselines.megatron ? [r.baselines.megatron] : [])];
      for (const s of seeds) if (s.feasible) expect(r.best.iterationTime).toBeLessThanOrEqual(s.iterationTime);
      expect(validateStrategy(g, mesh, r.best.strategy, new Diagnostics())).toBe(true);
      expect(r.best.iterationTime).toBe(simulateIterationTime(g, mesh, r.best.strategy, defaultCosts(g, mesh)));
      expect(progress.length).toBeGreaterThan(0);
      for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeLessThanOrEqual(progress[i - 1]);
    }
  });

  it("stops when the best has not improved for half the budget", () => {
    const costs = defaultCosts(g, mesh);
    const { seeds, space } = searchSetup(g, mesh);
    const r = mcmcSearch(g, mesh, costs, seeds, space, { budget: { iterations: 4000 }, seed: 1 });
    if (r.stoppedBy === "no-improvement") expect(r.iterations - r.bestIteration).toBe(2000);
    else expect(r.iterations).toBe(4000);
    expect(r.cost).toBeLessThanOrEqual(Math.min(...r.seedCosts));
  });

  it("the memory tracker equals peakMemory under random one-op changes", () => {
    const { space, dp } = searchSetup(g, mesh);
    const tracker = new MemoryTracker(g, mesh, dp.ops, "adam");
    const ops = { ...dp.ops };
    const rng = makeRng(5);
    const names = g.topoOrder();
    for (let i = 0; i < 90; i++) {
      const op = names[rng.int(names.length)];
      const random = space.randomConfig(op, rng);
      // Every third change stacks all tasks on one device: replicas there hold one copy.
      const c = i % 3 === 2 ? { ...random, devices: random.devices.map(() => random.devices[0]) } : random;
      ops[op.name] = c;
      tracker.setConfig(op.name, c);
      const ref = peakMemory(g, { ...dp, ops }, mesh, "adam");
      expect([...tracker.totals]).toEqual(ref.peakBytes);
      expect(tracker.feasible()).toBe(ref.overCapacity.length === 0);
    }
  });

  it("the evaluator's iteration time matches a fresh simulation after moves and reverts", () => {
    const costs = defaultCosts(g, mesh);
    const { space, dp } = searchSetup(g, mesh);
    const ev = new Evaluator(g, mesh, dp, costs);
    const rng = makeRng(9);
    for (let i = 0; i < 30; i++) {
      const op = g.topoOrder()[rng.int(g.ops.size)];
      const old = ev.ops[op.name];
      ev.set(op.name, space.randomConfig(op, rng));
      ev.cost();
      if (i % 2) ev.set(op.name, old);
      expect(ev.iterationTime()).toBe(simulateIterationTime(g, mesh, { ...dp, ops: ev.snapshot() }, costs));
    }
  });
});
