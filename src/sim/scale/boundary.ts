// What crosses between pipeline stages. Per micro-batch, each tensor a stage reads from an
// earlier one moves from the producer's holders to the devices of the readers, as the
// op-level simulator moves it inside a stage (src/layout: the regions each reader's tasks
// read, each (device, region) fetched once), and its gradient goes back the same way. The
// stage-level simulator charges a boundary the time of its busiest device: each device
// sends and receives its pieces one after another, different devices in parallel (every
// GPU of the built-in clusters has its own NVLink port and InfiniBand rail).
//
// A weight read from another stage (GPT's tied embedding: the LM head reads the token
// table) is not sent per micro-batch: the reading stage keeps a copy, as Megatron-LM
// does, and once per step the copies' gradients are all-reduced pairwise (`ties`).

import { intersect, regionKey, regionVolume, type Region } from "../../core/region.js";
import { dtypeBytes } from "../../core/tensor.js";
import type { StagePlan } from "../../ir/stage-plan.js";
import { LayoutCache } from "../../layout/cache.js";
import { holders } from "../../layout/placement.js";
import type { ScaleCosts } from "./costs.js";

/** The activations stage `to` receives from stage `from` per micro-batch, and their gradients back. */
export interface Boundary {
  from: number;
  to: number;
  /** Seconds of the forward transfer (busiest device) and of the gradient transfer back. */
  forward: number;
  backward: number;
  /** Bytes moved one way per micro-batch (all devices together). */
  bytes: number;
}

/** A weight kept by two stages whose gradients are summed once per step. */
export interface Tie {
  stages: [number, number];
  seconds: number;
  bytes: number;
}

interface Piece {
  src: number;
  dst: number;
  bytes: number;
}

/** The pieces of tensor `id` that the devices of stage `reader` fetch from stage `owner`'s holders (global devices). */
function pieces(owner: StagePlan, reader: StagePlan, id: string): Piece[] {
  const og = owner.graph;
  const rg = reader.graph;
  const t = og.tensor(id);
  const p = t.producer!;
  const prod = og.op(p.op);
  const pc = owner.configs[p.op];
  const held = holders(LayoutCache.of(og).layout(prod, pc.degrees), pc.devices, p.output);
  const elem = dtypeBytes(rg.tensor(id).type.dtype);
  const seen = new Set<string>();
  const out: Piece[] = [];
  for (const c of rg.tensor(id).consumers) {
    const op = rg.op(c.op);
    const cfg = reader.configs[c.op];
    const L = LayoutCache.of(rg).layout(op, cfg.degrees);
    for (let task = 0; task < L.count; task++) {
      const r: Region = L.inputs[c.input][task];
      const dst = reader.devices[cfg.devices[task]];
      for (const h of held) {
        const common = intersect(r, h.region);
        if (!common) continue;
        const key = `${dst}|${regionKey(common)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ src: owner.devices[h.device], dst, bytes: regionVolume(common) * elem });
      }
    }
  }
  return out;
}

/** The busiest device's summed seconds over `pieces`, sending or receiving, in the given direction. */
function busiest(list: readonly Piece[], costs: ScaleCosts, reverse: boolean): number {
  const busy = new Map<number, number>();
  const add = (d: number, s: number) => busy.set(d, (busy.get(d) ?? 0) + s);
  for (const x of list) {
    const src = reverse ? x.dst : x.src;
    const dst = reverse ? x.src : x.dst;
    if (src === dst) continue;
    const s = costs.transfer(x.bytes, src, dst);
    add(src, s);
    add(-1 - dst, s);
  }
  let max = 0;
  for (const s of busy.values()) if (s > max) max = s;
  return max;
}

/**
 * Every stage-to-stage boundary of per-micro-batch activations, and every tied weight. With
 * a translation `period` (src/sim/scale/symmetry.ts), a boundary between two stages whose
 * keys, relative position and offset modulo the period equal an earlier one's costs the same.
 */
export function stageBoundaries(stages: readonly StagePlan[], costs: ScaleCosts, period = 0): { boundaries: Boundary[]; ties: Tie[] } {
  const boundaries: Boundary[] = [];
  const ties: Tie[] = [];
  const known = new Map<string, { forward: number; backward: number; bytes: number }>();
  for (const reader of stages) {
    const byFrom = new Map<number, Piece[]>();
    const tiesFrom = new Map<number, Piece[]>();
    const reused = new Set<number>();
    for (const input of reader.inputs) {
      if (input.from < 0) continue;
      if (!input.weight && period > 0) {
        const owner = stages[input.from];
        const key = `${owner.key}|${reader.key}|${reader.devices[0] - owner.devices[0]}|${owner.devices[0] % period}`;
        const hit = known.get(key);
        if (hit && !byFrom.has(input.from)) {
          if (!reused.has(input.from)) boundaries.push({ from: input.from, to: reader.index, ...hit });
          reused.add(input.from);
          continue;
        }
        if (reused.has(input.from)) continue;
      }
      const owner = stages[input.from];
      const list = pieces(owner, reader, input.tensor);
      const into = input.weight ? tiesFrom : byFrom;
      const acc = into.get(input.from) ?? [];
      acc.push(...list);
      into.set(input.from, acc);
    }
    for (const [from, list] of byFrom) {
      const b = { forward: busiest(list, costs, false), backward: busiest(list, costs, true), bytes: list.reduce((n, x) => n + x.bytes, 0) };
      boundaries.push({ from, to: reader.index, ...b });
      if (period > 0) {
        const owner = stages[from];
        known.set(`${owner.key}|${reader.key}|${reader.devices[0] - owner.devices[0]}|${owner.devices[0] % period}`, b);
      }
    }
    for (const [from, list] of tiesFrom) {
      // Each pair of copies all-reduces its overlap (in the gradient's dtype, the tensor's).
      const busy = new Map<number, number>();
      for (const x of list) {
        if (x.src === x.dst) continue;
        const s = costs.allReduce(x.bytes, x.src < x.dst ? [x.src, x.dst] : [x.dst, x.src]);
        busy.set(x.src, (busy.get(x.src) ?? 0) + s);
        busy.set(x.dst, (busy.get(x.dst) ?? 0) + s);
      }
      ties.push({ stages: [from, reader.index], seconds: Math.max(0, ...busy.values()), bytes: list.reduce((n, x) => n + x.bytes, 0) });
    }
  }
  return { boundaries, ties };
}
