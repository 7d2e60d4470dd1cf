// The layout of one op's tasks under a degree vector, before any device is chosen: each
// task's box of the iteration space and, from it (src/ops/regions.ts), the input regions
// it reads, the weight shards it holds and the output regions it writes; then, per output,
// which tasks write one region (an owner, its partial sums, its replicas) and, per weight,
// which tasks hold one shard. Simulator, lowering, memory model and search all read these
// answers here, so a new way of laying tasks out (pipeline stages, sharded optimizer
// state) is taught once. Pure: a function of (op, input shapes, degrees).

import { intersect, partRegion, regionVolume, type Region } from "../core/region.js";
import type { OpNode } from "../ir/graph.js";
import { reductionDims, spaceSizes, taskRegions } from "../ops/regions.js";
import { RegionMap } from "./region-map.js";

/** The tasks of an op writing one region of one output. */
export interface OutputGroup {
  readonly region: Region;
  /** Elements of `region`. */
  readonly volume: number;
  /** The group's first task (lowest index): it holds the complete value for consumers. */
  readonly owner: number;
  /**
   * Tasks whose outputs add up to the value, owner first, in task order: they differ from
   * the owner only along reduction dims. Just [owner] when no reduction dim is split.
   */
  readonly partials: readonly number[];
  /**
   * Tasks that write the same region with the same value: they differ from the owner along
   * a dim that only another output of the op addresses. Only the owner's value counts.
   */
  readonly replicas: readonly number[];
}

/** The tasks of an op holding one shard of one weight: they all-reduce its gradient. */
export interface ParamShard {
  readonly region: Region;
  readonly volume: number;
  /** In task order. */
  readonly tasks: readonly number[];
}

export interface OpLayout {
  readonly degrees: readonly number[];
  /** `degrees` joined by commas: the key of this layout among the op's layouts. */
  readonly key: string;
  /** Tasks, numbered row-major over the degrees (as `partRegion` numbers them). */
  readonly count: number;
  readonly boxes: readonly Region[];
  /** Distinct task extents (box sizes) and each task's index into them (for cost memos). */
  readonly extents: readonly (readonly number[])[];
  readonly extentOf: Int32Array;
  /** Per input, per task: the region it reads. */
  readonly inputs: readonly (readonly Region[])[];
  /**
   * Per input, per task: an id of the region read, equal for equal regions of the same
   * tensor (across every layout that shares the `RegionIds` it was made with).
   */
  readonly inputIds: readonly (readonly number[])[];
  /** Per param, per task: the weight shard it holds. */
  readonly params: readonly (readonly Region[])[];
  /** Per output, per task: the region it writes. */
  readonly outputs: readonly (readonly Region[])[];
  /** Per output: the groups of tasks writing one region, in order of their owners. */
  readonly groups: readonly (readonly OutputGroup[])[];
  /** Per param: the shards, in order of their first task. */
  readonly shards: readonly (readonly ParamShard[])[];
  /** Iteration dims no output addresses (splitting them gives partial sums). */
  readonly reductionDims: readonly number[];
}

/** Numbers the regions read of input `input`'s tensor: equal regions get equal ids. */
export type RegionIds = (input: number, region: Region) => number;

/** Ids private to one layout (for callers that never compare regions across ops). */
function localRegionIds(): RegionIds {
  const maps = new Map<number, RegionMap<number>>();
  return (input, r) => {
    let m = maps.get(input);
    if (!m) maps.set(input, (m = new RegionMap()));
    let id = m.get(r);
    if (id === undefined) m.add(r, (id = m.size));
    return id;
  };
}

/** The replicas of a group that has none (shared: most groups have none). */
const NO_TASKS: number[] = [];

export function makeOpLayout(op: OpNode, inputShapes: readonly (readonly number[])[], degrees: readonly number[], regionIds: RegionIds = localRegionIds()): OpLayout {
  const sizes = spaceSizes(op.sig);
  if (degrees.length !== sizes.length) throw new Error(`op ${op.name}: ${degrees.length} degrees for ${sizes.length} parallel dims`);
  let count = 1;
  for (const d of degrees) count *= d;
  const boxes: Region[] = [];
  for (let t = 0; t < count; t++) boxes.push(partRegion(sizes, degrees, t));
  return layoutOfBoxes(op, inputShapes, degrees, boxes, undefined, regionIds);
}

/**
 * The layout of tasks with the given boxes (task t's box is `boxes[t]`): `makeOpLayout`'s
 * answers for boxes that are not one row-major grid, such as the micro-batches and
 * replicas of a large-scale strategy (./units.ts). `scopeOf(t)` scopes output groups:
 * tasks writing the same region form one group only within one scope (a replica's copy of
 * a value is that replica's own), while weight shards span all scopes. Without it every
 * task is in one scope.
 */
export function layoutOfBoxes(
  op: OpNode,
  inputShapes: readonly (readonly number[])[],
  degrees: readonly number[],
  boxes: readonly Region[],
  scopeOf?: (task: number) => number,
  regionIds: RegionIds = localRegionIds(),
): OpLayout {
  const sig = op.sig;
  const sizes = spaceSizes(sig);
  const count = boxes.length;
  const red = reductionDims(sig);
  const isRed = sizes.map((_, d) => red.includes(d));
  const extents: number[][] = [];
  const extentIds = new Map<string, number>();
  const extentOf = new Int32Array(count);
  // Tasks reading, writing or holding equal regions share one Region object: a search
  // caches thousands of layouts.
  const inputs: Region[][] = sig.inputMaps.map(() => []);
  const inputIds: number[][] = sig.inputMaps.map(() => []);
  const inputByKey = sig.inputMaps.map(() => new RegionMap<Region>());
  const params: Region[][] = sig.paramMaps.map(() => []);
  const outputs: Region[][] = sig.outputMaps.map(() => []);
  // A task joins the group of the first task writing the same region (in its scope): as a
  // partial when their boxes agree along every dim but reductions, else as a replica.
  type Group = { region: Region; volume: number; owner: number; partials: number[]; replicas: number[] };
  const groupMaps = new Map<number, RegionMap<Group>[]>();
  const groupsOf = (scope: number) => {
    let m = groupMaps.get(scope);
    if (!m) groupMaps.set(scope, (m = sig.outputMaps.map(() => new RegionMap<Group>())));
    return m;
  };
  const groupLists: Group[][] = sig.outputMaps.map(() => []);
  // Shards of one weight are cells of one grid: equal or disjoint (a gradient summed over
  // partly overlapping shards would be neither an all-reduce nor a plain copy).
  const shardByKey = sig.paramMaps.map(() => new RegionMap<{ region: Region; volume: number; tasks: number[] }>());
  for (let t = 0; t < count; t++) {
    const box = boxes[t];
    const ext = box.hi.map((h, i) => h - box.lo[i]);
    const ek = ext.join(",");
    let e = extentIds.get(ek);
    if (e === undefined) {
      e = extents.length;
      extentIds.set(ek, e);
      extents.push(ext);
    }
    extentOf[t] = e;
    const regs = taskRegions(sig, inputShapes, box);
    regs.inputs.forEach((r, i) => {
      let shared = inputByKey[i].get(r);
      if (!shared) inputByKey[i].add(r, (shared = r));
      inputs[i].push(shared);
      inputIds[i].push(regionIds(i, shared));
    });
    const scoped = groupsOf(scopeOf ? scopeOf(t) : 0);
    regs.outputs.forEach((r, o) => {
      const g = scoped[o].get(r);
      if (!g) {
        const fresh: Group = { region: r, volume: regionVolume(r), owner: t, partials: [t], replicas: NO_TASKS };
        scoped[o].add(r, fresh);
        groupLists[o].push(fresh);
        outputs[o].push(r);
        return;
      }
      outputs[o].push(g.region);
      const a = box;
      const b = boxes[g.owner];
      let samePlace = true;
      for (let d = 0; d < sizes.length && samePlace; d++) samePlace = isRed[d] || (a.lo[d] === b.lo[d] && a.hi[d] === b.hi[d]);
      if (samePlace) g.partials.push(t);
      else if (g.replicas === NO_TASKS) g.replicas = [t];
      else g.replicas.push(t);
    });
    regs.params.forEach((r, p) => {
      const sh = shardByKey[p].get(r);
      if (sh) {
        sh.tasks.push(t);
        params[p].push(sh.region);
        return;
      }
      for (const other of shardByKey[p].values()) {
        if (intersect(other.region, r)) throw new Error(`op ${op.name}: shards of ${sig.params[p].name} overlap without being equal`);
      }
      shardByKey[p].add(r, { region: r, volume: regionVolume(r), tasks: [t] });
      params[p].push(r);
    });
  }
  return {
    degrees: [...degrees], key: degrees.join(","), count, boxes, extents, extentOf, inputs, inputIds, params, outputs,
    groups: groupLists,
    shards: shardByKey.map((m) => m.values()),
    reductionDims: red,
  };
}
