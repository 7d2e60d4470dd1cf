// Properties: on random tiny graphs (2–4 ops) and meshes (1–4 devices) the MCMC search
// (searchStrategy, default budget) finds exactly the exhaustive optimum of the same space
// and objective; on chains the DP and the exhaustive search under the DP's additive cost
// agree.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultCosts } from "../../src/cost/default-costs.js";
import { chainDp } from "../../src/search/dp.js";
import { Evaluator } from "../../src/search/evaluate.js";
import { exhaustiveSearch, spaceSize } from "../../src/search/exhaustive.js";
import { DEFAULT_BUDGET } from "../../src/search/budget.js";
import { mcmcSearch } from "../../src/search/mcmc.js";
import { searchSetup, searchStrategy } from "../../src/search/search.js";
import { assertProperty } from "../support/property.js";
import { rng, tinyGraph, tinyMesh } from "./helpers.js";

const LIMIT = 6000;

describe("search optimality", () => {
  it("MCMC equals the exhaustive optimum (0.0 % gap)", () => {
    assertProperty(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 2, max: 4 }), (seed, n) => {
        const r = rng(seed);
        const g = tinyGraph(r, n);
        const mesh = tinyMesh(r);
        const { space } = searchSetup(g, mesh);
        fc.pre(spaceSize(g, space) <= LIMIT);
        const costs = defaultCosts(g, mesh);
        const ex = exhaustiveSearch(g, mesh, costs, space, { limit: LIMIT })!;
        const res = searchStrategy(g, mesh, { budget: DEFAULT_BUDGET, seed: seed % 1000, costs });
        const ev = new Evaluator(g, mesh, res.best.strategy, costs);
        const gap = (ev.cost() - ex.cost) / ex.cost;
        expect(gap).toBe(0);
      }),
      25,
    );
  });

  it("MCMC alone (no enumeration) never beats the optimum and hits it in most cases", () => {
    const gaps: number[] = [];
    assertProperty(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 2, max: 4 }), (seed, n) => {
        const r = rng(seed);
        const g = tinyGraph(r, n);
        const mesh = tinyMesh(r);
        const { space, seeds } = searchSetup(g, mesh);
        fc.pre(spaceSize(g, space) <= LIMIT);
        const costs = defaultCosts(g, mesh);
        const ex = exhaustiveSearch(g, mesh, costs, space, { limit: LIMIT })!;
        const res = mcmcSearch(g, mesh, costs, seeds, space, { budget: DEFAULT_BUDGET, seed: seed % 1000 });
        const gap = (res.cost - ex.cost) / ex.cost;
        gaps.push(gap);
        // The MCMC moves only within the space, so it can never beat the exhaustive optimum.
        expect(gap).toBeGreaterThanOrEqual(0);
      }),
      30,
    );
    const exact = gaps.filter((g) => g === 0).length;
    console.log(`MCMC alone: ${exact}/${gaps.length} exact, max gap ${(100 * Math.max(...gaps)).toFixed(3)} %`);
    expect(exact).toBeGreaterThanOrEqual(0.75 * gaps.length);
  });

  it("on chains the DP and the exhaustive search agree", () => {
    assertProperty(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 2, max: 4 }), (seed, n) => {
        const r = rng(seed);
        const g = tinyGraph(r, n, true);
        const mesh = tinyMesh(r);
        const { space } = searchSetup(g, mesh);
        fc.pre(spaceSize(g, space) <= LIMIT);
        const costs = defaultCosts(g, mesh);
        const dp = chainDp(g, mesh, costs, space)!;
        const ex = exhaustiveSearch(g, mesh, costs, space, { objective: "chain", limit: LIMIT })!;
        expect(Math.abs(dp.cost - ex.cost)).toBeLessThanOrEqual(1e-12 * ex.cost);
      }),
      40,
    );
  });
});
