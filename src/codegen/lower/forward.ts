// The forward phase of the lowering, op by op in topological order: each task's inputs
// assembled on its device from the producers' complete values, its kernel, and the partial
// sums of each output group added up on the group's owner. Which task holds what comes
// from the op's layout (src/layout, with micro-batches and replicas as more tasks:
// src/layout/units.ts); the buffers and instructions are the lowering's own. An op is
// prepared once (`prepareOp`: tasks, groups, buffer names) and its forward generated per
// set of tasks (`lowerForwardTasks`): all of them at once for a strategy without
// pipelines, one micro-batch (of every replica) at a time in a pipeline's schedule.

import type { Region } from "../../core/region.js";
import type { Graph, OpNode } from "../../ir/graph.js";
import { replicaCount } from "../../ir/strategy-replicas.js";
import { microbatchCount, sampleDims } from "../../ir/strategy-stages.js";
import type { Strategy } from "../../ir/strategy.js";
import { isLossOp, sumsPartials } from "../../layout/flow.js";
import type { OpLayout } from "../../layout/op-layout.js";
import { makeUnitLayout, replicaOfUnit, unitDevices, unitOfTask, unitOverlaps, type UnitLayout } from "../../layout/units.js";
import { overlapRegion } from "../../layout/overlaps.js";
import { getOp } from "../../ops/registry.js";
import type { Builder } from "./builder.js";
import { bufId } from "./builder.js";

export interface Task {
  index: number;
  device: number;
  box: Region;
  /** The unit (replica × micro-batch, src/layout/units.ts) and the replica it belongs to. */
  unit: number;
  replica: number;
  /** The regions it reads (per input), holds (per param) and writes (per output). */
  regions: { inputs: Region[]; params: Region[]; outputs: Region[] };
  /** Buffer id of each output on the task's device. */
  outputs: string[];
}

/** The tasks of one op writing one output region (src/layout's OutputGroup), with buffers. */
export interface OutputGroup {
  tensor: string;
  region: Region;
  /** The first task (lowest index) of the group; it holds the complete value. */
  owner: Task;
  /** Tasks whose outputs add up to the value (owner included). */
  partials: Task[];
  /** Tasks that write the same region with the same value (a dim only another output uses). */
  replicas: Task[];
  /** The complete value's buffer on the owner's device. */
  canonical: string;
}

export interface LoweredOp {
  node: OpNode;
  units: UnitLayout;
  /** Every task of the step (`units.all`). */
  layout: OpLayout;
  tasks: Task[];
  groups: OutputGroup[][];
  isLoss: boolean;
}

/** The complete value of a produced tensor: its producer and, per group, the buffer holding it. */
export interface Produced {
  lo: LoweredOp;
  output: number;
  held: { device: number; id: string }[];
}

/** True when output `oi` of `op` is indexed by its sample dim (so each micro-batch writes its own part). */
export function outputHasSamples(op: OpNode, oi: number): boolean {
  const s = new Set(sampleDims(op));
  return op.sig.outputMaps[oi].some((m) => m.kind !== "full" && s.has(m.dim));
}

/** An op's tasks, groups and buffer names for the whole step (nothing is emitted). */
export function prepareOp(graph: Graph, strategy: Strategy, o: OpNode): LoweredOp {
  const c = strategy.ops[o.name];
  if (!getOp(o.op)) throw new Error(`lower: op ${o.name} has unknown kind ${o.op}`);
  const isLoss = isLossOp(o);
  const inShapes = o.inputs.map((t) => graph.tensor(t).type.shape);
  const units = makeUnitLayout(o, inShapes, c.degrees, { replicas: replicaCount(strategy), microbatches: microbatchCount(strategy) });
  const layout = units.all;
  const devices = unitDevices(units, c.devices, strategy.replicas);
  const tasks: Task[] = [];
  for (let i = 0; i < layout.count; i++) {
    const regions = { inputs: layout.inputs.map((r) => r[i]), params: layout.params.map((r) => r[i]), outputs: layout.outputs.map((r) => r[i]) };
    const unit = unitOfTask(units, i);
    tasks.push({ index: i, device: devices[i], box: layout.boxes[i], unit, replica: replicaOfUnit(units, unit), regions, outputs: [] });
  }
  const groups: OutputGroup[][] = layout.groups.map((gs, oi) =>
    gs.map((g) => ({
      tensor: o.outputs[oi],
      region: g.region,
      owner: tasks[g.owner],
      partials: g.partials.map((t) => tasks[t]),
      replicas: g.replicas.map((t) => tasks[t]),
      canonical: "",
    })),
  );
  // Output buffers: the owner of an un-split group writes the canonical buffer directly.
  // An output that every micro-batch writes whole (a loss) gets a buffer per task.
  groups.forEach((gs, oi) => {
    const shared = units.units > 1 && units.perMicrobatch && !outputHasSamples(o, oi);
    for (const g of gs) {
      for (const t of [...g.partials, ...g.replicas]) {
        const direct = t === g.owner && g.partials.length === 1 && !shared;
        t.outputs[oi] = bufId("v", g.tensor, g.region, direct ? "" : `#t${t.index}`);
      }
      g.canonical = g.partials.length === 1 ? g.owner.outputs[oi] : bufId("v", g.tensor, g.region);
    }
  });
  return { node: o, units, layout, tasks, groups, isLoss };
}

/** Where each tensor's complete value lives, per group of its producer. */
export function producedBy(lo: LoweredOp): Map<string, Produced> {
  const out = new Map<string, Produced>();
  lo.node.outputs.forEach((tensor, oi) => out.set(tensor, { lo, output: oi, held: lo.groups[oi].map((g) => ({ device: g.owner.device, id: g.canonical })) }));
  return out;
}

/** The groups whose owner is among `tasks` (groups never span units). */
export function groupsOfTasks(lo: LoweredOp, tasks: readonly Task[]): OutputGroup[][] {
  if (tasks.length === lo.tasks.length) return lo.groups;
  const set = new Set(tasks);
  return lo.groups.map((gs) => gs.filter((g) => set.has(g.owner)));
}

/**
 * Generates the forward pass of `tasks` (all tasks, or one unit set) of op `lo`: output
 * buffers, inputs, `beforeKernels` (ZeRO-3's weight gathers), kernels, partial sums.
 */
export function lowerForwardTasks(graph: Graph, b: Builder, lo: LoweredOp, tasks: readonly Task[], produced: ReadonlyMap<string, Produced>, beforeKernels?: () => void): void {
  const o = lo.node;
  const groups = groupsOfTasks(lo, tasks);
  groups.forEach((gs, oi) => {
    for (const g of gs) for (const t of [...g.partials, ...g.replicas]) b.declareValue(t.device, t.outputs[oi], g.tensor, g.region);
  });

  // Every task's inputs first (all sends, then all receives), then every task's kernel:
  // a device's sends to the op's other tasks go out before it waits for its own inputs
  // or runs its own kernel (the simulator's order too: XF(r) before FO(r), src/sim/
  // segments.ts). Forward inputs are plain copies, never sums: deferring is safe.
  const overlaps = o.inputs.map((tensor, ii) => {
    const p = produced.get(tensor);
    return p && { p, ov: unitOverlaps(p.lo.units, p.output, lo.units, ii) };
  });
  const inputsOfTask = (t: Task): string[] =>
    o.inputs.map((tensor, ii) => {
      const r = t.regions.inputs[ii];
      const id = bufId("v", tensor, r);
      if (b.has(t.device, id)) return id;
      b.value(t.device, tensor, r);
      const from = overlaps[ii];
      if (!from) {
        // A graph input: data are a pure function of the global index, so every device
        // feeds exactly what it needs and no data moves.
        b.emit(t.device, { kind: "feed", buf: id });
      } else {
        // The pieces of the producer's groups that the region overlaps (src/layout).
        const { p, ov } = from;
        for (let i = ov.taskStart[t.index]; i < ov.taskStart[t.index + 1]; i++) {
          const h = p.held[ov.holder[i]];
          b.transfer(h.device, h.id, t.device, id, overlapRegion(p.lo.layout, p.output, lo.layout, ii, ov, i), false, "f");
        }
      }
      return id;
    });
  const inputsOf = b.deferReceives(() => tasks.map(inputsOfTask));
  beforeKernels?.();
  tasks.forEach((t, k) => emitKernel(b, lo, t, inputsOf[k], true));

  // Partial sums: add them up on the owner (in task order, so the sum is deterministic)
  // before any consumer reads. A loss's partials go to `loss` instead; they are summed
  // into a value only if something consumes the loss (src/layout/flow.ts).
  groups.forEach((gs, oi) => {
    const needed = sumsPartials(graph, o, oi);
    for (const g of gs) {
      if (g.partials.length > 1 && needed) {
        const od = g.owner.device;
        b.value(od, g.tensor, g.region);
        b.emit(od, { kind: "zero", buf: g.canonical });
        for (const p of g.partials) b.transfer(p.device, p.outputs[oi], od, g.canonical, g.region, true, "r");
      }
    }
  });
}

/** A task's forward kernel (and, for a loss, its share of the loss). */
function emitKernel(b: Builder, lo: LoweredOp, t: Task, inputs: string[], reportLoss: boolean): void {
  const o = lo.node;
  const ps = o.sig.params.map((s, pi) => b.param(t.device, `${o.name}.${s.name}`, t.regions.params[pi]));
  b.emit(t.device, { kind: "forward", op: o.name, task: t.index, box: t.box, inputs, params: ps, outputs: [...t.outputs] });
  if (lo.isLoss && reportLoss) for (const out of t.outputs) b.emit(t.device, { kind: "loss", buf: out });
}

/**
 * Recomputation: the forward kernels of `tasks` again, right before their backward, from
 * the input buffers the forward pass assembled (docs/strategies.md, "Recomputation").
 * Only the tasks' own output buffers are written again, with the same values; partial
 * sums are not redone (a task's backward reads its own output, not the sum).
 */
export function recomputeTasks(lo: LoweredOp, b: Builder, tasks: readonly Task[]): void {
  for (const t of tasks) emitKernel(b, lo, t, lo.node.inputs.map((tensor, ii) => bufId("v", tensor, t.regions.inputs[ii])), false);
}
