// The weights each device of a pipeline stage holds, with each one's data-parallel group:
// the devices that hold the same shard and process other samples (docs/strategies.md,
// "ZeRO"). Inside replica 0 that is the shard's tasks' devices (a sample split, or a bias
// under an `in_channel` split, src/layout/placement.ts); every replica holds the same
// shards on its images d + r·offset, so the group is the union of those. Gradients are
// summed over the group (all-reduce, or ZeRO's reduce-scatter) and ZeRO shards the
// optimizer state, gradients and weights over it. The hierarchical simulator times these
// collectives and the memory model sizes the shards from the same answer.
//
// A weight the stage reads from another stage (a tied embedding) is a copy the stage keeps
// (src/ir/stage-plan.ts, StageInput.weight): each device holds the regions its tasks read,
// synchronised like its own weights across the replicas.

import { regionKey, regionVolume } from "../core/region.js";
import { dtypeBytes } from "../core/tensor.js";
import type { StagePlan } from "../ir/stage-plan.js";
import type { ReplicaConfig } from "../ir/strategy.js";
import { LayoutCache } from "./cache.js";
import { shardGroup } from "./placement.js";

export interface ShardHolding {
  /** The op holding (or reading, for a kept copy) the weight: its position in `StagePlan.ops`. */
  op: number;
  /** Elements of the shard. */
  params: number;
  /** Bytes per element in the stage's precision (the weight's and its gradient's dtype). */
  elementBytes: number;
  /** Its data-parallel group: devices of the whole mesh, ascending (one member: none). */
  group: readonly number[];
  /** True for a copy of a weight owned by another stage. */
  copy: boolean;
}

/** Replica 0's devices `devices` and their images in every replica, ascending. */
export function acrossReplicas(devices: readonly number[], replicas: ReplicaConfig): number[] {
  const out: number[] = [];
  for (const d of devices) for (let r = 0; r < replicas.count; r++) out.push(d + r * replicas.offset);
  return out.sort((a, b) => a - b);
}

/** Per local device of `stage`, the shards it holds. */
export function stageShards(stage: StagePlan, replicas: ReplicaConfig): ShardHolding[][] {
  const g = stage.graph;
  const layouts = LayoutCache.of(g);
  const out: ShardHolding[][] = stage.devices.map(() => []);
  const global = (local: readonly number[]) => local.map((l) => stage.devices[l]);
  // One group array per distinct member set: thousands of shards share a few groups of up
  // to thousands of devices, and the collectives' caches key on the array.
  const groups = new Map<string, number[]>();
  const groupOf = (members: readonly number[]) => {
    const key = members.join(",");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = acrossReplicas(global(members), replicas)));
    return g;
  };
  stage.ops.forEach((op, position) => {
    const node = g.op(op.name);
    const cfg = stage.configs[op.name];
    const L = layouts.layout(node, cfg.degrees);
    L.shards.forEach((shards, p) => {
      const elementBytes = dtypeBytes(node.sig.params[p].dtype ?? "f32");
      for (const shard of shards) {
        const members = shardGroup(shard, cfg.devices);
        const group = groupOf(members);
        for (const d of members) out[d].push({ op: position, params: shard.volume, elementBytes, group, copy: false });
      }
    });
  });
  // Kept copies of weights owned by other stages: the distinct regions each device reads.
  const copies = stage.inputs.filter((i) => i.weight && i.from >= 0);
  for (const input of copies) {
    const t = g.tensor(input.tensor);
    const elementBytes = dtypeBytes(t.type.dtype);
    const seen = new Set<string>();
    for (const c of t.consumers) {
      const node = g.op(c.op);
      const cfg = stage.configs[c.op];
      const L = layouts.layout(node, cfg.degrees);
      const position = stage.ops.findIndex((o) => o.name === c.op);
      for (let task = 0; task < L.count; task++) {
        const d = cfg.devices[task];
        const r = L.inputs[c.input][task];
        const key = `${d}|${regionKey(r)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out[d].push({ op: position, params: regionVolume(r), elementBytes, group: groupOf([d]), copy: true });
      }
    }
  }
  return out;
}
