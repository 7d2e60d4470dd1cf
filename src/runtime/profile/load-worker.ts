// A background load for profiling under contention (profile-load.ts): initialises the
// requested backend, runs every kernel of the plan once (wasm compiles kernels on first
// use), says it is ready, then cycles through the plan's kernels while its control word
// says "run" and sleeps while it says "pause". The control words live in a shared
// Int32Array, two per worker: [wanted: 1 run, 0 pause, −1 exit; state: 1 running, 0 paused],
// so the parent can switch the load on and off between two measurements of one task.
// Loaded from the compiled build (workerScript in run-workers.ts).

import { parentPort, workerData } from "node:worker_threads";
import type { Plan } from "../../plan/plan.js";
import { initBackend, type BackendRequest } from "../backend.js";
import { LOAD_STATE, LOAD_WANTED } from "./load-control.js";
import { planKernels } from "./profile.js";


async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("load-worker.ts must run in a worker thread");
  const { plan, backend, control, slot } = workerData as { plan: Plan; backend: BackendRequest; control: SharedArrayBuffer; slot: number };
  const ctl = new Int32Array(control, slot * 8, 2);
  const choice = await initBackend(backend);
  const kernels = planKernels(plan, choice.tf);
  for (const k of kernels) {
    k.forward();
    k.backward();
  }
  port.postMessage({ type: "ready" });
  for (let i = 0; ; ) {
    const wanted = Atomics.load(ctl, LOAD_WANTED);
    if (wanted < 0) break;
    if (Atomics.load(ctl, LOAD_STATE) !== wanted) {
      Atomics.store(ctl, LOAD_STATE, wanted);
      Atomics.notify(ctl, LOAD_STATE);
    }
    if (wanted === 0) {
      Atomics.wait(ctl, LOAD_WANTED, 0, 100);
      continue;
    }
    const k = kernels[i++ % kernels.length];
    k.forward();
    if (Atomics.load(ctl, LOAD_WANTED) === 1) k.backward();
  }
  port.postMessage({ type: "done" });
}

main().catch((e: unknown) => parentPort?.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) }));
