// One training step in the order of the global sequence S. Without a pipeline, S is the
// forward of every op in topological order, then the backward of every op in reverse, then
// the weight updates (the tail). With a pipeline (src/layout/schedule.ts), S is the
// schedule's units in their idealised order: unit (stage k, micro-batch m, F) generates the
// forward of stage k's ops for micro-batch m of every replica, unit (k, m, B) their backward
// (recomputing first what `recompute` lists); an op without a sample dim runs in its
// stage's first forward unit (m = 0) and last backward unit (m = M − 1), once per replica.
// Weight gradients accumulate over micro-batches in one buffer per shard (zeroed at its
// first use in the step); the tail sums and applies them (./weights.ts).

import type { Graph } from "../../ir/graph.js";
import { microbatchCount, opStages } from "../../ir/strategy-stages.js";
import type { Strategy } from "../../ir/strategy.js";
import { pipelineShape, unitOrder } from "../../layout/schedule.js";
import { tasksOfUnit, unitOf } from "../../layout/units.js";
import type { Instruction, OptimizerConfig } from "../../plan/plan.js";
import { Contributions, lowerBackwardTasks } from "./backward.js";
import type { Builder } from "./builder.js";
import { lowerForwardTasks, producedBy, recomputeTasks, type LoweredOp, type Produced, type Task } from "./forward.js";
import { lowerWeightSync } from "./weights.js";
import { gatherWeights } from "./zero.js";

export interface StepInput {
  graph: Graph;
  strategy: Strategy;
  /** Every op, prepared, in topological order. */
  ops: LoweredOp[];
  optimizer: OptimizerConfig;
  /** Marks buffers the release pass may free (ZeRO's whole weights and gradients). */
  releasable(device: number, id: string): void;
}

/** The tasks of `lo` that micro-batch `m` runs in a forward or backward unit (all replicas). */
function unitTasks(lo: LoweredOp, m: number, phase: "F" | "B", microbatches: number): Task[] {
  const u = lo.units;
  if (u.units === 1) return m === (phase === "F" ? 0 : microbatches - 1) || u.perMicrobatch ? lo.tasks : [];
  if (!u.perMicrobatch && m !== (phase === "F" ? 0 : microbatches - 1)) return [];
  const out: Task[] = [];
  for (let r = 0; r < u.scale.replicas; r++) for (const t of tasksOfUnit(u, unitOf(u, r, m))) out.push(lo.tasks[t]);
  return out;
}

/** Generates one step into `b` in S's order. */
export function lowerStep(b: Builder, input: StepInput): void {
  const { graph, strategy, ops } = input;
  const M = microbatchCount(strategy);
  const zero = strategy.zero ?? 0;
  const recomputed = new Set(strategy.recompute ?? []);
  const produced = new Map<string, Produced>();
  for (const lo of ops) for (const [t, p] of producedBy(lo)) produced.set(t, p);
  const stageOf = strategy.pipeline ? opStages(graph, strategy.pipeline) : undefined;
  const byStage: LoweredOp[][] = [];
  for (const lo of ops) (byStage[stageOf?.get(lo.node.name) ?? 0] ??= []).push(lo);
  const contributions = new Contributions();
  // The weight sums and updates, generated right after each op's last backward (its tags
  // and state buffers are numbered and declared there) and emitted at the end of S.
  const tail: [number, Instruction][] = [];

  for (const unit of unitOrder(pipelineShape(strategy.pipeline))) {
    b.beginUnit();
    const stageOps = byStage[unit.stage] ?? [];
    // ZeRO-3: whole weights gathered in this unit (one gather serves a recomputation and the backward after it).
    const gathered = new Set<LoweredOp>();
    const gather = (lo: LoweredOp, tasks: readonly Task[]) => {
      if (zero < 3 || gathered.has(lo)) return;
      gathered.add(lo);
      gatherWeights(b, lo, tasks, input.releasable);
    };
    if (unit.phase === "F") {
      for (const lo of stageOps) {
        const tasks = unitTasks(lo, unit.microbatch, "F", M);
        if (tasks.length) lowerForwardTasks(graph, b, lo, tasks, produced, () => gather(lo, tasks));
      }
      continue;
    }
    const redone = new Set<LoweredOp>();
    for (const lo of [...stageOps].reverse()) {
      const tasks = unitTasks(lo, unit.microbatch, "B", M);
      if (!tasks.length) continue;
      if (recomputed.has(lo.node.name) && !redone.has(lo)) {
        // The op and the recomputed ops of this stage it reads through recomputed ops
        // only, not yet redone in this unit, in forward order: their outputs were freed too.
        for (const x of recomputeChain(lo, stageOps, recomputed, redone, graph)) {
          const xt = unitTasks(x, unit.microbatch, "B", M);
          gather(x, xt);
          recomputeTasks(x, b, xt);
          redone.add(x);
        }
      }
      lowerBackwardTasks(graph, b, lo, tasks, contributions, () => gather(lo, tasks));
      if (unit.microbatch === M - 1) lowerWeightSync(b, lo, input.optimizer, tail, zero, input.graph.frozen);
    }
  }

  for (const [d, ins] of tail) {
    if (ins.kind === "reducescatter") input.releasable(d, ins.buf);
    b.emit(d, ins);
  }
}

/** `lo` and the recomputed ops of its stage that reach it through recomputed ops only (not yet redone), in topological order. */
function recomputeChain(lo: LoweredOp, stageOps: readonly LoweredOp[], recomputed: ReadonlySet<string>, redone: ReadonlySet<LoweredOp>, graph: Graph): LoweredOp[] {
  const inStage = new Map(stageOps.map((x) => [x.node.name, x]));
  const want = new Set<LoweredOp>([lo]);
  const stack = [lo];
  while (stack.length) {
    const x = stack.pop()!;
    for (const t of x.node.inputs) {
      const p = graph.tensor(t).producer;
      const plo = p === undefined ? undefined : inStage.get(p.op);
      if (!plo || want.has(plo) || redone.has(plo) || !recomputed.has(plo.node.name) || !plo.units.perMicrobatch) continue;
      want.add(plo);
      stack.push(plo);
    }
  }
  return stageOps.filter((x) => want.has(x));
}
