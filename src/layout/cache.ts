// Layouts and edge overlaps depend only on the graph and the degrees, so they are kept per
// Graph object: a search that simulates many strategies of one graph (or a memory model
// re-deriving one op) computes each layout and each region intersection once. Both caches
// are bounded (a long search visits many degree vectors). The ids of the regions read of
// each tensor are kept for good (layouts still cached hold them; a tensor has few distinct
// regions, one per way of splitting its axes). Cached layouts are shared: read them only.

import type { Graph, OpNode } from "../ir/graph.js";
import { makeOpLayout, type OpLayout, type RegionIds } from "./op-layout.js";
import { makeOverlaps, type EdgeOverlaps } from "./overlaps.js";
import { RegionMap } from "./region-map.js";

/** Layouts per degree vector kept per op before the op's cache starts over. */
const LAYOUTS_PER_OP = 64;
/** Edge overlap lists kept per graph before the cache starts over. */
const OVERLAPS_PER_GRAPH = 20_000;

/** One op's layouts by degree vector. */
export class OpLayouts {
  private readonly byDegrees = new Map<string, OpLayout>();

  constructor(
    readonly op: OpNode,
    /** A number unique within the graph's cache (keys the overlap cache). */
    readonly id: number,
    readonly inputShapes: readonly (readonly number[])[],
    private readonly regionIds: RegionIds,
  ) {}

  get(degrees: readonly number[]): OpLayout {
    const k = degrees.join(",");
    let l = this.byDegrees.get(k);
    if (!l) {
      l = makeOpLayout(this.op, this.inputShapes, degrees, this.regionIds);
      if (this.byDegrees.size > LAYOUTS_PER_OP) this.byDegrees.clear();
      this.byDegrees.set(k, l);
    }
    return l;
  }
}

const caches = new WeakMap<Graph, LayoutCache>();

export class LayoutCache {
  private readonly ops = new Map<string, OpLayouts>();
  /** Per tensor: its regions read so far, numbered (layouts' `inputIds`). */
  private readonly tensorRegions = new Map<string, RegionMap<number>>();
  private readonly overlapMemo = new Map<string, EdgeOverlaps>();
  private nextId = 0;

  private constructor(readonly graph: Graph) {}

  /** The cache of `graph` (made on first use; dropped with the graph). */
  static of(graph: Graph): LayoutCache {
    let c = caches.get(graph);
    if (!c) caches.set(graph, (c = new LayoutCache(graph)));
    return c;
  }

  forOp(op: OpNode): OpLayouts {
    let l = this.ops.get(op.name);
    if (!l || l.op !== op) {
      const shapes = op.inputs.map((t) => this.graph.tensor(t).type.shape);
      const ids = op.inputs.map((t) => this.tensorRegions.get(t) ?? this.tensorRegions.set(t, new RegionMap()).get(t)!);
      const regionIds: RegionIds = (input, r) => {
        const m = ids[input];
        let id = m.get(r);
        if (id === undefined) m.add(r, (id = m.size));
        return id;
      };
      this.ops.set(op.name, (l = new OpLayouts(op, this.nextId++, shapes, regionIds)));
    }
    return l;
  }

  layout(op: OpNode, degrees: readonly number[]): OpLayout {
    return this.forOp(op).get(degrees);
  }

  /** The overlaps of `prod`'s output `output` (under layout `pl`) with `cons`'s input `input` (under `cl`). */
  overlaps(prod: OpLayouts, pl: OpLayout, output: number, cons: OpLayouts, cl: OpLayout, input: number): EdgeOverlaps {
    const k = `${prod.id}|${output}|${pl.key}|${cons.id}|${input}|${cl.key}`;
    let e = this.overlapMemo.get(k);
    if (!e) {
      e = makeOverlaps(pl, output, cl, input);
      if (this.overlapMemo.size > OVERLAPS_PER_GRAPH) this.overlapMemo.clear();
      this.overlapMemo.set(k, e);
    }
    return e;
  }
}
