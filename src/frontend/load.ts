// Reading a .par file for a command: read → parse → check, diagnostics into one sink and
// the source text kept for excerpts.

import type { Diagnostics } from "../core/diagnostics.js";
import { readSource } from "../core/read-source.js";
import { check, type CheckedProgram, type CheckOptions } from "./check.js";
import { parse } from "./parse.js";

export interface LoadContext {
  /** Source texts by file name (for diagnostic excerpts); the file read is added. */
  sources: Map<string, string>;
  diagnostics: Diagnostics;
  /** Relative paths resolve against this folder (the command's working directory). */
  cwd?: string;
}

/**
 * Parses and checks `path`; undefined when it could not be read or has syntax errors (a
 * partial program recovered from syntax errors is not checked: its semantic errors would
 * mostly be echoes of the syntax errors).
 */
export function loadProgram(path: string, ctx: LoadContext, options: CheckOptions = {}): CheckedProgram | undefined {
  const text = readSource(path, { sources: ctx.sources, diagnostics: ctx.diagnostics }, ctx.cwd);
  if (text === undefined) return undefined;
  const errorsBefore = ctx.diagnostics.errors.length;
  const program = parse(text, path, ctx.diagnostics);
  if (!program || ctx.diagnostics.errors.length > errorsBefore) return undefined;
  return check(program, ctx.diagnostics, options);
}
