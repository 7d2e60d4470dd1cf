// Writing outputs: atomically, never into a folder that does not exist (no silent mkdir -p),
// never over a folder; each refusal is PAR4002 with a hint, and nothing is left behind.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ParError } from "../../src/core/diagnostics.js";
import { outputProblem, writeFileAtomic } from "../../src/core/files.js";

function refusal(fn: () => void): { code: string; message: string; hint?: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ParError);
    return (e as ParError).diagnostics[0];
  }
  throw new Error("expected a refusal");
}

describe("writeFileAtomic", () => {
  it("writes and replaces a file, leaving no temp file", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-write-"));
    writeFileAtomic(join(dir, "a.json"), "1\n");
    writeFileAtomic(join(dir, "a.json"), "2\n");
    expect(readFileSync(join(dir, "a.json"), "utf8")).toBe("2\n");
    expect(readdirSync(dir)).toEqual(["a.json"]);
  });

  it("PAR4002 for a missing folder: nothing is created, and the hint says how to create it", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-write-"));
    const d = refusal(() => writeFileAtomic(join(dir, "a", "b", "c.json"), "x", "a/b/c.json"));
    expect(d).toMatchObject({ code: "PAR4002", message: "cannot write `a/b/c.json`: the folder `a/b` does not exist" });
    expect(d.hint).toContain("mkdir -p a/b");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("PAR4002 for a folder as the target, and for a file where a folder should be", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-write-"));
    mkdirSync(join(dir, "out"));
    const folder = refusal(() => writeFileAtomic(join(dir, "out"), "x", "out"));
    expect(folder).toMatchObject({ code: "PAR4002", message: "cannot write `out`: it is a folder" });
    expect(folder.hint).toContain("out/out.json");
    writeFileSync(join(dir, "f"), "");
    expect(refusal(() => writeFileAtomic(join(dir, "f", "x.json"), "x", "f/x.json")).message).toContain("`f` is a file, not a folder");
    expect(outputProblem(join(dir, "ok.json"))).toBeUndefined();
    expect(readdirSync(dir).sort()).toEqual(["f", "out"]);
  });
});
