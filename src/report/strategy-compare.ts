// Two strategies of one model on one mesh, compared op by op: each op's config under both,
// and the difference in compute, communication and memory; plus the strategy-wide changes
// (src/ir/strategy-diff.ts). `par diff` prints it, `par report` explains a searched strategy
// against data parallelism with it: one computation for both.

import type { Mesh } from "../core/mesh.js";
import type { Optimizer } from "../cost/memory.js";
import type { Graph } from "../ir/graph.js";
import { scaleChanges, type ScaleChange } from "../ir/strategy-diff.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import { simulate, type PipelineContext } from "../pipeline.js";
import { MemoryTracker } from "../search/memory-tracker.js";
import type { Timeline } from "../sim/simulate.js";

export interface OpComparison {
  op: string;
  a: OpConfig;
  b: OpConfig;
  /** Same degrees and devices under both. */
  same: boolean;
  /** B − A, summed over the op's compute tasks (seconds). */
  computeDelta: number;
  /** B − A, summed over its transfers, partial-sum moves and weight all-reduces (seconds). */
  commDelta: number;
  /** B − A, the op's share of memory summed over devices (bytes). */
  memoryDelta: number;
}

export interface StrategyComparison {
  a: { strategy: Strategy; timeline: Timeline };
  b: { strategy: Strategy; timeline: Timeline };
  /** Strategy-wide differences (replicas, pipeline, ZeRO, recomputation, precision). */
  changes: ScaleChange[];
  /** One row per op, in topological order. */
  ops: OpComparison[];
}

/** Compute and communication seconds of each op's tasks (link tasks have device −1). */
export function timeByOp(t: Timeline): Map<string, { compute: number; comm: number }> {
  const m = new Map<string, { compute: number; comm: number }>();
  for (const task of t.tasks) {
    let c = m.get(task.op);
    if (!c) m.set(task.op, (c = { compute: 0, comm: 0 }));
    if (task.device >= 0) c.compute += task.end - task.start;
    else c.comm += task.end - task.start;
  }
  return m;
}

/**
 * A and B simulated (the pipeline's `simulate` stage, which validates them: invalid ones
 * throw its coded errors) and compared op by op.
 */
export function compareStrategies(graph: Graph, mesh: Mesh, sa: Strategy, sb: Strategy, ctx: PipelineContext, optimizer: Optimizer = "sgd"): StrategyComparison {
  const side = (s: Strategy) => {
    const timeline = simulate(graph, mesh, s, ctx, { optimizer }).timeline;
    return { timeline, ops: timeByOp(timeline), mem: new MemoryTracker(graph, mesh, s.ops, optimizer) };
  };
  const A = side(sa);
  const B = side(sb);
  const ops = graph.topoOrder().map((op): OpComparison => {
    const ca = sa.ops[op.name];
    const cb = sb.ops[op.name];
    const xa = A.ops.get(op.name) ?? { compute: 0, comm: 0 };
    const xb = B.ops.get(op.name) ?? { compute: 0, comm: 0 };
    return {
      op: op.name,
      a: ca,
      b: cb,
      same: ca.degrees.join() === cb.degrees.join() && ca.devices.join() === cb.devices.join(),
      computeDelta: xb.compute - xa.compute,
      commDelta: xb.comm - xa.comm,
      memoryDelta: B.mem.opBytes(op.name) - A.mem.opBytes(op.name),
    };
  });
  return { a: { strategy: sa, timeline: A.timeline }, b: { strategy: sb, timeline: B.timeline }, changes: scaleChanges(sa, sb), ops };
}
