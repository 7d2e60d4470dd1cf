// Per stage, what the weights cost once the micro-batches have produced their gradients
// (docs/simulator.md, "Weight sync at scale"):
//
// - gradient sync across each shard's data-parallel group (src/layout/stage-shards.ts):
//   an all-reduce after the stage's last backward (ZeRO 0–1: gradients accumulate over the
//   micro-batches), or a reduce-scatter after every backward (ZeRO 2–3: each device keeps
//   only its 1/N of the gradients, so each micro-batch's are scattered at once, as
//   DeepSpeed does). Gradients are bucketed as PyTorch DDP buckets them: ops in the order
//   their gradients complete, a bucket closing at 25 MiB on the busiest device; in
//   `overlap` mode a bucket starts as soon as its last op's gradients are complete inside
//   the backward, in `after-backward` mode (Megatron-LM's local DDP of the PTD-P paper)
//   one bucket starts when the backward ends. A bucket costs, on each device, its shards'
//   collectives one group after another; the stage waits for its slowest device.
// - the optimizer step of each device's part: the whole shard, or 1/N of it under ZeRO;
// - ZeRO 1–2: an all-gather of the updated weights across the group;
// - ZeRO 3: before every forward and backward of a micro-batch, an all-gather of the
//   stage's weights (freed after use), prefetched one unit ahead (pipeline-sim.ts).

import type { ReplicaConfig, ZeroStage } from "../../ir/strategy.js";
import type { StagePlan } from "../../ir/stage-plan.js";
import { stageShards, type ShardHolding } from "../../layout/stage-shards.js";
import type { ScaleCosts } from "./costs.js";
import type { StageTiming } from "./stage-timing.js";

/** PyTorch DDP's default bucket size (`bucket_cap_mb = 25`). */
export const GRADIENT_BUCKET_BYTES = 25 * 2 ** 20;

export type GradSyncMode = "overlap" | "after-backward";

export interface GradBucket {
  /** Seconds from the start of the backward unit until the bucket's gradients are complete. */
  ready: number;
  seconds: number;
  bytes: number;
}

export interface StageWeightCosts {
  /** The gradient collectives of the stage's last backward (ZeRO 0–1) or of every backward (ZeRO 2–3). */
  buckets: GradBucket[];
  /** True when `buckets` follow every backward unit (ZeRO 2–3), false when only the last. */
  everyMicrobatch: boolean;
  /** Seconds of the optimizer step (busiest device). */
  update: number;
  /** ZeRO 1–2: seconds of the all-gather of the updated weights. */
  postGather: number;
  /** ZeRO 3: seconds of the all-gather of the stage's weights before each unit. */
  unitGather: number;
  /** Per local device, the shards it holds (for the memory model and reports). */
  shards: ShardHolding[][];
}

/** Σ over the device's shards, grouped by data-parallel group, of `collective(bytes, group)`. */
function perDevice(shards: readonly ShardHolding[], bytesOf: (s: ShardHolding) => number, collective: (bytes: number, group: readonly number[]) => number): number {
  // Shards of one group share its array (src/layout/stage-shards.ts): keyed by identity.
  const byGroup = new Map<readonly number[], { group: readonly number[]; bytes: number }>();
  for (const s of shards) {
    if (s.group.length < 2) continue;
    const key = s.group;
    const e = byGroup.get(key);
    if (e) e.bytes += bytesOf(s);
    else byGroup.set(key, { group: s.group, bytes: bytesOf(s) });
  }
  let t = 0;
  for (const { group, bytes } of byGroup.values()) t += collective(bytes, group);
  return t;
}

export function stageWeightCosts(stage: StagePlan, timing: StageTiming, replicas: ReplicaConfig, zero: ZeroStage, mode: GradSyncMode, costs: ScaleCosts): StageWeightCosts {
  const shards = stageShards(stage, replicas);
  const sync = zero >= 2 ? costs.reduceScatter.bind(costs) : costs.allReduce.bind(costs);
  const bytes = (s: ShardHolding) => s.params * s.elementBytes;
  // Ops with gradients to sync, in the order they complete.
  const ops = [...new Set(shards.flat().filter((s) => s.group.length > 1).map((s) => s.op))];
  const readyOf = (op: number) => (mode === "after-backward" ? timing.backward : Math.min(timing.backward, timing.gradReady.get(op) ?? timing.backward));
  ops.sort((a, b) => readyOf(a) - readyOf(b) || b - a);
  const buckets: GradBucket[] = [];
  let members = new Set<number>();
  const close = () => {
    if (members.size === 0) return;
    const held = shards.map((list) => list.filter((s) => members.has(s.op)));
    const seconds = Math.max(0, ...held.map((list) => perDevice(list, bytes, sync)));
    const total = held.reduce((n, list) => n + list.reduce((m, s) => m + bytes(s), 0), 0);
    buckets.push({ ready: Math.max(...[...members].map(readyOf)), seconds, bytes: total });
    members = new Set();
  };
  const filled = new Float64Array(shards.length);
  for (const op of ops) {
    members.add(op);
    let full = false;
    shards.forEach((list, d) => {
      for (const s of list) if (s.op === op) filled[d] += bytes(s);
      if (filled[d] >= GRADIENT_BUCKET_BYTES) full = true;
    });
    if (mode === "overlap" && full) {
      close();
      filled.fill(0);
    }
  }
  close();

  const share = (s: ShardHolding) => (zero >= 1 ? s.params / s.group.length : s.params);
  const update = Math.max(0, ...shards.map((list, d) => (list.length ? costs.update(list.reduce((n, s) => n + share(s), 0), stage.devices[d]) : 0)));
  const gather = Math.max(0, ...shards.map((list) => perDevice(list, bytes, (b, g) => costs.allGather(b, g))));
  return {
    buckets,
    everyMicrobatch: zero >= 2,
    update,
    postGather: zero === 1 || zero === 2 ? gather : 0,
    unitGather: zero === 3 ? gather : 0,
    shards,
  };
}
