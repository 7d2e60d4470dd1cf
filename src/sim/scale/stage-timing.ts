// One pipeline stage, one micro-batch: the op-level simulation (FlexFlow's task graph,
// src/sim/taskgraph.ts) of the stage's ops at the micro-batch size on the stage's
// sub-mesh, without the weight-gradient sync and the optimizer step (the hierarchical
// simulator prices those once per step, across the data-parallel group). From it:
//   forward    the end of the last forward-section task (F of one micro-batch)
//   backward   the rest of the makespan, plus the recomputation (B)
//   recompute  the forward of the recomputed ops run again, alone on the stage's devices:
//              the longest path through their fwd tasks and partial sums (their inputs are
//              kept, so their transfers are not repeated), charged at the start of B
//   gradReady  per op, when its last bwd task ends (its weight gradients are complete),
//              from the start of B
//   perStep    forward and backward of the ops without a sample dim (weight sources such
//              as `param`): they run once per step, so they cost nothing per micro-batch
//              here and the stage pays them once (busiest device)

import type { OpNode } from "../../ir/graph.js";
import type { StagePlan } from "../../ir/stage-plan.js";
import type { SimCosts } from "../costs.js";
import { sweep } from "../simulate.js";
import { KIND_BWD } from "../task-kinds.js";
import { TaskGraphBuilder } from "../taskgraph.js";
import { reduceStage, stageBlocks, type StageBlocks } from "./block-reuse.js";
import type { ScaleCosts } from "./costs.js";

export interface StageTiming {
  /** Seconds of one micro-batch's forward through the stage. */
  forward: number;
  /** Seconds of its backward, recomputation included. */
  backward: number;
  /** The recomputation's part of `backward`. */
  recompute: number;
  /** Per op of the stage (by position in `StagePlan.ops`): when its last bwd task ends (its weight gradients are complete), in seconds from the start of B. */
  gradReady: Map<number, number>;
  /** Seconds of the ops without a sample dim, once per step: forward and backward, on the busiest device. */
  perStepForward: number;
  perStepBackward: number;
}

/** SimCosts for the per-micro-batch simulation: no weight sync or update; per-step ops free. */
function microbatchCosts(base: SimCosts, perStep: ReadonlySet<string>): SimCosts {
  const free = { forward: 0, backward: 0 };
  const c: SimCosts = {
    compute: (op: OpNode, extent, device) => (perStep.has(op.name) ? free : base.compute(op, extent, device)),
    partialSum: (bytes, count, device) => base.partialSum(bytes, count, device),
    transfer: (bytes, src, dst) => base.transfer(bytes, src, dst),
    allReduce: () => 0,
    update: () => 0,
  };
  if (base.computeClass) c.computeClass = (d) => base.computeClass!(d);
  return c;
}

/**
 * One micro-batch through the stage: op by op, or, for a stage of n ≥ 3 identical blocks,
 * from its one-block and two-block copies (block-reuse.ts: repeated layers simulated once).
 */
export function timeStage(stage: StagePlan, costs: ScaleCosts): StageTiming {
  const blocks = stageBlocks(stage);
  if (blocks) {
    const one = reduceStage(stage, blocks, 1);
    const two = reduceStage(stage, blocks, 2);
    if (one && two) return extrapolate(stage, blocks, timeStageOpByOp(one.stage, costs), timeStageOpByOp(two.stage, costs), two.position);
  }
  return timeStageOpByOp(stage, costs);
}

/** T(n) = T(1) + (n − 1)·(T(2) − T(1)); block j's gradients complete (n − 1 − j) backward increments after the last block's. */
function extrapolate(stage: StagePlan, b: StageBlocks, t1: StageTiming, t2: StageTiming, position2: readonly number[]): StageTiming {
  const n = b.count;
  const grow = (x1: number, x2: number) => x1 + (n - 1) * (x2 - x1);
  const recompute = grow(t1.recompute, t2.recompute);
  const perBlock = t2.backward - t2.recompute - (t1.backward - t1.recompute);
  const reducedIndex = new Map(position2.map((full, i) => [full, i]));
  const endBlocks = b.start + n * b.period;
  const gradReady = new Map<number, number>();
  for (let i = 0; i < stage.ops.length; i++) {
    let from: number;
    let extra: number;
    if (i >= endBlocks) {
      from = i;
      extra = 0;
    } else if (i >= b.start) {
      const j = Math.floor((i - b.start) / b.period);
      from = b.start + b.period + ((i - b.start) % b.period);
      extra = (n - 1 - j) * perBlock;
    } else {
      from = i;
      extra = (n - 2) * perBlock;
    }
    const r = t2.gradReady.get(reducedIndex.get(from)!);
    if (r !== undefined) gradReady.set(i, r - t2.recompute + recompute + extra);
  }
  return {
    forward: grow(t1.forward, t2.forward),
    backward: grow(t1.backward, t2.backward),
    recompute,
    gradReady,
    perStepForward: grow(t1.perStepForward, t2.perStepForward),
    perStepBackward: grow(t1.perStepBackward, t2.perStepBackward),
  };
}

/** The op-level simulation of the whole stage. */
export function timeStageOpByOp(stage: StagePlan, costs: ScaleCosts): StageTiming {
  const mesh = stage.sub.mesh;
  const base = costs.stageCosts(stage.graph, mesh);
  const b = new TaskGraphBuilder(stage.graph, mesh, microbatchCosts(base, stage.perStep));
  b.buildAll({ name: `stage ${stage.index}`, model: stage.graph.name, mesh: mesh.name, ops: stage.configs });
  const makespan = sweep(b, 0);
  const st = b.store;
  const seg = b.seg;
  const fwdEnd = b.forwardEnd;
  let forward = 0;
  for (let g = 0; g < fwdEnd; g++) for (let s = st.segBeg[g]; s < st.segEnd[g]; s++) if (st.end[s] > forward) forward = st.end[s];
  const recompute = recomputeTime(b, stage);

  const gradReady = new Map<number, number>();
  const rankOf = b.rankOf;
  stage.ops.forEach((op, i) => {
    const rank = rankOf.get(op.name)!;
    const g = seg.bo[rank];
    let end = 0;
    for (let s = st.segBeg[g]; s < st.segEnd[g]; s++) if (st.kind[s] === KIND_BWD && st.end[s] > end) end = st.end[s];
    gradReady.set(i, recompute + Math.max(0, end - forward));
  });

  // The per-step ops' own tasks, at their real cost, summed per device.
  const fwdBusy = new Float64Array(mesh.devices.length);
  const bwdBusy = new Float64Array(mesh.devices.length);
  for (const op of stage.ops) {
    if (!stage.perStep.has(op.name)) continue;
    const node = stage.graph.op(op.name);
    const layout = b.ops[rankOf.get(op.name)!].layouts.get(stage.configs[op.name].degrees);
    const devices = stage.configs[op.name].devices;
    for (let t = 0; t < layout.count; t++) {
      const c = base.compute(node, layout.extents[layout.extentOf[t]], devices[t]);
      fwdBusy[devices[t]] += c.forward;
      bwdBusy[devices[t]] += c.backward;
    }
  }
  return {
    forward,
    backward: makespan - forward + recompute,
    recompute,
    gradReady,
    perStepForward: Math.max(0, ...fwdBusy),
    perStepBackward: Math.max(0, ...bwdBusy),
  };
}

/**
 * The recomputed ops' forward run again: a sweep over their FO segments (fwd tasks, partial
 * sums) in key order, each resource free from the start, a predecessor outside them taken
 * as done (its output is kept). Their transfers are not repeated: the inputs they read from
 * other devices stay in the receiving buffers (src/cost/scale-memory.ts counts them).
 */
function recomputeTime(b: TaskGraphBuilder, stage: StagePlan): number {
  if (stage.recomputed.size === 0) return 0;
  const st = b.store;
  const ranks = [...stage.recomputed].map((n) => b.rankOf.get(n)!).sort((x, y) => x - y);
  const inside = new Set(ranks.map((r) => b.seg.fo[r]));
  const end = new Map<number, number>();
  const free = new Map<number, number>();
  let last = 0;
  for (const r of ranks) {
    const g = b.seg.fo[r];
    for (let s = st.segBeg[g]; s < st.segEnd[g]; s++) {
      let t = free.get(st.res[s]) ?? 0;
      for (let i = st.predOff[s]; i < st.predEnd[s]; i++) {
        const p = st.preds[i];
        if (inside.has(st.segOf[p])) t = Math.max(t, end.get(p) ?? 0);
      }
      const e = t + st.dur[s];
      end.set(s, e);
      free.set(st.res[s], e);
      if (e > last) last = e;
    }
  }
  return last;
}
