// The CLI's side of src/pipeline.ts: one PipelineContext per command (the command's
// sources and working directory), and the diagnostics the stages leave in it printed as
// each stage ends, so that messages appear in the order the road produced them.

import { Diagnostics, ParError, type Diagnostic } from "../core/diagnostics.js";
import type { PipelineContext } from "../pipeline.js";
import type { CommandContext } from "./command.js";

export class CliPipeline {
  readonly ctx: PipelineContext;
  /** How many of ctx.diagnostics have been printed. */
  private shown = 0;

  constructor(private readonly command: CommandContext) {
    this.ctx = { diagnostics: new Diagnostics(), sources: command.sources, cwd: command.io.cwd, timings: {} };
  }

  /** The diagnostics the stages added since the last report. */
  pending(): Diagnostic[] {
    return this.ctx.diagnostics.items.slice(this.shown);
  }

  /** Prints the pending diagnostics (those passing `keep`) and marks them all printed. */
  report(keep: (d: Diagnostic) => boolean = () => true): void {
    const items = this.pending();
    this.shown += items.length;
    this.command.report(items.filter(keep));
  }

  /**
   * Runs a stage and prints what it added to the context. Undefined when the stage threw
   * a ParError (its errors are printed with the rest); any other exception propagates.
   */
  stage<T>(fn: (ctx: PipelineContext) => T): T | undefined {
    try {
      const value = fn(this.ctx);
      this.report();
      return value;
    } catch (e) {
      if (!(e instanceof ParError)) throw e;
      for (const d of e.diagnostics) if (!this.ctx.diagnostics.items.includes(d)) this.ctx.diagnostics.add(d);
      this.report();
      return undefined;
    }
  }
}
