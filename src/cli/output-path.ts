// Output flags (--out, --trace): checked when the command starts, so that a path that cannot
// be written (its folder missing, a folder itself, one of the command's input files) fails
// at once with PAR4002 rather than after a long search or run; written atomically.

import { resolve } from "node:path";
import { parError } from "../core/diagnostics.js";
import { assertWritable, writeFileAtomic } from "../core/files.js";
import { str } from "./args.js";
import type { CommandContext } from "./command.js";

export interface OutputPath {
  /** As the user wrote it (for messages). */
  shown: string;
  /** Resolved against the command's working directory. */
  full: string;
}

/** The output path flag `name` (undefined when not given), checked to be writable. */
export function outputFlag(ctx: CommandContext, name: string): OutputPath | undefined {
  const shown = str(ctx.args, name);
  if (shown === undefined) return undefined;
  const full = resolve(ctx.io.cwd, shown);
  assertWritable(full, shown);
  const input = ctx.args.positionals.find((p) => resolve(ctx.io.cwd, p) === full);
  if (input !== undefined) throw parError("PAR4002", `cannot write \`${shown}\`: it is an input of this command`, { hint: "write the output to another file" });
  return { shown, full };
}

/** Writes `data` to `out` atomically (PAR4002 when it cannot). */
export function writeOutput(out: OutputPath, data: string | Uint8Array): void {
  writeFileAtomic(out.full, data, out.shown);
}
