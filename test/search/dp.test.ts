import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { defaultCosts } from "../../src/cost/default-costs.js";
import { Graph } from "../../src/ir/graph.js";
import { chainDp, chainOps, ChainCost } from "../../src/search/dp.js";
import { exhaustiveSearch } from "../../src/search/exhaustive.js";
import { SearchSpace } from "../../src/search/space.js";
import { addOp, clusterMesh } from "./helpers.js";
import { f32 } from "../sim/fixtures.js";

function chain(): Graph {
  const g = new Graph("chain");
  g.addInput("x", f32(8, 16));
  addOp(g, "fc0", "linear", ["x"], { out: 16 });
  addOp(g, "relu0", "relu", ["fc0"]);
  addOp(g, "fc1", "linear", ["relu0"], { out: 4 });
  return g;
}

describe("chain DP", () => {
  it("recognises chains and rejects branching graphs with PAR7004", () => {
    const g = chain();
    expect(chainOps(g)!.map((o) => o.name)).toEqual(["fc0", "relu0", "fc1"]);
    const b = chain();
    addOp(b, "add", "add", ["fc1", "fc1"]);
    addOp(b, "fc2", "linear", ["relu0"], { out: 4 });
    expect(chainOps(b)).toBeUndefined();
    const d = new Diagnostics();
    const mesh = clusterMesh(1, 2);
    expect(chainDp(b, mesh, defaultCosts(b, mesh), new SearchSpace(b, mesh), d)).toBeUndefined();
    expect(d.items[0].code).toBe("PAR7004");
  });

  it("equals the exhaustive optimum of the additive chain cost", () => {
    const g = chain();
    for (const mesh of [clusterMesh(1, 2), clusterMesh(1, 4), clusterMesh(2, 2)]) {
      const costs = defaultCosts(g, mesh);
      const space = new SearchSpace(g, mesh);
      const dp = chainDp(g, mesh, costs, space)!;
      const ex = exhaustiveSearch(g, mesh, costs, space, { objective: "chain" })!;
      expect(dp.cost).toBeCloseTo(ex.cost, 15);
      expect(new ChainCost(g, mesh, costs).total(chainOps(g)!, dp.strategy.ops)).toBe(dp.cost);
    }
  });

  it("exhaustive search refuses spaces over its limit with PAR7003", () => {
    const g = chain();
    const mesh = builtinMesh("p100x16")!;
    const d = new Diagnostics();
    expect(exhaustiveSearch(g, mesh, defaultCosts(g, mesh), new SearchSpace(g, mesh), { limit: 10 }, d)).toBeUndefined();
    expect(d.items[0].code).toBe("PAR7003");
  });
});
