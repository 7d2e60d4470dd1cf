// The forward phase of the lowering, op by op in topological order: each task's inputs
// assembled on its device from the producers' complete values, its kernel, and the partial
// sums of each output group added up on the group's owner. Which task holds what comes
// from the op's layout (src/layout); the buffers and instructions are the lowering's own.

import type { Region } from "../../core/region.js";
import type { Graph, OpNode } from "../../ir/graph.js";
import type { Strategy } from "../../ir/strategy.js";
import { isLossOp, sumsPartials } from "../../layout/flow.js";
import { makeOpLayout, type OpLayout } from "../../layout/op-layout.js";
import { makeOverlaps, overlapRegion } from "../../layout/overlaps.js";
import { getOp } from "../../ops/registry.js";
import type { Builder } from "./builder.js";
import { bufId } from "./builder.js";

export interface Task {
  index: number;
  device: number;
  box: Region;
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
  layout: OpLayout;
  tasks: Task[];
  groups: OutputGroup[][];
  isLoss: boolean;
}

/** The complete value of a produced tensor: its producer's layout and, per group, the buffer holding it. */
interface Produced {
  layout: OpLayout;
  output: number;
  held: { device: number; id: string }[];
}

/** Lowers every op's forward pass in topological order; returns them for the backward pass. */
export function lowerForward(graph: Graph, strategy: Strategy, b: Builder): LoweredOp[] {
  const produced = new Map<string, Produced>();
  return graph.topoOrder().map((o) => lowerOp(graph, strategy, b, o, produced));
}

function lowerOp(graph: Graph, strategy: Strategy, b: Builder, o: OpNode, produced: Map<string, Produced>): LoweredOp {
  const c = strategy.ops[o.name];
  if (!getOp(o.op)) throw new Error(`lower: op ${o.name} has unknown kind ${o.op}`);
  const isLoss = isLossOp(o);
  const inShapes = o.inputs.map((t) => graph.tensor(t).type.shape);
  const layout = makeOpLayout(o, inShapes, c.degrees);
  const tasks: Task[] = [];
  for (let i = 0; i < layout.count; i++) {
    const regions = { inputs: layout.inputs.map((r) => r[i]), params: layout.params.map((r) => r[i]), outputs: layout.outputs.map((r) => r[i]) };
    tasks.push({ index: i, device: c.devices[i], box: layout.boxes[i], regions, outputs: [] });
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
  groups.forEach((gs, oi) => {
    for (const g of gs) {
      for (const t of [...g.partials, ...g.replicas]) {
        const direct = t === g.owner && g.partials.length === 1;
        t.outputs[oi] = b.value(t.device, g.tensor, g.region, direct ? "" : `#t${t.index}`);
      }
      g.canonical = g.partials.length === 1 ? g.owner.outputs[oi] : bufId("v", g.tensor, g.region);
    }
  });

  // Every task's inputs first (all sends, then all receives), then every task's kernel:
  // a device's sends to the op's other tasks go out before it waits for its own inputs
  // or runs its own kernel (the simulator's order too: XF(r) before FO(r), src/sim/
  // segments.ts). Forward inputs are plain copies, never sums: deferring is safe.
  const overlaps = o.inputs.map((tensor, ii) => {
    const p = produced.get(tensor);
    return p && { p, ov: makeOverlaps(p.layout, p.output, layout, ii) };
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
          b.transfer(h.device, h.id, t.device, id, overlapRegion(p.layout, p.output, layout, ii, ov, i), false, "f");
        }
      }
      return id;
    });
  const inputsOf = b.deferReceives(() => tasks.map(inputsOfTask));
  for (const t of tasks) {
    const inputs = inputsOf[t.index];
    const ps = o.sig.params.map((s, pi) => b.param(t.device, `${o.name}.${s.name}`, t.regions.params[pi]));
    b.emit(t.device, { kind: "forward", op: o.name, task: t.index, box: t.box, inputs, params: ps, outputs: [...t.outputs] });
    if (isLoss) for (const out of t.outputs) b.emit(t.device, { kind: "loss", buf: out });
  }

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
    produced.set(o.outputs[oi], { layout, output: oi, held: gs.map((g) => ({ device: g.owner.device, id: g.canonical })) });
  });
  return { node: o, layout, tasks, groups, isLoss };
}
