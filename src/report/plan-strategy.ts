// What a plan file says about the strategy it was lowered from: each op's degrees (PlanOp)
// and the device of each of its tasks (the device whose program runs `forward op task t`).
// Strategy-wide choices (replicas, pipeline, ZeRO, ...) are not recorded in a plan, so a
// plan of such a strategy yields per-op configs that may not validate: the caller says so.

import type { Plan } from "../plan/plan.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";

/** The plan's per-op configs, or a sentence saying why they cannot be recovered. */
export function strategyFromPlan(plan: Plan): { strategy: Strategy } | { missing: string } {
  const devices = new Map<string, number[]>();
  for (const prog of plan.programs) {
    for (const ins of prog.instructions) {
      if (ins.kind !== "forward") continue;
      let list = devices.get(ins.op);
      if (!list) devices.set(ins.op, (list = []));
      if (list[ins.task] !== undefined && list[ins.task] !== prog.device) return { missing: `op ${ins.op} runs task ${ins.task} on devices ${list[ins.task]} and ${prog.device}` };
      list[ins.task] = prog.device;
    }
  }
  const ops: Record<string, OpConfig> = {};
  for (const op of plan.ops) {
    const tasks = op.degrees.reduce((a, b) => a * b, 1);
    const list = devices.get(op.name) ?? [];
    for (let t = 0; t < tasks; t++) {
      if (list[t] === undefined) return { missing: `no device runs task ${t} of op ${op.name} (its degrees ${op.degrees.join("×")} make ${tasks} tasks)` };
    }
    if (list.length !== tasks) return { missing: `op ${op.name} has ${list.length} forward tasks, its degrees make ${tasks}` };
    ops[op.name] = { degrees: [...op.degrees], devices: list };
  }
  return { strategy: { name: plan.strategy, model: plan.model, mesh: plan.mesh, ops } };
}
