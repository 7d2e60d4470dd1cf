// Every command, every file argument: an output path that is a folder, or whose folder does
// not exist, or that is one of the inputs, is PAR4002 before any work, and nothing is
// created (issue 20, rows 1 and 2); inputs that are binary, huge, empty or nested too
// deeply are coded errors (rows 4, 5, 6, 16); a closed pipe ends the process quietly (row 3).
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, truncateSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { MAX_PRINTED_DIAGNOSTICS } from "../../src/cli/report.js";
import { ensurePackageBuild } from "../runtime/ensure-build.js";
import { captureIo, scratch } from "./cli-helpers.js";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = scratch();
const MLP = ["mlp.par", "--set", "batch=8", "--set", "hidden=16", "--set", "layers=1"];

beforeAll(() => {
  copyFileSync(join(ROOT, "models", "mlp.par"), join(dir, "mlp.par"));
  copyFileSync(join(ROOT, "test", "fixtures", "onnx", "mlp.onnx"), join(dir, "mlp.onnx"));
  mkdirSync(join(dir, "somedir"));
});

async function par(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(dir);
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

/** Each command that writes a file, with the flag that names it. */
const WRITERS: { argv: (out: string) => string[] }[] = [
  { argv: (out) => ["compile", ...MLP, "--strategy", "dp", "--out", out] },
  { argv: (out) => ["search", ...MLP, "--budget", "10", "--out", out] },
  { argv: (out) => ["search", ...MLP, "--budget", "10", "--trace", out] },
  { argv: (out) => ["simulate", ...MLP, "--trace", out] },
  { argv: (out) => ["graph", ...MLP, "--out", out] },
  { argv: (out) => ["import", "mlp.onnx", "--batch", "2", "--out", out] },
  { argv: (out) => ["strategy", "baseline", "dp", ...MLP, "--mesh", "local", "--out", out] },
  { argv: (out) => ["run", ...MLP, "--strategy", "dp", "--steps", "1", "--trace", out] },
  { argv: (out) => ["profile", ...MLP, "--out", out] },
];

describe("output paths (every command that writes a file)", () => {
  for (const w of WRITERS) {
    const name = w.argv("X").slice(0, 2).join(" ");
    it(`${name}: a folder, a missing folder or an input is PAR4002 at once, and nothing is created`, async () => {
      const before = readdirSync(dir).sort();
      const folder = await par(...w.argv("somedir"));
      expect(folder.code, folder.err).toBe(1);
      expect(folder.err).toContain("error PAR4002: cannot write `somedir`: it is a folder");
      expect(folder.err).not.toMatch(/internal error|\n\s+at /);
      const missing = await par(...w.argv("a/b/c.json"));
      expect(missing.code).toBe(1);
      expect(missing.err).toContain("error PAR4002: cannot write `a/b/c.json`: the folder `a/b` does not exist");
      expect(missing.err).toContain("hint: create it first (mkdir -p a/b)");
      const input = await par(...w.argv(w.argv("X")[1] === "baseline" ? "mlp.par" : w.argv("X")[1]));
      expect(input.code).toBe(1);
      expect(input.err).toMatch(/PAR4002: cannot write `mlp\.(par|onnx)`: it is an input of this command/);
      expect(readdirSync(dir).sort()).toEqual(before);
    });
  }
});

describe("inputs par refuses with a code", () => {
  it("a binary file (PAR4003) is one diagnostic, not thousands", async () => {
    const r = await par("check", "/bin/ls");
    expect(r.code).toBe(1);
    expect(r.err).toContain("error PAR4003: `/bin/ls` is not a text file: byte 7 is a NUL");
    expect(r.err.split("\n").filter((l) => l.includes("error PAR")).length).toBe(1);
  });

  it("a file over the size limit (PAR4004) is refused before reading", async () => {
    writeFileSync(join(dir, "huge.par"), "");
    truncateSync(join(dir, "huge.par"), 50 * 1024 * 1024);
    const r = await par("check", "huge.par");
    expect(r.code).toBe(1);
    expect(r.err).toContain("error PAR4004: `huge.par` is too large: 52428800 bytes");
  });

  it("an empty .par file (PAR2031) is not `ok`", async () => {
    writeFileSync(join(dir, "empty.par"), "");
    const r = await par("check", "empty.par");
    expect(r.code).toBe(1);
    expect(r.err).toContain("empty.par:1:1: error PAR2031: empty.par declares nothing");
    expect(r.out).not.toContain("ok");
  });

  it("10,000 nested unary minus and a 3,000-deep chain of blocks: PAR1009 and PAR2030 at their place", async () => {
    writeFileSync(join(dir, "minus.par"), `model m() {\n  n = ${"-".repeat(10_000)}1\n}\n`);
    const minus = await par("check", "minus.par");
    expect(minus.code).toBe(1);
    expect(minus.err).toContain("minus.par:2:");
    expect(minus.err).toContain("error PAR1009: expression nested too deeply");
    // The excerpt of a 10,000-character line is cut to a window around the column.
    expect(Math.max(...minus.err.split("\n").map((l) => l.length))).toBeLessThan(200);
    const blocks = Array.from({ length: 3000 }, (_, i) => `block b${i}(x) { return ${i === 2999 ? "relu" : `b${i + 1}`}(x) }\n`).join("");
    writeFileSync(join(dir, "chain.par"), `model m(batch = 4) {\n  input x : f32[batch, 8]\n  y = b0(x)\n  loss = mse(y, x)\n}\n${blocks}`);
    const chain = await par("check", "chain.par");
    expect(chain.code).toBe(1);
    expect(chain.err).toContain("error PAR2030: block `b100` is called 101 blocks deep");
    expect(`${minus.err}${chain.err}`).not.toMatch(/internal error|\n\s+at /);
  });

  it(`text diagnostics stop after ${MAX_PRINTED_DIAGNOSTICS} and say how many more there were; --json lists all`, async () => {
    const body = Array.from({ length: 250 }, (_, i) => `  y${i} = nope${i}(x)`).join("\n");
    writeFileSync(join(dir, "many.par"), `model m(batch = 4) {\n  input x : f32[batch, 8]\n${body}\n  loss = mse(x, x)\n}\n`);
    const r = await par("check", "many.par");
    expect(r.code).toBe(1);
    expect(r.err.split("\n").filter((l) => / error PAR2005/.test(l))).toHaveLength(MAX_PRINTED_DIAGNOSTICS);
    expect(r.err).toContain(`par: 150 more diagnostics not shown (the first ${MAX_PRINTED_DIAGNOSTICS} are above; --json lists all)`);
    const json = await par("check", "many.par", "--json");
    expect(JSON.parse(json.out).files[0].diagnostics.filter((d: { code: string }) => d.code === "PAR2005")).toHaveLength(250);
  });
});

describe("a closed pipe", () => {
  beforeAll(() => ensurePackageBuild(), 300_000);

  it("`par run … | head -1` ends quietly with status 0: no stack, nothing on stderr", async () => {
    const child = spawn(process.execPath, [join(ROOT, "dist", "src", "cli", "main.js"), "run", ...MLP, "--strategy", "dp", "--steps", "200"], { cwd: dir });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    // Like `head -1`: read the first line, then close the pipe.
    await new Promise<void>((resolve) => {
      let out = "";
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        if (out.includes("\n")) {
          child.stdout.destroy();
          resolve();
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(err).toBe("");
    expect(code).toBe(0);
  });
});
