import { describe, expect, it } from "vitest";
import { allGatherTime, allReduce, CommModel, p2pTime, reduceScatterTime, ringAllReduceTime } from "../../src/cost/comm.js";
import { routeTable } from "../../src/core/routes.js";
import { clusterMesh } from "../sim/fixtures.js";

describe("alpha-beta formulas", () => {
  it("point to point: latency + bytes / bandwidth; nothing for a device to itself", () => {
    expect(p2pTime(1e6, { bandwidth: 1e9, latency: 1e-6 })).toBeCloseTo(1e-3 + 1e-6, 15);
    expect(p2pTime(1e6, { bandwidth: Infinity, latency: 0 })).toBe(0);
    expect(p2pTime(0, { bandwidth: 1e9, latency: 1e-6 })).toBe(0);
  });

  it("ring all-reduce 2(p−1)/p·n/B + 2(p−1)α; all-gather and reduce-scatter half the volume", () => {
    expect(ringAllReduceTime(1e9, 4, 1e10, 1e-5)).toBeCloseTo((2 * 3 / 4) * 0.1 + 6e-5, 15);
    expect(allGatherTime(1e9, 4, 1e10, 1e-5)).toBeCloseTo((3 / 4) * 0.1 + 3e-5, 15);
    expect(reduceScatterTime(1e9, 4, 1e10, 1e-5)).toBe(allGatherTime(1e9, 4, 1e10, 1e-5));
    expect(ringAllReduceTime(1e9, 1, 1e10, 1e-5)).toBe(0);
  });
});

describe("all-reduce over a mesh", () => {
  const intra = { name: "nvlink", bandwidth: 20e9, latency: 2e-6 };
  const inter = { name: "infiniband", bandwidth: 12.5e9, latency: 5e-6 };
  const mesh = clusterMesh(2, 4, intra, inter);
  const routes = routeTable(mesh);

  it("inside one node: a flat ring at the node link's speed", () => {
    const p = allReduce(1e8, [0, 1, 2, 3], mesh, routes);
    expect(p.algorithm).toBe("ring");
    expect(p.seconds).toBeCloseTo(ringAllReduceTime(1e8, 4, 20e9, 2e-6), 15);
  });

  it("across nodes: reduce-scatter in nodes, all-reduce of shards between nodes, all-gather in nodes", () => {
    const p = allReduce(1e8, [0, 1, 2, 3, 4, 5, 6, 7], mesh, routes);
    expect(p.algorithm).toBe("hierarchical");
    // Inter-node route: up nvlink, across infiniband, down nvlink → bottleneck 12.5 GB/s, 9 us.
    const r = routes.get(0, 4);
    const expected =
      reduceScatterTime(1e8, 4, 20e9, 2e-6) + ringAllReduceTime(1e8 / 4, 2, r.bandwidth, r.latency) + allGatherTime(1e8, 4, 20e9, 2e-6);
    expect(p.seconds).toBeCloseTo(expected, 15);
    // It beats a flat ring paced by the slow link.
    expect(p.seconds).toBeLessThan(ringAllReduceTime(1e8, 8, r.bandwidth, r.latency));
  });

  it("one device per node: a flat ring over the inter-node route", () => {
    const p = allReduce(1e8, [0, 4], mesh, routes);
    expect(p.algorithm).toBe("ring");
    expect(p.interBytes).toBeGreaterThan(0);
  });

  it("CommModel: transfers use the route; plans are cached", () => {
    const cm = new CommModel(mesh);
    expect(cm.transfer(1e6, 0, 1)).toBeCloseTo(2e-6 + 1e6 / 20e9, 15);
    expect(cm.transfer(1e6, 2, 2)).toBe(0);
    expect(cm.allReducePlan(1e6, [0, 1])).toBe(cm.allReducePlan(1e6, [0, 1]));
  });
});
