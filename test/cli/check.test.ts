import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatBytes, formatCount, formatFlops } from "../../src/cli/format.js";
import { runCli } from "../../src/cli/main.js";
import { captureIo as capture } from "./cli-helpers.js";


const MLP = `model mlp(batch = 64, hidden = 1024, classes = 10) {
  input  x      : f32[batch, 784]
  input  labels : i32[batch]
  h = relu(linear(x, out = hidden))
  repeat 2 { h = relu(linear(h, out = hidden)) }
  logits = linear(h, out = classes)
  loss   = softmax_cross_entropy(logits, labels)
}
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "par-check-"));
  writeFileSync(join(dir, "mlp.par"), MLP);
  writeFileSync(join(dir, "bad.par"), MLP.replace("relu(linear(x", "relu(lineer(x"));
  writeFileSync(join(dir, "warn.par"), MLP.replace("  logits =", "  unused = relu(h)\n  logits ="));
  writeFileSync(join(dir, "two.par"), MLP + MLP.replace("model mlp", "model other"));
});

describe("par check", () => {
  it("prints ops, parameters, FLOPs and activation memory per model", async () => {
    const io = capture(dir);
    expect(await runCli(["check", "mlp.par"], io)).toBe(0);
    expect(io.stdout).toContain("mlp.par: ok");
    expect(io.stdout).toContain("model mlp(batch=64, hidden=1024, classes=10)");
    expect(io.stdout).toMatch(/ops\s+8\n/);
    expect(io.stdout).toContain("parameters   2,913,290 (2.91 M)");
    expect(io.stdout).toMatch(/flops\s+1\.12 GFLOP per training iteration/);
    expect(io.stdout).toContain("activations  1.50 MiB");
    expect(io.stderr).toBe("");
  });

  it("--json prints files, models and diagnostics", async () => {
    const io = capture(dir);
    expect(await runCli(["check", "mlp.par", "warn.par", "--json"], io)).toBe(0);
    const out = JSON.parse(io.stdout) as { files: { file: string; models: { name: string; ops: number; parameters: number; flops: number; activationBytes: number }[]; diagnostics: { code: string }[] }[] };
    expect(out.files.map((f) => f.file)).toEqual(["mlp.par", "warn.par"]);
    expect(out.files[0].models[0]).toMatchObject({ name: "mlp", ops: 8, parameters: 2_913_290 });
    expect(out.files[0].models[0].flops).toBe(3 * 2 * 64 * (784 * 1024 + 2 * 1024 * 1024 + 1024 * 10) + 64 * 3 * 1024 * 2 + 64 * 10 * 8);
    expect(out.files[1].diagnostics.map((d) => d.code)).toEqual(["PAR2016"]);
  });

  it("--set overrides parameters and --model selects a model", async () => {
    const io = capture(dir);
    expect(await runCli(["check", "two.par", "--model", "other", "--set", "hidden=16", "--json"], io)).toBe(0);
    const out = JSON.parse(io.stdout) as { files: { models: { name: string; parameters: number }[] }[] };
    expect(out.files[0].models).toHaveLength(1);
    expect(out.files[0].models[0]).toMatchObject({ name: "other", parameters: 784 * 16 + 16 + 2 * (16 * 16 + 16) + 16 * 10 + 10 });
  });

  it("exits 1 with a located diagnostic on errors; warnings alone exit 0", async () => {
    const bad = capture(dir);
    expect(await runCli(["check", "bad.par"], bad)).toBe(1);
    expect(bad.stderr).toContain("bad.par:4:12: error PAR2005: unknown op or block `lineer`");
    expect(bad.stderr).toContain("did you mean `linear`?");
    const warn = capture(dir);
    expect(await runCli(["check", "warn.par"], warn)).toBe(0);
    expect(warn.stderr).toContain("warning PAR2016");
  });

  it("rejects a malformed --set and a missing file list as usage errors", async () => {
    expect(await runCli(["check", "mlp.par", "--set", "hidden"], capture(dir))).toBe(2);
    expect(await runCli(["check"], capture(dir))).toBe(2);
    expect(await runCli(["check", "mlp.par", "--set", "hiden=3"], capture(dir))).toBe(1);
    const missing = capture(dir);
    expect(await runCli(["check", "nope.par"], missing)).toBe(1);
    expect(missing.stderr).toContain("PAR4001");
  });
});

describe("par graph", () => {
  it("--dot prints Graphviz DOT, --out writes it to a file", async () => {
    const io = capture(dir);
    expect(await runCli(["graph", "mlp.par", "--dot"], io)).toBe(0);
    expect(io.stdout.startsWith('digraph "mlp" {')).toBe(true);
    expect(io.stdout).toContain('"layer0.h.linear" -> "layer0.h"');
    const io2 = capture(dir);
    expect(await runCli(["graph", "mlp.par", "--dot", "--out", "mlp.dot"], io2)).toBe(0);
    expect(readFileSync(join(dir, "mlp.dot"), "utf8")).toBe(io.stdout);
    // A file where a folder should be: PAR4002, exit 1, no stack trace.
    const io3 = capture(dir);
    expect(await runCli(["graph", "mlp.par", "--dot", "--out", "mlp.par/g.dot"], io3)).toBe(1);
    expect(io3.stderr).toContain("error PAR4002: cannot write `mlp.par/g.dot`");
  });

  it("without --dot lists the ops; several models need --model", async () => {
    const io = capture(dir);
    expect(await runCli(["graph", "mlp.par"], io)).toBe(0);
    expect(io.stdout).toContain("  layer1.h = relu(layer1.h.linear) -> f32[batch=64, layer1.h.linear.out=1024]");
    expect(await runCli(["graph", "two.par"], capture(dir))).toBe(2);
    expect(await runCli(["graph", "two.par", "--model", "other"], capture(dir))).toBe(0);
    expect(await runCli(["graph", "bad.par"], capture(dir))).toBe(1);
  });
});

describe("human formatting", () => {
  it("formats FLOPs, bytes and counts", () => {
    expect(formatFlops(1_234_567_890)).toBe("1.23 GFLOP");
    expect(formatFlops(999)).toBe("999 FLOP");
    expect(formatFlops(999_600)).toBe("1.00 MFLOP");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.00 GiB");
    expect(formatCount(9999)).toBe("9,999");
    expect(formatCount(2_913_290)).toBe("2,913,290 (2.91 M)");
  });
});
