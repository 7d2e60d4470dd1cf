// `par verify`: run a plan and the single-device plan of the same model on the same data
// and weights (both are pure functions of the seed and global indices) and compare the
// loss of every step, every weight gradient of the last step and the weights after it.
//
// Tolerance. Sharding changes only the ORDER of f32 additions (partial sums, gradient
// contributions, all-reduces), never what is added. Reordering a sum of n terms of
// magnitude ≤ M changes it by at most about n·ε·M (ε = 2^-24 ≈ 6e-8): for the few hundred
// terms of the small test models that is ~1e-5·M, so errors are measured RELATIVE TO THE
// LARGEST MAGNITUDE of the reference tensor (not per element: an element near zero that
// is the sum of large terms may legitimately differ by much more than its own size). The
// default 1e-4 leaves an order of magnitude of margin for a few training steps. An
// absolute floor (1e-6) covers tensors that are all (near) zero. Adam divides by
// sqrt(v): it amplifies rounding in near-zero gradients, so compare weights after Adam
// steps with a looser tolerance (or use sgd for verification).

import type { Plan } from "../../plan/plan.js";
import type { TF } from "../../ops/contract.js";
import { runPlanInProcess, type InProcessResult } from "./run-inprocess.js";

export interface VerifyOptions {
  steps: number;
  /** Max error relative to the reference tensor's largest magnitude (default 1e-4). maxRelError counts only errors above the absolute floor. */
  tolerance?: number;
  /** Errors at or below this are always accepted (default 1e-6). */
  absoluteFloor?: number;
  /** Called after each step of both runs: `done` of `total` (2 × steps), for a progress line. */
  onStep?: (done: number, total: number) => void;
}

export interface VerifyResult {
  ok: boolean;
  maxAbsError: number;
  maxRelError: number;
  steps: number;
  firstMismatch?: { what: "loss" | "gradient" | "weight"; param?: string; op?: string; step: number; absError: number; relError: number };
  /** The losses of both runs, for reports. */
  losses: { plan: number[]; reference: number[] };
}

export interface TensorError {
  abs: number;
  rel: number;
}

/** Max |a - b| and that divided by max |reference|. */
export function tensorError(reference: ArrayLike<number>, actual: ArrayLike<number>): TensorError {
  if (reference.length !== actual.length) return { abs: Infinity, rel: Infinity };
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(reference[i] - actual[i]);
    // NaN anywhere is a mismatch.
    abs = Number.isNaN(d) ? Infinity : Math.max(abs, d);
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return { abs, rel: abs === 0 ? 0 : abs / Math.max(scale, 1e-30) };
}

export function compareRuns(plan: Plan, actual: InProcessResult, reference: InProcessResult, options: VerifyOptions): VerifyResult {
  const tol = options.tolerance ?? 1e-4;
  const floor = options.absoluteFloor ?? 1e-6;
  const last = options.steps - 1;
  let maxAbsError = 0;
  let maxRelError = 0;
  let firstMismatch: VerifyResult["firstMismatch"];
  const opOf = (param: string) => plan.ops.find((o) => o.params.includes(param))?.name;
  const check = (what: "loss" | "gradient" | "weight", step: number, e: TensorError, param?: string) => {
    maxAbsError = Math.max(maxAbsError, e.abs);
    // A tensor that is (near) zero in theory, e.g. the gradient of a key bias, which
    // softmax ignores, has a meaningless relative error: count it only above the floor.
    if (e.abs > floor) maxRelError = Math.max(maxRelError, e.rel);
    if (!firstMismatch && e.abs > floor && e.rel > tol) {
      firstMismatch = { what, step, absError: e.abs, relError: e.rel };
      if (param !== undefined) {
        firstMismatch.param = param;
        const op = opOf(param);
        if (op !== undefined) firstMismatch.op = op;
      }
    }
  };
  for (let s = 0; s < options.steps; s++) check("loss", s, tensorError([reference.losses[s]], [actual.losses[s]]));
  // A frozen param's gradient is never used (no sum across replicas, no update): the runs report none.
  for (const [p, ref] of reference.grads) check("gradient", last, tensorError(ref, actual.grads.get(p) ?? []), p);
  for (const [p, ref] of reference.params) check("weight", last, tensorError(ref, actual.params.get(p) ?? []), p);
  const result: VerifyResult = { ok: firstMismatch === undefined, maxAbsError, maxRelError, steps: options.steps, losses: { plan: actual.losses, reference: reference.losses } };
  if (firstMismatch) result.firstMismatch = firstMismatch;
  return result;
}

/** Runs `plan` and `singleDevicePlan` (lower(graph, singleDeviceStrategy(graph), ...)) and compares them. */
export async function verifyPlan(plan: Plan, singleDevicePlan: Plan, tf: TF, options: VerifyOptions): Promise<VerifyResult> {
  if (options.steps < 1) throw new RangeError("verifyPlan: steps must be ≥ 1");
  const total = 2 * options.steps;
  const reference = await runPlanInProcess(singleDevicePlan, tf, { steps: options.steps, onStep: (s) => options.onStep?.(s + 1, total) });
  const actual = await runPlanInProcess(plan, tf, { steps: options.steps, onStep: (s) => options.onStep?.(options.steps + s + 1, total) });
  return compareRuns(plan, actual, reference, options);
}
