// Issue 6: every zoo model, shrunk with its model parameters until it runs here, verifies
// (src/runtime/exec/verify.ts: losses, gradients and weights against the single-device plan,
// cpu backend, 1 step) under its searched strategy and under each baseline (dp, mp, expert,
// megatron), on a 4-device mesh of 2 nodes × 2 devices.
//
// Models too heavy for the default suite's time run only with PAR_SLOW_TESTS=1 (each says why).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics, formatDiagnostic } from "../../src/core/diagnostics.js";
import { lower, singleDeviceStrategy, type LowerMesh } from "../../src/codegen/lower.js";
import type { OptimizerConfig, Plan } from "../../src/plan/plan.js";
import { buildGraph } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import { baseline, BASELINE_KINDS } from "../../src/ir/baselines.js";
import type { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import type { TF } from "../../src/ops/contract.js";
import { runPlanInProcess } from "../../src/runtime/exec/run-inprocess.js";
import { compareRuns } from "../../src/runtime/exec/verify.js";
import { searchStrategy } from "../../src/search/search.js";
import { testMesh } from "../ir/fixtures.js";
import { useBackend } from "../support/tf.js";

const MODELS = join(import.meta.dirname, "..", "..", "models");
const SLOW = process.env.PAR_SLOW_TESTS === "1";
const SGD: OptimizerConfig = { kind: "sgd", learningRate: 0.01 };
const MESH = testMesh(2, 2, "zoo2x2");
const SINGLE: LowerMesh = { name: "single", devices: [{ index: 0, spec: { kind: "cpu" } }] };
const SEARCH_ITERATIONS = 100;
const SEED = 3;
const STEPS = 1;
const ONLY = process.env.PAR_ZOO_ONLY?.split(",");

interface ZooCase {
  model: string;
  overrides: Record<string, number>;
  /** Why the case only runs with PAR_SLOW_TESTS=1 (absent: it runs by default). */
  slow?: string;
  /**
   * A looser verification tolerance, with its reason. Deep batch-normalised CNNs on tiny
   * batches amplify summation-order rounding (a sample split changes the order in which
   * batch statistics and weight gradients are summed) through dozens of batch norms: the
   * measured worst relative error is 2–3e-4 at 1/16 width, batch 8, for ResNet-50 and
   * Inception-v3, against 1e-7-level errors elsewhere. A broken plan misses by ≥ 1e-2.
   */
  tolerance?: number;
}

const CASES: ZooCase[] = [
  { model: "mlp", overrides: { batch: 4, hidden: 8, layers: 2, classes: 5 } },
  // 63 is the smallest input for which every pooling window still fits.
  { model: "alexnet", overrides: { batch: 2, size: 63, classes: 5, shrink: 16 } },
  { model: "vgg16", overrides: { batch: 2, size: 32, classes: 5, shrink: 16 } },
  { model: "resnet50", overrides: { batch: 8, size: 32, classes: 5, shrink: 16 }, tolerance: 1e-3 },
  { model: "resnet101", overrides: { batch: 2, size: 32, classes: 5, shrink: 16 }, slow: "450 ops: its five strategies take minutes even at 1/16 width on the cpu backend" },
  // 75 is inception's smallest valid input.
  { model: "inception_v3", overrides: { batch: 8, size: 75, classes: 5, shrink: 16 }, tolerance: 1e-3 },
  { model: "rnntc", overrides: { batch: 4, seq: 3, vocab: 11, embed: 4, hidden: 4, classes: 2 } },
  { model: "rnnlm", overrides: { batch: 4, seq: 3, vocab: 11, embed: 4, hidden: 4 } },
  { model: "nmt", overrides: { batch: 4, seq: 4, vocab: 11, hidden: 4, chunks: 2 } },
  { model: "bert_base", overrides: { batch: 4, seq: 4, vocab: 13, hidden: 8, heads: 2, ffn: 16, layers: 2, positions: 8 } },
  { model: "gpt2_small", overrides: { batch: 4, seq: 4, vocab: 13, hidden: 8, heads: 2, layers: 2, positions: 8 } },
  { model: "dlrm", overrides: { batch: 4, rows: 5, dim: 4 } },
];

function load(model: string, overrides: Record<string, number>): Graph {
  const file = `${model}.par`;
  const text = readFileSync(join(MODELS, file), "utf8");
  const d = new Diagnostics();
  const program = parse(text, file, d);
  const graph = program ? buildGraph(program, model, overrides, d) : undefined;
  expect(d.errors.map((x) => formatDiagnostic(x, text))).toEqual([]);
  return graph!;
}

function strategies(graph: Graph): [string, Strategy][] {
  const searched = searchStrategy(graph, MESH, { budget: { iterations: SEARCH_ITERATIONS }, seed: SEED, optimizer: "sgd" }).best.strategy;
  return [["searched", { ...searched, name: searched.name || "searched" }], ...BASELINE_KINDS.map((k): [string, Strategy] => [k, baseline(k, graph, MESH)])];
}

describe("model zoo: every model verifies under its searched strategy and each baseline (4 devices)", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  for (const c of CASES.filter((c) => !ONLY || ONLY.includes(c.model))) {
    const run = !c.slow || SLOW;
    if (!run) console.log(`zoo-verify: ${c.model} skipped (${c.slow}); PAR_SLOW_TESTS=1 runs it`);
    it.runIf(run)(`${c.model} ${JSON.stringify(c.overrides)}`, async () => {
      const t0 = performance.now();
      const graph = load(c.model, c.overrides);
      const single: Plan = lower(graph, singleDeviceStrategy(graph, SINGLE.name), SINGLE, { seed: SEED, optimizer: SGD });
      // verifyPlan(plan, single) without re-running the same reference for every strategy.
      const reference = await runPlanInProcess(single, tf, { steps: STEPS });
      const failures: string[] = [];
      const times: string[] = [];
      for (const [name, s] of strategies(graph)) {
        const t = performance.now();
        const d = new Diagnostics();
        expect(validateStrategy(graph, MESH, s, d), `${name}: ${d.items.map((x) => x.message).join("; ")}`).toBe(true);
        const plan = lower(graph, { ...s, mesh: MESH.name }, MESH, { seed: SEED, optimizer: SGD });
        const r = compareRuns(plan, await runPlanInProcess(plan, tf, { steps: STEPS }), reference, { steps: STEPS, ...(c.tolerance ? { tolerance: c.tolerance } : {}) });
        if (!r.ok) failures.push(`${name}: ${JSON.stringify(r.firstMismatch)} (max rel ${r.maxRelError.toExponential(2)})`);
        times.push(`${name} ${((performance.now() - t) / 1000).toFixed(1)}s`);
      }
      console.log(`zoo-verify: ${c.model} (${graph.ops.size} ops) ${((performance.now() - t0) / 1000).toFixed(1)}s: ${times.join(", ")}`);
      expect(failures).toEqual([]);
    }, 600_000);
  }
});
