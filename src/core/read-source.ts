// Reading an input file for a command: the text is kept in `sources` (for diagnostic
// excerpts); a file that cannot be read is a PAR4001 diagnostic, never a stack trace.

import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { didYouMean, Diagnostics, type Diagnostic } from "./diagnostics.js";

/** Where the text and the diagnostics go: a diagnostics sink, or a command's `report`. */
export type SourceContext = { sources: Map<string, string> } & ({ diagnostics: Diagnostics } | { report(diagnostics: readonly Diagnostic[]): void });

/**
 * Reads `path` (resolved against `cwd` when given; diagnostics name it as written).
 * Returns the text, or undefined after reporting PAR4001.
 */
export function readSource(path: string, ctx: SourceContext, cwd?: string): string | undefined {
  const full = cwd === undefined ? path : resolve(cwd, path);
  try {
    const text = readFileSync(full, "utf8");
    ctx.sources.set(path, text);
    return text;
  } catch (e) {
    const sink = new Diagnostics();
    sink.error("PAR4001", `cannot read file \`${path}\`: ${reason(e)}`, { hint: missingHint(e, full) });
    if ("diagnostics" in ctx) ctx.diagnostics.addAll(sink.items);
    else ctx.report(sink.items);
    return undefined;
  }
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return e instanceof Error ? e.message : String(e);
}

/** For a missing file, a near name in the same folder. */
function missingHint(e: unknown, full: string): string | undefined {
  if ((e as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
  try {
    return didYouMean(basename(full), readdirSync(dirname(full)));
  } catch {
    return undefined;
  }
}
