// Every importer code is documented and exercised by a test that expects it.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { IMPORT_CODES } from "../../src/frontend/import-codes.js";

const files = ["onnx", "keras"].flatMap((d) => readdirSync(new URL(`./${d}/`, import.meta.url)).map((f) => new URL(`./${d}/${f}`, import.meta.url)));
const tests = files.map((f) => readFileSync(f, "utf8")).join("\n");
const doc = readFileSync(new URL("../../docs/import.md", import.meta.url), "utf8");

describe("importer diagnostic codes", () => {
  it("lie in PAR6001-PAR6099, each tested and documented", () => {
    for (const code of Object.keys(IMPORT_CODES)) {
      expect(code).toMatch(/^PAR60\d\d$/);
      expect(tests.includes(`"${code}"`), `${code} tested`).toBe(true);
      expect(doc.includes(code), `${code} documented`).toBe(true);
    }
  });
});
