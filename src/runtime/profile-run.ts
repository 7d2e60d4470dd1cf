// Profiling in the run: the plan runs on the worker runtime (one worker thread per device,
// exactly as `par run` runs it) with every instruction timed (the measured timeline), and
// the forward, backward and update instructions' times become measured-cost rows. The
// kernels are measured where and as they run: in the run's own threads, next to the other
// devices' work, so the rows already carry the contention between devices that a profile
// in one thread (profile-exec.ts, profile-load.ts) can only approximate with background
// load. What the simulator is then left to predict is everything between the kernels:
// exchanges, waits, the order of the devices' work and the critical path.
//
// Rows are keyed as profile-exec.ts keys them (op kind, input shapes, attrs, extent; the
// update by shard size); equal keys pool their samples over devices and timed steps.

import type { Instruction, Plan } from "../codegen/plan.js";
import { quantile } from "../core/stats.js";
import type { LoadedTask, PlanProfile } from "./profile-load.js";
import { planTasks, TIMED_STEPS, updateShardFloats, WARMUP_STEPS, type ProfileOptions } from "./profile.js";
import { runPlan, type MeasuredTimeline } from "./run-workers.js";
import type { BackendRequest } from "./backend.js";

/**
 * The measured-cost rows of `plan` from a traced run's timeline: every forward, backward
 * and update instruction of the steps from `fromStep` on, each key's `q`-quantile (default
 * the median). Tasks in plan order of first appearance, updates by ascending size.
 */
export function profileFromTimeline(plan: Plan, timeline: MeasuredTimeline, fromStep: number, q = 0.5): PlanProfile {
  const rows = new Map<string, { task: LoadedTask; forward: number[]; backward: number[] }>();
  const byOpTask = new Map<string, { forward: number[]; backward: number[] }>();
  for (const { key, task, ins } of planTasks(plan)) {
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { task: { ...task, forwardMs: 0, backwardMs: 0 }, forward: [], backward: [] }));
    byOpTask.set(`${ins.op}#${ins.task}`, r);
  }
  const updates = new Map<number, number[]>();
  for (const measured of timeline.devices) {
    const program = plan.programs.find((p) => p.device === measured.device);
    if (!program) continue;
    const floatsOf = updateShardFloats(program);
    // Where each instruction's samples go, resolved once per device.
    const sink: (number[] | undefined)[] = program.instructions.map((ins: Instruction) => {
      if (ins.kind === "forward" || ins.kind === "backward") return byOpTask.get(`${ins.op}#${ins.task}`)?.[ins.kind];
      const floats = floatsOf.get(ins);
      if (floats === undefined) return undefined;
      let xs = updates.get(floats);
      if (!xs) updates.set(floats, (xs = []));
      return xs;
    });
    for (const step of measured.steps) {
      if (step.step < fromStep || !step.starts || !step.ends) continue;
      for (let i = 0; i < sink.length; i++) sink[i]?.push(step.ends[i] - step.starts[i]);
    }
  }
  // No sample: the plan never runs that backward (nobody needs the gradient), so it costs nothing.
  const stat = (xs: number[]) => (xs.length ? quantile(xs, q) : 0);
  return {
    tasks: [...rows.values()].map((r) => ({ ...r.task, forwardMs: stat(r.forward), backwardMs: stat(r.backward) })),
    updates: [...updates.entries()]
      .filter(([, xs]) => xs.length > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([floats, xs]) => ({ optimizer: plan.optimizer.kind, floats, ms: stat(xs) })),
  };
}

/**
 * Runs `plan` on the worker runtime for `warmup` untimed and `repeats` timed steps with
 * every instruction timed; the rows of the timed steps (profileFromTimeline) and the timed
 * steps' times.
 */
export async function profilePlanInRun(plan: Plan, options: ProfileOptions & { backend?: BackendRequest } = {}): Promise<PlanProfile & { backend: string; stepTimesMs: number[] }> {
  const warmup = options.warmup ?? WARMUP_STEPS;
  const repeats = options.repeats ?? TIMED_STEPS;
  const run = await runPlan(plan, { steps: warmup + repeats, trace: true, ...(options.backend ? { backend: options.backend } : {}) });
  return { ...profileFromTimeline(plan, run.timeline, warmup), backend: run.backend, stepTimesMs: run.stepTimesMs.slice(warmup) };
}
