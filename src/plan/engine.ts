// The Engine: what runs a Plan. Two implement it: the embedded TensorFlow.js runtime
// (src/runtime/engine.ts: worker threads on this machine) and the torch.distributed
// engine (src/engines/torch/engine.ts: one PyTorch process per device). The contract sits
// beside the Plan because both sides of it import only the plan package; src/pipeline.ts
// picks an engine and composes verification and profiling from these two operations.

import type { Plan } from "./plan.js";

/** One device's instructions of one step, in epoch milliseconds. */
export interface EngineMeasuredStep {
  step: number;
  start: number;
  end: number;
  /** Every instruction's start and end, when the run was traced. */
  starts?: Float64Array;
  ends?: Float64Array;
}

export interface EngineTimeline {
  devices: { device: number; steps: EngineMeasuredStep[] }[];
}

export interface EngineRunOptions {
  steps: number;
  /** Bound on every wait for a peer (default: the engine's, 60 s). */
  timeoutMs?: number;
  /** Time every instruction (the timeline's starts and ends). */
  trace?: boolean;
  /** Called after each step (0-based). */
  onStep?: (step: number, loss: number, ms: number) => void;
}

/** Training on the engine's devices: the same shape for both engines. */
export interface EngineRunResult {
  /** What ran the kernels: "wasm", "cpu", "tensorflow" (tfjs) or "torch-gloo", "torch-nccl". */
  backend: string;
  /** More about it: versions, threads, how messages and collectives are done. */
  backendDetail: string;
  /** Per step, the devices' partial losses summed in device order. */
  losses: number[];
  /**
   * Per step: tfjs, from the first device's start to the last device's end (the devices start
   * every step together); torch, the step's period on the slowest device, end to end (ranks
   * run ahead of each other between steps).
   */
  stepTimesMs: number[];
  /** Starting the devices (threads or processes, backend, weights). */
  startupMs: number;
  timeline: EngineTimeline;
}

/** What verification compares: losses, and the whole weights and gradients after the last step. */
export interface EngineTrainedState {
  losses: number[];
  /** Whole weights after the last step, stitched from the shards. */
  params: Map<string, Float32Array>;
  /** Whole weight gradients of the last step, of the trainable params only (a frozen param's shards are never summed). */
  grads: Map<string, Float32Array>;
}

export type EngineName = "tfjs" | "torch";

export interface Engine {
  readonly name: EngineName;
  /** Trains `plan` for `options.steps` steps on one device each (threads or processes). */
  run(plan: Plan, options: EngineRunOptions): Promise<EngineRunResult>;
  /**
   * Trains `plan` and returns the state verification compares, and the backend it ran on.
   * The tfjs runtime does this in one thread; the torch engine on its ranks.
   */
  train(plan: Plan, options: { steps: number; onStep?: (step: number) => void }): Promise<EngineTrainedState & { backend: string }>;
  /**
   * Runs `fn` with an engine that keeps its devices up between runs of plans with at most
   * `devices` devices (torch: one set of ranks instead of a launch per run), and stops them
   * after. Runs keep the session's `timeoutMs`.
   */
  session<T>(devices: number, fn: (engine: Engine) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
}
