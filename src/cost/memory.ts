// Peak memory per device of one training iteration under a strategy.
//
// Counted per device, each distinct piece once:
//   weights      every weight shard a task on the device holds (two tasks holding the same
//                shard on one device share it)
//   gradients    one gradient buffer per weight shard (same size)
//   optimizer    state per weight shard: sgd 0, momentum 1×, adam 2× (first and second moments)
//   activations  every task's output regions (kept for backward; partial sums included) and
//                the regions of graph inputs its tasks read (the data batch shard)
//   exchange     input regions a task reads from ANOTHER device: received copies live in
//                buffers on the reader until backward has used them
// The sum is the peak: a training step holds all forward activations at the moment backward
// starts, and weights, gradients and optimizer state live throughout. It errs on the safe
// side (no activation freeing during backward, no recomputation).

import type { Mesh } from "../core/mesh.js";
import { intersect, regionKey, regionVolume } from "../core/region.js";
import { dtypeBytes, type DType } from "../core/tensor.js";
import type { Graph } from "../ir/graph.js";
import type { Strategy } from "../ir/strategy.js";
import { LayoutCache } from "../layout/cache.js";
import { holders as holdersOf, type Held } from "../layout/placement.js";

export type Optimizer = "sgd" | "momentum" | "adam";

export const OPTIMIZERS: readonly Optimizer[] = ["sgd", "momentum", "adam"];

/** Optimizer state per weight, in weight-sized buffers. */
export function optimizerStateFactor(opt: Optimizer): number {
  switch (opt) {
    case "sgd": return 0;
    case "momentum": return 1;
    case "adam": return 2;
  }
}

export interface DeviceMemory {
  device: number;
  weights: number;
  gradients: number;
  optimizer: number;
  activations: number;
  exchange: number;
  /** Sum of the above, bytes. */
  total: number;
  capacity: number;
}

export interface MemoryReport {
  devices: DeviceMemory[];
  /** Total bytes per device (same order as `devices`). */
  peakBytes: number[];
  /** Devices whose total exceeds their spec's memoryBytes. */
  overCapacity: { device: number; bytes: number; capacity: number }[];
}

export function peakMemory(graph: Graph, strategy: Strategy, mesh: Mesh, optimizer: Optimizer = "sgd"): MemoryReport {
  const n = mesh.devices.length;
  const mem: DeviceMemory[] = mesh.devices.map((d) => ({ device: d.index, weights: 0, gradients: 0, optimizer: 0, activations: 0, exchange: 0, total: 0, capacity: d.spec.memoryBytes }));
  const seen: Set<string>[] = Array.from({ length: n }, () => new Set<string>());
  const once = (device: number, key: string): boolean => {
    if (seen[device].has(key)) return false;
    seen[device].add(key);
    return true;
  };
  const stateFactor = optimizerStateFactor(optimizer);
  const layouts = LayoutCache.of(graph);
  // Where each op's output regions live once forward is done: its groups' owners.
  const holders = new Map<string, Held[]>();

  for (const op of graph.topoOrder()) {
    const cfg = strategy.ops[op.name];
    if (!cfg) throw new Error(`strategy ${strategy.name} has no config for op ${op.name}`);
    const inputTypes = op.inputs.map((id) => graph.tensor(id).type);
    const L = layouts.layout(op, cfg.degrees);
    const red = L.reductionDims;
    const count = cfg.devices.length;
    const outDtype = (i: number): DType => op.sig.outputs[i].dtype;
    for (let t = 0; t < count; t++) {
      const box = L.boxes[t];
      const dev = cfg.devices[t];
      L.params.forEach((regions, p) => {
        const r = regions[t];
        if (!once(dev, `p|${op.name}|${p}|${regionKey(r)}`)) return;
        const spec = op.sig.params[p];
        const b = regionVolume(r) * dtypeBytes(spec.dtype ?? inputTypes.find((x) => x.dtype !== "i32" && x.dtype !== "i64")?.dtype ?? "f32");
        mem[dev].weights += b;
        mem[dev].gradients += b;
        mem[dev].optimizer += stateFactor * b;
      });
      L.outputs.forEach((regions, o) => {
        const r = regions[t];
        if (once(dev, `o|${op.name}|${o}|${regionKey(r)}|${red.map((d) => box.lo[d]).join(",")}`)) mem[dev].activations += regionVolume(r) * dtypeBytes(outDtype(o));
      });
      L.inputs.forEach((regions, i) => {
        const r = regions[t];
        const tid = op.inputs[i];
        const bytesPer = dtypeBytes(inputTypes[i].dtype);
        const held = holders.get(tid);
        if (!held) {
          // A graph input: its batch shard is loaded where it is read.
          if (once(dev, `i|${tid}|${regionKey(r)}`)) mem[dev].activations += regionVolume(r) * bytesPer;
          return;
        }
        for (const h of held) {
          if (h.device === dev) continue;
          const common = intersect(r, h.region);
          if (common && once(dev, `x|${tid}|${regionKey(common)}`)) mem[dev].exchange += regionVolume(common) * bytesPer;
        }
      });
    }
    op.outputs.forEach((tid, o) => holders.set(tid, holdersOf(L, cfg.devices, o)));
  }
  for (const m of mem) m.total = m.weights + m.gradients + m.optimizer + m.activations + m.exchange;
  return {
    devices: mem,
    peakBytes: mem.map((m) => m.total),
    overCapacity: mem.filter((m) => m.total > m.capacity).map((m) => ({ device: m.device, bytes: m.total, capacity: m.capacity })),
  };
}
