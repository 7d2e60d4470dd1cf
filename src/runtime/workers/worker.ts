// The entry of one device's worker thread (worker_threads). It initialises its own
// TensorFlow.js backend, builds the device's DeviceExecutor on a shared-memory Comm and
// runs one training step per `step` command from run-workers.ts, answering with the
// step's loss partial, its start and end times, and (when tracing) every instruction's
// start and end. Before each instruction it publishes (step, instruction index) in a
// shared progress array, so the parent can name where a device was even if it dies
// without a word (process.exit, a crash).
//
// Loaded from the compiled build (dist/src/runtime/workers/worker.js): see workerScript() in
// run-workers.ts.

import { parentPort, workerData } from "node:worker_threads";
import { ParError } from "../../core/diagnostics.js";
import type { Instruction, Plan } from "../../plan/plan.js";
import { initBackend, type BackendRequest } from "../backend.js";
import { DeviceExecutor } from "../exec/executor.js";
import { ChannelTimeout } from "../shm/channel.js";
import type { ArenaSpec } from "../shm/arena.js";
import { ShmComm, type DeviceChannels } from "../shm/comm.js";
import type { FaultInjection, FromWorker, ToWorker } from "./protocol.js";
import { WorkerMemoryProbe } from "./memory-probe.js";

interface WorkerInit {
  plan: Plan;
  device: number;
  backend: BackendRequest;
  channels: DeviceChannels;
  timeoutMs: number;
  trace: boolean;
  /** Int32 pairs per device slot: [step, instruction index] (−1 before the first). */
  progress: SharedArrayBuffer;
  slot: number;
  fault?: FaultInjection;
  /** Hand-off threshold in bytes (default: ShmComm's). */
  handoffBytes?: number;
  /** Shared all-reduce threshold in bytes (default: ShmComm's). */
  sharedAllreduceBytes?: number;
  /** This device's part of the run's arena (shm-arena.ts). */
  arena?: ArenaSpec;
}

const now = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("worker.ts must run in a worker thread");
  const init = workerData as WorkerInit;
  const { plan, device, fault } = init;
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const progress = new Int32Array(init.progress);
  const program = plan.programs.find((p) => p.device === device);
  const instructions: Instruction[] = program?.instructions ?? [];
  let step = -1;
  let current = -1;
  let starts = new Float64Array(0);
  let ends = new Float64Array(0);

  const fail = (code: string, message: string) => post({ type: "error", code, device, step, instruction: current, message });

  let choice;
  try {
    choice = await initBackend(init.backend);
  } catch (e) {
    const d = e instanceof ParError ? e.diagnostics[0] : undefined;
    post({ type: "error", code: d?.code ?? "PAR5100", device, step: -1, instruction: -1, message: d?.message ?? String(e) });
    return;
  }

  // Measurement only (PAR_MEMORY_OUT): the baseline before this device's buffers exist.
  const memory = WorkerMemoryProbe.start(device, choice.tf);
  const backendName = choice.name;
  const comm = new ShmComm(device, init.channels, {
    timeoutMs: init.timeoutMs,
    // A worker may sleep in Atomics.wait while it waits for a message and has no queued sends.
    blocking: true,
    onStall: (e) => fail("PAR5103", e.message),
    ...(init.handoffBytes !== undefined ? { handoffBytes: init.handoffBytes } : {}),
    ...(init.sharedAllreduceBytes !== undefined ? { sharedAllreduceBytes: init.sharedAllreduceBytes } : {}),
    ...(init.arena ? { arena: init.arena } : {}),
  });
  const executor = new DeviceExecutor(plan, device, choice.tf, comm, {
    before(index, ins) {
      current = index;
      Atomics.store(progress, 2 * init.slot, step);
      Atomics.store(progress, 2 * init.slot + 1, index);
      if (init.trace) starts[index] = now();
      if (fault && fault.device === device && fault.instruction === index && (fault.step ?? 0) === step) {
        if (fault.kind === "exit") process.exit(fault.exitCode ?? 7);
        if (fault.kind === "hang") Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, fault.hangMs ?? 600_000);
        else throw new Error(`injected fault at ${ins.kind}`);
      }
    },
    after(index) {
      if (init.trace) ends[index] = now();
      memory?.sample();
    },
  });
  post({ type: "ready", device, backend: choice.name, detail: choice.detail });

  port.on("message", (msg: ToWorker) => {
    if (msg.type !== "step") return;
    step = msg.step;
    if (init.trace) {
      starts = new Float64Array(instructions.length);
      ends = new Float64Array(instructions.length);
    }
    const t0 = now();
    executor.step(step).then(
      (r) => {
        const t1 = now();
        memory?.write(backendName);
        const m: FromWorker = { type: "done", device, step, loss: r.loss, start: t0, end: t1 };
        if (init.trace) {
          m.starts = starts;
          m.ends = ends;
          post(m, [starts.buffer as ArrayBuffer, ends.buffer as ArrayBuffer]);
        } else post(m);
      },
      (e: unknown) => {
        if (e instanceof ChannelTimeout) fail("PAR5103", e.message);
        else if (e instanceof ParError) fail("PAR5101", e.diagnostics.map((d) => `${d.code} ${d.message}`).join("; "));
        else fail("PAR5101", e instanceof Error ? e.message : String(e));
      },
    );
  });
}

await main();
