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
//
// The run also yields the interference the plan met: per device and timed step, the time
// of the device's own work in that step (every instruction but those that wait for peers:
// receives and all-reduces) over the sum of those instructions' medians (the rows keep
// the typical speed, the slowdowns how far a device's steps strayed from it); and per
// message, its delivery delay: from the moment the data was there (the send done, or the
// receiver arriving later) to the receive's end. A receiver that waited longer than its
// spin sleeps, and waking it takes the OS tens to hundreds of microseconds on a busy host,
// far more than the latency of two spinning threads the local mesh's figures come from.
// src/sim/interference.ts predicts under draws from both.

import type { Instruction, Plan } from "../../plan/plan.js";
import { median, quantile } from "../../core/stats.js";
import type { LoadedTask, PlanProfile } from "./load.js";
import { planTasks, TIMED_STEPS, updateShardFloats, WARMUP_STEPS, type ProfileOptions } from "./profile.js";
import { runPlan, type MeasuredTimeline } from "../workers/run-workers.js";
import type { BackendRequest } from "../backend.js";

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
  const slowdowns: number[] = [];
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
    // A device's own work: every instruction but the two that wait for peers (a receive,
    // an all-reduce). A stall in a copy holds the device up as much as one in a kernel.
    const ownSamples: (number[] | undefined)[] = program.instructions.map((ins) => (ins.kind !== "recv" && ins.kind !== "allreduce" && ins.kind !== "reducescatter" && ins.kind !== "allgather" ? [] : undefined));
    const ownMs: number[] = [];
    for (const step of measured.steps) {
      if (step.step < fromStep || !step.starts || !step.ends) continue;
      let total = 0;
      for (let i = 0; i < sink.length; i++) {
        const ms = step.ends[i] - step.starts[i];
        sink[i]?.push(ms);
        const own = ownSamples[i];
        if (!own) continue;
        own.push(ms);
        total += ms;
      }
      ownMs.push(total);
    }
    // Relative to the sum of the instructions' medians, which is what the rows (medians)
    // make of a step: a stall of a few milliseconds at a random instruction leaves every
    // median clean but lengthens most steps, and a slowdown relative to the median step
    // would hide it. A device without work of its own has no speed to stray from.
    let typical = 0;
    for (const xs of ownSamples) if (xs?.length) typical += median(xs);
    if (typical > 0) for (const ms of ownMs) if (ms > 0) slowdowns.push(ms / typical);
  }
  // No sample: the plan never runs that backward (nobody needs the gradient), so it costs nothing.
  const stat = (xs: number[]) => (xs.length ? quantile(xs, q) : 0);
  return {
    tasks: [...rows.values()].map((r) => ({ ...r.task, forwardMs: stat(r.forward), backwardMs: stat(r.backward) })),
    updates: [...updates.entries()]
      .filter(([, xs]) => xs.length > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([floats, xs]) => ({ optimizer: plan.optimizer.kind, floats, ms: stat(xs) })),
    slowdowns: slowdowns.sort((a, b) => a - b),
    deliveryMs: deliveryDelays(plan, timeline, fromStep),
  };
}

/**
 * Every received message's delivery delay (ms, ascending) in the steps from `fromStep` on:
 * its receive's end minus the later of the receive's start and the matching send's end.
 * Sends and receives of one (sender, receiver, tag) pair match in program order (a
 * channel is first in, first out). A receive that ends before its send does (a hand-off
 * taken before the sender returns) counts 0.
 */
export function deliveryDelays(plan: Plan, timeline: MeasuredTimeline, fromStep: number): number[] {
  // Per "sender>receiver:tag", the sender's send instructions in program order.
  const sends = new Map<string, number[]>();
  for (const p of plan.programs) {
    p.instructions.forEach((ins, i) => {
      if (ins.kind !== "send") return;
      const key = `${p.device}>${ins.to}:${ins.tag}`;
      let list = sends.get(key);
      if (!list) sends.set(key, (list = []));
      list.push(i);
    });
  }
  const stepsOf = new Map(timeline.devices.map((d) => [d.device, new Map(d.steps.map((s) => [s.step, s]))]));
  const delays: number[] = [];
  for (const receiver of timeline.devices) {
    const program = plan.programs.find((p) => p.device === receiver.device);
    if (!program) continue;
    for (const step of receiver.steps) {
      const { starts, ends } = step;
      if (step.step < fromStep || !starts || !ends) continue;
      const seen = new Map<string, number>();
      program.instructions.forEach((ins, i) => {
        if (ins.kind !== "recv") return;
        const key = `${ins.from}>${receiver.device}:${ins.tag}`;
        const nth = seen.get(key) ?? 0;
        seen.set(key, nth + 1);
        const index = sends.get(key)?.[nth];
        const sent = index === undefined ? undefined : stepsOf.get(ins.from)?.get(step.step)?.ends?.[index];
        if (sent === undefined) return;
        delays.push(Math.max(0, ends[i] - Math.max(starts[i], sent)));
      });
    }
  }
  return delays.sort((a, b) => a - b);
}

/**
 * Runs `plan` on the worker runtime for `warmup` untimed and `repeats` timed steps with
 * every instruction timed; the rows of the timed steps (profileFromTimeline) and the timed
 * steps' times.
 */
export async function profilePlanInRun(plan: Plan, options: ProfileOptions & { backend?: BackendRequest } = {}): Promise<PlanProfile & { backend: string; stepTimesMs: number[] }> {
  const warmup = options.warmup ?? WARMUP_STEPS;
  const repeats = options.repeats ?? TIMED_STEPS;
  const steps = warmup + repeats;
  const run = await runPlan(plan, { steps, trace: true, ...(options.backend ? { backend: options.backend } : {}), ...(options.onStep ? { onStep: (s: number) => options.onStep!(s + 1, steps) } : {}) });
  return { ...profileFromTimeline(plan, run.timeline, warmup), backend: run.backend, stepTimesMs: run.stepTimesMs.slice(warmup) };
}
