// A strategy: for every op, a degree per parallel dim of its iteration space and the
// device of each task (FlexFlow's SOAP config: Sample, Attribute, Parameter degrees +
// Operator placement). Tasks are numbered row-major over the degrees (last dim fastest),
// matching src/core/region.ts `partition`.
//
// Large-scale training adds strategy-level choices on top of the per-op configs (all
// optional; a strategy without them is exactly FlexFlow's SOAP strategy):
//   replicas   data-parallel copies of everything below, each on its own devices
//   pipeline   the ops cut into stages on sub-meshes, run as M micro-batches under a schedule
//   zero       ZeRO sharding of optimizer state / gradients / weights across each weight's
//              data-parallel group
//   recompute  ops whose outputs are not kept for backward but recomputed
//   precision  the compute and activation dtype (master weights and optimizer state stay f32)
// When `pipeline` or `replicas` is present, every op config describes ONE micro-batch of
// replica 0: its sample dims have size batch / (replicas × microbatches). docs/strategies.md
// states the semantics; src/ir/strategy-validate-scale.ts checks them, and
// src/ir/strategy-stages.ts / strategy-replicas.ts answer "which stage", "which devices",
// "how many samples" for everyone else. Absent fields mean the defaults; the JSON reader
// and the `.par` resolver leave defaults out (no one-replica `replicas`, no `zero: 0`, no
// `precision: "f32"`, no empty `recompute`), so equal strategies compare equal.

export interface OpConfig {
  /** One degree per iteration dim, in the op's `sig.space` order. */
  degrees: number[];
  /** Device index of each task; length = product of degrees. */
  devices: number[];
}

/**
 * Data-parallel replicas: replica r runs every task of replica 0 on device `d + r·offset`
 * (d a device of replica 0) and processes samples [r·B/count, (r+1)·B/count).
 */
export interface ReplicaConfig {
  count: number;
  /** Device-index distance between consecutive replicas (mesh size / count: contiguous blocks). */
  offset: number;
}

export type PipelineSchedule = "gpipe" | "1f1b" | "interleaved";
export const PIPELINE_SCHEDULES: readonly PipelineSchedule[] = ["gpipe", "1f1b", "interleaved"];

/** A pipeline stage: the ops from `first` to `last` in topological order, on `devices` (of replica 0). */
export interface PipelineStage {
  first: string;
  last: string;
  devices: number[];
}

export interface PipelineConfig {
  /** Micro-batches per step (per replica); each holds batch / (replicas × microbatches) samples. */
  microbatches: number;
  schedule: PipelineSchedule;
  /**
   * Stages in order, covering every op exactly once. With the interleaved schedule and v
   * virtual stages per device group there are p·v stages and stage k runs on the devices of
   * stage k mod p.
   */
  stages: PipelineStage[];
  /** Interleaved schedule: virtual stages per device group (v ≥ 2); 1 otherwise. */
  virtualStages?: number;
}

/** ZeRO (Rajbhandari et al., SC'20): 1 shards optimizer state, 2 also gradients, 3 also weights. */
export type ZeroStage = 0 | 1 | 2 | 3;

export type Precision = "f32" | "bf16" | "f16";
export const PRECISIONS: readonly Precision[] = ["f32", "bf16", "f16"];

export interface Strategy {
  /** A name for people ("data-parallel", "searched"). */
  name: string;
  model: string;
  mesh: string;
  /** Config per op name. Every op of the graph has one in a complete strategy. */
  ops: Record<string, OpConfig>;
  replicas?: ReplicaConfig;
  pipeline?: PipelineConfig;
  /** Absent or 0: every holder of a weight shard keeps its weights, gradients and optimizer state. */
  zero?: ZeroStage;
  /**
   * Ops whose outputs are recomputed in backward instead of kept (selective or full
   * recomputation); resolved op names, in topological order as par writes them.
   */
  recompute?: string[];
  /** Absent: f32. */
  precision?: Precision;
}

export function taskCount(c: OpConfig): number {
  return c.degrees.reduce((a, b) => a * b, 1);
}

/** True when the strategy uses any of the large-scale fields (and so needs strategy format v2). */
export function usesScaleFeatures(s: Strategy): boolean {
  return (
    (s.replicas !== undefined && s.replicas.count > 1) ||
    s.pipeline !== undefined ||
    (s.zero ?? 0) > 0 ||
    (s.recompute?.length ?? 0) > 0 ||
    (s.precision ?? "f32") !== "f32"
  );
}
