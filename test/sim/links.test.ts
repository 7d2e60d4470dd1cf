import { describe, expect, it } from "vitest";
import { Links } from "../../src/sim/links.js";
import { clusterMesh } from "./fixtures.js";

describe("link queues", () => {
  it("a queue per ordered pair inside a node, per sender uplink across nodes, per group for collectives", () => {
    const links = new Links(clusterMesh(2, 2));
    expect(links.transfer(0, 1)).not.toBe(links.transfer(1, 0));
    expect(links.transfer(0, 2)).toBe(links.transfer(1, 3)); // both leave node 0
    expect(links.transfer(2, 0)).not.toBe(links.transfer(0, 2));
    expect(links.classOf[links.transfer(0, 1)]).toBe("nvlink");
    expect(links.classOf[links.transfer(0, 2)]).toBe("infiniband");
    expect(links.collective([0, 1])).not.toBe(links.collective([2, 3]));
    expect(links.classOf[links.collective([0, 3])]).toBe("infiniband");
  });
});
