// The result of a torch run, shaped like the tfjs runtime's WorkerRunResult
// (src/runtime/workers/run-workers.ts; the engines may not import the runtime, so the shape
// is restated here and a test checks that one is assignable to the other), built from the
// engine's JSON lines.

import { parError } from "../../core/diagnostics.js";
import type { EngineRecord } from "./process.js";

/** One device's instructions of one step: epoch milliseconds. */
export interface TorchMeasuredStep {
  step: number;
  start: number;
  end: number;
  starts?: Float64Array;
  ends?: Float64Array;
}

export interface TorchTimeline {
  devices: { device: number; steps: TorchMeasuredStep[] }[];
}

export interface TorchRunResult {
  /** "torch-gloo" or "torch-nccl". */
  backend: string;
  /** torch version, device, ranks × threads, how collectives and messages are done. */
  backendDetail: string;
  /** Per step, device partials summed in device order (as the tfjs runtime sums them). */
  losses: number[];
  /**
   * Per step: its period on the slowest device, from that device's end of the previous step
   * (of this step's start, for the first) to its end of this one. Ranks do not wait for each
   * other between steps, so a start-to-end span would include a fast device's head start.
   */
  stepTimesMs: number[];
  /** Starting the ranks: interpreter, torch, process group. */
  startupMs: number;
  timeline: TorchTimeline;
}

interface StepDevice {
  device: number;
  start: number;
  end: number;
  starts?: number[];
  ends?: number[];
}

function num(x: unknown, what: string): number {
  if (typeof x !== "number" || !Number.isFinite(x)) throw parError("PAR8012", `the torch engine reported ${what} = ${JSON.stringify(x)}`);
  return x;
}

/** Accumulates one job's records into a TorchRunResult. */
export class ResultBuilder {
  private backend = "torch";
  private detail = "";
  private startupMs = 0;
  readonly losses: number[] = [];
  readonly stepTimesMs: number[] = [];
  private readonly devices = new Map<number, TorchMeasuredStep[]>();

  start(rec: EngineRecord): void {
    this.backend = `torch-${String(rec.backend)}`;
    this.detail = `torch ${String(rec.torch)}, ${String(rec.backend)} on ${String(rec.device)}, ${String(rec.nproc)} ranks × ${String(rec.threads)} threads; ${String(rec.collectives)}; p2p ${String(rec.p2p)}`;
    this.startupMs = num(rec.startup_ms, "startup_ms");
  }

  step(rec: EngineRecord): void {
    this.losses.push(num(rec.loss, "loss"));
    this.stepTimesMs.push(num(rec.ms, "ms"));
    const step = num(rec.step, "step");
    for (const d of (rec.devices ?? []) as StepDevice[]) {
      const s: TorchMeasuredStep = { step, start: d.start, end: d.end };
      if (d.starts && d.ends) {
        s.starts = Float64Array.from(d.starts);
        s.ends = Float64Array.from(d.ends);
      }
      let list = this.devices.get(d.device);
      if (!list) this.devices.set(d.device, (list = []));
      list.push(s);
    }
  }

  result(): TorchRunResult {
    return {
      backend: this.backend,
      backendDetail: this.detail,
      losses: [...this.losses],
      stepTimesMs: [...this.stepTimesMs],
      startupMs: this.startupMs,
      timeline: { devices: [...this.devices.entries()].sort((a, b) => a[0] - b[0]).map(([device, steps]) => ({ device, steps })) },
    };
  }
}
