// One budget parser and one default for every caller (src/search/budget.ts).
import { describe, expect, it } from "vitest";
import { ParError } from "../../src/core/diagnostics.js";
import { DEFAULT_BUDGET, formatBudget, parseBudget, readBudget } from "../../src/search/budget.js";

describe("search budget", () => {
  it("a plain integer is an iteration count; ms, s, m and min are durations", () => {
    expect(parseBudget("20000")).toEqual({ iterations: 20000 });
    expect(parseBudget("500ms")).toEqual({ seconds: 0.5 });
    expect(parseBudget("2s")).toEqual({ seconds: 2 });
    expect(parseBudget("1.5s")).toEqual({ seconds: 1.5 });
    expect(parseBudget("1m")).toEqual({ seconds: 60 });
    expect(parseBudget("2min")).toEqual({ seconds: 120 });
    expect(parseBudget(" 10s ")).toEqual({ seconds: 10 });
  });

  it("malformed budgets are rejected: words, zero, fractions of an iteration, negative, units it does not know", () => {
    for (const bad of ["fast", "0", "0s", "1.5", "-3", "10h", "s", "", "1e3"]) expect(parseBudget(bad), bad).toBeUndefined();
  });

  it("readBudget: the default when absent, a coded PAR7002 error with a hint when malformed", () => {
    expect(readBudget(undefined)).toBe(DEFAULT_BUDGET);
    expect(readBudget("300")).toEqual({ iterations: 300 });
    let caught: unknown;
    try {
      readBudget("fast");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ParError);
    const [d] = (caught as ParError).diagnostics;
    expect(d).toMatchObject({ code: "PAR7002", severity: "error" });
    expect(d.message).toContain('"fast"');
    expect(d.hint).toMatch(/20000.*500ms/);
  });

  it("one documented default: 4000 iterations (deterministic)", () => {
    expect(DEFAULT_BUDGET).toEqual({ iterations: 4000 });
    expect(formatBudget(DEFAULT_BUDGET)).toBe("4000 iterations");
    expect(formatBudget({ seconds: 0.5 })).toBe("0.5 s");
  });
});
