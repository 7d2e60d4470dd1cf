// Messages between run-workers.ts (the parent) and worker.ts (one per device).

/** Makes a device fail on purpose at one instruction (tests of fault handling). */
export interface FaultInjection {
  device: number;
  /** Index into the device's program. */
  instruction: number;
  /** 0-based step (default 0). */
  step?: number;
  /** throw: the instruction raises; exit: the worker calls process.exit; hang: it blocks its thread. */
  kind: "throw" | "exit" | "hang";
  exitCode?: number;
  hangMs?: number;
}

export type ToWorker = { type: "step"; step: number };

export type FromWorker =
  | { type: "ready"; device: number; backend: string; detail: string }
  | {
      type: "done";
      device: number;
      step: number;
      /** This device's partial of the loss. */
      loss: number;
      /** Epoch milliseconds (performance.timeOrigin + performance.now()). */
      start: number;
      end: number;
      /** Per instruction, when tracing. */
      starts?: Float64Array;
      ends?: Float64Array;
    }
  | { type: "error"; code: string; device: number; step: number; instruction: number; message: string };
