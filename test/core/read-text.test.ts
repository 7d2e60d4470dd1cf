// Reading inputs safely: the size is checked before reading, folders and binary or non-UTF-8
// files are refused, each with its code (PAR4001, PAR4003, PAR4004), never a stack trace.
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ParError } from "../../src/core/diagnostics.js";
import { firstNonText, INPUT_LIMITS, readTextFile } from "../../src/core/read-text.js";

const dir = mkdtempSync(join(tmpdir(), "par-read-"));

function refusal(path: string, maxBytes = 1024): { code: string; message: string; pos?: { line: number; column: number }; hint?: string } {
  try {
    readTextFile(path, "shown.par", maxBytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ParError);
    const [d] = (e as ParError).diagnostics;
    return d;
  }
  throw new Error("expected a refusal");
}

describe("readTextFile", () => {
  it("reads UTF-8 text and drops a byte-order mark", () => {
    writeFileSync(join(dir, "bom.par"), "\uFEFFmodel m() {}\n");
    expect(readTextFile(join(dir, "bom.par"), "bom.par", 1024)).toBe("model m() {}\n");
    writeFileSync(join(dir, "utf8.par"), "# Größe: ∑ 😀\n");
    expect(readTextFile(join(dir, "utf8.par"), "utf8.par", 1024)).toBe("# Größe: ∑ 😀\n");
  });

  it("PAR4003: a binary file, at the line and column of its first NUL", () => {
    writeFileSync(join(dir, "elf"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x0a, 0x41, 0x00, 0x01]));
    const d = refusal(join(dir, "elf"));
    expect(d.code).toBe("PAR4003");
    expect(d.message).toContain("is not a text file: byte 6 is a NUL");
    expect(d.pos).toMatchObject({ line: 2, column: 2 });
  });

  it("PAR4003: text that is not UTF-8 (Latin-1, a stray continuation byte, an overlong form)", () => {
    for (const bytes of [[0x61, 0xe9, 0x62], [0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
      writeFileSync(join(dir, "latin1"), Buffer.from(bytes));
      expect(refusal(join(dir, "latin1")).code).toBe("PAR4003");
    }
    expect(firstNonText(Buffer.from("plain ascii\n"))).toBeUndefined();
  });

  it("PAR4004: a file over the limit is refused before it is read (a sparse 5 GiB file returns at once)", () => {
    const big = join(dir, "big.par");
    writeFileSync(big, "");
    truncateSync(big, 5 * 1024 ** 3);
    const t0 = performance.now();
    const d = refusal(big, INPUT_LIMITS.par);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(d.code).toBe("PAR4004");
    expect(d.message).toContain(`${5 * 1024 ** 3} bytes`);
  });

  it("PAR4004: a device without a size (/dev/zero) is read only up to the limit", () => {
    expect(refusal("/dev/zero", 4096).code).toBe("PAR4004");
  });

  it("PAR4001: a folder, or a missing file with a near name", () => {
    mkdirSync(join(dir, "folder"), { recursive: true });
    const folder = refusal(join(dir, "folder"));
    expect(folder).toMatchObject({ code: "PAR4001", hint: "give a file, not a folder" });
    expect(folder.message).toContain("it is a directory");
    writeFileSync(join(dir, "model.par"), "model m() {}\n");
    const missing = refusal(join(dir, "modle.par"));
    expect(missing).toMatchObject({ code: "PAR4001", hint: "did you mean `model.par`?" });
  });
});
