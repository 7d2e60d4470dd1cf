// Writing output files: atomically (a temp file beside the target, then a rename), so that
// a failure never leaves a half-written strategy, plan or trace; never into a folder that
// does not exist (a typo in a path would silently make a tree of folders); never over a
// folder. Every refusal is a coded ParError (PAR4002) with a hint.

import { renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parError, type ParError } from "./diagnostics.js";
import { errnoReason } from "./read-text.js";

/**
 * Why `path` cannot be written, or undefined when it can be tried: its folder must exist and
 * be a folder, and the path must not name a folder. `shown` is the path as the user wrote it.
 * Commands call this before their work, so that a bad --out fails at once, not at the end.
 */
export function outputProblem(path: string, shown = path): ParError | undefined {
  const dir = dirname(path);
  const shownDir = dirname(shown);
  const fail = (message: string, hint: string) => parError("PAR4002", `cannot write \`${shown}\`: ${message}`, { hint });
  const dirStat = statOrUndefined(dir);
  if (!dirStat) return fail(`the folder \`${shownDir}\` does not exist`, `create it first (mkdir -p ${shownDir}), or check the path for a typo`);
  if (!dirStat.isDirectory()) return fail(`\`${shownDir}\` is a file, not a folder`, "check the path for a typo");
  if (statOrUndefined(path)?.isDirectory()) return fail("it is a folder", `give a file name, e.g. ${join(shown, "out.json")}`);
  return undefined;
}

/** Throws outputProblem(path)'s error, if any. */
export function assertWritable(path: string, shown = path): void {
  const problem = outputProblem(path, shown);
  if (problem) throw problem;
}

/** Writes `data` to `path` atomically; a coded ParError (PAR4002) when it cannot. */
export function writeFileAtomic(path: string, data: string | Uint8Array, shown = path): void {
  assertWritable(path, shown);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* the temp file may not exist */
    }
    const code = (e as NodeJS.ErrnoException).code;
    const hint = code === "ENOSPC" ? "free some space and run again" : "check that the folder is writable";
    throw parError("PAR4002", `cannot write \`${shown}\`: ${errnoReason(e)}`, { hint });
  }
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
