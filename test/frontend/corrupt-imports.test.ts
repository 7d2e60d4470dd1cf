// Corrupt model files found by the fuzzer (fuzz/): each is a coded diagnostic, never an
// internal error. The inputs are the shipped example files with the bytes the fuzzer
// changed, so each case stays readable here.
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { loadModelResult } from "../../src/frontend/load-model.js";

const EXAMPLES = join(import.meta.dirname, "..", "..", "docs", "examples");

function loadBytes(name: string, bytes: Uint8Array, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), "par-corrupt-"));
  writeFileSync(join(dir, name), bytes);
  const d = new Diagnostics();
  const r = loadModelResult(join(dir, name), { sources: new Map(), diagnostics: d }, options);
  return { r, d, codes: d.errors.map((x) => x.code), text: d.items.map((x) => x.message).join("\n") };
}

describe("corrupt ONNX", () => {
  it("an initializer whose dims no longer match the Gemm's weight: PAR6007, not `parameter ...: 128 values for shape [8, 8]`", () => {
    const bytes = new Uint8Array(readFileSync(join(EXAMPLES, "mlp.onnx")));
    // One bit flipped at byte 115 (the fuzzer's case 5134, seed 5) makes the first Gemm's
    // initializer hold another number of values than the weight par builds for the node.
    bytes[115] ^= 0x20;
    const { codes, text } = loadBytes("m.onnx", bytes, { batch: 2 });
    expect(codes).toEqual(["PAR6007"]);
    expect(text).toContain("node /0/Gemm (Gemm): its weight holds 128 values, but the par op's weight is [8, 8] (64 values)");
  });
});

describe("model files that are not what their name says", () => {
  it("a model.json that is not UTF-8: PAR4003", () => {
    const { codes, text } = loadBytes("model.json", new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]));
    expect(codes).toEqual(["PAR4003"]);
    expect(text).toContain("is not a text file: byte 0 is 0xff, which does not start a UTF-8 character");
  });

  it("an .onnx that is a device without end (/dev/zero): read up to a bound, then PAR4004, not an out-of-memory crash", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-corrupt-"));
    symlinkSync("/dev/zero", join(dir, "z.onnx"));
    const d = new Diagnostics();
    loadModelResult(join(dir, "z.onnx"), { sources: new Map(), diagnostics: d });
    expect(d.errors.map((x) => x.code)).toEqual(["PAR4004"]);
  }, 60_000);
});
