import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { Io } from "../../src/cli/command.js";
import { CLI_CODES } from "../../src/cli/codes.js";
import { runCli } from "../../src/cli/main.js";
import { readSource } from "../../src/core/read-source.js";

const MESSY = "model m(a=1){h=relu( (x) )}\n";
const CLEAN = "model m(a = 1) {\n  h = relu(x)\n}\n";

async function fmt(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), isTty: false, cwd };
  const code = await runCli(["fmt", ...args], io);
  return { code, out, err };
}

function workdir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "par-fmt-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("par fmt", () => {
  it("prints the formatted file", async () => {
    const dir = workdir({ "a.par": MESSY });
    expect(await fmt(["a.par"], dir)).toEqual({ code: 0, out: CLEAN, err: "" });
  });

  it("--check exits 1 for an unformatted file and 0 for a formatted one", async () => {
    const dir = workdir({ "a.par": MESSY, "b.par": CLEAN });
    const bad = await fmt(["--check", "a.par", "b.par"], dir);
    expect(bad.code).toBe(1);
    expect(bad.out).toBe("");
    expect(bad.err).toContain("a.par:1:10: error PAR4005: not in canonical form from line 1 on");
    expect(bad.err).not.toContain("b.par");
    expect((await fmt(["--check", "b.par"], dir)).code).toBe(0);
  });

  it("--write rewrites only files that change", async () => {
    const dir = workdir({ "a.par": MESSY, "b.par": CLEAN });
    const r = await fmt(["--write", "a.par", "b.par"], dir);
    expect(r.code).toBe(0);
    expect(r.err).toBe("formatted a.par\n");
    expect(readFileSync(join(dir, "a.par"), "utf8")).toBe(CLEAN);
    expect((await fmt(["--check", "a.par"], dir)).code).toBe(0);
  });

  it("--json reports per file", async () => {
    const dir = workdir({ "a.par": MESSY });
    const r = await fmt(["--json", "--check", "a.par"], dir);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ files: [{ file: "a.par", changed: true }] });
    expect(JSON.parse(r.err).diagnostics.map((d: { code: string }) => d.code)).toEqual(["PAR4005"]);
    const printed = JSON.parse((await fmt(["--json", "a.par"], dir)).out);
    expect(printed.files[0].text).toBe(CLEAN);
  });

  it("never formats a file with syntax errors", async () => {
    const dir = workdir({ "bad.par": "model m {\n  input x = f32[4]\n" });
    const r = await fmt(["--write", "bad.par"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain("bad.par:2:11: error PAR1003");
    expect(r.err).toContain("   2 |   input x = f32[4]");
    expect(readFileSync(join(dir, "bad.par"), "utf8")).toBe("model m {\n  input x = f32[4]\n");
  });

  it("a missing file is PAR4001 with a suggestion, not a stack trace", async () => {
    const dir = workdir({ "model.par": CLEAN });
    const r = await fmt(["modle.par"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error PAR4001: cannot read file `modle.par`: no such file");
    expect(r.err).toContain("did you mean `model.par`?");
    expect((await fmt(["."], dir)).err).toContain("it is a directory");
  });

  it("the shipped models are canonical: `--check models/*.par` passes and prints nothing (issue 20, row 13)", async () => {
    const root = join(import.meta.dirname, "..", "..");
    const models = readdirSync(join(root, "models")).filter((f) => f.endsWith(".par")).map((f) => join("models", f));
    expect(models.length).toBeGreaterThanOrEqual(12);
    const r = await fmt(["--check", ...models], root);
    expect(r).toEqual({ code: 0, out: "", err: "" });
    // An unformatted file: exit 1, its name on stderr, nothing on stdout.
    const dir = workdir({ "a.par": MESSY, "b.par": CLEAN });
    const bad = await fmt(["--check", "a.par", "b.par"], dir);
    expect(bad).toMatchObject({ code: 1, out: "" });
    expect(bad.err).toBe("a.par:1:10: error PAR4005: not in canonical form from line 1 on\n   1 | model m(a=1){h=relu( (x) )}\n     |          ^\n  expected: `model m(a = 1) {`\n  hint: run `par fmt --write a.par`\n");
  });

  it("usage errors exit 2", async () => {
    const dir = workdir({});
    expect((await fmt([], dir)).code).toBe(2);
    expect((await fmt(["--write", "--check", "a.par"], dir)).code).toBe(2);
    expect((await fmt(["a.par", "b.par"], dir)).code).toBe(2);
  });

  it("is listed in `par --help`", async () => {
    let out = "";
    await runCli(["--help"], { out: (t) => void (out += t), err: () => {}, isTty: false, cwd: "." });
    expect(out).toMatch(/\n {2}fmt +format \.par files/);
  });
});

describe("readSource", () => {
  it("records the text for excerpts, or reports PAR4001 into a diagnostics sink", () => {
    const dir = workdir({ "a.par": CLEAN });
    const ctx = { sources: new Map<string, string>(), diagnostics: new Diagnostics() };
    expect(readSource(join(dir, "a.par"), ctx)).toBe(CLEAN);
    expect(ctx.sources.get(join(dir, "a.par"))).toBe(CLEAN);
    expect(readSource(join(dir, "zzz.par"), ctx)).toBeUndefined();
    expect(ctx.diagnostics.items.map((d) => d.code)).toEqual(["PAR4001"]);
    expect(Object.keys(CLI_CODES)).toEqual(expect.arrayContaining(["PAR4001", "PAR4002"]));
  });
});
