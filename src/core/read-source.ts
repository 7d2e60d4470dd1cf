// Reading a .par input file for a command: the text is kept in `sources` (for diagnostic
// excerpts); a file that cannot be read, is not text or is too large (src/core/read-text.ts)
// is a coded diagnostic (PAR4001, PAR4003, PAR4004), never a stack trace.

import { resolve } from "node:path";
import { ParError, type Diagnostic, type Diagnostics } from "./diagnostics.js";
import { INPUT_LIMITS, readTextFile } from "./read-text.js";

/** Where the text and the diagnostics go: a diagnostics sink, or a command's `report`. */
export type SourceContext = { sources: Map<string, string> } & ({ diagnostics: Diagnostics } | { report(diagnostics: readonly Diagnostic[]): void });

/**
 * Reads `path` (resolved against `cwd` when given; diagnostics name it as written), at most
 * `maxBytes` (default: the .par limit). Returns the text, or undefined after reporting.
 */
export function readSource(path: string, ctx: SourceContext, cwd?: string, maxBytes: number = INPUT_LIMITS.par): string | undefined {
  const full = cwd === undefined ? path : resolve(cwd, path);
  try {
    const text = readTextFile(full, path, maxBytes);
    ctx.sources.set(path, text);
    return text;
  } catch (e) {
    if (!(e instanceof ParError)) throw e;
    if ("diagnostics" in ctx) ctx.diagnostics.addAll(e.diagnostics);
    else ctx.report(e.diagnostics);
    return undefined;
  }
}
