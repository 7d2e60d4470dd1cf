// `verify` on the torch engine: run a plan and the single-device plan of the same model on
// torch (same seed, weights and data: pure functions of global indices) and compare every
// step's loss, every weight gradient of the last step and every weight after it, with the
// tolerances of src/runtime/exec/verify.ts (errors relative to the reference tensor's
// largest magnitude, an absolute floor for tensors that are all near zero).

import { parError, type ParError } from "../../core/diagnostics.js";
import type { Plan } from "../../plan/plan.js";
import { runPlanTorch, type TorchRunOptions, type TorchRunOutput } from "./run.js";
import type { TorchServer } from "./server.js";

export interface TorchVerifyOptions extends Omit<TorchRunOptions, "dumpWeights" | "trace" | "onStep"> {
  /** Max error relative to the reference tensor's largest magnitude (default 1e-4). */
  tolerance?: number;
  /** Errors at or below this are always accepted (default 1e-6). */
  absoluteFloor?: number;
  /** Run both plans on this server instead of two launches. */
  server?: TorchServer;
}

export interface TorchMismatch {
  what: "loss" | "gradient" | "weight";
  param?: string;
  op?: string;
  step: number;
  absError: number;
  relError: number;
}

export interface TorchVerifyResult {
  ok: boolean;
  maxAbsError: number;
  maxRelError: number;
  steps: number;
  tolerance: number;
  firstMismatch?: TorchMismatch;
  losses: { plan: number[]; reference: number[] };
  backend: string;
}

/** Max |a − b| and that over max |reference| (NaN anywhere is an infinite error). */
export function tensorError(reference: ArrayLike<number>, actual: ArrayLike<number>): { abs: number; rel: number } {
  if (reference.length !== actual.length) return { abs: Infinity, rel: Infinity };
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(reference[i] - actual[i]);
    abs = Number.isNaN(d) ? Infinity : Math.max(abs, d);
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return { abs, rel: abs === 0 ? 0 : abs / Math.max(scale, 1e-30) };
}

export function compareTorchRuns(plan: Plan, actual: TorchRunOutput, reference: TorchRunOutput, steps: number, tolerance = 1e-4, floor = 1e-6): TorchVerifyResult {
  let maxAbsError = 0;
  let maxRelError = 0;
  let firstMismatch: TorchMismatch | undefined;
  const opOf = (param: string) => plan.ops.find((o) => o.params.includes(param))?.name;
  const check = (what: TorchMismatch["what"], step: number, e: { abs: number; rel: number }, param?: string) => {
    maxAbsError = Math.max(maxAbsError, e.abs);
    if (e.abs > floor) maxRelError = Math.max(maxRelError, e.rel);
    if (!firstMismatch && e.abs > floor && e.rel > tolerance) {
      firstMismatch = { what, step, absError: e.abs, relError: e.rel };
      if (param !== undefined) {
        firstMismatch.param = param;
        const op = opOf(param);
        if (op !== undefined) firstMismatch.op = op;
      }
    }
  };
  for (let s = 0; s < steps; s++) check("loss", s, tensorError([reference.losses[s]], [actual.losses[s]]));
  const last = steps - 1;
  for (const [p, ref] of reference.dump?.grads ?? []) check("gradient", last, tensorError(ref, actual.dump?.grads.get(p) ?? []), p);
  for (const [p, ref] of reference.dump?.params ?? []) check("weight", last, tensorError(ref, actual.dump?.params.get(p) ?? []), p);
  const result: TorchVerifyResult = {
    ok: firstMismatch === undefined,
    maxAbsError,
    maxRelError,
    steps,
    tolerance,
    losses: { plan: actual.losses, reference: reference.losses },
    backend: actual.backend,
  };
  if (firstMismatch) result.firstMismatch = firstMismatch;
  return result;
}

export async function verifyPlanTorch(plan: Plan, singleDevicePlan: Plan, options: TorchVerifyOptions): Promise<TorchVerifyResult> {
  if (options.steps < 1) throw new RangeError("verifyPlanTorch: steps must be ≥ 1");
  const run = (p: Plan): Promise<TorchRunOutput> =>
    options.server ? options.server.run(p, { steps: options.steps, dumpWeights: true, ...(options.data ? { data: options.data } : {}) }) : runPlanTorch(p, { ...options, dumpWeights: true });
  const reference = await run(singleDevicePlan);
  const actual = await run(plan);
  return compareTorchRuns(plan, actual, reference, options.steps, options.tolerance, options.absoluteFloor);
}

/** A failed verification as PAR8013 naming the first loss, gradient or weight that diverges. */
export function verificationError(r: TorchVerifyResult): ParError | undefined {
  const m = r.firstMismatch;
  if (!m) return undefined;
  const what = m.what === "loss" ? `the loss of step ${m.step}` : `the ${m.what} of ${m.param}${m.op ? ` (op ${m.op})` : ""} after step ${m.step}`;
  return parError("PAR8013", `${what} differs from the single-device reference by ${m.absError.toExponential(2)} (relative ${m.relError.toExponential(2)} > tolerance ${r.tolerance})`, {
    hint: "run `par verify` on the tfjs runtime to tell an engine problem from a plan problem",
  });
}
