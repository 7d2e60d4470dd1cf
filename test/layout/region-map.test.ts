import { describe, expect, it } from "vitest";
import { partition } from "../../src/core/region.js";
import { RegionMap } from "../../src/layout/region-map.js";

describe("RegionMap", () => {
  it("finds equal regions (other objects) and keeps values in the order they were added", () => {
    const m = new RegionMap<string>();
    m.add({ lo: [0, 2], hi: [4, 6] }, "a");
    m.add({ lo: [], hi: [] }, "scalar");
    m.add({ lo: [0, 2], hi: [4, 7] }, "b");
    expect(m.get({ lo: [0, 2], hi: [4, 6] })).toBe("a");
    expect(m.get({ lo: [], hi: [] })).toBe("scalar");
    expect(m.get({ lo: [0, 2], hi: [4, 7] })).toBe("b");
    expect(m.get({ lo: [0, 2, 0], hi: [4, 6, 1] })).toBeUndefined();
    expect(m.get({ lo: [2, 0], hi: [6, 4] })).toBeUndefined();
    expect(m.values()).toEqual(["a", "scalar", "b"]);
    expect(m.size).toBe(3);
  });

  it("tells apart every part of a fine partition", () => {
    const parts = partition([12, 10, 9], [4, 5, 3]);
    const m = new RegionMap<number>();
    parts.forEach((r, i) => m.add(r, i));
    parts.forEach((r, i) => expect(m.get({ lo: [...r.lo], hi: [...r.hi] })).toBe(i));
  });
});
