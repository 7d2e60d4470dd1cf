// The TensorFlow.js runtime as an Engine (src/plan/engine.ts): `run` trains on worker
// threads, one per device (src/runtime/workers/run-workers.ts); `train` runs every device in
// this thread (src/runtime/exec/run-inprocess.ts), which is what `par verify` compares.

import type { Engine } from "../plan/engine.js";
import { initBackend, type BackendRequest } from "./backend.js";
import { runPlanInProcess } from "./exec/run-inprocess.js";
import { runPlan } from "./workers/run-workers.js";

export function tfjsEngine(backend: BackendRequest = "auto"): Engine {
  const engine: Engine = {
    name: "tfjs",
    run: (plan, o) =>
      runPlan(plan, {
        steps: o.steps,
        backend,
        // --timeout bounds every wait, the workers' start included.
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs, startupTimeoutMs: o.timeoutMs } : {}),
        ...(o.trace ? { trace: true } : {}),
        ...(o.onStep ? { onStep: o.onStep } : {}),
      }),
    async train(plan, o) {
      const b = await initBackend(backend);
      return { ...(await runPlanInProcess(plan, b.tf, { steps: o.steps, ...(o.onStep ? { onStep: o.onStep } : {}) })), backend: b.name };
    },
    // Worker threads start in a fraction of a second; nothing to keep up between runs.
    session: (_devices, fn) => fn(engine),
  };
  return engine;
}
