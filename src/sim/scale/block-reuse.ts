// Repeated layers simulated once (docs/scale.md): a stage holding n ≥ 3 identical blocks
// (src/ir/repeated-blocks.ts, found on the stage's own graph, without names) is timed from
// two reduced copies of itself, with one and with two of its blocks (the ops before and
// after the blocks kept, the ops after reading from the last kept block), each simulated
// op by op; the stage's times then grow by one block's increment per further block:
//   T(n) = T(1) + (n − 1)·(T(2) − T(1))
// for the forward, the backward, the recomputation and the per-step ops, and a block's
// gradients complete one backward increment after the next block's. Exact when blocks run
// one after another on the same devices, as a stage's layers do; test/sim/scale/
// block-reuse.test.ts checks it against the full simulation.

import { Graph, type OpNode } from "../../ir/graph.js";
import { repeatedBlocks } from "../../ir/repeated-blocks.js";
import type { StagePlan } from "../../ir/stage-plan.js";
import type { OpConfig } from "../../ir/strategy.js";

/** Blocks below this count are simulated as they are. */
export const MIN_BLOCKS_TO_REUSE = 3;

export interface ReducedStage {
  /** The stage with `kept` blocks. */
  stage: StagePlan;
  /** Per op position of the reduced stage, its position in the whole stage. */
  position: number[];
}

export interface StageBlocks {
  start: number;
  period: number;
  count: number;
}

/** The stage's repeated blocks, when it has at least MIN_BLOCKS_TO_REUSE. */
export function stageBlocks(stage: StagePlan): StageBlocks | undefined {
  const order = stage.ops.map((o) => stage.graph.op(o.name));
  const b = repeatedBlocks(stage.graph, order);
  return b && b.count >= MIN_BLOCKS_TO_REUSE ? b : undefined;
}

/** The stage with only its first `kept` blocks; undefined when the ops after the blocks read from a dropped block other than through the last one. */
export function reduceStage(stage: StagePlan, b: StageBlocks, kept: number): ReducedStage | undefined {
  const g = stage.graph;
  const order = stage.ops.map((o) => g.op(o.name));
  const n = order.length;
  const endBlocks = b.start + b.count * b.period;
  const shift = (b.count - kept) * b.period;
  const keep = (i: number) => i < b.start + kept * b.period || i >= endBlocks;
  const positionOf = new Map(order.map((o, i) => [o.name, i]));
  const out = new Graph(g.name, { ...g.modelParams });
  const ops: OpNode[] = [];
  const position: number[] = [];
  const configs: Record<string, OpConfig> = {};
  for (let i = 0; i < n; i++) {
    if (!keep(i)) continue;
    const op = order[i];
    const inputs: string[] = [];
    for (const id of op.inputs) {
      const p = g.tensor(id).producer;
      let mapped = id;
      if (p) {
        const j = positionOf.get(p.op)!;
        if (!keep(j)) {
          // Only the ops after the blocks may read a dropped block: from the last one.
          if (i < endBlocks || j < endBlocks - b.period) return undefined;
          mapped = order[j - shift].outputs[p.output];
        }
      } else if (!out.tensors.has(id)) out.addInput(id, g.tensor(id).type);
      inputs.push(mapped);
    }
    ops.push(out.addOp({ name: op.name, op: op.op, attrs: op.attrs, inputs, sig: op.sig }));
    position.push(i);
    configs[op.name] = stage.configs[op.name];
  }
  const names = new Set(ops.map((o) => o.name));
  const reduced: StagePlan = {
    ...stage,
    ops: stage.ops.filter((o) => names.has(o.name)),
    graph: out,
    configs,
    recomputed: new Set([...stage.recomputed].filter((x) => names.has(x))),
    perStep: new Set([...stage.perStep].filter((x) => names.has(x))),
  };
  return { stage: reduced, position };
}
