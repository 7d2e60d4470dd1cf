import { describe, expect, it } from "vitest";
import { median, quantile } from "../../src/core/stats.js";

describe("quantile", () => {
  it("interpolates between order statistics, whatever the input order", () => {
    const xs = [40, 10, 30, 20];
    expect(quantile(xs, 0)).toBe(10);
    expect(quantile(xs, 1)).toBe(40);
    expect(quantile(xs, 0.5)).toBe(25);
    // Position 0.25·3 = 0.75: three quarters of the way from 10 to 20.
    expect(quantile(xs, 0.25)).toBe(17.5);
    expect(xs).toEqual([40, 10, 30, 20]);
  });

  it("clamps q to [0, 1] and is NaN without values", () => {
    expect(quantile([3, 1, 2], -1)).toBe(1);
    expect(quantile([3, 1, 2], 2)).toBe(3);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it("agrees with the median at one half", () => {
    for (const xs of [[1], [2, 1], [5, 1, 4], [9, 2, 7, 4, 1, 8]]) expect(quantile(xs, 0.5)).toBeCloseTo(median(xs), 12);
  });
});
