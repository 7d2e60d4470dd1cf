// Every example par shows runs (issue 20, row 12: help named models/gpt.par and a mesh
// a100x16 that do not exist): the examples of `par --help`, of each command's `--help`
// and of the ```sh blocks of README.md and docs/*.md run in-process, in order, in a
// scratch folder holding copies of the shipped models/, strategies/ and docs/examples/,
// and each exits 0 without an internal error. Lines that cannot run here say so with
// `# not run: REASON`; that list stays short.
import { cpSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandHelp, mainHelp, runCli } from "../../src/cli/main.js";
import { COMMANDS } from "../../src/cli/registry.js";
import { captureIo } from "../cli/cli-helpers.js";
import { helpExamples, markdownExamples, markdownFiles, parseExample, type Example } from "./examples.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** A fresh folder with what the examples read; what they write stays there. */
function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), "par-examples-"));
  for (const d of ["models", "strategies", join("docs", "examples")]) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
  return dir;
}

/** `models/*.par` → the matching files (sorted), as a shell would expand it. */
function expandGlob(word: string, cwd: string): string[] {
  if (!word.includes("*")) return [word];
  const re = new RegExp(`^${basename(word).replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  const matches = readdirSync(join(cwd, dirname(word))).filter((f) => re.test(f)).sort();
  return matches.map((f) => join(dirname(word), f));
}

async function runExample(e: Example, cwd: string): Promise<void> {
  for (const c of e.commands) {
    const io = captureIo(cwd);
    const code = await runCli(c.argv.flatMap((w) => expandGlob(w, cwd)), io);
    expect(code, `${e.source}: \`${e.line}\` exited ${code}\n${io.stderr}`).toBe(0);
    expect(io.stderr).not.toMatch(/internal error|\n\s+at /);
    if (c.stdoutTo) writeFileSync(join(cwd, c.stdoutTo), io.stdout);
  }
}

const HELP_SOURCES: { source: string; text: string }[] = [
  { source: "par --help", text: mainHelp() },
  ...COMMANDS.map((c) => ({ source: `par ${c.name} --help`, text: commandHelp(c) })),
];
const DOC_SOURCES = markdownFiles(ROOT);
const ALL: Example[] = [...HELP_SOURCES.flatMap((h) => helpExamples(h.source, h.text)), ...DOC_SOURCES.flatMap((f) => markdownExamples(ROOT, f))];

describe("the examples are found", () => {
  it("every command's help has examples, and the docs have ```sh examples", () => {
    for (const c of COMMANDS) expect(helpExamples(`par ${c.name} --help`, commandHelp(c)).length, c.name).toBeGreaterThan(0);
    expect(ALL.filter((e) => !e.source.startsWith("par ")).length).toBeGreaterThanOrEqual(10);
  });

  it("lines that cannot run are few and say why", () => {
    const notRun = ALL.filter((e) => e.notRun !== undefined);
    expect(notRun.length).toBeLessThanOrEqual(4);
    for (const e of notRun) expect(e.notRun!.length).toBeGreaterThan(5);
  });

  it("a line that is not a par command must be marked", () => {
    expect(() => parseExample("x", "dot -Tsvg a.dot > a.svg")).toThrow(/mark it `# not run: REASON`/);
    expect(parseExample("x", "npx par check models/mlp.par > out.txt   # a comment").commands).toEqual([{ argv: ["check", "models/mlp.par"], stdoutTo: "out.txt" }]);
  });
});

for (const h of HELP_SOURCES) {
  const examples = helpExamples(h.source, h.text);
  if (examples.length === 0) continue;
  describe(`examples of \`${h.source}\``, () => {
    const cwd = sandbox();
    for (const e of examples) it(e.line, () => runExample(e, cwd));
  });
}

for (const file of DOC_SOURCES) {
  const examples = markdownExamples(ROOT, file).filter((e) => e.notRun === undefined);
  if (examples.length === 0) continue;
  describe(`examples of ${file}`, () => {
    const cwd = sandbox();
    for (const e of examples) it(`${e.source}: ${e.line}`, () => runExample(e, cwd));
  });
}
