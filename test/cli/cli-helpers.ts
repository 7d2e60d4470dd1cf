// Running `par` in-process for the runtime command tests, and a scratch directory.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Io } from "../../src/cli/command.js";
import { runCli } from "../../src/cli/main.js";

export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), isTty: false, cwd: process.cwd() };
  const code = await runCli(argv, io);
  return { code, out, err };
}

export function scratch(): string {
  return mkdtempSync(join(tmpdir(), "par-cli-"));
}

/** A small MLP of the zoo: fast enough for several runs per test file. */
export const SMALL_MLP = ["models/mlp.par", "--set", "batch=8", "--set", "hidden=16", "--set", "layers=1"];

/** An Io that records stdout and stderr, for tests that call runCli themselves. */
export function captureIo(cwd: string): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    isTty: false,
    cwd,
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}
