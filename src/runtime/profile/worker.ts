// The entry of a profiling worker (profilePlanInWorker in profile-load.ts): profiles a plan
// under load in a fresh worker thread, where a device of `par run` runs its program, and
// posts the rows back. A fresh thread starts as cold as a device does (V8 tiers up the wasm
// kernels and the executor over the first steps), so the profile's warm-up means what a
// run's warm-up means; the calling thread may have run anything before. Loaded from the
// compiled build (workerScript in run-workers.ts).

import { parentPort, workerData } from "node:worker_threads";
import { ParError } from "../../core/diagnostics.js";
import type { Plan } from "../../plan/plan.js";
import { initBackend, type BackendName } from "../backend.js";
import { profilePlanUnderLoad } from "./load.js";
import type { ProfileOptions } from "./profile.js";

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("profile-worker.ts must run in a worker thread");
  const { plan, backend, loadBy, options } = workerData as { plan: Plan; backend: BackendName; loadBy: number; options: ProfileOptions };
  try {
    const choice = await initBackend(backend);
    const profile = await profilePlanUnderLoad(plan, choice.tf, choice.name, loadBy, options);
    port.postMessage({ type: "done", ...profile });
  } catch (e) {
    const d = e instanceof ParError ? e.diagnostics[0] : undefined;
    port.postMessage({ type: "error", code: d?.code, message: d?.message ?? (e instanceof Error ? e.message : String(e)), hint: d?.hint });
  }
}

await main();
