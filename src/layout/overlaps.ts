// Producer → consumer overlaps: for one edge (an output of a producer read as an input of a
// consumer), every pair (producer group, consumer task) whose holder region and input
// region intersect. Each pair is a piece of data the consumer task needs from that
// group's owner in forward, and a piece of gradient going back to it in backward;
// whether it crosses devices depends only on the placements on top.

import { intersect, regionVolume, type Region } from "../core/region.js";
import type { OpLayout } from "./op-layout.js";

export interface EdgeOverlaps {
  /** Per overlap: the producer's group (an index into its layout's `groups[output]`). */
  holder: Int32Array;
  /** Per overlap: the consumer task. */
  task: Int32Array;
  /** Per overlap: elements in common. */
  volume: Float64Array;
  /**
   * Overlaps are sorted by consumer task, then group: task j's are
   * [taskStart[j], taskStart[j + 1]).
   */
  taskStart: readonly number[];
}

export function makeOverlaps(prod: OpLayout, output: number, cons: OpLayout, input: number): EdgeOverlaps {
  const groups = prod.groups[output];
  return collectOverlaps(groups, cons.inputs[input], () => [0, groups.length]);
}

/**
 * The overlaps of consumer regions `wanted` with producer `groups`, task j looking only at
 * the groups in candidates(j) = [lo, hi) (all of them, or its producer unit's).
 */
export function collectOverlaps(
  groups: readonly { region: Region }[],
  wanted: readonly Region[],
  candidates: (task: number) => readonly [number, number],
): EdgeOverlaps {
  const h: number[] = [];
  const t: number[] = [];
  const v: number[] = [];
  const taskStart: number[] = [];
  for (let j = 0; j < wanted.length; j++) {
    taskStart.push(h.length);
    const w = wanted[j];
    const [lo, hi] = candidates(j);
    for (let i = lo; i < hi; i++) {
      const c = intersect(groups[i].region, w);
      if (!c) continue;
      const vol = regionVolume(c);
      if (vol === 0) continue;
      h.push(i);
      t.push(j);
      v.push(vol);
    }
  }
  taskStart.push(h.length);
  return { holder: Int32Array.from(h), task: Int32Array.from(t), volume: Float64Array.from(v), taskStart };
}

/** The region of overlap `i`: what its consumer task reads from its producer group. */
export function overlapRegion(prod: OpLayout, output: number, cons: OpLayout, input: number, ov: EdgeOverlaps, i: number): Region {
  const r = intersect(prod.groups[output][ov.holder[i]].region, cons.inputs[input][ov.task[i]]);
  if (!r) throw new Error("overlapRegion: the regions do not overlap");
  return r;
}
