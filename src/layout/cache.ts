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
  /** The layout `get` returned last: a search keeps most ops' degrees, so it is asked again. */
  private last: OpLayout | undefined;

  constructor(
    readonly op: OpNode,
    /** A number unique within the graph's cache (keys the overlap cache). */
    readonly id: number,
    readonly inputShapes: readonly (readonly number[])[],
    private readonly regionIds: RegionIds,
  ) {}

  get(degrees: readonly number[]): OpLayout {
    const last = this.last;
    if (last && sameNumbers(last.degrees, degrees)) return last;
    const k = degrees.join(",");
    let l = this.byDegrees.get(k);
    if (!l) {
      l = makeOpLayout(this.op, this.inputShapes, degrees, this.regionIds);
      if (this.byDegrees.size > LAYOUTS_PER_OP) this.byDegrees.clear();
      this.byDegrees.set(k, l);
    }
    this.last = l;
    return l;
  }
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const caches = new WeakMap<Graph, LayoutCache>();

export class LayoutCache {
  private readonly ops = new Map<string, OpLayouts>();
  /** Per tensor: its regions read so far, numbered (layouts' `inputIds`). */
  private readonly tensorRegions = new Map<string, RegionMap<number>>();
  /**
   * Edge overlaps by consumer layout, then its input, then producer layout (the edge's
   * producer op and output are fixed by the graph). Keyed by the cached layout objects,
   * not by strings: the simulator looks an overlap list up for every edge of every build.
   */
  private overlapMemo = new WeakMap<OpLayout, (Map<OpLayout, EdgeOverlaps> | undefined)[]>();
  private overlapCount = 0;
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

  /**
   * The overlaps of `prod`'s output `output` (under layout `pl`) with `cons`'s input `input`
   * (under `cl`). The graph fixes which output of which op an input reads, so the lists are
   * kept by (cl, input, pl) alone.
   */
  overlaps(prod: OpLayouts, pl: OpLayout, output: number, cons: OpLayouts, cl: OpLayout, input: number): EdgeOverlaps {
    let byInput = this.overlapMemo.get(cl);
    let byProducer = byInput?.[input];
    let e = byProducer?.get(pl);
    if (e) return e;
    e = makeOverlaps(pl, output, cl, input);
    if (this.overlapCount >= OVERLAPS_PER_GRAPH) {
      this.overlapMemo = new WeakMap();
      this.overlapCount = 0;
      byInput = undefined;
    }
    if (!byInput) this.overlapMemo.set(cl, (byInput = cons.op.inputs.map(() => undefined)));
    byProducer = byInput[input] ??= new Map();
    byProducer.set(pl, e);
    this.overlapCount++;
    return e;
  }
}
