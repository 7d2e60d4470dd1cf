import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { globToRegExp, NameTable } from "../../src/frontend/naming.js";
import { assertProperty } from "../support/property.js";

describe("NameTable", () => {
  it("claims a free name as is, then `_2`, `_3`, skipping names already taken", () => {
    const t = new NameTable();
    expect(t.claim("h")).toBe("h");
    expect(t.claim("h_3")).toBe("h_3");
    expect(t.claim("h")).toBe("h_2");
    expect(t.claim("h")).toBe("h_4");
    expect(t.has("h_4")).toBe(true);
    expect(t.has("h_5")).toBe(false);
  });

  it("never hands out the same name twice", () => {
    assertProperty(
      fc.property(fc.array(fc.constantFrom("a", "a_2", "b", "a_3", "b_2"), { maxLength: 60 }), (bases) => {
        const t = new NameTable();
        const got = bases.map((b) => t.claim(b));
        return new Set(got).size === got.length && got.every((g, i) => g === bases[i] || g.startsWith(bases[i] + "_"));
      }),
      200,
    );
  });
});

describe("globToRegExp", () => {
  it("`*` spans dots, `?` is one character, the match is anchored, the rest literal", () => {
    expect(globToRegExp("layer*.attn").test("layer3.block.attn")).toBe(true);
    expect(globToRegExp("layer?.h").test("layer3.h")).toBe(true);
    expect(globToRegExp("layer?.h").test("layer12.h")).toBe(false);
    expect(globToRegExp("h").test("h.linear")).toBe(false);
    expect(globToRegExp("h.linear").test("hxlinear")).toBe(false);
    expect(globToRegExp("a+b(c)").test("a+b(c)")).toBe(true);
    expect(globToRegExp("*").test("")).toBe(true);
  });
});
