// Codes the docs mention are codes par has, and the lists that claim to be complete are
// (issue 20, row 15: the docs said PAR3170 where the CLI said PAR3103). docs/codes.md lists
// every code of src/codes.ts with its title; PAR_WRITE_DOCS=1 rewrites it from the tables.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandHelp, mainHelp } from "../../src/cli/main.js";
import { COMMANDS } from "../../src/cli/registry.js";
import { allCodes, CODE_TABLES } from "../../src/codes.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DOCS = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const read = (f: string) => readFileSync(join(ROOT, f), "utf8");

/** docs/codes.md as the code tables make it. */
function codesMarkdown(): string {
  const lines = [
    "# Diagnostic codes",
    "",
    "Every code par reports, by the area that raises it (`src/codes.ts` gathers the tables; each",
    "lives beside the code that raises it). Every diagnostic carries its code, where there is",
    "one a `file:line:column`, what was expected and a hint; docs/cli.md describes the format.",
    "This page is generated from the tables (`PAR_WRITE_DOCS=1 npx vitest run test/docs/codes-doc.test.ts`)",
    "and a test keeps it complete.",
  ];
  for (const [area, table] of Object.entries(CODE_TABLES)) {
    lines.push("", `## ${area}`, "", "| Code | Meaning |", "|------|---------|");
    for (const [code, info] of Object.entries(table)) lines.push(`| ${code} | ${info.title.replace(/\|/g, "\\|")} |`);
  }
  return lines.join("\n") + "\n";
}

/** The codes of a doc's table rows (`| PARxxxx |`). */
function tableCodes(text: string): string[] {
  return [...text.matchAll(/^\| (PAR\d{4}) \|/gm)].map((m) => m[1]);
}

describe("diagnostic codes in the docs", () => {
  it("docs/codes.md lists every code with its title, and nothing else", () => {
    const want = codesMarkdown();
    if (process.env.PAR_WRITE_DOCS) writeFileSync(join(ROOT, "docs", "codes.md"), want);
    expect(read("docs/codes.md")).toBe(want);
  });

  it("every code the docs, the README and the help mention exists", () => {
    const known = allCodes();
    const texts = [...DOCS.map((f) => ({ where: f, text: read(f) })), { where: "par --help", text: [mainHelp(), ...COMMANDS.map(commandHelp)].join("\n") }];
    // A range (`PAR3001–PAR3049`) names an area's numbers, not codes.
    const unknown = texts.flatMap(({ where, text }) => [...text.replace(/PAR\d{4}\s*[–-]\s*PAR\d{4}/g, "").matchAll(/PAR\d{4}/g)].map((m) => m[0]).filter((c) => !known.has(c)).map((c) => `${c} in ${where}`));
    expect([...new Set(unknown)]).toEqual([]);
  });

  it("the per-area tables of the docs are complete: syntax (language.md), meshes, ops, import", () => {
    const area = (name: string) => Object.keys(CODE_TABLES[name]).sort();
    expect(tableCodes(read("docs/language.md")).sort()).toEqual(area("syntax"));
    expect(tableCodes(read("docs/meshes.md")).sort()).toEqual(area("mesh"));
    expect(tableCodes(read("docs/ops.md")).sort()).toEqual(area("ops"));
    expect(tableCodes(read("docs/import.md")).filter((c) => c.startsWith("PAR6")).sort()).toEqual([...area("import"), ...area("llm import")].sort());
    expect(tableCodes(read("docs/cli.md")).sort()).toEqual(area("cli"));
  });
});
