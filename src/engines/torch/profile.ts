// Profiling on torch: run the plan with every instruction timed (warm-up steps, then timed
// ones) and turn the forward, backward and update instructions of the timed steps into the
// simulator's measured-cost table (`par-measured-costs`, src/cost/compute.ts): per task key
// (op kind, full input shapes, attrs, box extent) the median over devices and steps; per
// optimizer-step shard size the median update time. Measured where and as the kernels run,
// next to the other ranks, as `par profile --in-run` does for the tfjs runtime.

import { regionShape, regionVolume } from "../../core/region.js";
import type { Attrs } from "../../ops/contract.js";
import type { Plan } from "../../plan/plan.js";
import { runPlanTorch, type TorchRunOptions } from "./run.js";

/** One row of the measured-cost table (src/cost/compute.ts MeasuredEntry). */
export interface TorchCostEntry {
  op: string;
  inputs: number[][];
  attrs: Attrs;
  extent: number[];
  forwardMs: number;
  backwardMs: number;
}

/** A `par-measured-costs` document (src/cost/compute.ts MeasuredCosts; parseMeasuredCosts reads it). */
export interface TorchCostTable {
  format: "par-measured-costs";
  version: 1;
  device: string;
  backend: string;
  entries: TorchCostEntry[];
  updates: { optimizer: string; floats: number; ms: number }[];
}

export interface TorchProfileOptions extends Omit<TorchRunOptions, "steps" | "times" | "dumpWeights"> {
  /** Untimed steps first (default 5: the first steps pay allocation and caches). */
  warmup?: number;
  /** Timed steps (default 10). */
  repeats?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function profilePlanTorch(plan: Plan, options: TorchProfileOptions = {}): Promise<TorchCostTable> {
  const warmup = options.warmup ?? 5;
  const repeats = options.repeats ?? 10;
  const run = await runPlanTorch(plan, { ...options, steps: warmup + repeats, times: true });
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  const ops = new Map(plan.ops.map((o) => [o.name, o]));
  interface Row {
    entry: Omit<TorchCostEntry, "forwardMs" | "backwardMs">;
    forward: number[];
    backward: number[];
  }
  const rows = new Map<string, Row>();
  const updates = new Map<number, number[]>();
  const keyOf = (opName: string, box: { lo: number[]; hi: number[] }): { key: string; entry: Row["entry"] } => {
    const op = ops.get(opName)!;
    const inputs = op.inputs.map((id) => [...tensors.get(id)!.shape]);
    const extent = regionShape(box);
    return { key: `${op.op}|${JSON.stringify(inputs)}|${JSON.stringify(op.attrs)}|${extent.join(",")}`, entry: { op: op.op, inputs, attrs: op.attrs, extent } };
  };
  for (const d of run.timeline.devices) {
    const program = plan.programs.find((p) => p.device === d.device)!;
    const volume = new Map(program.buffers.map((b) => [b.id, regionVolume(b.region)]));
    for (const s of d.steps.slice(warmup)) {
      program.instructions.forEach((ins, i) => {
        const ms = s.ends![i] - s.starts![i];
        if (ins.kind === "forward" || ins.kind === "backward") {
          const { key, entry } = keyOf(ins.op, ins.box);
          let row = rows.get(key);
          if (!row) rows.set(key, (row = { entry, forward: [], backward: [] }));
          (ins.kind === "forward" ? row.forward : row.backward).push(ms);
        } else if (ins.kind === "update") {
          const n = volume.get(ins.param) ?? 0;
          if (n > 0) {
            let list = updates.get(n);
            if (!list) updates.set(n, (list = []));
            list.push(ms);
          }
        }
      });
    }
  }
  return {
    format: "par-measured-costs",
    version: 1,
    device: plan.devices[0]?.kind ?? "cpu",
    backend: run.backend,
    entries: [...rows.values()]
      .filter((r) => r.forward.length > 0)
      .map((r) => ({ ...r.entry, forwardMs: median(r.forward), backwardMs: r.backward.length ? median(r.backward) : 0 })),
    updates: [...updates.entries()].sort((a, b) => a[0] - b[0]).map(([floats, ms]) => ({ optimizer: plan.optimizer.kind, floats, ms: median(ms) })),
  };
}
