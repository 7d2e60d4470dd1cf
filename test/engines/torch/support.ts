// Shared by the torch engine tests: the Python with torch (the suites skip, saying why, only
// when none is installed; CI installs python3-torch and sets PAR_REQUIRE_TORCH=1, under
// which a missing torch fails every suite instead), the tfjs reference run of a plan, and
// the cross-engine comparison.
import { describe, it } from "vitest";
import type { Plan } from "../../../src/plan/plan.js";
import { findTorchPython, type TorchPython } from "../../../src/engines/torch/python.js";
import { compareTorchRuns, type TorchVerifyResult } from "../../../src/engines/torch/verify.js";
import type { TorchRunOutput } from "../../../src/engines/torch/run.js";
import { runPlanInProcess } from "../../../src/runtime/exec/run-inprocess.js";
import { useBackend } from "../../support/tf.js";

function locate(): TorchPython | undefined {
  try {
    return findTorchPython();
  } catch (e) {
    console.warn(`torch engine tests skipped: ${(e as Error).message}`);
    return undefined;
  }
}

export const TORCH = locate();

/** Whether a missing torch is a failure (CI: .ci/run installs it, so the suites must run). */
const REQUIRED = process.env.PAR_REQUIRE_TORCH === "1";

/**
 * A suite that runs when a Python with torch is installed, and is skipped (reported)
 * otherwise; with PAR_REQUIRE_TORCH=1 it fails instead of skipping.
 */
export function describeTorch(name: string, body: () => void): void {
  if (TORCH === undefined && REQUIRED) {
    describe(name, () => {
      it("needs a Python that can import torch (PAR_REQUIRE_TORCH=1)", () => {
        throw new Error("no Python can import torch, but PAR_REQUIRE_TORCH=1: install python3-torch (bash scripts/apt-install.sh python3-torch libopenblas0-pthread)");
      });
    });
    return;
  }
  describe.skipIf(TORCH === undefined)(name, body);
}

/**
 * Cross-engine tolerance: the torch engine's losses, last gradients and weights against the
 * tfjs runtime's on the same plan, relative to the reference tensor's largest magnitude
 * (docs/engines.md "Tolerances": both compute in float32, with different summation orders
 * and libm/erf implementations).
 */
export const CROSS_ENGINE_TOLERANCE = 1e-4;

/** The tfjs runtime (cpu backend, in process) on a plan, as a TorchRunOutput-shaped reference. */
export async function tfjsRun(plan: Plan, steps: number): Promise<TorchRunOutput> {
  const tf = await useBackend("cpu");
  const r = await runPlanInProcess(plan, tf, { steps });
  return {
    backend: "tfjs-cpu",
    backendDetail: "tfjs cpu in process",
    losses: r.losses,
    stepTimesMs: [],
    startupMs: 0,
    timeline: { devices: [] },
    dump: { params: r.params, grads: r.grads },
  };
}

/** The torch run against the tfjs run of the same plan. */
export function crossEngine(plan: Plan, torch: TorchRunOutput, tfjs: TorchRunOutput, steps: number, tolerance = CROSS_ENGINE_TOLERANCE): TorchVerifyResult {
  return compareTorchRuns(plan, torch, tfjs, steps, tolerance);
}

/** Worst errors seen by a suite, printed at its end (keeps the documented tolerance honest). */
export class Worst {
  abs = 0;
  rel = 0;
  cases = 0;
  add(r: TorchVerifyResult): void {
    this.abs = Math.max(this.abs, r.maxAbsError);
    this.rel = Math.max(this.rel, r.maxRelError);
    this.cases++;
  }
  report(what: string): string {
    return `${what}: ${this.cases} cases, worst absolute error ${this.abs.toExponential(2)}, worst relative error above the 1e-6 floor ${this.rel.toExponential(2)}`;
  }
}
