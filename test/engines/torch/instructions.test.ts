// Every instruction kind on the torch engine, through its launcher (`par_torch run`, one
// process per device): an MLP under a mixed strategy (a channel and reduction split: sends,
// receives, partial sums, all-reduces, local copies) and a pipeline, with each optimizer,
// and with receives in the sender's order (the NCCL discipline, forced on Gloo). Losses,
// last gradients and updated weights equal the tfjs runtime's on the same plan; the
// measured timeline comes back per instruction and as a Chrome trace.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { Instruction, OptimizerConfig, Plan } from "../../../src/plan/plan.js";
import { runPlanTorch } from "../../../src/engines/torch/run.js";
import type { TorchRunResult } from "../../../src/engines/torch/result.js";
import type { WorkerRunResult } from "../../../src/runtime/workers/run-workers.js";
import { mixedStrategy, mlp, pipelineStrategy, plans } from "../../runtime/graphs.js";
import { crossEngine, describeTorch, tfjsRun, TORCH, Worst } from "./support.js";

const STEPS = 3;
const worst = new Worst();
const OPTIMIZERS: OptimizerConfig[] = [
  { kind: "sgd", learningRate: 0.1 },
  { kind: "momentum", learningRate: 0.05, momentum: 0.8 },
  { kind: "adam", learningRate: 0.01, beta1: 0.85, beta2: 0.99, epsilon: 1e-6 },
];

const KINDS: Instruction["kind"][] = ["feed", "zero", "fill", "copy", "forward", "backward", "send", "recv", "allreduce", "update", "loss"];

function kinds(p: Plan): Set<string> {
  return new Set(p.programs.flatMap((prog) => prog.instructions.map((i) => i.kind)));
}

// The torch result has the tfjs runtime's shape (a type-level check: it fails to compile otherwise).
const asWorkerResult = (r: TorchRunResult): WorkerRunResult => r;

describeTorch("every instruction kind on the torch engine", () => {
  afterAll(() => console.log(worst.report("torch vs tfjs, instruction kinds")));

  const g = mlp(8, 6, 5, 3);
  const cases = OPTIMIZERS.flatMap((optimizer) => [
    { name: `mixed strategy, ${optimizer.kind}`, plan: plans(g, mixedStrategy(), 3, optimizer).plan, optimizer, ordered: false },
    { name: `pipeline, ${optimizer.kind}`, plan: plans(g, pipelineStrategy(g), 2, optimizer).plan, optimizer, ordered: false },
  ]);
  cases.push({ name: "mixed strategy, receives in the sender's order", plan: plans(g, mixedStrategy(), 3, OPTIMIZERS[1]).plan, optimizer: OPTIMIZERS[1], ordered: true });

  it("the plans use every instruction kind", () => {
    const used = new Set(cases.flatMap((c) => [...kinds(c.plan)]));
    expect(KINDS.filter((k) => !used.has(k))).toEqual([]);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const torch = await runPlanTorch(c.plan, { steps: STEPS, dumpWeights: true, times: true, orderedP2p: c.ordered, python: TORCH! });
      const tfjs = await tfjsRun(c.plan, STEPS);
      const r = crossEngine(c.plan, torch, tfjs, STEPS);
      worst.add(r);
      expect(r.firstMismatch).toBeUndefined();
      expect(torch.losses[STEPS - 1]).toBeLessThan(torch.losses[0]);
      // Per-step times and per-instruction timeline of every device.
      const w = asWorkerResult(torch);
      expect(w.backend).toBe("torch-gloo");
      expect(w.backendDetail).toContain(`p2p ${c.ordered ? "ordered" : "tagged"}`);
      expect(w.stepTimesMs).toHaveLength(STEPS);
      expect(w.timeline.devices.map((d) => d.device)).toEqual(c.plan.devices.map((d) => d.index));
      for (const d of w.timeline.devices) {
        const n = c.plan.programs.find((p) => p.device === d.device)!.instructions.length;
        expect(d.steps).toHaveLength(STEPS);
        for (const s of d.steps) {
          expect(s.starts).toHaveLength(n);
          expect(s.end).toBeGreaterThanOrEqual(s.start);
          for (let i = 0; i < n; i++) expect(s.ends![i]).toBeGreaterThanOrEqual(s.starts![i]);
        }
      }
    }, 120_000);
  }

  it("--trace writes the measured timeline as a Chrome trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "par-torch-trace-"));
    try {
      const plan = cases[0].plan;
      const trace = join(dir, "trace.json");
      await runPlanTorch(plan, { steps: 2, trace, python: TORCH! });
      const t = JSON.parse(readFileSync(trace, "utf8")) as { traceEvents: { ph: string; name: string; tid: number; cat?: string; dur?: number }[]; otherData: Record<string, unknown> };
      const xs = t.traceEvents.filter((e) => e.ph === "X" && e.cat !== "step");
      const instructions = plan.programs.reduce((n, p) => n + p.instructions.length, 0);
      expect(xs).toHaveLength(2 * instructions);
      expect(t.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => e.tid).sort()).toEqual([0, 1, 2]);
      expect(xs.every((e) => (e.dur ?? -1) >= 0)).toBe(true);
      expect(String(t.otherData.backend)).toContain("gloo");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
