// The shape of a `par` subcommand. Each lives in src/cli/commands/<name>.ts and is listed
// in src/cli/registry.ts. Commands write only through `io`, so tests can capture output.

import type { Diagnostic } from "../core/diagnostics.js";
import type { FlagSpec, ParsedArgs } from "./args.js";
import type { Progress } from "./progress.js";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal. */
  isTty: boolean;
  /** True when stderr is a terminal: progress (src/cli/progress.ts) is drawn there only then. */
  errIsTty?: boolean;
  /** The terminal's width, when stderr is one (the progress line must not wrap). */
  errColumns?: number;
  cwd: string;
}

export interface CommandContext {
  args: ParsedArgs;
  io: Io;
  /** Prints diagnostics (text or JSON per --json) with source excerpts; returns them. */
  report(diagnostics: readonly Diagnostic[]): void;
  /** Source texts read so far, by file name, for excerpts. */
  sources: Map<string, string>;
  /** The command's progress line on stderr (a no-op unless stderr is a terminal and --json is not given). */
  progress: Progress;
}

export interface Command {
  name: string;
  summary: string;
  /** Usage line after `par NAME`, e.g. "FILE... [--json]". */
  usage: string;
  flags: FlagSpec[];
  /** More help text (examples). */
  details?: string;
  /** Returns the exit code: 0 ok, 1 errors in the input, 2 usage errors. */
  run(ctx: CommandContext): Promise<number> | number;
}

export const JSON_FLAG: FlagSpec = { name: "json", kind: "bool", doc: "print machine-readable JSON" };
