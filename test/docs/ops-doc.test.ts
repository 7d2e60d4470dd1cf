// docs/ops.md is the operator reference: its table must list every registered op, and
// nothing else, so that the page cannot silently fall out of date with src/ops/registry.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { opNames } from "../../src/ops/registry.js";

const DOC = readFileSync(join(import.meta.dirname, "..", "..", "docs", "ops.md"), "utf8");

/** The "## The ops" section, which holds the table (other tables name fields and dims). */
function opsSection(text: string): string {
  const start = text.indexOf("\n## The ops\n");
  if (start < 0) return "";
  const end = text.indexOf("\n## ", start + 1);
  return end < 0 ? text.slice(start) : text.slice(start, end);
}

const TABLE = opsSection(DOC);

/** Op names of the table rows: lines that start with "| `name` |". */
function tableNames(text: string): string[] {
  return text
    .split("\n")
    .map((line) => /^\| `([a-z0-9_]+)` \|/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

describe("docs/ops.md", () => {
  it("has the op table under \"## The ops\"", () => {
    expect(TABLE).toContain("| op | family | inputs → outputs | parallel dims | params |");
  });

  it("has a table row for every registered op", () => {
    const missing = opNames().filter((name) => !TABLE.includes(`| \`${name}\` |`));
    expect(missing, `ops missing from the table in docs/ops.md: ${missing.join(", ")}`).toEqual([]);
  });

  it("has no table row for an op that is not registered", () => {
    const registered = new Set(opNames());
    const stale = tableNames(TABLE).filter((name) => !registered.has(name));
    expect(stale, `rows in docs/ops.md for unregistered ops: ${stale.join(", ")}`).toEqual([]);
  });

  it("lists each op once", () => {
    const names = tableNames(TABLE);
    const repeated = names.filter((name, i) => names.indexOf(name) !== i);
    expect(repeated).toEqual([]);
  });
});
