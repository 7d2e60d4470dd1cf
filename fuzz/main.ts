// `npm run fuzz [-- --cases N] [--seed S] [--timeout MS] [--out DIR] [--json]`: feeds every
// command mutated and random inputs (fuzz/cases.ts) and checks each run against the
// oracle (fuzz/oracle.ts). Prints the cases tried and the failures by class; each failing
// case is written to DIR/<index>/ (its files and the command line) so that it can be run
// again by hand. Exit 1 when a case fails. Run `npm run build` first.

import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { makeCase } from "./cases.js";
import { Corpus } from "./corpus.js";
import { formatReport, runFuzz, type FuzzReport } from "./harness.js";

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function positive(name: string, fallback: number): number {
  const v = Number(flag(name, String(fallback)));
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`fuzz: --${name} needs a non-negative integer\n`);
    process.exit(2);
  }
  return v;
}

/** Writes each failing case's files and command line to `dir`/<index>/. */
function writeReproducers(report: FuzzReport, dir: string): void {
  const corpus = new Corpus(report.seed);
  for (const f of report.failures) {
    const c = makeCase(corpus, report.seed, f.index);
    const at = join(dir, String(f.index));
    mkdirSync(at, { recursive: true });
    for (const file of c.files) {
      mkdirSync(resolve(at, file.name, ".."), { recursive: true });
      writeFileSync(join(at, file.name), file.data);
    }
    writeFileSync(join(at, "command.txt"), `cd ${at} && par ${c.argv.map((a) => (/^[\w./=-]+$/.test(a) ? a : JSON.stringify(a))).join(" ")}\n${f.failures.map((x) => `${x.class}: ${x.detail}`).join("\n")}\n`);
  }
}

const cases = positive("cases", 5000);
const seed = positive("seed", 1);
const timeoutMs = positive("timeout", 30_000);
const out = resolve(flag("out", "fuzz-failures"));
const report = await runFuzz({
  seed,
  cases,
  timeoutMs,
  onCase: (done, failing) => {
    if (done % 100 === 0 || done === cases) process.stderr.write(`\rfuzz: ${done}/${cases} cases, ${failing} failing`);
  },
});
process.stderr.write("\n");
if (process.argv.includes("--json")) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
else process.stdout.write(formatReport(report));
if (report.failures.length) {
  writeReproducers(report, out);
  process.stdout.write(`failing cases written to ${out}/<case>/ (files and command.txt)\n`);
  process.exitCode = 1;
}
