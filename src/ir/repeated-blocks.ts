// Repeated blocks: the longest run of structurally identical, consecutive op sequences in
// a graph's topological order (a transformer's layers). Two ops match when they have the
// same kind, attributes and iteration space and read their inputs from the same relative
// positions (k ops back, or the same outside tensor); no names are compared, so a model
// written without `for` loops or imported from ONNX is recognised too. The scale search
// (src/search/scale/) prices one block and reuses its configuration for every copy, and
// cuts pipelines at block boundaries.

import type { Graph, OpNode } from "./graph.js";
import { canonicalJson } from "./stage-plan.js";

export interface RepeatedBlocks {
  /** Index in the topological order of the first block's first op. */
  start: number;
  /** Ops per block. */
  period: number;
  /** Number of blocks (≥ 2). */
  count: number;
}

/** Each op's structural signature as a small integer (equal numbers: matching ops). */
function signatures(graph: Graph, order: readonly OpNode[]): Int32Array {
  const position = new Map(order.map((o, i) => [o.name, i]));
  const ids = new Map<string, number>();
  const out = new Int32Array(order.length);
  order.forEach((op, i) => {
    const ins = op.inputs.map((id) => {
      const p = graph.tensor(id).producer;
      return p ? `-${i - position.get(p.op)!}.${p.output}` : `x${id}`;
    });
    const key = `${op.op}${canonicalJson(op.attrs)}[${op.sig.space.map((d) => `${d.name}:${d.size}`).join(",")}](${ins.join(",")})`;
    let n = ids.get(key);
    if (n === undefined) ids.set(key, (n = ids.size));
    out[i] = n;
  });
  return out;
}

/**
 * The repeated blocks covering the most ops (ties: the shortest period, then the earliest
 * start), or undefined when no sequence of ops repeats. Blocks of one op are ignored (a
 * chain of identical element-wise ops is no layer).
 */
export function repeatedBlocks(graph: Graph, order: readonly OpNode[] = graph.topoOrder()): RepeatedBlocks | undefined {
  const sig = signatures(graph, order);
  const n = order.length;
  let best: RepeatedBlocks | undefined;
  for (let period = 2; period <= n / 2; period++) {
    let i = 0;
    while (i + period < n) {
      if (sig[i] !== sig[i + period]) {
        i++;
        continue;
      }
      let j = i;
      while (j + period < n && sig[j] === sig[j + period]) j++;
      // ops [i, j + period) repeat with this period.
      const count = Math.floor((j - i + period) / period);
      if (count >= 2 && (!best || count * period > best.count * best.period)) best = { start: i, period, count };
      i = j + 1;
    }
  }
  return best;
}
