// What becomes of an op's output groups beyond the tasks that write them: whether the
// partial sums are added up, and whether the output's gradient is gathered from its
// consumers. Lowering decides these (its plans run and verify); the simulator, the memory
// model and the chain DP follow them through here.

import type { Graph, OpNode } from "../ir/graph.js";
import { getOp } from "../ops/registry.js";

export function isLossOp(op: OpNode): boolean {
  return getOp(op.op)?.isLoss === true;
}

/**
 * Whether the partial sums of output `output` of `op` are added up on each group's owner.
 * A loss's partials are not, unless something reads the loss: each task reports its share
 * (a `loss` instruction) and the step's loss is their sum, with no message between devices.
 */
export function sumsPartials(graph: Graph, op: OpNode, output: number): boolean {
  return !isLossOp(op) || graph.tensor(op.outputs[output]).consumers.length > 0;
}

/**
 * Whether the gradient of `op`'s outputs is gathered from their consumers on each group's
 * owner (and sent on to its partial tasks elsewhere). A loss starts backward instead: every
 * task's dOutput is 1, whatever reads the loss.
 */
export function gathersGradient(op: OpNode): boolean {
  return !isLossOp(op);
}
