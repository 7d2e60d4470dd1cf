// Pipeline stages and micro-batches of a strategy (docs/strategies.md, "Pipelines"):
// which stage each op belongs to, which devices a stage runs on, how many samples one
// micro-batch of one replica holds, and the even cut behind `.par`'s `stages = p`
// shorthand. Shared by the validator, the `.par` resolver and printer, and downstream
// users (lowering, simulation, search), so that all of them read a pipeline the same way.

import type { Graph, OpNode } from "./graph.js";
import { balancedStages } from "./baselines.js";
import { replicaCount } from "./strategy-replicas.js";
import type { PipelineConfig, PipelineStage, Strategy } from "./strategy.js";

/** M: micro-batches per step and replica (1 without a pipeline). */
export function microbatchCount(s: Pick<Strategy, "pipeline">): number {
  return s.pipeline?.microbatches ?? 1;
}

/** The iteration-dim indices of an op's sample dims (`cls: "sample"`). */
export function sampleDims(op: OpNode): number[] {
  const out: number[] = [];
  op.sig.space.forEach((d, i) => {
    if (d.cls === "sample") out.push(i);
  });
  return out;
}

/**
 * The batch: the size of the graph's sample dims. Every par model has one batch size; a
 * graph whose sample dims differ gives the largest. Undefined when no op has a sample dim.
 */
export function batchSize(graph: Graph): number | undefined {
  let b: number | undefined;
  for (const op of graph.ops.values()) for (const i of sampleDims(op)) b = Math.max(b ?? 0, op.sig.space[i].size);
  return b;
}

/**
 * The part of a sample dim of `size` that one micro-batch of one replica holds:
 * size / (replicas × microbatches), or undefined when that is not an integer.
 */
export function microbatchPart(size: number, s: Pick<Strategy, "replicas" | "pipeline">): number | undefined {
  const parts = replicaCount(s) * microbatchCount(s);
  return size % parts === 0 ? size / parts : undefined;
}

/** The sample size of one micro-batch of one replica: batch / (replicas × microbatches) (undefined when not integral or no batch). */
export function microbatchSamples(graph: Graph, s: Pick<Strategy, "replicas" | "pipeline">): number | undefined {
  const b = batchSize(graph);
  return b === undefined ? undefined : microbatchPart(b, s);
}

/** p: the pipeline's device groups, stages / virtual stages (the interleaved schedule puts v stages on each group). */
export function deviceGroupCount(p: PipelineConfig): number {
  return Math.floor(p.stages.length / (p.virtualStages ?? 1));
}

/** The devices stage `k` runs on (with interleaving, those of stage k mod p, which the validator holds equal). */
export function stageDevices(p: PipelineConfig, k: number): number[] {
  return p.stages[k].devices;
}

/** A stage as indices into the topological order, both inclusive. */
export interface StageRange {
  start: number;
  end: number;
}

/** Each stage's range in `order`; undefined for a stage whose first or last op is not in `order`. */
export function stageRanges(order: readonly OpNode[], stages: readonly PipelineStage[]): (StageRange | undefined)[] {
  const index = new Map(order.map((o, i) => [o.name, i]));
  return stages.map((st) => {
    const start = index.get(st.first);
    const end = index.get(st.last);
    return start === undefined || end === undefined ? undefined : { start, end };
  });
}

/** The stage of each op by topological index when the stages cut `order` properly; undefined otherwise (validation explains why). */
export function stageIndexOf(order: readonly OpNode[], p: PipelineConfig): number[] | undefined {
  const ranges = stageRanges(order, p.stages);
  const out = new Array<number>(order.length);
  let next = 0;
  for (let k = 0; k < ranges.length; k++) {
    const r = ranges[k];
    if (!r || r.start !== next || r.end < r.start) return undefined;
    for (let i = r.start; i <= r.end; i++) out[i] = k;
    next = r.end + 1;
  }
  return next === order.length ? out : undefined;
}

/**
 * The stage of every op, by name. For validated strategies only: throws when the stages do
 * not cut the topological order into contiguous pieces covering every op once, in order.
 */
export function opStages(graph: Graph, p: PipelineConfig): Map<string, number> {
  const order = graph.topoOrder();
  const stages = stageIndexOf(order, p);
  if (!stages) throw new Error(`opStages: the pipeline's stages do not cut the ops of ${graph.name} into contiguous pieces; validate the strategy first`);
  return new Map(order.map((o, i) => [o.name, stages[i]]));
}

// ------------------------------------------------------------------ the even cut

/** What the even cut balances: forward + backward FLOPs of each op, or its parameter count. */
export type StageBalance = "flops" | "params";
export const STAGE_BALANCES: readonly StageBalance[] = ["flops", "params"];

/** An op's weight for the even cut. */
export function opStageWeight(op: OpNode, balance: StageBalance): number {
  if (balance === "params") return op.sig.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  const f = op.sig.flops(op.sig.space.map((d) => d.size));
  return f.forward + f.backward;
}

/**
 * Cuts items of the given weights (in order) into `count` non-empty contiguous stages and
 * returns the first index of each stage. The cut is defined as:
 * 1. B is the smallest possible weight of the heaviest stage (linear partition);
 * 2. stages are filled front to back, each taking as many items as keep its weight ≤ B
 *    while leaving at least one item for every later stage.
 * All-zero weights count every item as 1. Needs 1 ≤ count ≤ weights.length.
 */
export function evenCut(weights: readonly number[], count: number): number[] {
  const m = weights.length;
  if (!Number.isSafeInteger(count) || count < 1 || count > m) throw new Error(`evenCut: ${count} stages for ${m} items`);
  const w = weights.some((x) => x > 0) ? weights : weights.map(() => 1);
  const prefix = [0];
  for (const x of w) prefix.push(prefix[prefix.length - 1] + x);
  // B from the exact linear-partition DP (the `mp` baseline's), measured on the same prefix sums.
  const dpStage = balancedStages(w, count);
  let bound = 0;
  for (let i = 0, start = 0; i <= m; i++) {
    if (i === m || dpStage[i] !== dpStage[start]) {
      bound = Math.max(bound, prefix[i] - prefix[start]);
      start = i;
    }
  }
  const starts: number[] = [];
  let start = 0;
  for (let s = 0; s < count; s++) {
    starts.push(start);
    if (s === count - 1) break;
    let end = start + 1; // exclusive
    const limit = m - (count - s - 1);
    while (end < limit && prefix[end + 1] - prefix[start] <= bound) end++;
    start = end;
  }
  return starts;
}

/** `pool` cut into `groups` equal consecutive blocks (undefined when it does not divide evenly). */
export function evenDeviceBlocks(pool: readonly number[], groups: number): number[][] | undefined {
  if (groups < 1 || pool.length % groups !== 0 || pool.length === 0) return undefined;
  const size = pool.length / groups;
  return Array.from({ length: groups }, (_, g) => pool.slice(g * size, (g + 1) * size));
}

/**
 * The stages of `.par`'s `stages = count` shorthand: the ops (in topological order) cut by
 * `evenCut` over their `balance` weights; stage k on device block k mod p of `blocks`
 * (p = blocks.length device groups).
 */
export function evenStages(order: readonly OpNode[], count: number, balance: StageBalance, blocks: readonly (readonly number[])[]): PipelineStage[] {
  const starts = evenCut(
    order.map((o) => opStageWeight(o, balance)),
    count,
  );
  return starts.map((start, k) => {
    const end = k + 1 < starts.length ? starts[k + 1] - 1 : order.length - 1;
    return { first: order[start].name, last: order[end].name, devices: [...blocks[k % blocks.length]] };
  });
}
