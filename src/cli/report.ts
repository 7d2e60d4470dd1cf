// Printing diagnostics for a command: text with source excerpts, or JSON with --json. Text
// output stops after MAX_PRINTED_DIAGNOSTICS (a file that is not what it claims can have
// thousands of errors; the first ones are the useful ones) and ends with how many more there
// were. JSON output is complete: it is for programs, which can filter it.

import { formatDiagnostic, type Diagnostic } from "../core/diagnostics.js";
import type { Io } from "./command.js";

/** Diagnostics printed as text per command run; the rest are counted. */
export const MAX_PRINTED_DIAGNOSTICS = 100;

export class DiagnosticPrinter {
  private printed = 0;
  private suppressed = 0;

  constructor(
    private readonly io: Io,
    private readonly sources: ReadonlyMap<string, string>,
    private readonly asJson: () => boolean,
    private readonly limit = MAX_PRINTED_DIAGNOSTICS,
  ) {}

  print(diagnostics: readonly Diagnostic[]): void {
    if (diagnostics.length === 0) return;
    if (this.asJson()) {
      this.io.err(JSON.stringify({ diagnostics }, null, 2) + "\n");
      return;
    }
    for (const d of diagnostics) {
      if (this.printed >= this.limit) {
        this.suppressed++;
        continue;
      }
      this.printed++;
      this.io.err(formatDiagnostic(d, d.pos ? this.sources.get(d.pos.file) : undefined) + "\n");
    }
  }

  /** Says how many diagnostics were not printed, if any; call once when the command ends. */
  finish(): void {
    if (this.suppressed === 0) return;
    this.io.err(`par: ${this.suppressed} more diagnostic${this.suppressed === 1 ? "" : "s"} not shown (the first ${this.limit} are above; --json lists all)\n`);
    this.suppressed = 0;
  }
}
