// Devices on top of a layout: a config's device list puts task t on devices[t]. From it
// follow where each output region lives once forward is done (its group's owner) and which
// devices hold each weight shard (the members of its gradient all-reduce).

import type { Region } from "../core/region.js";
import type { OpLayout, ParamShard } from "./op-layout.js";

export interface Held {
  region: Region;
  device: number;
  /** The owner task. */
  task: number;
}

/** Where each region of output `output` lives: one entry per group, on its owner's device. */
export function holders(layout: OpLayout, devices: readonly number[], output: number): Held[] {
  return layout.groups[output].map((g) => ({ region: g.region, device: devices[g.owner], task: g.owner }));
}

let mark = new Int32Array(64);
let stamp = 0;

/**
 * The distinct devices holding `shard`, in order of first appearance among its tasks.
 * Linear time (a data-parallel shard has a task on every device).
 */
export function shardDevices(shard: ParamShard, devices: readonly number[]): number[] {
  const out: number[] = [];
  if (++stamp === 2 ** 31 - 1) {
    mark.fill(0);
    stamp = 1;
  }
  for (const t of shard.tasks) {
    const d = devices[t];
    if (d >= mark.length) {
      const m = new Int32Array(2 * d + 2);
      m.set(mark);
      mark = m;
    }
    if (mark[d] !== stamp) {
      mark[d] = stamp;
      out.push(d);
    }
  }
  return out;
}

/** The all-reduce group of `shard`: its distinct devices, ascending (one member: no all-reduce). */
export function shardGroup(shard: ParamShard, devices: readonly number[]): number[] {
  const out = shardDevices(shard, devices);
  // Usually ascending already (devices in task order): Array#sort would copy it all the same.
  let sorted = true;
  for (let i = 1; i < out.length && sorted; i++) sorted = out[i - 1] < out[i];
  if (!sorted) out.sort((a, b) => a - b);
  return out;
}
