// Runs one fuzz case in-process (the CLI's runCli with captured output) in a fresh folder of
// its own, and records what the oracle looks at: the exit status, the output, temp files
// left behind and which outputs exist.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Io } from "../src/cli/command.js";
import { runCli } from "../src/cli/main.js";
import type { FuzzCase } from "./cases.js";
import type { CaseResult } from "./oracle.js";

/** Output kept per stream (the total is still counted). */
const KEEP_CHARS = 64 * 1024;

function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split("\\").join("/"));
}

export async function executeCase(c: FuzzCase): Promise<CaseResult> {
  const dir = mkdtempSync(join(tmpdir(), "par-fuzz-"));
  try {
    for (const f of c.files) {
      mkdirSync(dirname(join(dir, f.name)), { recursive: true });
      writeFileSync(join(dir, f.name), f.data);
    }
    const before = new Set(listFiles(dir));
    let stdout = "";
    let stderr = "";
    let outputChars = 0;
    const keep = (acc: string, t: string) => (acc.length < KEEP_CHARS ? acc + t.slice(0, KEEP_CHARS - acc.length) : acc);
    const io: Io = {
      out(t) {
        outputChars += t.length;
        stdout = keep(stdout, t);
      },
      err(t) {
        outputChars += t.length;
        stderr = keep(stderr, t);
      },
      isTty: false,
      cwd: dir,
    };
    const t0 = performance.now();
    let code: number | undefined;
    let crashed: string | undefined;
    try {
      code = await runCli(c.argv, io);
    } catch (e) {
      crashed = `runCli threw: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
    }
    const ms = performance.now() - t0;
    const after = listFiles(dir).filter((f) => !before.has(f));
    return {
      code,
      stdout,
      stderr,
      outputChars,
      ms,
      tempFiles: after.filter((f) => /\.tmp$/.test(f)),
      outputsPresent: c.outputs.filter((o) => existsSync(join(dir, o))),
      ...(crashed ? { crashed } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
