// The static facts of every op that the task-graph builder needs, in topological order:
// computed once per Graph object and shared by every builder of it (a search builds many).

import { dtypeBytes, isFloat, type DType } from "../core/tensor.js";
import type { Graph, OpNode } from "../ir/graph.js";
import { LayoutCache, type OpLayouts } from "../layout/cache.js";
import { gathersGradient, sumsPartials } from "../layout/flow.js";
import { segmentMap, type SegmentMap } from "./segments.js";

/** Input `input` of the op of rank `op`. */
export interface EdgeRef {
  op: number;
  input: number;
}

export interface OpInfo {
  node: OpNode;
  rank: number;
  inputDtypes: DType[];
  /** Per input: producer op rank and output index, or undefined for graph inputs. */
  producers: ({ op: number; output: number } | undefined)[];
  /**
   * Per output: the inputs reading it, by op rank then input index: the order in which
   * they claim the regions they read (edge-tasks.ts).
   */
  consumers: EdgeRef[][];
  /** Per input: its position among the readers of its tensor (−1: a graph input). */
  readerIndex: number[];
  /** The op's layouts by degrees (src/layout, shared with every user of the graph). */
  layouts: OpLayouts;
  /** Dtype of the weights (params without their own dtype take the op's float dtype). */
  paramDtypes: DType[];
  /** Bytes per element of each weight and of each output. */
  paramBytes: number[];
  outputBytes: number[];
  /** Per output: whether its partial sums are added up (src/layout/flow.ts). */
  sumsPartials: boolean[];
  /** Whether its outputs' gradients are gathered from their consumers (not a loss). */
  gathersGradient: boolean;
}

export interface GraphFacts {
  /** Ops in the graph when these were computed (recomputed if the graph grew). */
  size: number;
  infos: OpInfo[];
  rankOf: Map<string, number>;
  layouts: LayoutCache;
  seg: SegmentMap;
  segInLine?: SegmentMap;
}

const facts = new WeakMap<Graph, GraphFacts>();

export function graphFacts(graph: Graph): GraphFacts {
  let f = facts.get(graph);
  if (f && f.size === graph.ops.size) return f;
  const layouts = LayoutCache.of(graph);
  const rankOf = new Map<string, number>();
  const order = graph.topoOrder();
  order.forEach((node, rank) => rankOf.set(node.name, rank));
  const infos: OpInfo[] = order.map((node, rank) => {
    const types = node.inputs.map((id) => graph.tensor(id).type);
    const floatIn = types.find((t) => isFloat(t.dtype))?.dtype ?? "f32";
    return {
      node,
      rank,
      inputDtypes: types.map((t) => t.dtype),
      producers: node.inputs.map((id) => {
        const p = graph.tensor(id).producer;
        return p ? { op: rankOf.get(p.op)!, output: p.output } : undefined;
      }),
      consumers: node.outputs.map((id) =>
        graph
          .tensor(id)
          .consumers.map((c) => ({ op: rankOf.get(c.op)!, input: c.input }))
          .sort((a, b) => a.op - b.op || a.input - b.input),
      ),
      readerIndex: [],
      layouts: layouts.forOp(node),
      paramDtypes: node.sig.params.map((p) => p.dtype ?? floatIn),
      paramBytes: node.sig.params.map((p) => dtypeBytes(p.dtype ?? floatIn)),
      outputBytes: node.sig.outputs.map((o) => dtypeBytes(o.dtype)),
      sumsPartials: node.outputs.map((_, o) => sumsPartials(graph, node, o)),
      gathersGradient: gathersGradient(node),
    };
  });
  for (const info of infos) {
    info.readerIndex = info.producers.map((p, k) => (p ? infos[p.op].consumers[p.output].findIndex((c) => c.op === info.rank && c.input === k) : -1));
  }
  f = { size: graph.ops.size, infos, rankOf, layouts, seg: segmentMap(infos.map((i) => i.node.inputs.length), false) };
  facts.set(graph, f);
  return f;
}

/** The segment map for all-reduces in line (collectivesInLine) or overlapping backward. */
export function segmentsOf(f: GraphFacts, inLineCollectives: boolean): SegmentMap {
  return inLineCollectives ? (f.segInLine ??= segmentMap(f.infos.map((i) => i.node.inputs.length), true)) : f.seg;
}
