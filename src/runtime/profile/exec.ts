// Profiling by execution: the plan's training steps run in this thread (every device's
// DeviceExecutor on the in-memory comm, as runPlanInProcess does) and every forward and
// backward instruction is timed as the executor runs it: reading its input buffers into
// tensors, the kernel, reading the results back and storing or ACCUMULATING them into the
// device's buffers. Kernel-only timing (profile.ts's planKernels) misses that bookkeeping,
// which on a CPU backend is a large share of small kernels. Devices run one after another
// here (one thread), so these are the tasks' times alone; profile-load.ts runs the same
// steps with background load for the loaded figures.
//
// Times are keyed like the measured-cost table: (op kind, input shapes, attrs, extent);
// tasks with equal keys share samples, and each key's median is kept. `update` instructions (the optimizer step, a JS loop over the weight shard) are
// timed too, keyed by shard size: the simulator charges them per weight shard.

import type { Plan } from "../../plan/plan.js";
import { median } from "../../core/stats.js";
import type { TF } from "../../ops/contract.js";
import type { Instruction } from "../../plan/plan.js";
import { DeviceExecutor } from "../exec/executor.js";
import { MemoryHub } from "../exec/memory-comm.js";
import { planTasks, updateShardFloats, type ProfiledUpdate, type TaskDescriptor } from "./profile.js";

type Phase = "warmup" | "alone" | "loaded";

interface Samples {
  task: TaskDescriptor;
  forward: Record<"alone" | "loaded", number[]>;
  backward: Record<"alone" | "loaded", number[]>;
}

export interface ExecutionProfile {
  task: TaskDescriptor;
  /** Median milliseconds per phase (0 where a phase had no steps or the plan never runs it). */
  forward: Record<"alone" | "loaded", number>;
  backward: Record<"alone" | "loaded", number>;
}

export interface PlanExecutionProfile {
  tasks: ExecutionProfile[];
  /** Updates measured alone, by shard size (ascending). */
  updates: ProfiledUpdate[];
}

/**
 * Runs `phases.length` training steps of `plan` in this thread; `enter(phase)` is called
 * before each step (to switch a background load on or off). Returns each distinct task's
 * median forward and backward time per phase, in plan order of first appearance, and the
 * updates' median times by shard size.
 */
export async function profileByExecution(plan: Plan, tf: TF, phases: readonly Phase[], enter: (phase: Phase) => void = () => undefined): Promise<PlanExecutionProfile> {
  // One sample list per distinct key, in plan order (deterministic, and planKernels' order).
  const samples = new Map<string, Samples>();
  const byOpTask = new Map<string, Samples>();
  for (const { key, task, ins } of planTasks(plan)) {
    let s = samples.get(key);
    if (!s) samples.set(key, (s = { task, forward: { alone: [], loaded: [] }, backward: { alone: [], loaded: [] } }));
    byOpTask.set(`${ins.op}#${ins.task}`, s);
  }
  // Each forward and backward instruction object to its samples, resolved once (not per step).
  const of = new Map<Instruction, Samples>();
  for (const p of plan.programs) {
    for (const ins of p.instructions) {
      const s = ins.kind === "forward" || ins.kind === "backward" ? byOpTask.get(`${ins.op}#${ins.task}`) : undefined;
      if (s) of.set(ins, s);
    }
  }
  // Update samples by shard size (alone only: the simulator charges updates no contention).
  const updates = new Map<number, number[]>();
  const floatsOf = new Map(plan.programs.flatMap((p) => [...updateShardFloats(p)]));
  let phase: Phase = "warmup";
  const hub = new MemoryHub();
  const executors = plan.programs.map((p) => {
    let t0 = 0;
    return new DeviceExecutor(plan, p.device, tf, hub.comm(p.device), {
      before(_i, ins) {
        if (ins.kind === "forward" || ins.kind === "backward" || ins.kind === "update") t0 = performance.now();
      },
      after(_i, ins) {
        if (phase === "warmup") return;
        if (ins.kind === "update") {
          if (phase !== "alone") return;
          const floats = floatsOf.get(ins)!;
          let xs = updates.get(floats);
          if (!xs) updates.set(floats, (xs = []));
          xs.push(performance.now() - t0);
          return;
        }
        if (ins.kind !== "forward" && ins.kind !== "backward") return;
        const ms = performance.now() - t0;
        of.get(ins)?.[ins.kind][phase].push(ms);
      },
    });
  });
  for (let step = 0; step < phases.length; step++) {
    phase = phases[step];
    enter(phase);
    await Promise.all(executors.map((e) => e.step(step)));
  }
  // No sample: the plan never runs that backward (an op whose gradient nobody needs), so it costs nothing.
  const stat = (xs: number[]) => (xs.length ? median(xs) : 0);
  return {
    tasks: [...samples.values()].map((s) => ({
      task: s.task,
      forward: { alone: stat(s.forward.alone), loaded: stat(s.forward.loaded) },
      backward: { alone: stat(s.backward.alone), loaded: stat(s.backward.loaded) },
    })),
    updates: [...updates.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([floats, xs]) => ({ optimizer: plan.optimizer.kind, floats, ms: stat(xs) })),
  };
}
