// The weight-gradient phase of the lowering for one op: the devices holding one shard of a
// weight (src/layout: the shard's tasks, placed) all-reduce its gradient, then each applies
// the optimizer update to its copy.
//
// These instructions go to the END of the global sequence S (after every backward; the
// caller keeps them in a tail, in the order the ops produce them): a blocking all-reduce is
// a barrier between its members, and the executor runs them in line (no overlap with
// kernels), so one barrier region at the end costs the devices' imbalance once instead of
// at every layer. A param is read only by its own op's kernels, which all precede its
// update either way; programs stay subsequences of S (deadlock freedom, builder.ts).

import { shardDevices } from "../../layout/placement.js";
import type { Instruction, OptimizerConfig } from "../../plan/plan.js";
import { bufId, type Builder } from "./builder.js";
import type { LoweredOp } from "./forward.js";

/** Appends op `lo`'s all-reduces and updates to `tail` (device, instruction), in shard order. */
export function lowerWeightSync(b: Builder, lo: LoweredOp, optimizer: OptimizerConfig, tail: [number, Instruction][]): void {
  const o = lo.node;
  const devices = lo.tasks.map((t) => t.device);
  // Tasks holding the same shard (replicas across sample/attribute splits) sum their
  // gradients; tasks on one device already added into one buffer. Different shards never
  // overlap (both are cells of the same grid; the layout checks it).
  o.sig.params.forEach((s, pi) => {
    const tensor = `${o.name}.${s.name}`;
    for (const shard of lo.layout.shards[pi]) {
      const holders = shardDevices(shard, devices);
      const pg = bufId("pg", tensor, shard.region);
      if (holders.length > 1) {
        const group = [...holders].sort((x, y) => x - y);
        const tag = b.tag("a");
        for (const d of group) tail.push([d, { kind: "allreduce", group, tag, buf: pg }]);
      }
      // Every replica applies the same update to the same values: replicas stay identical.
      for (const d of holders) {
        const upd: Extract<Instruction, { kind: "update" }> = { kind: "update", param: bufId("p", tensor, shard.region), grad: pg };
        if (optimizer.kind !== "sgd") {
          upd.m = bufId("m", tensor, shard.region);
          b.declare(d, { id: upd.m, tensor, kind: "opt_m", region: shard.region, dtype: "f32" });
        }
        if (optimizer.kind === "adam") {
          upd.v = bufId("s", tensor, shard.region);
          b.declare(d, { id: upd.v, tensor, kind: "opt_v", region: shard.region, dtype: "f32" });
        }
        tail.push([d, upd]);
      }
    }
  });
}
