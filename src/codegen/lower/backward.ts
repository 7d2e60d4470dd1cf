// The backward phase of the lowering for one op (ops visited in reverse topological
// order): the dOutput of each of its tasks, assembled on each output group's owner from
// every consumer's gradient contribution and sent on to the group's partial tasks
// elsewhere, then the tasks' backward kernels, whose input gradients become contributions
// to the producers' outputs in turn.

import { intersect, type Region } from "../../core/region.js";
import { isFloat } from "../../core/tensor.js";
import type { Graph } from "../../ir/graph.js";
import { gathersGradient } from "../../layout/flow.js";
import { bufId, type Builder } from "./builder.js";
import type { LoweredOp } from "./forward.js";

/** Per tensor: the gradient buffers its consumers added their contributions into. */
export class Contributions {
  private readonly byTensor = new Map<string, { device: number; id: string; region: Region }[]>();

  /** Records buffer `id` on `device` (once: every task on the device reading `region` adds into it). */
  add(tensor: string, device: number, id: string, region: Region): void {
    const list = this.byTensor.get(tensor) ?? [];
    if (!list.some((x) => x.device === device && x.id === id)) list.push({ device, id, region });
    this.byTensor.set(tensor, list);
  }

  of(tensor: string): readonly { device: number; id: string; region: Region }[] {
    return this.byTensor.get(tensor) ?? [];
  }
}

export function lowerBackward(graph: Graph, b: Builder, lo: LoweredOp, contributions: Contributions): void {
  const o = lo.node;
  // dOutput of every task: a loss starts backward with 1; otherwise the owner of each
  // output region sums all consumer contributions intersecting it, and partial-sum
  // tasks elsewhere get a copy (d sum / d partial = 1).
  const dOuts: string[][] = lo.tasks.map(() => []);
  lo.groups.forEach((gs, oi) => {
    const tensor = o.outputs[oi];
    if (!gathersGradient(o)) {
      for (const t of lo.tasks) {
        const id = bufId("g", tensor, t.regions.outputs[oi], "@one");
        if (b.declare(t.device, { id, tensor, kind: "grad", region: t.regions.outputs[oi], dtype: "f32" })) b.emit(t.device, { kind: "fill", buf: id, value: 1 });
        dOuts[t.index][oi] = id;
      }
      return;
    }
    for (const g of gs) {
      const od = g.owner.device;
      const canon = b.zeroed(od, "grad", "g", tensor, g.region);
      for (const h of contributions.of(tensor)) {
        if (h.device === od && h.id === canon) continue;
        const common = intersect(h.region, g.region);
        if (common) b.transfer(h.device, h.id, od, canon, common, true, "g");
      }
      for (const t of g.partials) {
        if (t.device === od) {
          dOuts[t.index][oi] = canon;
          continue;
        }
        const id = bufId("g", tensor, g.region, "@b");
        if (b.declare(t.device, { id, tensor, kind: "grad", region: g.region, dtype: "f32" })) b.transfer(od, canon, t.device, id, g.region, false, "b");
        dOuts[t.index][oi] = id;
      }
      for (const t of g.replicas) dOuts[t.index][oi] = b.zeroed(t.device, "grad", "g", tensor, g.region, "@z");
    }
  });

  for (const t of lo.tasks) {
    const dInputs = o.inputs.map((tensor, ii) => {
      const info = graph.tensor(tensor);
      if (!info.producer || !isFloat(info.type.dtype)) return null;
      const r = t.regions.inputs[ii];
      const id = b.zeroed(t.device, "grad", "g", tensor, r);
      contributions.add(tensor, t.device, id, r);
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
      dOutputs: dOuts[t.index],
      dInputs,
      dParams,
    });
  }
}
