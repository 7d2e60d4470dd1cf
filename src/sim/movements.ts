// What a simulated iteration moves between devices, as regions of tensors, read back from
// the task graph: each transfer's segment says what it carries (a value in XF, a partial
// sum in FO, a gradient in XB, a gradient broadcast in BO) and its `idx` which piece; each
// op's all-reduces follow its weight shards in order. The lowered plan moves exactly these
// (test/sim/movements.property.test.ts holds the two together).

import type { Region } from "../core/region.js";
import { overlapRegion } from "../layout/overlaps.js";
import { shardGroup } from "../layout/placement.js";
import { ARRIVE, KIND_ALLREDUCE, KIND_XFER } from "./task-kinds.js";
import type { TaskGraphBuilder } from "./taskgraph.js";

export type MovementKind = "value" | "partial" | "gradient" | "broadcast";

/** `region` of `tensor` (its value, a partial sum of it, or its gradient) sent from one device to another. */
export interface Movement {
  kind: MovementKind;
  tensor: string;
  region: Region;
  from: number;
  to: number;
}

/** The gradient of weight shard `region` of `param`, all-reduced over `devices` (ascending). */
export interface AllReduceMovement {
  param: string;
  region: Region;
  devices: number[];
}

export function simulatedMovements(b: TaskGraphBuilder): { moves: Movement[]; allReduces: AllReduceMovement[] } {
  const s = b.store;
  const moves: Movement[] = [];
  const allReduces: AllReduceMovement[] = [];
  const transfers = (g: number, each: (task: number) => void): void => {
    for (let t = s.segBeg[g]; t < s.segEnd[g]; t++) if (s.kind[t] === KIND_XFER) each(t);
  };
  for (const info of b.ops) {
    const r = info.rank;
    const node = info.node;
    const block = b.blocks[r]!;
    const L = block.layout;
    const nOut = node.outputs.length;
    const group = (t: number) => {
      const o = s.idx[t] % nOut;
      return { tensor: node.outputs[o], region: L.groups[o][(s.idx[t] - o) / nOut].region };
    };
    transfers(b.seg.fo[r], (t) => moves.push({ kind: "partial", ...group(t), from: s.src[t], to: s.dst[t] }));
    transfers(b.seg.bo[r], (t) => moves.push({ kind: "broadcast", ...group(t), from: s.src[t], to: s.dst[t] }));
    info.producers.forEach((p, k) => {
      if (!p) return;
      const pb = b.blocks[p.op]!;
      const ov = b.edges[r][k].overlaps;
      const piece = (t: number) => ({ tensor: node.inputs[k], region: overlapRegion(pb.layout, p.output, L, k, ov, s.idx[t]), from: s.src[t], to: s.dst[t] });
      transfers(b.seg.first[r] + k, (t) => moves.push({ kind: "value", ...piece(t) }));
      transfers(b.seg.bo[r] + 1 + k, (t) => moves.push({ kind: "gradient", ...piece(t) }));
    });
    // All-reduces: one per shard held on several devices, in shard order; checked against
    // the tasks (one on the group's collective queue, or an arrival and a share per member
    // when they run in line).
    let t = s.segBeg[b.seg.ar[r]];
    const end = s.segEnd[b.seg.ar[r]];
    L.shards.forEach((shards, p) => {
      for (const shard of shards) {
        const devices = shardGroup(shard, block.cfg.devices);
        if (devices.length < 2) continue;
        const members = b.inLineCollectives ? 2 * devices.length : 1;
        for (let m = 0; m < members; m++, t++) {
          const ok = t < end && s.kind[t] === KIND_ALLREDUCE && s.idx[t] === p &&
            (b.inLineCollectives ? s.src[t] === devices[m % devices.length] && (m < devices.length) === (s.dst[t] === ARRIVE) : s.res[t] === b.links.collective(devices));
          if (!ok) throw new Error(`simulatedMovements: op ${node.name}: the all-reduce tasks do not follow its shards`);
        }
        allReduces.push({ param: `${node.name}.${node.sig.params[p].name}`, region: shard.region, devices });
      }
    });
    if (t !== end) throw new Error(`simulatedMovements: op ${node.name}: ${end - t} all-reduce tasks beyond its shards`);
  }
  return { moves, allReduces };
}
