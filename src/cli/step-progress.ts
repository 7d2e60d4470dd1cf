// Progress callbacks for the stages that run steps: a run on worker threads (starting the
// devices, then a bar of steps with the last loss), and anything that counts `done` of
// `total` (verification, profiling).

import type { Progress } from "./progress.js";

/** Call before a run on workers; returns its onStep: "starting N devices" until step 1 ends, then a bar. */
export function runProgress(progress: Progress, label: string, devices: number, steps: number): (step: number, loss: number) => void {
  progress.phase(`${label}: starting ${devices} device${devices === 1 ? "" : "s"}`);
  return (step, loss) => {
    if (step === 0) progress.phase(label, steps, "steps");
    progress.update(step + 1, `loss ${loss.toFixed(5)}`);
  };
}

/** An onStep(done, total) drawing a bar of `unit` under `label` (the phase starts at the first call). */
export function countProgress(progress: Progress, label: string, unit: string): (done: number, total: number) => void {
  let started = false;
  return (done, total) => {
    if (!started) progress.phase(label, total, unit);
    started = true;
    progress.update(done);
  };
}
