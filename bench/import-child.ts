// One measured import, in a process of its own so that its peak RSS is the import's:
// `node dist/bench/import-child.js MODEL.onnx` prints {ms, cpuMs, maxRssBytes, parameters, ...}.
import { readFileSync } from "node:fs";
import { Diagnostics } from "../src/core/diagnostics.js";
import { loadModel } from "../src/frontend/load-model.js";

/**
 * This process's peak resident set: Linux's VmHWM, which starts afresh at exec (getrusage's
 * maxrss does not: it keeps the forking parent's peak, here the bench's generated model).
 */
function peakRss(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS * 1024;
}

const file = process.argv[2];
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const d = new Diagnostics();
const m = loadModel(file, { sources: new Map(), diagnostics: d }, { batch: 1 });
const ms = performance.now() - t0;
// CPU time as well: on a shared machine the wall time says more about the neighbours.
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssBytes: peakRss(),
    ok: m !== undefined,
    parameters: m?.graph.parameterCount() ?? null,
    ops: m?.graph.ops.size ?? null,
    diagnostics: d.items.map((x) => `${x.severity} ${x.code}`),
  }) + "\n",
);
