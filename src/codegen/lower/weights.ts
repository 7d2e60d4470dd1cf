// The weight-gradient phase of the lowering for one op: the devices holding one shard of a
// weight (src/layout: the shard's tasks, placed; across replicas and micro-batches, its
// data-parallel group) sum its gradient, then update it: every holder its whole copy
// (all-reduce, then the same update everywhere), or, with ZeRO, each member its own slice
// followed by an all-gather of the updated weights (./zero.ts).
//
// These instructions go to the END of the global sequence S (after every backward; the
// caller keeps them in a tail, in the order the ops produce them): a blocking collective is
// a barrier between its members, and the executor runs them in line (no overlap with
// kernels), so one barrier region at the end costs the devices' imbalance once instead of
// at every layer. A param is read only by its own op's kernels, which all precede its
// update either way; programs stay subsequences of S (deadlock freedom, builder.ts).

import type { ZeroStage } from "../../ir/strategy.js";
import { shardDevices } from "../../layout/placement.js";
import type { Instruction, OptimizerConfig } from "../../plan/plan.js";
import { bufId, type Builder } from "./builder.js";
import type { LoweredOp } from "./forward.js";
import { shardGroups, sliceBuffer } from "./zero.js";

type Update = Extract<Instruction, { kind: "update" }>;

/**
 * Appends op `lo`'s gradient sums and updates to `tail` (device, instruction), in shard order.
 * A frozen param (an imported model's buffer, `--freeze`) is read, never updated: no
 * all-reduce, reduce-scatter, update or all-gather (at ZeRO-3 its unchanging slices are
 * still gathered before each use, ./zero.ts).
 */
export function lowerWeightSync(b: Builder, lo: LoweredOp, optimizer: OptimizerConfig, tail: [number, Instruction][], zero: ZeroStage = 0, frozen: ReadonlySet<string> = new Set()): void {
  const o = lo.node;
  const devices = lo.tasks.map((t) => t.device);
  // Tasks holding the same shard (replicas across sample/attribute splits) sum their
  // gradients; tasks on one device already added into one buffer. Different shards never
  // overlap (both are cells of the same grid; the layout checks it).
  o.sig.params.forEach((s, pi) => {
    const tensor = `${o.name}.${s.name}`;
    if (frozen.has(tensor)) return;
    lo.layout.shards[pi].forEach((shard, si) => {
      const pg = bufId("pg", tensor, shard.region);
      const p = bufId("p", tensor, shard.region);
      const state = (d: number, param: string, grad: string, m: string, v: string, slice?: [number, number]): Update => {
        const upd: Update = { kind: "update", param, grad };
        if (optimizer.kind !== "sgd") {
          upd.m = m;
          b.declare(d, { id: m, tensor, kind: "opt_m", region: shard.region, dtype: "f32", ...(slice ? { slice } : {}) });
        }
        if (optimizer.kind === "adam") {
          upd.v = v;
          b.declare(d, { id: v, tensor, kind: "opt_v", region: shard.region, dtype: "f32", ...(slice ? { slice } : {}) });
        }
        return upd;
      };
      const zg = zero > 0 ? shardGroups(lo, pi)[si] : undefined;
      if (!zg) {
        const holders = shardDevices(shard, devices);
        if (holders.length > 1) {
          const group = [...holders].sort((x, y) => x - y);
          const tag = b.tag("a");
          for (const d of group) tail.push([d, { kind: "allreduce", group, tag, buf: pg }]);
        }
        // Every replica applies the same update to the same values: replicas stay identical.
        for (const d of holders) tail.push([d, state(d, p, pg, bufId("m", tensor, shard.region), bufId("s", tensor, shard.region))]);
        return;
      }
      // ZeRO: member k of the group updates its slice k of the shard (with its slice of the
      // optimizer state); stage 1 all-reduces the whole gradient first, stages 2 and 3
      // reduce-scatter it so that each member receives only its slice of the sum.
      const { group } = zg;
      const grads = new Map<number, string>();
      if (zero === 1) {
        const tag = b.tag("a");
        for (const d of group) {
          tail.push([d, { kind: "allreduce", group, tag, buf: pg }]);
          grads.set(d, pg);
        }
      } else {
        const tag = b.tag("rs");
        for (const d of group) {
          const dst = sliceBuffer(b, zg, d, "pg", "param_grad");
          tail.push([d, { kind: "reducescatter", group, tag, buf: pg, dst }]);
          grads.set(d, dst);
        }
      }
      for (const d of group) {
        const master = sliceBuffer(b, zg, d, "p", "param");
        const k = group.indexOf(d);
        tail.push([d, state(d, master, grads.get(d)!, `${bufId("m", tensor, shard.region)}~${k}/${group.length}`, `${bufId("s", tensor, shard.region)}~${k}/${group.length}`, zg.slices[k])]);
      }
      // Stages 1 and 2 keep whole weights between steps: gather the updated slices. Stage 3
      // gathers them before each use instead (./zero.ts gatherWeights).
      if (zero < 3) {
        const tag = b.tag("ag");
        for (const d of group) tail.push([d, { kind: "allgather", group, tag, src: sliceBuffer(b, zg, d, "p", "param"), buf: p }]);
      }
    });
  });
}
