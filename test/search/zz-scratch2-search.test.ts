import { test } from "vitest";
import { defaultCosts } from "../../src/cost/default-costs.js";
import { Evaluator } from "../../src/search/evaluate.js";
import { exhaustiveSearch, spaceSize } from "../../src/search/exhaustive.js";
import { searchSetup, searchStrategy } from "../../src/search/search.js";
import { rng, tinyGraph, tinyMesh } from "./helpers.js";
test("dbg", () => {
  const seed = 1089650404, n = 4;
  const r = rng(seed);
  const g = tinyGraph(r, n);
  const mesh = tinyMesh(r);
  const { space } = searchSetup(g, mesh);
  console.log([...g.ops.values()].map(o => `${o.name}:${o.sig.space.map(d=>d.name+d.size).join(",")}`).join(" "), mesh.name, spaceSize(g, space));
  const costs = defaultCosts(g, mesh);
  const ex = exhaustiveSearch(g, mesh, costs, space, { limit: 100000 })!;
  console.log("ex", ex.cost, JSON.stringify(ex.strategy.ops));
  for (const budget of [4000, 20000]) for (const s of [0,1,2]) {
    const res = searchStrategy(g, mesh, { budget: {iterations: budget}, seed: s, costs });
    const ev = new Evaluator(g, mesh, res.best.strategy, costs);
    console.log(budget, s, ev.cost(), res.iterations, res.bestIteration, res.acceptanceRate, res.startSeed, JSON.stringify(res.best.strategy.ops));
  }
});
