// Every LLM-config code is documented in docs/import.md and exercised by a test that expects it.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LLM_CODES } from "../../../src/frontend/llm/codes.js";
import { allCodes } from "../../../src/codes.js";

const here = new URL("./", import.meta.url);
const tests = readdirSync(here).filter((f) => f.endsWith(".test.ts") && f !== "codes.test.ts").map((f) => readFileSync(new URL(f, here), "utf8")).join("\n");
const doc = readFileSync(new URL("../../../docs/import.md", import.meta.url), "utf8");

describe("LLM config diagnostic codes", () => {
  it("lie in PAR6060-PAR6069, are gathered in the code tables, each tested and documented", () => {
    for (const code of Object.keys(LLM_CODES)) {
      expect(code).toMatch(/^PAR606\d$/);
      expect(allCodes().get(code)?.area, code).toBe("llm import");
      expect(new RegExp(`${code}[ "]`).test(tests), `${code} tested`).toBe(true);
      expect(doc.includes(code), `${code} documented`).toBe(true);
    }
  });
});
