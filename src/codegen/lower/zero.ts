// ZeRO (Rajbhandari et al., SC'20) in the plan. A weight shard held by N > 1 devices (its
// data-parallel group: replicas and sample splits, src/layout/units.ts) is cut into N even
// slices of its row-major elements, member k (in group order, ascending device) owning
// slice k (src/plan/slices.ts). Member k keeps the f32 master copy of its slice
// (`p:P[R]~k/N`, a param buffer with `slice`) and its slice of the optimizer state; the
// gradient is summed by an all-reduce (stage 1) or a reduce-scatter into `pg:P[R]~k/N`
// (stages 2, 3); member k updates its slice and an all-gather rebuilds the whole weights
// `p:P[R]` on every member (stages 1, 2). At stage 3 the whole weights live only while
// an op uses them: `gatherWeights` all-gathers them right before each forward and backward
// (and recomputation) of the op, and the release pass (./release.ts) frees them after.

import { regionVolume, type Region } from "../../core/region.js";
import { shardGroup } from "../../layout/placement.js";
import type { BufferKind } from "../../plan/plan.js";
import { sliceOf } from "../../plan/slices.js";
import { bufId, type Builder } from "./builder.js";
import type { LoweredOp, Task } from "./forward.js";

/** One shard's ZeRO group: its holders (ascending) and each member's slice. */
export interface ShardGroup {
  tensor: string;
  region: Region;
  group: number[];
  slices: [number, number][];
}

const cache = new WeakMap<LoweredOp, (ShardGroup | undefined)[][]>();

/** Per shard of param `pi` of `lo`: its ZeRO group, or undefined for a shard only one device holds (nothing to shard). */
export function shardGroups(lo: LoweredOp, pi: number): (ShardGroup | undefined)[] {
  let all = cache.get(lo);
  if (!all) {
    const devices = lo.tasks.map((t) => t.device);
    all = lo.node.sig.params.map((s, p) =>
      lo.layout.shards[p].map((shard) => {
        const group = shardGroup(shard, devices);
        if (group.length < 2) return undefined;
        const n = regionVolume(shard.region);
        return { tensor: `${lo.node.name}.${s.name}`, region: shard.region, group, slices: group.map((_, k) => sliceOf(n, group.length, k)) };
      }),
    );
    cache.set(lo, all);
  }
  return all[pi];
}

/** Member `device`'s slice buffer of `zg` with `prefix` (p, pg), declared at first use. */
export function sliceBuffer(b: Builder, zg: ShardGroup, device: number, prefix: "p" | "pg", kind: BufferKind): string {
  const k = zg.group.indexOf(device);
  const id = `${bufId(prefix, zg.tensor, zg.region)}~${k}/${zg.group.length}`;
  b.declare(device, { id, tensor: zg.tensor, kind, region: zg.region, dtype: kind === "param" ? b.dtype(zg.tensor) : "f32", slice: zg.slices[k] });
  return id;
}

/**
 * ZeRO-3: all-gathers the whole weights of every sharded shard that `tasks` of `lo` use,
 * on all members of its group, at this point of S (a collective at one point, like an
 * all-reduce); `onGathered` learns each whole-weight buffer gathered (the release pass
 * frees them after their last use).
 */
export function gatherWeights(b: Builder, lo: LoweredOp, tasks: readonly Task[], onGathered: (device: number, id: string) => void): void {
  const o = lo.node;
  o.sig.params.forEach((_, pi) => {
    const of = shardOfTask(lo, pi);
    const used = new Set(tasks.map((t) => of[t.index]));
    shardGroups(lo, pi).forEach((zg, si) => {
      if (!zg || !used.has(si)) return;
      const whole = bufId("p", zg.tensor, zg.region);
      const tag = b.tag("ag");
      for (const d of zg.group) {
        b.param(d, zg.tensor, zg.region);
        b.emit(d, { kind: "allgather", group: zg.group, tag, src: sliceBuffer(b, zg, d, "p", "param"), buf: whole });
        onGathered(d, whole);
      }
    });
  });
}

const shardOf = new WeakMap<LoweredOp, Int32Array[]>();

/** Per task: the index of the shard of param `pi` it holds. */
function shardOfTask(lo: LoweredOp, pi: number): Int32Array {
  let all = shardOf.get(lo);
  if (!all) {
    all = lo.layout.shards.map((shards) => {
      const a = new Int32Array(lo.layout.count);
      shards.forEach((sh, si) => {
        for (const t of sh.tasks) a[t] = si;
      });
      return a;
    });
    shardOf.set(lo, all);
  }
  return all[pi];
}
