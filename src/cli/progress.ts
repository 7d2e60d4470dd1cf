// One live progress line on stderr, for work that takes seconds (a search, a run, a
// profile, a large import): the phase, a bar with a count and an estimate of the time left
// when the total is known, else a count and the elapsed time. Drawn only when stderr is a
// terminal and --json is not given; otherwise every call is a no-op, so the output of a
// command is the same with or without it. The line is erased before anything else is
// written (through `wrap`) and when the work ends.

import type { Io } from "./command.js";

/** Redraws at most this often (a search reports every 100 iterations: thousands a second). */
const REDRAW_MS = 100;
/** How often the elapsed time is refreshed while the event loop is free (async phases). */
const TICK_MS = 500;
const BAR = 20;

export interface ProgressOptions {
  /** Characters the line may use (a longer line would wrap and break the redraw). */
  columns?: number;
  /** Milliseconds clock (default performance.now). */
  clock?: () => number;
  /** Refresh the elapsed time with a timer while a phase runs (default true; tests turn it off). */
  ticker?: boolean;
}

export class Progress {
  private label = "";
  private unit = "";
  private total: number | undefined;
  private done = 0;
  private detail = "";
  private started = 0;
  private lastDraw = -Infinity;
  private shown = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly columns: number;
  private readonly clock: () => number;
  private readonly ticker: boolean;

  constructor(
    private readonly write: (text: string) => void,
    readonly enabled: boolean,
    options: ProgressOptions = {},
  ) {
    this.columns = Math.max(20, (options.columns ?? 80) - 1);
    this.clock = options.clock ?? (() => performance.now());
    this.ticker = options.ticker ?? true;
  }

  /** A progress line for `io`'s stderr: drawn only when it is a terminal and `json` is false. */
  static forIo(io: Io, json: boolean, options: ProgressOptions = {}): Progress {
    return new Progress((t) => io.err(t), io.errIsTty === true && !json, { columns: io.errColumns, ...options });
  }

  /** Starts a phase: `label`, and `total` units of `unit` when known (then a bar and an estimate). */
  phase(label: string, total?: number, unit = ""): void {
    if (!this.enabled) return;
    this.label = label;
    this.total = total !== undefined && total > 0 && Number.isFinite(total) ? total : undefined;
    this.unit = unit;
    this.done = 0;
    this.detail = "";
    this.started = this.clock();
    this.draw(true);
    if (this.ticker && !this.timer) {
      this.timer = setInterval(() => this.draw(true), TICK_MS);
      this.timer.unref();
    }
  }

  /** `done` units so far (of the phase's total), with an optional detail ("best 1.2 ms"). */
  update(done: number, detail = ""): void {
    if (!this.enabled) return;
    this.done = done;
    this.detail = detail;
    this.draw(this.total !== undefined && done >= this.total);
  }

  /** Ends the work: the line is erased. */
  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
    this.label = "";
  }

  /** Erases the line (if drawn) before other output; the next update draws it again. */
  clear(): void {
    if (!this.shown) return;
    this.write("\r\x1b[K");
    this.shown = false;
    this.lastDraw = -Infinity;
  }

  /** `io` with every write preceded by erasing the progress line. */
  wrap(io: Io): Io {
    if (!this.enabled) return io;
    return {
      ...io,
      out: (t) => {
        this.clear();
        io.out(t);
      },
      err: (t) => {
        this.clear();
        io.err(t);
      },
    };
  }

  /** The line as it would be drawn now (for tests and the draw). */
  text(): string {
    const elapsed = (this.clock() - this.started) / 1000;
    const parts = [this.label];
    if (this.total !== undefined) {
      const fraction = Math.min(1, this.done / this.total);
      const filled = Math.round(fraction * BAR);
      parts.push(`[${"#".repeat(filled)}${".".repeat(BAR - filled)}] ${this.done}/${this.total}${this.unit ? ` ${this.unit}` : ""}`);
      const left = this.done > 0 ? (elapsed * (this.total - this.done)) / this.done : undefined;
      parts.push(left === undefined ? seconds(elapsed) : `${seconds(elapsed)}, ~${seconds(left)} left`);
    } else {
      if (this.done > 0) parts.push(`${this.done}${this.unit ? ` ${this.unit}` : ""}`);
      parts.push(seconds(elapsed));
    }
    if (this.detail) parts.push(this.detail);
    const line = parts.join("  ");
    return line.length > this.columns ? line.slice(0, this.columns - 1) + "…" : line;
  }

  private draw(force: boolean): void {
    if (!this.label) return;
    const now = this.clock();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.write(`\r${this.text()}\x1b[K`);
    this.shown = true;
  }
}

function seconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}
