// Memory benchmark (`npm run bench -- memory`): predicted vs measured peak memory per
// device of shipped models (small configurations) on the local engines: the tfjs worker
// runtime on the wasm backend and the torch engine on CPU. Target: within 15 %.
//
// Predicted: the plan's own account (src/plan/memory.ts). Measured through the engines'
// hooks (PAR_MEMORY_OUT; src/runtime/workers/memory-probe.ts, python/par_torch/rank.py):
//   tfjs wasm  heap: the wasm heap's size after the steps (it only grows: its peak), against
//              the predicted heap; memory: the growth over the worker's baseline (taken before
//              its buffers exist) of its typed arrays and JS heap (peaks sampled after every
//              instruction) plus the wasm heap, against the predicted total less the overhead
//   torch cpu  the rank's peak resident memory (getrusage maxrss) less its resident memory
//              when the job started (interpreter, torch, process group, parsed plan), against
//              the predicted total less the overhead
// Plan-dependent parts on both sides: the engines' fixed overheads are reported beside them.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localMeshOf } from "../src/core/builtin-meshes.js";
import { lower } from "../src/codegen/lower.js";
import { findTorchPython } from "../src/engines/torch/python.js";
import { runPlanTorch } from "../src/engines/torch/run.js";
import { dataParallel, modelParallel } from "../src/ir/baselines.js";
import type { Strategy } from "../src/ir/strategy.js";
import { planMemory, tfjsMemoryRuntime, torchMemoryRuntime, type MemoryRuntime } from "../src/plan/memory.js";
import type { Plan } from "../src/plan/plan.js";
import { runPlan } from "../src/runtime/workers/run-workers.js";
import { loadGraph, SGD, type BenchModel } from "./runtime-models.js";

const TARGET = 0.15;
const STEPS = 2;
const DEVICES = 2;
const MiB = 1 << 20;
/** Generous: memory, not speed, is measured, and shared machines are slow. */
const TIMEOUT_MS = 600_000;

const MODELS: BenchModel[] = [
  { label: "mlp(batch 64, hidden 1024, 2 layers)", file: "models/mlp.par", overrides: { batch: 64, hidden: 1024, layers: 2 } },
  { label: "mlp(batch 64, hidden 4096, 2 layers)", file: "models/mlp.par", overrides: { batch: 64, hidden: 4096, layers: 2 } },
  { label: "rnnlm(batch 16, seq 8, vocab 8000, 256 wide, 1 layer)", file: "models/rnnlm.par", overrides: { batch: 16, seq: 8, vocab: 8000, embed: 256, hidden: 256, layers: 1 } },
  { label: "dlrm(batch 64, rows 50000, dim 64)", file: "models/dlrm.par", overrides: { batch: 64, rows: 50000, dim: 64 } },
  { label: "bert_base(batch 8, seq 32, vocab 8000, 256 wide, 2 layers)", file: "models/bert_base.par", overrides: { batch: 8, seq: 32, vocab: 8000, hidden: 256, layers: 2, heads: 4, ffn: 1024, positions: 64 } },
];

const STRATEGIES: { name: string; make: typeof dataParallel }[] = [
  { name: "dp", make: dataParallel },
  { name: "mp", make: modelParallel },
];

interface Row {
  model: string;
  strategy: string;
  engine: string;
  device: number;
  what: string;
  predicted: number;
  measured: number;
}

function readJson(path: string): Record<string, number> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, number>;
}

/** Runs `run` with PAR_MEMORY_OUT set to a fresh directory; the per-device records it leaves. */
async function measured(prefix: string, devices: number, run: () => Promise<unknown>): Promise<Record<string, number>[]> {
  const dir = mkdtempSync(join(tmpdir(), "par-memory-"));
  const before = process.env.PAR_MEMORY_OUT;
  process.env.PAR_MEMORY_OUT = dir;
  try {
    await run();
    return Array.from({ length: devices }, (_, d) => readJson(join(dir, `${prefix}-device-${d}.json`)));
  } finally {
    if (before === undefined) delete process.env.PAR_MEMORY_OUT;
    else process.env.PAR_MEMORY_OUT = before;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The predicted bytes that depend on the plan: everything but what the engine holds before the plan's buffers exist. */
function planPart(total: number, rt: MemoryRuntime): number {
  return total - rt.overheadBytes - (rt.heap?.initialBytes ?? 0);
}

async function tfjsRows(label: string, strategy: string, plan: Plan): Promise<{ rows: Row[]; notes: string[] }> {
  const rt = tfjsMemoryRuntime("wasm");
  const predicted = planMemory(plan, rt);
  const recs = await measured("tfjs", plan.programs.length, () => runPlan(plan, { steps: STEPS, backend: "wasm", timeoutMs: TIMEOUT_MS, startupTimeoutMs: TIMEOUT_MS }));
  const rows: Row[] = [];
  const notes: string[] = [];
  recs.forEach((m, d) => {
    const p = predicted[d];
    rows.push({ model: label, strategy, engine: "tfjs wasm", device: d, what: "wasm heap", predicted: p.heap!.bytes, measured: m.wasmHeapBytes });
    const grown = m.peakArrayBuffersBytes - m.baselineArrayBuffersBytes + (m.peakHeapUsedBytes - m.baselineHeapUsedBytes) + (m.wasmHeapBytes - m.baselineWasmHeapBytes);
    rows.push({ model: label, strategy, engine: "tfjs wasm", device: d, what: "memory", predicted: p.total, measured: m.peakArrayBuffersBytes + m.peakHeapUsedBytes + m.wasmHeapBytes });
    rows.push({ model: label, strategy, engine: "tfjs wasm", device: d, what: "memory (plan part)", predicted: planPart(p.total, rt), measured: grown });
    if (d === 0) notes.push(`tfjs wasm worker baseline: JS heap ${(m.baselineHeapUsedBytes / MiB).toFixed(1)} MiB, typed arrays ${(m.baselineArrayBuffersBytes / MiB).toFixed(1)} MiB, wasm heap ${(m.baselineWasmHeapBytes / MiB).toFixed(1)} MiB`);
  });
  return { rows, notes };
}

async function torchRows(label: string, strategy: string, plan: Plan, python: ReturnType<typeof findTorchPython>): Promise<{ rows: Row[]; notes: string[] }> {
  const rt = torchMemoryRuntime("cpu");
  const predicted = planMemory(plan, rt);
  const recs = await measured("torch", plan.programs.length, () => runPlanTorch(plan, { steps: STEPS, python, threads: 1, device: "cpu", timeoutS: TIMEOUT_MS / 1000 }));
  const rows = recs.flatMap((m, d): Row[] => [
    { model: label, strategy, engine: "torch cpu", device: d, what: "memory", predicted: predicted[d].total, measured: m.peakRssBytes },
    { model: label, strategy, engine: "torch cpu", device: d, what: "memory (plan part)", predicted: planPart(predicted[d].total, rt), measured: m.peakRssBytes - m.baselineRssBytes },
  ]);
  return { rows, notes: [`torch cpu rank baseline (process overhead): ${(recs[0].baselineRssBytes / MiB).toFixed(0)} MiB resident`] };
}

/** A row as soon as it is measured (stderr): the section prints its table only at the end. */
function progress(r: Row): void {
  process.stderr.write(`memory: ${r.model} ${r.strategy} ${r.engine} device ${r.device} ${r.what}: predicted ${fmt(r.predicted)}, measured ${fmt(r.measured)}\n`);
}

function fmt(b: number): string {
  return `${(b / MiB).toFixed(1)} MiB`;
}

export async function runMemoryBench(): Promise<string> {
  const mesh = localMeshOf(DEVICES);
  let python: ReturnType<typeof findTorchPython> | undefined;
  let noTorch = "";
  try {
    python = findTorchPython();
  } catch (e) {
    noTorch = `torch engine skipped: ${e instanceof Error ? e.message : String(e)}`;
  }
  const rows: Row[] = [];
  const notes = new Set<string>();
  for (const m of MODELS) {
    const graph = loadGraph(m);
    for (const s of STRATEGIES) {
      const strategy: Strategy = { ...s.make(graph, mesh), mesh: mesh.name };
      const plan = lower(graph, strategy, mesh, { seed: 1, optimizer: SGD });
      const t = await tfjsRows(m.label, s.name, plan);
      rows.push(...t.rows);
      for (const r of t.rows) progress(r);
      t.notes.forEach((n) => notes.add(n));
      if (python) {
        const r = await torchRows(m.label, s.name, plan, python);
        rows.push(...r.rows);
        for (const x of r.rows) progress(x);
        r.notes.forEach((n) => notes.add(n));
      }
    }
  }
  const lines = ["| model | strategy | engine | device | what | predicted | measured | error |", "|---|---|---|---|---|---|---|---|"];
  const errors: number[] = [];
  for (const r of rows) {
    const err = (r.predicted - r.measured) / r.measured;
    errors.push(Math.abs(err));
    lines.push(`| ${r.model} | ${r.strategy} | ${r.engine} | ${r.device} | ${r.what} | ${fmt(r.predicted)} | ${fmt(r.measured)} | ${(err * 100).toFixed(1)} % |`);
  }
  const within = errors.filter((e) => e <= TARGET).length;
  const sorted = [...errors].sort((a, b) => a - b);
  const med = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
  lines.push("", `${within} of ${errors.length} within ${TARGET * 100} % (median |error| ${(med * 100).toFixed(1)} %); error = (predicted − measured) / measured`);
  for (const n of notes) lines.push(n);
  if (noTorch) lines.push(noTorch);
  return lines.join("\n");
}
