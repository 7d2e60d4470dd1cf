// The Plan: the one contract between the compiler and the runtime. A versioned JSON
// document (schema in src/plan/schema.ts, published as docs/plan.schema.json).
// Every device gets an ordered program; executing every program once is one training
// step (forward, backward, gradient exchange, optimizer update). Regions are global
// coordinates [lo, hi) into the named tensor.
//
// The runtime imports only this file (and op kernels from src/ops), never the IR, the
// cost model or the search.

import type { Region } from "../core/region.js";
import type { Attrs, AxisMap, DimClass, InitSpec } from "../ops/contract.js";
import type { PlanWeights } from "./weights.js";

export const PLAN_FORMAT = "par-plan";
/**
 * The newest plan format version. Version 2 adds what large-scale strategies need (buffers
 * holding a flat `slice` of a region, `reducescatter`, `allgather` and `release`); a v1
 * reader would misread such a plan (ignore slices), so lowering writes version 2 for a
 * strategy with replicas, a pipeline, ZeRO or recomputation and version 1 otherwise (every
 * plan of a strategy without them stays byte-identical). Readers accept PLAN_VERSIONS.
 * A strategy's `precision` does not enter the plan: plans compute in f32 (docs/plan.md,
 * "Precision"); only the cost and memory models price bf16/f16.
 */
export const PLAN_VERSION = 2;
export const PLAN_VERSIONS: readonly PlanVersion[] = [1, 2];
export type PlanVersion = 1 | 2;

export type PlanDType = "f32" | "i32";

export interface PlanTensor {
  id: string;
  shape: number[];
  dtype: PlanDType;
  /** graph input (fed data), activation (op output), or param (trained weight). */
  role: "input" | "activation" | "param";
  /**
   * Graph inputs only: how the runtime synthesises the data (src/runtime/exec/data.ts).
   * Absent: floats ~ U(-1, 1), integers uniform in [0, 2). Added compatibly in v1.
   */
  feed?: PlanFeed;
}

/**
 * Synthetic data of a graph input. `teacher` names a float graph input whose row i
 * (sample i) determines the value at sample i, so that the loss can fall; null when the
 * model has no float input with the same batch size (then the values are plain hashes).
 */
export type PlanFeed =
  /** Floats ~ U(-1, 1). */
  | { kind: "uniform" }
  /** Integers in [0, classes): class labels (argmax of a fixed projection of the teacher's row) or token ids. */
  | { kind: "classes"; classes: number; teacher: string | null }
  /** Regression targets: tanh of a fixed linear function of the teacher's row. */
  | { kind: "target"; teacher: string | null };

/** An op instance: enough for the runtime to re-infer its signature and run its kernels. */
export interface PlanOp {
  name: string;
  op: string;
  attrs: Attrs;
  /** Tensor ids of its inputs (types come from `tensors`). */
  inputs: string[];
  outputs: string[];
  /** Param tensor ids, in the op's param order. */
  params: string[];
  /** Degrees of the iteration space (for ShardContext / task boxes). */
  degrees: number[];
  /**
   * Optional (added compatibly in v1): the op's iteration-space facts as the registry
   * infers them from its input types and attrs (src/plan/signatures.ts), for engines that
   * cannot run the registry's `infer` themselves (the torch engine, python/par_torch).
   * When present, validation checks it against the registry (PAR5014).
   */
  signature?: PlanOpSignature;
}

/** An op's iteration space and axis maps, exported from its OpSignature (no functions). */
export interface PlanOpSignature {
  space: { name: string; cls: DimClass; size: number; splittable?: boolean }[];
  inputMaps: AxisMap[][];
  paramMaps: AxisMap[][];
  outputMaps: AxisMap[][];
}

/**
 * How a param starts: the op's InitSpec (a pure function of seed, param and global index),
 * or given values (`ref` names an entry of `Plan.weights`, added compatibly in v1).
 */
export type PlanInit = InitSpec | { kind: "values"; ref: string };

export interface PlanParam {
  tensor: string;
  init: PlanInit;
  /**
   * false: the optimizer never updates this param (an imported model's buffer, a frozen
   * weight); the programs hold no update (nor gradient all-reduce) for it. Absent:
   * trained. Added compatibly in v1.
   */
  trainable?: false;
}

/** A buffer on one device: one region of a tensor's value, gradient or optimizer state. */
export interface PlanBuffer {
  id: string;
  tensor: string;
  kind: "value" | "grad" | "param" | "param_grad" | "opt_m" | "opt_v";
  region: Region;
  dtype: PlanDType;
  /**
   * v2: the buffer holds only elements [start, end) of `region`'s row-major order (a ZeRO
   * member's share of a weight shard, docs/runtime.md "ZeRO"). Absent: the whole region.
   */
  slice?: [number, number];
}

export type BufferKind = PlanBuffer["kind"];

export type Instruction =
  /** Fill `buf` with the synthetic data of `tensor` for this step, over the buffer's region. */
  | { kind: "feed"; buf: string }
  /** Set a buffer to zero (before accumulating partial sums or gradients). */
  | { kind: "zero"; buf: string }
  /** Set every element of a buffer to `value` (a loss's dOutput = 1). Added compatibly in v1. */
  | { kind: "fill"; buf: string; value: number }
  /** Copy the overlap of `src` and `region` into `dst` (add into it when `accumulate`). */
  | { kind: "copy"; src: string; dst: string; region: Region; accumulate?: boolean }
  | { kind: "forward"; op: string; task: number; box: Region; inputs: string[]; params: string[]; outputs: string[] }
  | {
      kind: "backward";
      op: string;
      task: number;
      box: Region;
      inputs: string[];
      params: string[];
      outputs: string[];
      dOutputs: string[];
      /**
       * null where no gradient is needed (integer data, graph inputs). Gradients are ADDED
       * into these buffers (several tasks on one device may share one).
       */
      dInputs: (string | null)[];
      /** Weight gradients, ADDED into these buffers like dInputs. */
      dParams: string[];
    }
  /** Send `region` of `src` to device `to`; never blocks. `tag` pairs it with one recv. */
  | { kind: "send"; to: number; tag: string; src: string; region: Region }
  /** Receive `region` from device `from` into `dst` (add into it when `accumulate`). */
  | { kind: "recv"; from: number; tag: string; dst: string; region: Region; accumulate?: boolean }
  /** Sum `buf` element-wise across `group` (every member holds the same region); all get the sum. */
  | { kind: "allreduce"; group: number[]; tag: string; buf: string }
  /**
   * Apply the optimizer to `param` with gradient `grad` (state buffers `m`, `v` when
   * needed). All name one region of one param; `grad`, `m` and `v` hold either the
   * elements `param` holds or the whole region (v2: a ZeRO-1 member updates its slice of
   * the all-reduced whole gradient).
   */
  | { kind: "update"; param: string; grad: string; m?: string; v?: string }
  /** This device's share of the loss is in `buf` (a scalar partial sum). */
  | { kind: "loss"; buf: string }
  /**
   * v2. Sums the whole-region `buf` element-wise over `group` (every member holds the same
   * region); member k receives the k-th of `group.length` even slices of the sum
   * (sliceOf) into `dst`, a slice buffer of that region.
   */
  | { kind: "reducescatter"; group: number[]; tag: string; buf: string; dst: string }
  /** v2. Member k contributes `src` (its even slice of `buf`'s region); every member's `buf` gets all slices, in group order. */
  | { kind: "allgather"; group: number[]; tag: string; src: string; buf: string }
  /**
   * v2. The contents of `buf` are dead: the engine drops its storage. Its next use must
   * write it without reading it (the storage comes back zero-filled).
   */
  | { kind: "release"; buf: string };

export interface DeviceProgram {
  device: number;
  buffers: PlanBuffer[];
  /** Run once per training step, in order. */
  instructions: Instruction[];
}

export interface OptimizerConfig {
  kind: "sgd" | "momentum" | "adam";
  learningRate: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface Plan {
  format: typeof PLAN_FORMAT;
  version: PlanVersion;
  model: string;
  mesh: string;
  strategy: string;
  /** Seeds parameter initialisation and synthetic data (both functions of global indices). */
  seed: number;
  optimizer: OptimizerConfig;
  devices: { index: number; kind: string }[];
  tensors: PlanTensor[];
  ops: PlanOp[];
  params: PlanParam[];
  /**
   * Given values of params whose init is `{kind: "values", ref}`, by ref (the param's
   * tensor id): base64 of little-endian f32, row-major (src/plan/weights.ts).
   * Absent when every param is initialised by its InitSpec. Added compatibly in v1.
   */
  weights?: PlanWeights;
  /** Tensor ids of the loss ops' outputs (their per-device partials sum to the loss). */
  losses: string[];
  programs: DeviceProgram[];
}
