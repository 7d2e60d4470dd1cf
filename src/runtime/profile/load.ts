// Profiling under contention: the plan's training steps run in this thread with every
// instruction timed (profile-exec.ts), alternately alone and while `loadBy` background
// workers (load-worker.ts) run the plan's kernels on the other cores, as the other devices
// of a local mesh do during a step. Alone and loaded steps alternate, so drift on a shared
// machine (other tenants, clock changes) lands on both. src/sim/contention.ts blends the
// two figures by how much each task overlaps other devices' compute in the simulated
// schedule.

import { Worker } from "node:worker_threads";
import type { Plan } from "../../plan/plan.js";
import { parError } from "../../core/diagnostics.js";
import type { TF } from "../../ops/contract.js";
import type { BackendName } from "../backend.js";
import { LOAD_STATE, LOAD_WANTED } from "./load-control.js";
import { profileByExecution } from "./exec.js";
import { TIMED_STEPS, WARMUP_STEPS, type ProfiledTask, type ProfiledUpdate, type ProfileOptions } from "./profile.js";
import { workerScript } from "../workers/run-workers.js";

export interface LoadedTask extends ProfiledTask {
  loadedForwardMs?: number;
  loadedBackwardMs?: number;
}

/** A plan's profile: its distinct tasks (alone and, with load, loaded) and its optimizer updates. */
export interface PlanProfile {
  tasks: LoadedTask[];
  updates: ProfiledUpdate[];
  /** Per device and timed step of a run, the time of its own work over the sum of its instructions' medians (profile-run.ts). */
  slowdowns?: number[];
  /** Per message received in a run, its delivery delay in ms (profile-run.ts). */
  deliveryMs?: number[];
}

/** How long a load worker may take to start its backend and run its kernels once. */
const READY_TIMEOUT_MS = 120_000;
/** How long a load worker may take to notice a switch (it finishes its current kernel). */
const SWITCH_TIMEOUT_MS = 30_000;

const hint = "profile without load (--load 0), or check that `npm run build` has built dist/";

/**
 * The first message `w` posts; rejects if it errors or exits first, or (with `timeoutMs`)
 * posts nothing in time. `who` names the worker in those errors.
 */
function firstMessage<T>(w: Worker, who: string, timeoutMs?: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => reject(new Error(`${who} did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const done = (f: () => void) => {
      clearTimeout(timer);
      f();
    };
    w.once("message", (m: T) => done(() => resolve(m)));
    w.once("error", (e) => done(() => reject(new Error(`${who} crashed: ${e.message}`))));
    w.once("exit", (code) => done(() => reject(new Error(`${who} exited with code ${code}`))));
  });
}

class BackgroundLoad {
  private readonly ctl: Int32Array;

  private constructor(private readonly workers: Worker[], control: SharedArrayBuffer) {
    this.ctl = new Int32Array(control);
  }

  static async start(plan: Plan, backend: BackendName, count: number): Promise<BackgroundLoad> {
    const control = new SharedArrayBuffer(8 * count);
    const workers: Worker[] = [];
    try {
      await Promise.all(
        Array.from({ length: count }, (_, slot) => {
          const w = new Worker(workerScript("profile/load-worker.js"), { workerData: { plan, backend, control, slot } });
          workers.push(w);
          return firstMessage<{ type: string; message?: string }>(w, "a load worker", READY_TIMEOUT_MS).then((m) => {
            if (m.type !== "ready") throw new Error(m.message ?? "load worker failed");
          });
        }),
      );
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw parError("PAR5130", `cannot profile under load: ${(e as Error).message}`, { hint });
    }
    return new BackgroundLoad(workers, control);
  }

  /** Switches every worker on or off and waits until each has. */
  set(on: boolean): void {
    const want = on ? 1 : 0;
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.ctl, 2 * w + LOAD_WANTED, want);
      Atomics.notify(this.ctl, 2 * w + LOAD_WANTED);
    }
    const deadline = performance.now() + SWITCH_TIMEOUT_MS;
    for (let w = 0; w < this.workers.length; w++) {
      while (Atomics.load(this.ctl, 2 * w + LOAD_STATE) !== want) {
        if (performance.now() > deadline) throw parError("PAR5130", `a load worker did not switch ${on ? "on" : "off"} within ${SWITCH_TIMEOUT_MS / 1000} s`, { hint });
        Atomics.wait(this.ctl, 2 * w + LOAD_STATE, 1 - want, 50);
      }
    }
  }

  async stop(): Promise<void> {
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.ctl, 2 * w + LOAD_WANTED, -1);
      Atomics.notify(this.ctl, 2 * w + LOAD_WANTED);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Profiles `plan` by running `warmup` steps, then `repeats` steps alone, interleaved with
 * `repeats` steps under `loadBy` background workers; `loadBy` 0 measures alone only.
 */
export async function profilePlanUnderLoad(plan: Plan, tf: TF, backend: BackendName, loadBy: number, options: ProfileOptions = {}): Promise<PlanProfile> {
  const warmup = options.warmup ?? WARMUP_STEPS;
  const repeats = options.repeats ?? TIMED_STEPS;
  const phases: ("warmup" | "alone" | "loaded")[] = Array.from({ length: warmup }, () => "warmup" as const);
  for (let r = 0; r < repeats; r++) phases.push(...(loadBy > 0 ? (["alone", "loaded"] as const) : (["alone"] as const)));
  const load = loadBy > 0 ? await BackgroundLoad.start(plan, backend, loadBy) : undefined;
  try {
    let step = 0;
    const profile = await profileByExecution(plan, tf, phases, (phase) => {
      options.onStep?.(step++, phases.length);
      load?.set(phase === "loaded");
    });
    const tasks = profile.tasks.map((p) => ({
      ...p.task,
      forwardMs: p.forward.alone,
      backwardMs: p.backward.alone,
      ...(load ? { loadedForwardMs: p.forward.loaded, loadedBackwardMs: p.backward.loaded } : {}),
    }));
    return { tasks, updates: profile.updates };
  } finally {
    await load?.stop();
  }
}

/**
 * profilePlanUnderLoad in a fresh worker thread (profile-worker.ts) on `backend`: the
 * profile then starts as cold as a device of `par run` does and warms up the same way,
 * whatever this thread ran before.
 */
export async function profilePlanInWorker(plan: Plan, backend: BackendName, loadBy: number, options: ProfileOptions = {}): Promise<PlanProfile> {
  // A callback cannot cross to a worker thread.
  const { onStep: _onStep, ...cloneable } = options;
  const w = new Worker(workerScript("profile/worker.js"), { workerData: { plan, backend, loadBy, options: cloneable } });
  try {
    type Reply = ({ type: "done" } & PlanProfile) | { type: "error"; code?: string; message: string; hint?: string };
    const m = await firstMessage<Reply>(w, "the profiling worker").catch((e: Error) => {
      throw parError("PAR5130", e.message, { hint });
    });
    if (m.type === "error") throw parError(m.code ?? "PAR5130", m.message, { hint: m.hint ?? hint });
    return { tasks: m.tasks, updates: m.updates };
  } finally {
    await w.terminate();
  }
}
