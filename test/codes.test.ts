// Diagnostic codes: unique across areas, well-formed, every code raised in src/ is in a
// table, and every table code is exercised by some test.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CODE_TABLES, allCodes } from "../src/codes.js";

const ROOT = join(import.meta.dirname, "..");

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p, ext) : ext.test(p) ? [p] : [];
  });
}

const TABLE_FILES = new Set(files(join(ROOT, "src"), /codes\.ts$/));

describe("diagnostic codes", () => {
  it("are unique across the areas' tables and well-formed", () => {
    const seen = new Map<string, string>();
    const dupes: string[] = [];
    for (const [area, table] of Object.entries(CODE_TABLES)) {
      for (const code of Object.keys(table)) {
        expect(code).toMatch(/^PAR\d{4}$/);
        if (seen.has(code)) dupes.push(`${code} in ${seen.get(code)} and ${area}`);
        seen.set(code, area);
      }
    }
    expect(dupes).toEqual([]);
  });

  it("every code raised in src/ is in a table", () => {
    const known = allCodes();
    const unknown = new Set<string>();
    for (const f of files(join(ROOT, "src"), /\.ts$/)) {
      if (TABLE_FILES.has(f)) continue;
      for (const m of readFileSync(f, "utf8").matchAll(/"(PAR\d{4})"/g)) if (!known.has(m[1])) unknown.add(`${m[1]} (${f.slice(ROOT.length + 1)})`);
    }
    expect([...unknown]).toEqual([]);
  });

  it("every table code is exercised by a test", () => {
    const tests = files(join(ROOT, "test"), /\.ts$/).filter((f) => !f.endsWith("codes.test.ts") || !f.endsWith("test/codes.test.ts"));
    const text = tests.filter((f) => f !== join(ROOT, "test", "codes.test.ts")).map((f) => readFileSync(f, "utf8")).join("\n");
    const untested = [...allCodes().keys()].filter((c) => !text.includes(c));
    expect(untested).toEqual([]);
  });
});
