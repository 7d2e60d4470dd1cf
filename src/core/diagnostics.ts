// Diagnostics: every problem par reports is a value, never a thrown stack trace.
// Stages push diagnostics into a sink; the CLI decides how to print them.

export type Severity = "error" | "warning";

/** 1-based line and column, as editors show them. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
  /** 0-based character offsets into the source, when known (for carets spanning a token). */
  offset?: number;
  length?: number;
}

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  pos?: SourcePos;
  /** What the tool expected to find, in words. */
  expected?: string;
  /** A suggestion for the fix ("did you mean `linear`?"). */
  hint?: string;
}

export interface DiagnosticExtras {
  pos?: SourcePos | undefined;
  expected?: string | undefined;
  hint?: string | undefined;
}

/** A collecting sink shared by all stages of one run. */
export class Diagnostics {
  readonly items: Diagnostic[] = [];

  error(code: string, message: string, extras: DiagnosticExtras = {}): void {
    this.push("error", code, message, extras);
  }

  warning(code: string, message: string, extras: DiagnosticExtras = {}): void {
    this.push("warning", code, message, extras);
  }

  add(d: Diagnostic): void {
    this.items.push(d);
  }

  addAll(ds: Iterable<Diagnostic>): void {
    for (const d of ds) this.items.push(d);
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === "error");
  }

  get warnings(): Diagnostic[] {
    return this.items.filter((d) => d.severity === "warning");
  }

  hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }

  private push(severity: Severity, code: string, message: string, extras: DiagnosticExtras): void {
    const d: Diagnostic = { code, severity, message };
    if (extras.pos) d.pos = extras.pos;
    if (extras.expected) d.expected = extras.expected;
    if (extras.hint) d.hint = extras.hint;
    this.items.push(d);
  }
}

/**
 * Thrown only across API boundaries (e.g. `loadModel`) to carry diagnostics to a caller
 * that wants exceptions; the CLI catches it and prints the diagnostics, never the stack.
 */
export class ParError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
    this.name = "ParError";
  }
}

/** Builds a one-diagnostic ParError. */
export function parError(code: string, message: string, extras: DiagnosticExtras = {}): ParError {
  const sink = new Diagnostics();
  sink.error(code, message, extras);
  return new ParError(sink.items);
}

/** Renders `file:line:col: error PAR2001: message`, an excerpt with a caret, expected and hint. */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const where = d.pos ? `${d.pos.file}:${d.pos.line}:${d.pos.column}: ` : "";
  const lines = [`${where}${d.severity} ${d.code}: ${d.message}`];
  if (d.pos && source !== undefined) {
    const full = sourceLine(source, d.pos.line);
    if (full !== undefined) {
      const { text, column } = excerptWindow(full, d.pos.column);
      const gutter = String(d.pos.line).padStart(4) + " | ";
      const width = Math.max(1, Math.min(d.pos.length ?? 1, EXCERPT_WIDTH, Math.max(1, text.length - column + 1)));
      lines.push(gutter + text);
      lines.push(" ".repeat(gutter.length - 2) + "| " + " ".repeat(Math.max(0, column - 1)) + "^".repeat(width));
    }
  }
  if (d.expected) lines.push(`  expected: ${d.expected}`);
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join("\n");
}

/** Characters of a source line an excerpt shows at most (a minified or generated line can be megabytes). */
export const EXCERPT_WIDTH = 120;

/**
 * Line `line` (1-based) of `source`, found without splitting the whole text. Line breaks are
 * counted as the lexer counts them: `\n`, `\r\n` or a lone `\r`.
 */
function sourceLine(source: string, line: number): string | undefined {
  let start = 0;
  let l = 1;
  for (let i = 0; i < source.length && l < line; i++) {
    const ch = source.charCodeAt(i);
    if (ch === 10 || ch === 13) {
      if (ch === 13 && source.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
      l++;
    }
  }
  if (l < line) return undefined;
  let end = start;
  while (end < source.length && source.charCodeAt(end) !== 10 && source.charCodeAt(end) !== 13) end++;
  return source.slice(start, end);
}

/** At most EXCERPT_WIDTH characters of `text` around `column`, with `…` where it was cut. */
function excerptWindow(text: string, column: number): { text: string; column: number } {
  if (text.length <= EXCERPT_WIDTH) return { text, column };
  const from = Math.max(0, Math.min(column - 1 - EXCERPT_WIDTH / 2, text.length - EXCERPT_WIDTH));
  const head = from > 0 ? "…" : "";
  const tail = from + EXCERPT_WIDTH < text.length ? "…" : "";
  return { text: head + text.slice(from, from + EXCERPT_WIDTH) + tail, column: column - from + head.length };
}

/** Edit distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** The closest candidate within a small edit distance, formatted as a hint, or undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const dist = editDistance(name.toLowerCase(), c.toLowerCase());
    if (dist < bestDist) {
      bestDist = dist;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(name.length, best.length) / 3));
  return bestDist <= limit ? `did you mean \`${best}\`?` : undefined;
}
