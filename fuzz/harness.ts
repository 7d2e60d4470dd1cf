// The fuzz harness: runs N cases of a seed on a worker thread (fuzz/worker.ts), one at a
// time, each bounded by a timeout (a case that hangs is recorded and the worker replaced),
// judges each result (fuzz/oracle.ts) and reports the cases tried, by family and command,
// and the failures, by class.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { judge, type CaseResult, type Failure } from "./oracle.js";
import type { FromWorker } from "./worker.js";

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** Per case (default 30 s: a search or a run on a shared machine). */
  timeoutMs?: number;
  /** Called after each case (for a progress line). */
  onCase?: (done: number, failures: number) => void;
}

export interface FailedCase {
  index: number;
  family: string;
  argv: string[];
  files: { name: string; bytes: number }[];
  code: number | undefined;
  stderr: string;
  failures: Failure[];
}

export interface FuzzReport {
  seed: number;
  cases: number;
  seconds: number;
  byFamily: Record<string, number>;
  byCommand: Record<string, number>;
  byExit: Record<string, number>;
  failures: FailedCase[];
  /** Failures counted by class. */
  byClass: Record<string, number>;
}

/** The compiled worker (worker threads cannot load TypeScript): beside this module, or in dist/ when run from source. */
export function fuzzWorkerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, "worker.js");
  if (import.meta.url.endsWith(".js") && existsSync(sibling)) return sibling;
  return resolve(here, "..", "dist", "fuzz", "worker.js");
}

class CaseRunner {
  private worker: Worker | undefined;
  private pending: ((m: FromWorker | { type: "died"; why: string }) => void) | undefined;

  constructor(private readonly seed: number) {}

  private async start(): Promise<void> {
    const w = new Worker(fuzzWorkerScript(), { workerData: { seed: this.seed }, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
    this.worker = w;
    w.on("message", (m: FromWorker) => this.pending?.(m));
    w.on("error", (e) => this.pending?.({ type: "died", why: `the worker crashed: ${e.message}` }));
    w.on("exit", (code) => this.pending?.({ type: "died", why: `the worker exited with code ${code}` }));
    const first = await this.next(120_000);
    if (first.type !== "ready") throw new Error(`the fuzz worker did not start: ${JSON.stringify(first)}`);
  }

  private next(timeoutMs: number): Promise<FromWorker | { type: "died"; why: string } | { type: "timeout" }> {
    return new Promise((resolveNext) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        resolveNext({ type: "timeout" });
      }, timeoutMs);
      this.pending = (m) => {
        clearTimeout(timer);
        this.pending = undefined;
        resolveNext(m);
      };
    });
  }

  /** Runs case `index`: its description and its result (hung or crashed when the worker did). */
  async run(index: number, timeoutMs: number): Promise<{ described?: Extract<FromWorker, { type: "case" }>["case"]; result: CaseResult }> {
    if (!this.worker) await this.start();
    const t0 = performance.now();
    const described = this.next(timeoutMs);
    this.worker!.postMessage({ index });
    const d = await described;
    const info = d.type === "case" ? d.case : undefined;
    const r = d.type === "case" ? await this.next(Math.max(1, timeoutMs - (performance.now() - t0))) : d;
    if (r.type === "result") return { ...(info ? { described: info } : {}), result: r.result };
    // Hung or died: this worker is done for; the next case starts a fresh one.
    await this.stop();
    const base = { code: undefined, stdout: "", stderr: "", outputChars: 0, ms: performance.now() - t0, tempFiles: [], outputsPresent: [] };
    const result: CaseResult = r.type === "timeout" ? { ...base, hung: true } : { ...base, crashed: r.type === "died" ? r.why : `unexpected message ${r.type}` };
    return { ...(info ? { described: info } : {}), result };
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.pending = undefined;
    if (w) await w.terminate();
  }
}

const count = (m: Record<string, number>, k: string) => void (m[k] = (m[k] ?? 0) + 1);

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const runner = new CaseRunner(options.seed);
  const report: FuzzReport = { seed: options.seed, cases: 0, seconds: 0, byFamily: {}, byCommand: {}, byExit: {}, failures: [], byClass: {} };
  const t0 = performance.now();
  try {
    for (let index = 0; index < options.cases; index++) {
      const { described, result } = await runner.run(index, timeoutMs);
      report.cases++;
      const family = described?.family ?? "?";
      const argv = described?.argv ?? [];
      count(report.byFamily, family);
      count(report.byCommand, argv[0] === "strategy" ? `strategy ${argv[1]}` : (argv[0] ?? "?"));
      count(report.byExit, result.hung ? "hang" : result.crashed ? "crash" : String(result.code));
      const failures = judge(result, described?.outputs ?? [], argv.includes("--json"));
      if (failures.length) {
        report.failures.push({ index, family, argv, files: described?.files ?? [], code: result.code, stderr: result.stderr.slice(0, 2000), failures });
        for (const f of failures) count(report.byClass, f.class);
      }
      options.onCase?.(index + 1, report.failures.length);
    }
  } finally {
    await runner.stop();
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

/** The report as text: cases by family, command and exit status; failures by class, then each. */
export function formatReport(r: FuzzReport): string {
  const table = (m: Record<string, number>) => Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  const lines = [
    `fuzz: ${r.cases} cases, seed ${r.seed}, ${r.seconds.toFixed(1)} s; ${r.failures.length} failing`,
    `  families: ${table(r.byFamily)}`,
    `  commands: ${table(r.byCommand)}`,
    `  exit:     ${table(r.byExit)}`,
  ];
  if (r.failures.length) lines.push(`  failures by class: ${table(r.byClass)}`);
  for (const f of r.failures) {
    lines.push(`  case ${f.index} (${f.family}): par ${f.argv.join(" ")} [${f.files.map((x) => `${x.name} ${x.bytes} B`).join(", ")}]`);
    for (const x of f.failures) lines.push(`    ${x.class}: ${x.detail}`);
  }
  return lines.join("\n") + "\n";
}
