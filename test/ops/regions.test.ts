import { describe, expect, it } from "vitest";
import { partition } from "../../src/core/region.js";
import type { AxisMap } from "../../src/ops/contract.js";
import { axisRange, tensorRegion } from "../../src/ops/regions.js";

describe("axisRange: block maps", () => {
  const block: AxisMap = { kind: "block", dim: 1, blockSize: 4 };

  it("a box [lo, hi) along the dim touches [lo*blockSize, hi*blockSize)", () => {
    expect(axisRange(block, { lo: [0, 0], hi: [3, 1] }, 12)).toEqual([0, 4]);
    expect(axisRange(block, { lo: [0, 1], hi: [3, 3] }, 12)).toEqual([4, 12]);
    expect(axisRange(block, { lo: [2, 0], hi: [3, 3] }, 12)).toEqual([0, 12]);
  });

  it("the blocks of any split tile the tensor axis exactly", () => {
    for (const parts of [1, 2, 3]) {
      const boxes = partition([1, 3], [1, parts]);
      const ranges = boxes.map((b) => axisRange(block, b, 12));
      expect(ranges[0][0]).toBe(0);
      expect(ranges[ranges.length - 1][1]).toBe(12);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBe(ranges[i - 1][1]);
    }
  });

  it("mixes with the other kinds in tensorRegion", () => {
    const maps: AxisMap[] = [{ kind: "full" }, { kind: "block", dim: 2, blockSize: 3 }, { kind: "iter", dim: 0 }];
    expect(tensorRegion(maps, [5, 6, 4], { lo: [1, 0, 1], hi: [3, 7, 2] })).toEqual({ lo: [0, 3, 1], hi: [5, 6, 3] });
  });
});
