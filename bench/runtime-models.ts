// Models and plans shared by the runtime benchmarks (runtime.ts, fidelity.ts).
import { median } from "../src/core/stats.js";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { builtinMesh, localMeshOf } from "../src/core/builtin-meshes.js";
import { Diagnostics } from "../src/core/diagnostics.js";
import type { Mesh } from "../src/core/mesh.js";
import { lower, singleDeviceStrategy, type LowerMesh } from "../src/codegen/lower.js";
import { TIMED_STEPS, WARMUP_STEPS } from "../src/runtime/profile/profile.js";
import { runPlan } from "../src/runtime/workers/run-workers.js";
import type { OptimizerConfig, Plan } from "../src/plan/plan.js";
import { loadProgram } from "../src/frontend/load.js";
import type { Graph } from "../src/ir/graph.js";
import type { Strategy } from "../src/ir/strategy.js";
import { repoRoot } from "./paths.js";

export interface BenchModel {
  label: string;
  file: string;
  overrides: Record<string, number>;
}

/** Small configurations: a step on one core takes milliseconds to tens of milliseconds. */
export const MLP: BenchModel = { label: "mlp(batch 64, hidden 256, 2 layers)", file: "models/mlp.par", overrides: { batch: 64, hidden: 256, layers: 2 } };
export const CNN: BenchModel = { label: "tinycnn(batch 32, 16x16)", file: "bench/tiny-cnn.par", overrides: {} };
export const RNN: BenchModel = { label: "rnnlm(batch 16, seq 8, vocab 500, 64 wide, 1 layer)", file: "models/rnnlm.par", overrides: { batch: 16, seq: 8, vocab: 500, embed: 64, hidden: 64, layers: 1 } };

export function loadGraph(m: BenchModel): Graph {
  const diagnostics = new Diagnostics();
  const checked = loadProgram(join(repoRoot(), m.file), { sources: new Map(), diagnostics }, { overrides: m.overrides });
  const g = checked && [...checked.models.values()][0];
  if (!g || diagnostics.hasErrors()) throw new Error(`${m.file}: ${diagnostics.items.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return g;
}

/**
 * The `local` mesh: one device per core, or PAR_BENCH_DEVICES devices (at most the core
 * count) on a machine with many cores, where a benchmark wants a few uncontended devices.
 */
export function localMesh(): Mesh {
  const want = process.env.PAR_BENCH_DEVICES;
  if (want === undefined || want === "") return builtinMesh("local")!;
  const n = Number(want);
  if (!Number.isInteger(n) || n < 1 || n > availableParallelism()) {
    throw new Error(`PAR_BENCH_DEVICES=${want}: expected an integer from 1 to ${availableParallelism()} (this machine's cores)`);
  }
  return localMeshOf(n);
}

/**
 * Runs `plan` in workers for WARMUP_STEPS untimed steps and TIMED_STEPS timed ones (the
 * runtime reaches steady speed after ~10 steps: src/runtime/profile/profile.ts); the median of the
 * timed steps.
 */
export async function steadyStepMs(plan: Plan): Promise<{ ms: number; backend: string }> {
  const r = await runPlan(plan, { steps: WARMUP_STEPS + TIMED_STEPS });
  return { ms: median(r.stepTimesMs.slice(WARMUP_STEPS)), backend: r.backend };
}

export const SGD: OptimizerConfig = { kind: "sgd", learningRate: 0.01 };

export function planOf(graph: Graph, strategy: Strategy, mesh: Mesh | LowerMesh): Plan {
  return lower(graph, { ...strategy, mesh: mesh.name }, mesh, { seed: 1, optimizer: SGD });
}

/** One device of the local kind: a one-device plan gets one worker, not one per core. */
export const ONE_DEVICE: LowerMesh = { name: "local-1", devices: [{ index: 0, spec: { kind: "cpu" } }] };

/** Every op whole on device 0 of `mesh`. */
export function singleOn(graph: Graph, mesh: Mesh | LowerMesh): Strategy {
  return { ...singleDeviceStrategy(graph, mesh.name), name: "single" };
}


export { median };
