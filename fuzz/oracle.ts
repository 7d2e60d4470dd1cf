// What every fuzz case must end as (docs/cli.md): exit status 0, 1 or 2; a coded diagnostic
// (PARxxxx) or a usage message on an error; no stack trace and no bare `Error:`; within the
// timeout; no temp file left, and each output present exactly when the command succeeded;
// output bounded (the diagnostics cap).

export interface CaseResult {
  code: number | undefined;
  stdout: string;
  stderr: string;
  /** Total characters written (stdout and stderr are kept only up to a cap). */
  outputChars: number;
  ms: number;
  /** Files left in the case's folder named like a temp file of an atomic write. */
  tempFiles: string[];
  /** The case's declared outputs that exist after the command. */
  outputsPresent: string[];
  /** Set when the command threw out of runCli, the worker died, or the case hung. */
  crashed?: string;
  hung?: boolean;
}

/** A broken promise of the oracle, by class. */
export interface Failure {
  class: "hang" | "crash" | "internal-error" | "exit-status" | "stack-trace" | "uncoded-error" | "bare-error" | "partial-output" | "missing-output" | "flood";
  detail: string;
}

/** Diagnostics printed as text: PAR1011 plus 99 syntax errors, or the printer's cap, with room for the summary. */
const MAX_OUTPUT_CHARS = 400_000;

export function judge(r: CaseResult, outputs: readonly string[], json = false): Failure[] {
  const out: Failure[] = [];
  if (r.hung) return [{ class: "hang", detail: `no answer within ${r.ms.toFixed(0)} ms` }];
  if (r.crashed) return [{ class: "crash", detail: r.crashed }];
  const text = `${r.stdout}\n${r.stderr}`;
  if (r.code === 3 || /internal error/.test(r.stderr)) out.push({ class: "internal-error", detail: firstLine(r.stderr, /internal error.*/) });
  else if (r.code === undefined || ![0, 1, 2].includes(r.code)) out.push({ class: "exit-status", detail: `exit ${String(r.code)}` });
  if (/\n\s+at \S+ \(|\n\s+at (file|node):/.test(text)) out.push({ class: "stack-trace", detail: firstLine(text, /\n\s+at .*/) });
  // With --json a command's report (and its diagnostics) may be its stdout.
  const coded = /PAR\d{4}/.test(r.stderr) || (json && /"code": "PAR\d{4}"/.test(r.stdout));
  if (r.code === 1 && !coded) out.push({ class: "uncoded-error", detail: `exit 1 without a code: ${r.stderr.slice(0, 200)}` });
  if (r.code === 2 && !/PAR\d{4}/.test(r.stderr)) out.push({ class: "uncoded-error", detail: `exit 2 without a code: ${r.stderr.slice(0, 200)}` });
  const bare = /(^|\n)\s*(\w*Error|error)(\s\[\w+\])?: (?!.*PAR\d{4})/.exec(r.stderr.replace(/^.*\berror PAR\d{4}:.*$/gm, ""));
  if (bare) out.push({ class: "bare-error", detail: firstLine(r.stderr.slice(bare.index), /.*/) });
  if (r.tempFiles.length) out.push({ class: "partial-output", detail: `temp files left: ${r.tempFiles.join(", ")}` });
  if (r.code !== 0 && r.outputsPresent.length) out.push({ class: "partial-output", detail: `exit ${r.code} but wrote ${r.outputsPresent.join(", ")}` });
  if (r.code === 0) {
    const missing = outputs.filter((o) => !r.outputsPresent.includes(o));
    if (missing.length) out.push({ class: "missing-output", detail: `exit 0 without ${missing.join(", ")}` });
  }
  if (r.outputChars > MAX_OUTPUT_CHARS) out.push({ class: "flood", detail: `${r.outputChars} characters of output` });
  return out;
}

function firstLine(text: string, re: RegExp): string {
  return (re.exec(text)?.[0] ?? text).trim().split("\n")[0].slice(0, 300);
}
