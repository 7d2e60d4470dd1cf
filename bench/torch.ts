// Torch engine benchmarks (`npm run bench -- torch`):
//  1. par's torch engine against hand-written PyTorch (python/bench/reference.py) on the
//     same model, strategy and number of ranks: DistributedDataParallel for data parallel,
//     Megatron-style column/row-split linears (attention split by heads) for tensor
//     parallel; the MLP of the quick start (models/mlp.par), a small CNN
//     (bench/tiny-cnn.par) and a pre-LN transformer block. Target: par / reference ≤ 1.15.
//  2. par's torch engine against par's tfjs runtime on the quick-start model: speed-up.
// Step time: the wall time of the timed steps divided by their number (after untimed
// warm-up steps), for both sides alike. The machine is shared and noisy, so the two sides
// of each ratio run alternately, ROUNDS times each, in this one run, and the least
// disturbed (fastest) of each side is compared.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { localMeshOf } from "../src/core/builtin-meshes.js";
import { Diagnostics } from "../src/core/diagnostics.js";
import type { Mesh } from "../src/core/mesh.js";
import { lower } from "../src/codegen/lower.js";
import { findTorchPython, pythonEnv, type TorchPython } from "../src/engines/torch/python.js";
import { runPlanTorch } from "../src/engines/torch/run.js";
import type { TorchRunResult } from "../src/engines/torch/result.js";
import { loadProgram } from "../src/frontend/load.js";
import type { Graph } from "../src/ir/graph.js";
import { dataParallel, megatron } from "../src/ir/baselines.js";
import type { Strategy } from "../src/ir/strategy.js";
import type { OptimizerConfig, Plan } from "../src/plan/plan.js";
import { runPlan } from "../src/runtime/workers/run-workers.js";
import { median } from "../src/core/stats.js";
import { repoRoot } from "./paths.js";

/** "cpu" (Gloo; default) or "cuda" (NCCL, one GPU per rank; scripts/gpu-check.sh). */
const DEVICE = (process.env.PAR_BENCH_TORCH_DEVICE ?? "cpu") as "cpu" | "cuda";
const RANKS = Number(process.env.PAR_BENCH_RANKS ?? 2);
const WARMUP = 5;
const STEPS = Number(process.env.PAR_BENCH_TORCH_STEPS ?? 20);
const ROUNDS = Number(process.env.PAR_BENCH_ROUNDS ?? 4);
const TARGET = 1.15;
const LR = 0.01;
const SGD: OptimizerConfig = { kind: "sgd", learningRate: LR };

// A pre-LN transformer block with a classifier on the mean over the sequence. (Not a
// per-position regression target: the synthetic targets of a [batch, seq, hidden] input
// are teacher projections of whole [seq, hidden] rows, costly to make in either engine.)
const BLOCK_SOURCE = `# A pre-LN transformer block (bench/torch.ts): causal self-attention, an MLP of 4x width.
model tblock(batch = 16, seq = 64, hidden = 256, heads = 4, classes = 10) {
  input x      : f32[batch, seq, hidden]
  input labels : i32[batch]
  mid = add(x, attention(layernorm(x), heads = heads, causal = true))
  y = add(mid, linear(gelu(linear(layernorm(mid), out = 4 * hidden)), out = hidden))
  logits = linear(reduce_mean(y, axes = [1]), out = classes)
  loss = softmax_cross_entropy(logits, labels)
}
`;

interface Case {
  label: string;
  model: "mlp" | "cnn" | "block";
  strategy: "dp" | "tp";
  graph: Graph;
  shape: Record<string, number>;
}

function load(path: string, overrides: Record<string, number> = {}): Graph {
  const diagnostics = new Diagnostics();
  const checked = loadProgram(path, { sources: new Map(), diagnostics }, { overrides });
  const g = checked && [...checked.models.values()][0];
  if (!g || diagnostics.hasErrors()) throw new Error(`${path}: ${diagnostics.items.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return g;
}

function strategyOf(c: Case, mesh: Mesh): Strategy {
  return c.strategy === "dp" ? dataParallel(c.graph, mesh) : megatron(c.graph, mesh);
}

/** The MLP's linears in order, as the reference's tensor-parallel modes. */
function linearModes(g: Graph, s: Strategy): string[] {
  return g.topoOrder().filter((o) => o.op === "linear").map((o) => {
    const d = s.ops[o.name].degrees;
    const at = (name: string) => d[o.sig.space.findIndex((x) => x.name === name)] ?? 1;
    return at("channel") > 1 ? "col" : at("in_channel") > 1 ? "row" : "rep";
  });
}

/** Wall time of the timed steps over their number: first timed start to last end, all devices. */
function throughputMs(r: TorchRunResult, warmup: number): number {
  const starts = r.timeline.devices.map((d) => d.steps[warmup].start);
  const ends = r.timeline.devices.map((d) => d.steps[d.steps.length - 1].end);
  return (Math.max(...ends) - Math.min(...starts)) / (r.losses.length - warmup);
}

function reference(python: TorchPython, c: Case, modes: string[], threads: number): number {
  const cfg = { model: c.model, strategy: c.strategy, nproc: RANKS, steps: STEPS, warmup: WARMUP, lr: LR, threads, device: DEVICE, shape: c.shape, modes };
  const script = join(repoRoot(), "python", "bench", "reference.py");
  const r = spawnSync(python.python, [script], { input: JSON.stringify(cfg), encoding: "utf8", env: { ...pythonEnv(), PAR_REFERENCE_THREADS: String(threads) }, timeout: 600_000 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
  if (r.status !== 0 || !line) throw new Error(`reference ${c.label}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  return (JSON.parse(line) as { throughputMs: number }).throughputMs;
}

async function versusReference(python: TorchPython, c: Case, mesh: Mesh, threads: number): Promise<{ line: string; ratio: number }> {
  const s = strategyOf(c, mesh);
  const plan: Plan = lower(c.graph, { ...s, mesh: mesh.name }, mesh, { seed: 1, optimizer: SGD });
  const modes = c.model === "mlp" ? linearModes(c.graph, s) : [];
  const par: number[] = [];
  const ref: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const r = await runPlanTorch(plan, { steps: WARMUP + STEPS, python, threads, device: DEVICE });
    par.push(throughputMs(r, WARMUP));
    ref.push(reference(python, c, modes, threads));
  }
  const p = Math.min(...par);
  const q = Math.min(...ref);
  const ratio = p / q;
  return {
    ratio,
    line: `${c.label}, ${c.strategy} on ${RANKS} ${DEVICE} rank(s): par ${p.toFixed(2)} ms/step, reference ${q.toFixed(2)} ms/step → ratio ${ratio.toFixed(3)} ${ratio <= TARGET ? "(≤ 1.15 ✓)" : "(> 1.15 ✗)"}  [runs: par ${par.map((x) => x.toFixed(1)).join("/")}, ref ${ref.map((x) => x.toFixed(1)).join("/")}]`,
  };
}

async function versusTfjs(python: TorchPython, graph: Graph, mesh: Mesh, threads: number): Promise<string> {
  const plan = lower(graph, { ...dataParallel(graph, mesh), mesh: mesh.name }, mesh, { seed: 1, optimizer: SGD });
  const tfjsWarmup = 12;
  const tf = await runPlan(plan, { steps: tfjsWarmup + STEPS });
  const tfMs = median(tf.stepTimesMs.slice(tfjsWarmup));
  const torch = await runPlanTorch(plan, { steps: WARMUP + STEPS, python, threads, device: DEVICE });
  const torchMs = median(torch.stepTimesMs.slice(WARMUP));
  return `quick-start mlp (models/mlp.par defaults), dp on ${mesh.devices.length} devices: tfjs runtime (${tf.backend}) ${tfMs.toFixed(2)} ms/step, torch engine ${torchMs.toFixed(2)} ms/step → speed-up ${(tfMs / torchMs).toFixed(2)}× (median steps)`;
}

export async function runTorchBench(): Promise<string> {
  const python = findTorchPython();
  const threads = Math.max(1, Math.floor(availableParallelism() / RANKS));
  const mesh = localMeshOf(RANKS);
  const dir = mkdtempSync(join(tmpdir(), "par-bench-torch-"));
  try {
    const blockPath = join(dir, "block.par");
    writeFileSync(blockPath, BLOCK_SOURCE);
    const mlp = load(join(repoRoot(), "models", "mlp.par"));
    const cnn = load(join(repoRoot(), "bench", "tiny-cnn.par"));
    const block = load(blockPath);
    const mlpShape = { batch: 64, features: 784, hidden: 1024, layers: 2, classes: 10 };
    const cases: Case[] = [
      { label: "mlp (batch 64, hidden 1024, 2 layers)", model: "mlp", strategy: "dp", graph: mlp, shape: mlpShape },
      { label: "mlp (batch 64, hidden 1024, 2 layers)", model: "mlp", strategy: "tp", graph: mlp, shape: mlpShape },
      { label: "tinycnn (batch 32, 16x16)", model: "cnn", strategy: "dp", graph: cnn, shape: { batch: 32, size: 16, classes: 10 } },
      { label: "transformer block (batch 16, seq 64, hidden 256, 4 heads)", model: "block", strategy: "dp", graph: block, shape: { batch: 16, seq: 64, hidden: 256, heads: 4, classes: 10 } },
      { label: "transformer block (batch 16, seq 64, hidden 256, 4 heads)", model: "block", strategy: "tp", graph: block, shape: { batch: 16, seq: 64, hidden: 256, heads: 4, classes: 10 } },
    ];
    const lines = [`torch ${python.torch} (${python.python}), ${RANKS} ${DEVICE} rank(s) × ${threads} thread(s), ${WARMUP} warm-up + ${STEPS} timed steps, best of ${ROUNDS} alternating runs`];
    const ratios: number[] = [];
    // Tensor parallelism needs two ranks at least.
    for (const c of cases.filter((x) => RANKS > 1 || x.strategy === "dp")) {
      const r = await versusReference(python, c, mesh, threads);
      ratios.push(r.ratio);
      lines.push(r.line);
    }
    lines.push(`worst ratio ${Math.max(...ratios).toFixed(3)} (target ≤ ${TARGET})`);
    // The tfjs runtime runs on this machine's cores only.
    if (DEVICE === "cpu") lines.push(await versusTfjs(python, mlp, mesh, threads));
    return lines.join("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
