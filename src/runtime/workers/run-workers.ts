// Runs a plan with one worker thread per device (worker.ts), exchanging through
// shared-memory rings (shm-channel.ts). The parent starts the workers, waits until every
// one has its backend and weights ready, then drives the steps in lockstep (one `step`
// command to all, wait for all), so that per-step times are clean; within a step the
// devices run freely against each other.
//
// Faults. The first failure of any device ends the run for all: an instruction that
// throws (the worker reports device, step, instruction), a worker that exits or crashes
// (the parent reads where it was from the shared progress array), a wait past the
// timeout, or a step that overruns the timeout (a device stuck in a kernel). Every worker
// is then terminated and the parent waits for each one's exit before it rejects with a
// coded ParError (PAR5101 / PAR5102 / PAR5103) naming the device, instruction and op.
// Worker termination takes milliseconds, so the run stops well within 5 s of the fault.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ParError } from "../../core/diagnostics.js";
import { regionVolume } from "../../core/region.js";
import type { Instruction, Plan } from "../../plan/plan.js";
import type { BackendRequest } from "../backend.js";
import { createChannelBuffer } from "../shm/channel.js";
import { createArena } from "../shm/arena.js";
import { channelPorts, createChannels, DEFAULT_SHARED_ALLREDUCE_BYTES, sliceOf } from "../shm/comm.js";
import type { FaultInjection, FromWorker, ToWorker } from "./protocol.js";

export type { FaultInjection } from "./protocol.js";

export interface WorkerRunOptions {
  steps: number;
  /** Default "auto". */
  backend?: BackendRequest;
  /** Bound on every wait inside a device, and on a step's overrun (default 60 s). */
  timeoutMs?: number;
  /** Record every instruction's start and end (the measured timeline). */
  trace?: boolean;
  faultInjection?: FaultInjection;
  /** Cap on one ring's size in bytes (default 32 MiB); rings are sized from the plan's largest message. */
  maxRingBytes?: number;
  /** Messages of at least this many bytes are handed off (one copy) instead of going through the ring (default DEFAULT_HANDOFF_BYTES, shm-comm.ts). */
  handoffBytes?: number;
  /** All-reduces of buffers of at least this many bytes run on shared memory, in the run's arena (default DEFAULT_SHARED_ALLREDUCE_BYTES, shm-comm.ts). */
  sharedAllreduceBytes?: number;
  /** Called after each step. */
  onStep?: (step: number, loss: number, ms: number) => void;
  /** The compiled worker entry to start (default: workerScript()). */
  workerScript?: string;
  /** Bound on the workers' startup: backend and weights ready (default: the larger of timeoutMs and 60 s). */
  startupTimeoutMs?: number;
}

/** One device's instructions of one step: epoch milliseconds. */
export interface MeasuredStep {
  step: number;
  start: number;
  end: number;
  starts?: Float64Array;
  ends?: Float64Array;
}

export interface MeasuredTimeline {
  devices: { device: number; steps: MeasuredStep[] }[];
}

export interface WorkerRunResult {
  backend: string;
  backendDetail: string;
  /** Per step, device partials summed in program order (as runPlanInProcess does). */
  losses: number[];
  /** Per step: from the first device's start to the last device's end. */
  stepTimesMs: number[];
  /** Starting the workers: module loading, backend, weight initialisation. */
  startupMs: number;
  timeline: MeasuredTimeline;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

let live = 0;

/** Device workers started by runPlan that have not exited yet (0 between runs: none is left behind). */
export function liveWorkerCount(): number {
  return live;
}

/**
 * A compiled worker entry, by its path under src/runtime/ ("workers/worker.js",
 * "profile/load-worker.js"). Worker threads cannot load TypeScript, so when this module
 * itself runs from source (vitest), it points at the build in dist/ (`npm run build`).
 */
export function workerScript(file = "workers/worker.js"): string {
  const runtimeDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  if (import.meta.url.endsWith(".js")) return join(runtimeDir, file);
  // <root>/src/runtime → <root>/dist/src/runtime
  return resolve(runtimeDir, "..", "..", "dist", "src", "runtime", file);
}

/** A short description of an instruction for errors and traces. */
export function instructionLabel(ins: Instruction): string {
  switch (ins.kind) {
    case "forward":
    case "backward":
      return `${ins.kind} ${ins.op} task ${ins.task}`;
    case "send":
      return `send ${ins.tag} → ${ins.to}`;
    case "recv":
      return `recv ${ins.tag} ← ${ins.from}`;
    case "allreduce":
    case "reducescatter":
    case "allgather":
      return `${ins.kind} ${ins.tag} [${ins.group.join(",")}]`;
    case "update":
      return `update ${ins.param}`;
    case "copy":
      return `copy ${ins.src} → ${ins.dst}`;
    case "fill":
    case "feed":
    case "zero":
    case "loss":
    case "release":
      return `${ins.kind} ${ins.buf}`;
  }
}

/** The op an instruction belongs to: its own for kernels, else the op that reads or writes its tensor. */
export function instructionOp(plan: Plan, device: number, ins: Instruction): string {
  if (ins.kind === "forward" || ins.kind === "backward") return ins.op;
  const prog = plan.programs.find((p) => p.device === device);
  const buf =
    ins.kind === "send" ? ins.src : ins.kind === "recv" ? ins.dst : ins.kind === "allreduce" || ins.kind === "reducescatter" || ins.kind === "allgather" ? ins.buf : ins.kind === "update" ? ins.param : ins.kind === "copy" ? ins.dst : ins.buf;
  const tensor = prog?.buffers.find((b) => b.id === buf)?.tensor;
  if (tensor === undefined) return "?";
  const op = plan.ops.find((o) => o.outputs.includes(tensor) || o.params.includes(tensor)) ?? plan.ops.find((o) => o.inputs.includes(tensor));
  return op?.name ?? tensor;
}

/** Where `device` was: "device 1, step 0, instruction 7 (forward fc1 task 1), op fc1". */
export function describePosition(plan: Plan, device: number, step: number, index: number): string {
  const ins = plan.programs.find((p) => p.device === device)?.instructions[index];
  if (!ins || index < 0) return `device ${device}${step >= 0 ? `, step ${step}` : ""}, before its first instruction`;
  return `device ${device}, step ${step}, instruction ${index} (${instructionLabel(ins)}), op ${instructionOp(plan, device, ins)}`;
}

/**
 * Ring bytes (a power of two) for a pair whose largest message is `largest` bytes, among
 * `pairs` ordered pairs: room for at least three such messages (so a device's sends rarely
 * queue), at least 1 MiB (several messages in flight between wake-ups), at most
 * `maxBytes`; the floor and the cap shrink with the number of pairs so that all rings
 * together stay bounded (256 MiB of floors, 1 GiB in all).
 */
export function ringBytesFor(largest: number, pairs = 2, maxBytes = 32 << 20): number {
  const pow2Below = (x: number) => 2 ** Math.floor(Math.log2(Math.max(1024, x)));
  const floor = pow2Below(Math.max(64 << 10, Math.min(1 << 20, (256 << 20) / Math.max(1, pairs))));
  const cap = Math.max(floor, pow2Below(Math.min(maxBytes, (1 << 30) / Math.max(1, pairs))));
  let want = floor;
  while (want < 3 * (largest + 256) && want < cap) want *= 2;
  return want;
}

/** Ring bytes per ordered pair, from the largest message (or all-reduce slice) between them (ringBytesFor). */
export function ringCapacities(plan: Plan, maxBytes = 32 << 20): (from: number, to: number) => number {
  const largest = new Map<string, number>();
  const note = (a: number, b: number, floats: number) => {
    const k = `${a}>${b}`;
    largest.set(k, Math.max(largest.get(k) ?? 0, floats * 4));
  };
  for (const p of plan.programs) {
    const vol = new Map(p.buffers.map((b) => [b.id, regionVolume(b.region)]));
    for (const ins of p.instructions) {
      if (ins.kind === "send") note(p.device, ins.to, regionVolume(ins.region));
      // Reduce-scatters and all-gathers sum their whole buffer as an all-reduce does (executor.ts).
      if (ins.kind === "allreduce" || ins.kind === "reducescatter" || ins.kind === "allgather") {
        const n = vol.get(ins.buf) ?? 0;
        const [lo, hi] = sliceOf(n, ins.group.length, 0);
        for (const d of ins.group) if (d !== p.device) note(p.device, d, hi - lo);
      }
    }
  }
  const pairs = Math.max(1, largest.size);
  // Pairs that never talk get 4 KiB.
  return (a, b) => {
    const l = largest.get(`${a}>${b}`);
    return l === undefined ? 4096 : ringBytesFor(l, pairs, maxBytes);
  };
}

/**
 * Arena bytes per device (shm-arena.ts): its distinct f32 buffers that the shared
 * all-reduce moves in (those of at least `minBytes`), each once.
 */
export function arenaBytes(plan: Plan, minBytes = DEFAULT_SHARED_ALLREDUCE_BYTES): (device: number) => number {
  const bytes = new Map<number, number>();
  for (const p of plan.programs) {
    const specs = new Map(p.buffers.map((b) => [b.id, b]));
    const seen = new Set<string>();
    let total = 0;
    for (const ins of p.instructions) {
      if (ins.kind !== "allreduce" || ins.group.length < 2 || seen.has(ins.buf)) continue;
      const b = specs.get(ins.buf);
      const n = b && b.dtype !== "i32" ? regionVolume(b.region) * 4 : 0;
      if (n === 0 || n < minBytes) continue;
      seen.add(ins.buf);
      total += Math.ceil(n / 16) * 16;
    }
    bytes.set(p.device, total);
  }
  return (d) => bytes.get(d) ?? 0;
}

function parError(code: string, message: string, hint?: string): ParError {
  return new ParError([{ code, severity: "error", message, ...(hint ? { hint } : {}) }]);
}

/** Runs `plan` for `options.steps` steps, one worker per device. */
export async function runPlan(plan: Plan, options: WorkerRunOptions): Promise<WorkerRunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const script = options.workerScript ?? workerScript();
  if (!existsSync(script)) throw parError("PAR5104", `the worker script ${script} does not exist`, "build par first: npm run build");
  const devices = plan.programs.map((p) => p.device);
  // Nothing would ever report ready: the start would wait for its whole timeout.
  if (devices.length === 0) throw parError("PAR5050", "the plan has no programs: no device has anything to run", "compile the model again (`par compile`)");
  const fault = options.faultInjection;
  for (const k of ["handoffBytes", "sharedAllreduceBytes"] as const) {
    const v = options[k];
    if (v !== undefined && !(v >= 0)) throw new RangeError(`${k} must be a non-negative number of bytes, got ${v}`);
  }
  if (fault) {
    const prog = plan.programs.find((p) => p.device === fault.device);
    if (!prog || fault.instruction < 0 || fault.instruction >= prog.instructions.length) {
      throw parError("PAR5105", `fault injection names device ${fault.device} instruction ${fault.instruction}, which the plan does not have`);
    }
  }
  const channels = createChannels(devices, ringCapacities(plan, options.maxRingBytes), createChannelBuffer);
  // No arena (too large, or no shared wasm memory): the shared all-reduce uses SharedArrayBuffers of its own.
  const arenaOf = arenaBytes(plan, options.sharedAllreduceBytes);
  const arena = devices.some((d) => arenaOf(d) > 0) ? createArena(devices, arenaOf) : undefined;
  const progressSab = new SharedArrayBuffer(8 * devices.length);
  const progress = new Int32Array(progressSab).fill(-1);
  const slotOf = new Map(devices.map((d, i) => [d, i]));
  const where = (device: number) => {
    const s = slotOf.get(device)!;
    return describePosition(plan, device, Atomics.load(progress, 2 * s), Atomics.load(progress, 2 * s + 1));
  };

  // The first failure wins; everything waits on `failed` alongside its own condition.
  let failure: ParError | undefined;
  let signalFailure: (e: ParError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    signalFailure = (e) => {
      if (failure) return;
      failure = e;
      reject(e);
    };
  });
  failed.catch(() => undefined);

  let finishing = false;
  const exited = new Map<number, Promise<void>>();
  const workers: Worker[] = [];
  const ready = new Map<number, { backend: string; detail: string }>();
  let stepWaiter: { pending: Set<number>; results: Map<number, Extract<FromWorker, { type: "done" }>>; resolve: () => void } | undefined;
  let readyResolve: () => void = () => undefined;
  const allReady = new Promise<void>((r) => (readyResolve = r));

  const onMessage = (m: FromWorker) => {
    if (m.type === "ready") {
      ready.set(m.device, { backend: m.backend, detail: m.detail });
      if (ready.size === devices.length) readyResolve();
    } else if (m.type === "done") {
      if (!stepWaiter || m.step < 0) return;
      stepWaiter.results.set(m.device, m);
      stepWaiter.pending.delete(m.device);
      if (stepWaiter.pending.size === 0) stepWaiter.resolve();
    } else {
      const pos = m.instruction >= 0 ? describePosition(plan, m.device, m.step, m.instruction) : `device ${m.device} (starting)`;
      let message = `${pos}: ${m.message}`;
      if (m.code === "PAR5103") {
        // A device timed out waiting: say where every other device was, the culprit among them.
        const others = devices.filter((d) => d !== m.device).map(where);
        if (others.length) message += `; meanwhile ${others.join("; ")}`;
      }
      signalFailure(parError(m.code, message));
    }
  };

  const t0 = Date.now();
  try {
    for (const device of devices) {
      const ch = channels.get(device)!;
      const w = new Worker(script, {
        workerData: {
          plan,
          device,
          backend: options.backend ?? "auto",
          channels: ch,
          timeoutMs,
          trace: options.trace === true,
          progress: progressSab,
          slot: slotOf.get(device)!,
          ...(fault ? { fault } : {}),
          ...(options.handoffBytes !== undefined ? { handoffBytes: options.handoffBytes } : {}),
          ...(options.sharedAllreduceBytes !== undefined ? { sharedAllreduceBytes: options.sharedAllreduceBytes } : {}),
          ...(arena ? { arena: arena.get(device)! } : {}),
        },
        // The hand-off ports move to the worker (a MessagePort cannot be cloned).
        transferList: channelPorts(ch),
      });
      workers.push(w);
      live++;
      w.on("message", onMessage);
      w.on("error", (e: Error) => signalFailure(parError("PAR5102", `${where(device)}: the worker crashed: ${e.message}`)));
      exited.set(
        device,
        new Promise<void>((r) =>
          w.once("exit", (code) => {
            live--;
            if (!finishing) signalFailure(parError("PAR5102", `${where(device)}: the worker exited with code ${code}`));
            r();
          }),
        ),
      );
    }
    const startupLimit = options.startupTimeoutMs ?? Math.max(timeoutMs, 60_000);
    let startTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      allReady,
      failed,
      new Promise<never>((_, reject) => {
        startTimer = setTimeout(() => {
          const missing = devices.filter((d) => !ready.has(d));
          reject(parError("PAR5106", `device(s) ${missing.join(", ")} did not start within ${startupLimit} ms`));
        }, startupLimit);
      }),
    ]).finally(() => clearTimeout(startTimer));
    const startupMs = Date.now() - t0;

    const losses: number[] = [];
    const stepTimesMs: number[] = [];
    const timeline: MeasuredTimeline = { devices: devices.map((device) => ({ device, steps: [] })) };
    for (let s = 0; s < options.steps; s++) {
      const done = new Promise<void>((resolve) => {
        stepWaiter = { pending: new Set(devices), results: new Map(), resolve };
      });
      const waiter = stepWaiter!;
      for (const w of workers) w.postMessage({ type: "step", step: s } satisfies ToWorker);
      // Every wait inside a device is bounded by timeoutMs; a device stuck in a kernel
      // is caught here (with a grace for the devices' own, more precise, reports).
      let overrun: NodeJS.Timeout | undefined;
      await Promise.race([
        done,
        failed,
        new Promise<never>((_, reject) => {
          overrun = setTimeout(() => {
            const stuck = [...waiter.pending].map(where);
            reject(parError("PAR5103", `step ${s} did not finish within ${timeoutMs} ms: ${stuck.join("; ")}`));
          }, timeoutMs + 2_000);
        }),
      ]).finally(() => clearTimeout(overrun));
      let loss = 0;
      let first = Infinity;
      let last = -Infinity;
      for (const d of devices) {
        const r = waiter.results.get(d)!;
        loss += r.loss;
        first = Math.min(first, r.start);
        last = Math.max(last, r.end);
        const entry: MeasuredStep = { step: s, start: r.start, end: r.end };
        if (r.starts && r.ends) {
          entry.starts = r.starts;
          entry.ends = r.ends;
        }
        timeline.devices[slotOf.get(d)!].steps.push(entry);
      }
      losses.push(loss);
      stepTimesMs.push(last - first);
      options.onStep?.(s, loss, last - first);
    }
    const info = ready.get(devices[0])!;
    return { backend: info.backend, backendDetail: info.detail, losses, stepTimesMs, startupMs, timeline };
  } catch (e) {
    throw failure ?? e;
  } finally {
    // No worker is left behind: terminate all and wait for every exit.
    finishing = true;
    await Promise.all(workers.map((w) => w.terminate().catch(() => undefined)));
    await Promise.all(exited.values());
  }
}
