// The strategy checked against the graph and the mesh before anything is lowered. The
// validator (src/ir/strategy-validate*.ts) reports problems with positions and hints; this
// is the lowering's own guard, for callers that lower without validating first.

import { ParError } from "../../core/diagnostics.js";
import type { Graph, OpNode } from "../../ir/graph.js";
import { replicaCount, replicaDevice } from "../../ir/strategy-replicas.js";
import { microbatchCount, opStages, sampleDims } from "../../ir/strategy-stages.js";
import { taskCount, type Strategy } from "../../ir/strategy.js";
import { isLossOp } from "../../layout/flow.js";
import { outputHasSamples } from "./forward.js";

/** Checks the strategy against the graph and mesh; throws with every problem listed. */
export function checkStrategy(graph: Graph, strategy: Strategy, devices: Set<number>): void {
  const problems: string[] = [];
  const R = replicaCount(strategy);
  for (const o of graph.topoOrder()) {
    const c = strategy.ops[o.name];
    if (!c) {
      problems.push(`op ${o.name} has no config`);
      continue;
    }
    if (c.degrees.length !== o.sig.space.length) {
      problems.push(`op ${o.name}: ${c.degrees.length} degrees for ${o.sig.space.length} dims`);
      continue;
    }
    c.degrees.forEach((d, i) => {
      const dim = o.sig.space[i];
      if (!Number.isInteger(d) || d < 1 || d > dim.size) problems.push(`op ${o.name}: degree ${d} for dim ${dim.name} of size ${dim.size}`);
      else if (d > 1 && dim.splittable === false) problems.push(`op ${o.name}: dim ${dim.name} is not splittable`);
    });
    if (c.devices.length !== taskCount(c)) problems.push(`op ${o.name}: ${c.devices.length} devices for ${taskCount(c)} tasks`);
    for (const d of c.devices) {
      for (let r = 0; r < R; r++) {
        const image = replicaDevice(d, r, strategy.replicas);
        if (!devices.has(image)) problems.push(`op ${o.name}: device ${image}${r > 0 ? ` (replica ${r}'s image of ${d})` : ""} is not in the mesh`);
      }
    }
  }
  if (strategy.pipeline) {
    try {
      opStages(graph, strategy.pipeline);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (problems.length) throw new Error(`lower: invalid strategy ${strategy.name}: ${problems.join("; ")}`);
  if (R * microbatchCount(strategy) > 1) checkMicrobatchable(graph, R);
}

/**
 * With micro-batches or replicas, each unit computes its ops on its own samples. An op
 * whose output sums over the samples (batch statistics) would then give per-micro-batch
 * values where the model means the whole batch's: if anything reads such an output (or an
 * op without a sample dim reads a per-micro-batch value), the strategy would change what
 * the model computes, so it is refused (PAR5018). A loss sums over the samples too, but
 * nothing reads it: its per-unit shares add up to the whole batch's loss.
 */
function checkMicrobatchable(graph: Graph, replicas: number): void {
  const bad: string[] = [];
  const perMicrobatch = (op: OpNode) => sampleDims(op).length > 0;
  for (const o of graph.topoOrder()) {
    if (perMicrobatch(o)) {
      o.outputs.forEach((t, oi) => {
        const readers = graph.tensor(t).consumers;
        if (readers.length > 0 && !outputHasSamples(o, oi)) bad.push(`${o.name} sums ${t} over the samples and ${readers[0].op} reads it`);
      });
    } else {
      // Run once per replica, a loss without samples would be counted once per replica.
      if (isLossOp(o) && replicas > 1) bad.push(`the loss ${o.name} has no sample dim`);
      for (const t of o.inputs) {
        const p = graph.tensor(t).producer;
        if (p && perMicrobatch(graph.op(p.op))) bad.push(`${o.name} has no sample dim but reads ${t}, computed per micro-batch by ${p.op}`);
      }
    }
  }
  if (bad.length) {
    throw new ParError([
      {
        code: "PAR5018",
        severity: "error",
        message: `${graph.name} cannot be split into micro-batches or replicas: ${bad.join("; ")}`,
        hint: "use one replica and one micro-batch for this model (split its sample dim with op degrees instead)",
      },
    ]);
  }
}
