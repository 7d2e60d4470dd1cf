// Runs every device of a plan in this thread: one DeviceExecutor per device on the
// in-memory comm, all stepping concurrently (Promise.all); a device awaiting a message
// yields to the others. Returns what the verifier compares.

import { regionVolume } from "../../core/region.js";
import type { Plan } from "../../plan/plan.js";
import type { TF } from "../../ops/contract.js";
import { DeviceExecutor } from "./executor.js";
import { MemoryHub } from "./memory-comm.js";
import { extract, insert } from "./regions.js";

export interface InProcessResult {
  /** The loss of each step (device partials summed in device order). */
  losses: number[];
  /** Full weights after the last step, stitched from the shards. */
  params: Map<string, Float32Array>;
  /**
   * Full weight gradients of the last step (after the replicas' all-reduce), of the
   * trainable params only: a frozen param's gradient buffers are never summed across the
   * tasks that share its shard (src/codegen/lower/weights.ts), so no whole gradient of it exists.
   */
  grads: Map<string, Float32Array>;
}

export async function runPlanInProcess(plan: Plan, tf: TF, options: { steps: number; onStep?: (step: number) => void }): Promise<InProcessResult> {
  const hub = new MemoryHub();
  const executors = plan.programs.map((p) => new DeviceExecutor(plan, p.device, tf, hub.comm(p.device)));
  const losses: number[] = [];
  for (let s = 0; s < options.steps; s++) {
    const results = await Promise.all(executors.map((e) => e.step(s)));
    losses.push(results.reduce((a, r) => a + r.loss, 0));
    if (hub.pending() !== 0) throw new Error(`step ${s}: ${hub.pending()} messages were sent and never received`);
    options.onStep?.(s);
  }
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  const params = new Map<string, Float32Array>();
  const grads = new Map<string, Float32Array>();
  for (const p of plan.params) {
    const shape = tensors.get(p.tensor)!.shape;
    params.set(p.tensor, new Float32Array(shape.reduce((a, b) => a * b, 1)));
    if (p.trainable !== false) grads.set(p.tensor, new Float32Array(shape.reduce((a, b) => a * b, 1)));
  }
  const full = { lo: [] as number[], hi: [] as number[] };
  for (const e of executors) {
    for (const spec of e.bufferSpecs()) {
      const target = spec.kind === "param" ? params.get(spec.tensor) : spec.kind === "param_grad" ? grads.get(spec.tensor) : undefined;
      // A released buffer holds nothing (ZeRO-3's gathered weights, ZeRO-2's unsummed gradient).
      if (!target || regionVolume(spec.region) === 0 || e.isReleased(spec.id)) continue;
      const shape = tensors.get(spec.tensor)!.shape;
      full.lo = shape.map(() => 0);
      full.hi = [...shape];
      if (spec.slice) {
        // A ZeRO slice: elements [lo, hi) of its region's row-major order.
        const region = extract(target, full, spec.region);
        region.set(e.buffer(spec.id) as Float32Array, spec.slice[0]);
        insert(target, full, spec.region, region, false);
        continue;
      }
      // Replicas hold identical shards, so writing each one is the same as writing one.
      insert(target, full, spec.region, e.buffer(spec.id), false);
    }
  }
  return { losses, params, grads };
}
