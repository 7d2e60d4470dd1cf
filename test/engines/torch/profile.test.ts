// Profiling on torch writes the simulator's measured-cost table: it parses as
// `par-measured-costs`, has a row for every distinct task of the plan and an update row per
// weight-shard size, and the cost model prices the plan's tasks from it.
import { expect, it } from "vitest";
import { parseMeasuredCosts, measuredKey } from "../../../src/cost/compute.js";
import { regionShape } from "../../../src/core/region.js";
import { profilePlanTorch } from "../../../src/engines/torch/profile.js";
import { mixedStrategy, mlp, plans } from "../../runtime/graphs.js";
import { describeTorch, TORCH } from "./support.js";

describeTorch("profile on torch", () => {
  it("measures every task and update into a par-measured-costs table", async () => {
    const plan = plans(mlp(16, 12, 10, 3), mixedStrategy(), 3).plan;
    const table = parseMeasuredCosts(JSON.parse(JSON.stringify(await profilePlanTorch(plan, { warmup: 2, repeats: 3, python: TORCH! }))));
    expect(table.backend).toBe("torch-gloo");
    expect(table.device).toBe("cpu");
    const keys = new Set(table.entries.map((e) => measuredKey(e.op, e.inputs, e.attrs, e.extent)));
    const shapes = new Map(plan.tensors.map((t) => [t.id, t.shape]));
    for (const p of plan.programs) {
      for (const ins of p.instructions) {
        if (ins.kind !== "forward") continue;
        const op = plan.ops.find((o) => o.name === ins.op)!;
        expect(keys.has(measuredKey(op.op, op.inputs.map((i) => shapes.get(i)!), op.attrs, regionShape(ins.box))), `${ins.op} task ${ins.task}`).toBe(true);
      }
    }
    expect(table.entries.every((e) => e.forwardMs > 0 && e.backwardMs > 0)).toBe(true);
    const shardSizes = new Set(plan.programs.flatMap((p) => p.instructions.flatMap((i) => (i.kind === "update" ? [p.buffers.find((b) => b.id === i.param)!] : []))).map((b) => regionShape(b.region).reduce((x, y) => x * y, 1)));
    expect(new Set(table.updates!.map((u) => u.floats))).toEqual(shardSizes);
    expect(table.updates!.every((u) => u.optimizer === "sgd" && u.ms > 0)).toBe(true);
  }, 120_000);
});
