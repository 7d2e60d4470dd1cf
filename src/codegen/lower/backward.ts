// The backward phase of the lowering for one op (ops visited in reverse topological
// order): the dOutput of each of its tasks, assembled on each output group's owner from
// every consumer's gradient contribution and sent on to the group's partial tasks
// elsewhere, then the tasks' backward kernels, whose input gradients become contributions
// to the producers' outputs in turn. Generated per set of tasks like the forward pass
// (all at once, or one micro-batch of every replica in a pipeline's schedule).

import { intersect, type Region } from "../../core/region.js";
import { isFloat } from "../../core/tensor.js";
import type { Graph } from "../../ir/graph.js";
import { gathersGradient } from "../../layout/flow.js";
import { bufId, type Builder } from "./builder.js";
import { groupsOfTasks, type LoweredOp, type Task } from "./forward.js";

interface Contribution {
  device: number;
  id: string;
  region: Region;
  replica: number;
}

/**
 * Per tensor: the gradient buffers its consumers added their contributions into. A
 * replica's contributions go to its own producer tasks only (replicas sum their weight
 * gradients, never their activations' gradients).
 */
export class Contributions {
  private readonly byTensor = new Map<string, Contribution[]>();

  /** Records buffer `id` on `device` (once: every task on the device reading `region` adds into it). */
  add(tensor: string, device: number, id: string, region: Region, replica = 0): void {
    const list = this.byTensor.get(tensor) ?? [];
    if (!list.some((x) => x.device === device && x.id === id)) list.push({ device, id, region, replica });
    this.byTensor.set(tensor, list);
  }

  of(tensor: string, replica = 0): readonly Contribution[] {
    return (this.byTensor.get(tensor) ?? []).filter((c) => c.replica === replica);
  }
}

/** Generates the backward pass of `tasks` of op `lo`; `beforeKernels` runs between the dOutputs and the kernels. */
export function lowerBackwardTasks(graph: Graph, b: Builder, lo: LoweredOp, tasks: readonly Task[], contributions: Contributions, beforeKernels?: () => void): void {
  const o = lo.node;
  // dOutput of every task: a loss starts backward with 1; otherwise the owner of each
  // output region sums all consumer contributions intersecting it, and partial-sum
  // tasks elsewhere get a copy (d sum / d partial = 1).
  const dOuts = new Map<Task, string[]>(tasks.map((t) => [t, []]));
  groupsOfTasks(lo, tasks).forEach((gs, oi) => {
    const tensor = o.outputs[oi];
    if (!gathersGradient(o)) {
      for (const t of tasks) {
        const id = bufId("g", tensor, t.regions.outputs[oi], "@one");
        if (b.declare(t.device, { id, tensor, kind: "grad", region: t.regions.outputs[oi], dtype: "f32" })) b.emit(t.device, { kind: "fill", buf: id, value: 1 });
        dOuts.get(t)![oi] = id;
      }
      return;
    }
    for (const g of gs) {
      const od = g.owner.device;
      const canon = b.zeroed(od, "grad", "g", tensor, g.region);
      for (const h of contributions.of(tensor, g.owner.replica)) {
        if (h.device === od && h.id === canon) continue;
        const common = intersect(h.region, g.region);
        if (common) b.transfer(h.device, h.id, od, canon, common, true, "g");
      }
      for (const t of g.partials) {
        if (t.device === od) {
          dOuts.get(t)![oi] = canon;
          continue;
        }
        const id = bufId("g", tensor, g.region, "@b");
        if (b.declare(t.device, { id, tensor, kind: "grad", region: g.region, dtype: "f32" })) b.transfer(od, canon, t.device, id, g.region, false, "b");
        dOuts.get(t)![oi] = id;
      }
      for (const t of g.replicas) dOuts.get(t)![oi] = b.zeroed(t.device, "grad", "g", tensor, g.region, "@z");
    }
  });

  beforeKernels?.();
  for (const t of tasks) {
    const dInputs = o.inputs.map((tensor, ii) => {
      const info = graph.tensor(tensor);
      if (!info.producer || !isFloat(info.type.dtype)) return null;
      const r = t.regions.inputs[ii];
      const id = b.zeroed(t.device, "grad", "g", tensor, r);
      contributions.add(tensor, t.device, id, r, t.replica);
      return id;
    });
    const dParams = o.sig.params.map((s, pi) => b.zeroed(t.device, "param_grad", "pg", `${o.name}.${s.name}`, t.regions.params[pi]));
    b.emit(t.device, {
      kind: "backward",
      op: o.name,
      task: t.index,
      box: t.box,
      inputs: o.inputs.map((tensor, ii) => bufId("v", tensor, t.regions.inputs[ii])),
      params: o.sig.params.map((s, pi) => bufId("p", `${o.name}.${s.name}`, t.regions.params[pi])),
      outputs: [...t.outputs],
      dOutputs: dOuts.get(t)!,
      dInputs,
      dParams,
    });
  }
}
