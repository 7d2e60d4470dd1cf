// Micro-batches and replicas as more tasks of the same op (docs/strategies.md, "Large-scale
// training"). A strategy's op config describes ONE micro-batch of replica 0; a step runs
// the op once per unit: per (replica r, micro-batch m) for an op with a sample dim, per
// replica r for one without (a `param` table runs once per replica per step). Task
// u·n + i of a step is inner task i of unit u (n the config's task count): its box is the
// inner box shifted along the sample dim to the samples of unit u (replica r holds samples
// [r·B/R, (r+1)·B/R), micro-batch m the m-th B/(R·M) of them), and it runs on replica r's
// image of the inner task's device. Output groups are scoped to their unit (a replica reads
// its own copy; micro-batches never share a group), while weight shards span every unit:
// the devices holding a shard across replicas and sample splits are its data-parallel
// group (its gradient's all-reduce, or ZeRO's collectives). With one replica and one
// micro-batch the layout is exactly `makeOpLayout`'s.

import type { Region } from "../core/region.js";
import { partRegion } from "../core/region.js";
import type { OpNode } from "../ir/graph.js";
import { sampleDims } from "../ir/strategy-stages.js";
import { replicaDevice } from "../ir/strategy-replicas.js";
import type { ReplicaConfig } from "../ir/strategy.js";
import { spaceSizes } from "../ops/regions.js";
import { layoutOfBoxes, makeOpLayout, type OpLayout } from "./op-layout.js";
import { collectOverlaps, makeOverlaps, type EdgeOverlaps } from "./overlaps.js";

/** R replicas × M micro-batches per replica. */
export interface Scale {
  replicas: number;
  microbatches: number;
}

export const UNSCALED: Scale = { replicas: 1, microbatches: 1 };

export interface UnitLayout {
  readonly op: OpNode;
  readonly scale: Scale;
  /** True for an op with a sample dim: it runs per micro-batch; false: once per replica. */
  readonly perMicrobatch: boolean;
  /** Units per step: R·M (u = r·M + m) per micro-batch, R (u = r) once per replica. */
  readonly units: number;
  /** n: the config's tasks, one micro-batch of replica 0 (unit 0). */
  readonly innerCount: number;
  /** Unit 0's layout: the config's own tasks (what a per-micro-batch simulation costs). */
  readonly inner: OpLayout;
  /** Every task of the step, task u·n + i; groups scoped per unit, shards across units. */
  readonly all: OpLayout;
}

/** The layout of `op` under `degrees` for a step of `scale`. */
export function makeUnitLayout(op: OpNode, inputShapes: readonly (readonly number[])[], degrees: readonly number[], scale: Scale): UnitLayout {
  const sdims = sampleDims(op);
  const perMicrobatch = sdims.length > 0;
  const units = perMicrobatch ? scale.replicas * scale.microbatches : scale.replicas;
  if (scale.replicas * scale.microbatches === 1) {
    const l = makeOpLayout(op, inputShapes, degrees);
    return { op, scale, perMicrobatch, units: 1, innerCount: l.count, inner: l, all: l };
  }
  if (sdims.length > 1) throw new Error(`op ${op.name}: ${sdims.length} sample dims; micro-batches and replicas split one`);
  const sizes = spaceSizes(op.sig);
  const parts = scale.replicas * scale.microbatches;
  const innerSizes = [...sizes];
  let part = 0;
  if (perMicrobatch) {
    const s = sdims[0];
    if (sizes[s] % parts !== 0) throw new Error(`op ${op.name}: its sample dim of ${sizes[s]} does not split into ${parts} equal micro-batches`);
    part = sizes[s] / parts;
    innerSizes[s] = part;
  }
  let n = 1;
  for (const d of degrees) n *= d;
  const innerBoxes: Region[] = [];
  for (let i = 0; i < n; i++) innerBoxes.push(partRegion(innerSizes, degrees, i));
  const key = `${degrees.join(",")}|${scale.replicas}x${scale.microbatches}`;
  const inner = { ...layoutOfBoxes(op, inputShapes, degrees, innerBoxes), key };
  const boxes: Region[] = [];
  for (let u = 0; u < units; u++) {
    for (const b of innerBoxes) {
      if (!perMicrobatch) {
        boxes.push(b);
        continue;
      }
      // Unit u = r·M + m holds samples [u·part, (u + 1)·part): replica r's m-th micro-batch.
      const s = sdims[0];
      const lo = [...b.lo];
      const hi = [...b.hi];
      lo[s] += u * part;
      hi[s] += u * part;
      boxes.push({ lo, hi });
    }
  }
  const all = { ...layoutOfBoxes(op, inputShapes, degrees, boxes, (t) => Math.floor(t / n)), key };
  for (const [o, gs] of all.groups.entries()) {
    if (gs.length !== units * inner.groups[o].length) throw new Error(`op ${op.name}: output ${o} groups differ between units`);
  }
  return { op, scale, perMicrobatch, units, innerCount: n, inner, all };
}

/** The unit of task `t` of `l.all`. */
export function unitOfTask(l: UnitLayout, t: number): number {
  return Math.floor(t / l.innerCount);
}

/** The replica unit `u` belongs to. */
export function replicaOfUnit(l: UnitLayout, u: number): number {
  return l.perMicrobatch ? Math.floor(u / l.scale.microbatches) : u;
}

/** The micro-batch of unit `u` (undefined for an op that runs once per replica). */
export function microbatchOfUnit(l: UnitLayout, u: number): number | undefined {
  return l.perMicrobatch ? u % l.scale.microbatches : undefined;
}

/** The unit of (replica, micro-batch); an op that runs once per replica ignores the micro-batch. */
export function unitOf(l: UnitLayout, replica: number, microbatch: number): number {
  return l.perMicrobatch ? replica * l.scale.microbatches + microbatch : replica;
}

/** The tasks of unit `u`, in order. */
export function tasksOfUnit(l: UnitLayout, u: number): number[] {
  return Array.from({ length: l.innerCount }, (_, i) => u * l.innerCount + i);
}

/** The device of every task of `l.all`: replica r's image of the config's device of its inner task. */
export function unitDevices(l: UnitLayout, devices: readonly number[], replicas: ReplicaConfig | undefined): number[] {
  if (l.units === 1) return [...devices];
  const out: number[] = [];
  for (let u = 0; u < l.units; u++) {
    const r = replicaOfUnit(l, u);
    for (const d of devices) out.push(replicaDevice(d, r, replicas));
  }
  return out;
}

/**
 * The unit of `prod` whose values unit `consUnit` of `cons` reads: the same (replica,
 * micro-batch) for two per-micro-batch ops, the consumer's replica for a producer that runs
 * once per replica. A producer per micro-batch read by an op that runs once per replica
 * has no such unit (lowering rejects the strategy, PAR5018).
 */
export function producerUnit(prod: UnitLayout, cons: UnitLayout, consUnit: number): number {
  if (!prod.perMicrobatch) return replicaOfUnit(cons, consUnit);
  if (!cons.perMicrobatch) throw new Error(`op ${cons.op.name} runs once per replica but reads ${prod.op.name}, which runs per micro-batch`);
  return consUnit;
}

/**
 * Producer → consumer overlaps (./overlaps.ts) over all units: a consumer task reads only
 * the groups of its producer unit (`producerUnit`), so replicas never read each other's
 * copies. Holder indices are into `prod.all.groups[output]`, tasks into `cons.all`.
 */
export function unitOverlaps(prod: UnitLayout, output: number, cons: UnitLayout, input: number): EdgeOverlaps {
  if (prod.units === 1 && cons.units === 1) return makeOverlaps(prod.all, output, cons.all, input);
  const groups = prod.all.groups[output];
  const perUnit = prod.inner.groups[output].length;
  return collectOverlaps(groups, cons.all.inputs[input], (j) => {
    const pu = producerUnit(prod, cons, unitOfTask(cons, j));
    return [pu * perUnit, (pu + 1) * perUnit];
  });
}
