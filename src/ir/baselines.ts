// Baseline strategies: the hand-made designs that the search is seeded with and compared
// against. All are deterministic functions of the graph and the mesh, recognise ops only by
// the layer roles their entries declare (OpEntry.roles: fully-connected, sequence,
// attention-heads, passthrough) and their parallel dims, and split dims
// only evenly (the largest divisor of the dim's size that fits), so that every replica or
// shard does the same work. docs/strategies.md defines each one and its source:
// - dp: data parallelism (every op splits its sample dim over the devices);
// - mp: layer-wise model parallelism (ops placed whole, contiguous stages balanced by FLOPs);
// - expert: FlexFlow's expert-designed strategies (Jia et al., SysML 2019, §8): data
//   parallel conv/pool/norm layers, parameter-parallel fully connected layers (Krizhevsky,
//   "One weird trick", 2014), recurrent/embedding/attention layers placed layer by layer
//   on different devices (Wu et al., GNMT, 2016);
// - megatron: Megatron-LM tensor parallelism (Shoeybi et al., 2019): linear pairs split
//   column- then row-parallel and attention split by heads within a node, data parallel
//   across nodes.

import type { Mesh } from "../core/mesh.js";
import { gridCoords } from "../core/region.js";
import type { OpRole } from "../ops/contract.js";
import { hasRole } from "../ops/properties.js";
import { getOp } from "../ops/registry.js";
import type { Graph, OpNode } from "./graph.js";
import type { OpConfig, Strategy } from "./strategy.js";

export type BaselineKind = "dp" | "mp" | "expert" | "megatron";
export const BASELINE_KINDS: readonly BaselineKind[] = ["dp", "mp", "expert", "megatron"];

/** Whether the op's entry declares layer role `role` (fully connected, sequence, ...). */
function playsRole(op: OpNode, role: OpRole): boolean {
  return hasRole(getOp(op.op), role);
}

// ------------------------------------------------------------------ mesh and dim helpers

/**
 * The mesh's nodes: devices grouped by their lowest group (same `path`), in device order.
 * A flat mesh is one node.
 */
export function meshNodes(mesh: Mesh): number[][] {
  const byPath = new Map<string, number[]>();
  for (const d of [...mesh.devices].sort((a, b) => a.index - b.index)) {
    const key = d.path.join("/");
    const g = byPath.get(key);
    if (g) g.push(d.index);
    else byPath.set(key, [d.index]);
  }
  return [...byPath.values()];
}

/** The largest divisor of `size` that is at most `cap` (1 when nothing larger fits). */
export function largestDivisorAtMost(size: number, cap: number): number {
  for (let d = Math.min(size, cap); d > 1; d--) if (size % d === 0) return d;
  return 1;
}

function splittable(op: OpNode, i: number): boolean {
  return i >= 0 && op.sig.space[i].splittable !== false;
}

/** Index of the op's (first) sample dim, or -1. */
export function sampleDim(op: OpNode): number {
  const i = op.sig.space.findIndex((d) => d.cls === "sample");
  return splittable(op, i) ? i : -1;
}

function firstDimOfClass(op: OpNode, cls: "parameter" | "reduction"): number {
  const i = op.sig.space.findIndex((d) => d.cls === cls);
  return splittable(op, i) ? i : -1;
}

/** The dim that addresses the last axis of the op's first output (the feature axis), or -1. */
function featureDim(op: OpNode): number {
  const maps = op.sig.outputMaps[0];
  const last = maps?.[maps.length - 1];
  return last && last.kind === "iter" && splittable(op, last.dim) ? last.dim : -1;
}

/**
 * A config from a degree per dim (absent dims: 1) and a placement of each task, given by
 * its per-dim coordinates. Tasks are numbered row-major over the degrees, as everywhere.
 */
function gridConfig(op: OpNode, degrees: ReadonlyMap<number, number>, place: (coords: number[]) => number): OpConfig {
  const ds = op.sig.space.map((_, i) => degrees.get(i) ?? 1);
  const n = ds.reduce((a, b) => a * b, 1);
  const devices: number[] = [];
  for (let t = 0; t < n; t++) devices.push(place(gridCoords(t, ds)));
  return { degrees: ds, devices };
}

function whole(op: OpNode, device: number): OpConfig {
  return { degrees: op.sig.space.map(() => 1), devices: [device] };
}

/** Data parallel over `devices`: the sample dim split evenly over as many of them as divide it. */
function dpConfig(op: OpNode, devices: readonly number[]): OpConfig {
  const s = sampleDim(op);
  if (s < 0) return op.inputs.length === 0 ? shardedWeightConfig(op, devices) : whole(op, devices[0]);
  const d = largestDivisorAtMost(op.sig.space[s].size, devices.length);
  return gridConfig(op, new Map([[s, d]]), (c) => devices[c[s]]);
}

/**
 * A weight source (a `param` op: no inputs, no sample dim) under data parallelism: its
 * largest-splitting dim spread over all devices. Its consumers then gather it and send
 * their gradients back in balanced pieces: the traffic of an all-gather plus a
 * reduce-scatter, i.e. of data parallelism's all-reduce (ZeRO-3's layout). Placing it
 * whole on one device would instead make that device a parameter server for every replica.
 */
function shardedWeightConfig(op: OpNode, devices: readonly number[]): OpConfig {
  let best = -1;
  let bestDegree = 1;
  op.sig.space.forEach((d, i) => {
    if (d.splittable === false) return;
    const k = largestDivisorAtMost(d.size, devices.length);
    if (k > bestDegree) {
      best = i;
      bestDegree = k;
    }
  });
  if (best < 0) return whole(op, devices[0]);
  return gridConfig(op, new Map([[best, bestDegree]]), (c) => devices[c[best]]);
}

/**
 * Two-level split: the sample dim across nodes (one sample part per node) and dim `inner`
 * across the first devices of each node. Task (a, b) runs on device b of node a.
 */
function nodeGridConfig(op: OpNode, nodes: readonly number[][], inner: number): OpConfig {
  const s = sampleDim(op);
  const perNode = Math.min(...nodes.map((n) => n.length));
  const degrees = new Map<number, number>();
  const sd = s >= 0 ? largestDivisorAtMost(op.sig.space[s].size, nodes.length) : 1;
  if (s >= 0) degrees.set(s, sd);
  const td = inner >= 0 && inner !== s ? largestDivisorAtMost(op.sig.space[inner].size, perNode) : 1;
  if (td > 1) degrees.set(inner, td);
  return gridConfig(op, degrees, (c) => nodes[s >= 0 ? c[s] : 0][td > 1 ? c[inner] : 0]);
}

/** Same as nodeGridConfig, but the inner position is a fixed device slot of each node. */
function nodeSlotConfig(op: OpNode, nodes: readonly number[][], slot: number): OpConfig {
  const s = sampleDim(op);
  const sd = s >= 0 ? largestDivisorAtMost(op.sig.space[s].size, nodes.length) : 1;
  return gridConfig(op, s >= 0 ? new Map([[s, sd]]) : new Map(), (c) => nodes[s >= 0 ? c[s] : 0][slot]);
}

function opFlops(op: OpNode): number {
  const f = op.sig.flops(op.sig.space.map((d) => d.size));
  return f.forward + f.backward;
}

/**
 * Splits `weights` (in order) into `k` non-empty contiguous stages minimising the largest
 * stage sum (the classic linear-partition DP; the crossing point of the two monotone terms
 * is found by binary search, O(k·m·log m)). Returns the stage index of each item.
 */
export function balancedStages(weights: readonly number[], k: number): number[] {
  const m = weights.length;
  if (m === 0) return [];
  k = Math.max(1, Math.min(k, m));
  const P = [0];
  for (const w of weights) P.push(P[P.length - 1] + w);
  // dp[j][i]: best bottleneck for the first i items in j+1 stages; cut[j][i]: start of the last stage.
  const dp: number[][] = [P.slice()];
  const cut: number[][] = [new Array<number>(m + 1).fill(0)];
  for (let j = 1; j < k; j++) {
    const prev = dp[j - 1];
    const row = new Array<number>(m + 1).fill(Infinity);
    const cuts = new Array<number>(m + 1).fill(0);
    for (let i = j + 1; i <= m; i++) {
      // p ∈ [j, i-1]: prev[p] grows with p, P[i] - P[p] shrinks; the optimum is at their crossing.
      let lo = j;
      let hi = i - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (prev[mid] >= P[i] - P[mid]) hi = mid;
        else lo = mid + 1;
      }
      let bestP = lo;
      let best = Math.max(prev[lo], P[i] - P[lo]);
      if (lo - 1 >= j) {
        const alt = Math.max(prev[lo - 1], P[i] - P[lo - 1]);
        if (alt <= best) {
          best = alt;
          bestP = lo - 1;
        }
      }
      row[i] = best;
      cuts[i] = bestP;
    }
    dp.push(row);
    cut.push(cuts);
  }
  const stage = new Array<number>(m).fill(0);
  let end = m;
  for (let j = k - 1; j >= 1; j--) {
    const start = cut[j][end];
    for (let t = start; t < end; t++) stage[t] = j;
    end = start;
  }
  return stage;
}

/** FLOP weights for stage balancing; all-zero graphs balance by op count instead. */
function stageWeights(ops: readonly OpNode[]): number[] {
  const w = ops.map(opFlops);
  return w.some((x) => x > 0) ? w : ops.map(() => 1);
}

function strategyOf(name: string, graph: Graph, mesh: Mesh, configs: Map<string, OpConfig>): Strategy {
  const ops: Record<string, OpConfig> = {};
  for (const o of graph.topoOrder()) ops[o.name] = configs.get(o.name)!;
  return { name, model: graph.name, mesh: mesh.name, ops };
}

function allDevices(mesh: Mesh): number[] {
  return mesh.devices.map((d) => d.index).sort((a, b) => a - b);
}

// ------------------------------------------------------------------ the baselines

/**
 * Data parallelism: every op splits its sample dim into the largest divisor of the batch
 * that is at most the number of devices, tasks on devices 0..d-1 (in mesh order, so that
 * neighbouring replicas share a node). An op without a (splittable) sample dim runs whole
 * on device 0: a SOAP config cannot replicate an op, and such ops are rare (weight-only).
 */
export function dataParallel(graph: Graph, mesh: Mesh): Strategy {
  const devices = allDevices(mesh);
  const configs = new Map(graph.topoOrder().map((o) => [o.name, dpConfig(o, devices)]));
  return strategyOf("dp", graph, mesh, configs);
}

/**
 * Layer-wise model parallelism: ops in topological order, each placed whole (all degrees
 * 1), cut into min(devices, ops) contiguous stages whose FLOPs (forward + backward) are
 * balanced (the largest stage is as small as possible); stage i runs on device i.
 */
export function modelParallel(graph: Graph, mesh: Mesh): Strategy {
  const order = graph.topoOrder();
  const devices = allDevices(mesh);
  const stage = balancedStages(stageWeights(order), devices.length);
  const configs = new Map(order.map((o, i) => [o.name, whole(o, devices[stage[i]])]));
  return strategyOf("mp", graph, mesh, configs);
}

/**
 * FlexFlow's expert-designed strategies (§8 of the FlexFlow paper):
 * - fully connected layers (role `fully-connected`) are parameter parallel: their first parameter dim
 *   (linear's `channel`) is split over the devices of a node, their sample dim across
 *   nodes (Krizhevsky's "one weird trick": model parallelism where the weights are);
 * - sequence layers (role `sequence`: lstm, embedding, attention, ...) are placed layer by
 *   layer: in topological order they form min(devices per node, count) contiguous stages
 *   balanced by FLOPs, stage i on device i of each node, sample split across nodes (GNMT);
 * - everything else (conv, pool, norm, elementwise, losses) is data parallel over all devices.
 */
export function expert(graph: Graph, mesh: Mesh): Strategy {
  const order = graph.topoOrder();
  const devices = allDevices(mesh);
  const nodes = meshNodes(mesh);
  const perNode = Math.min(...nodes.map((n) => n.length));
  const seq = order.filter((o) => playsRole(o, "sequence"));
  const seqStage = new Map<string, number>();
  balancedStages(stageWeights(seq), perNode).forEach((s, i) => seqStage.set(seq[i].name, s));
  const configs = new Map<string, OpConfig>();
  for (const o of order) {
    const param = firstDimOfClass(o, "parameter");
    if (seqStage.has(o.name)) configs.set(o.name, nodeSlotConfig(o, nodes, seqStage.get(o.name)!));
    else if (playsRole(o, "fully-connected") && param >= 0) configs.set(o.name, nodeGridConfig(o, nodes, param));
    else configs.set(o.name, dpConfig(o, devices));
  }
  return strategyOf("expert", graph, mesh, configs);
}

/** The single-consumer producer op of input 0 of `op`, if any. */
function soleProducer(graph: Graph, op: OpNode): OpNode | undefined {
  const t = graph.tensor(op.inputs[0]);
  if (!t.producer || t.consumers.length !== 1) return undefined;
  return graph.op(t.producer.op);
}

/**
 * Megatron-LM tensor parallelism (Shoeybi et al. 2019, §3), within each node of the mesh:
 * - an attention op (role `attention-heads`) splits its `heads` dim (its Q/K/V projections are
 *   then column-parallel and its output projection row-parallel, as in Megatron);
 * - a pair of fully connected ops joined through passthrough ops only (the MLP block:
 *   linear → gelu → linear) is split column-parallel (the first's parameter dim, `channel`)
 *   then row-parallel (the second's reduction dim, `in_channel`); the ops between them split
 *   their feature dim the same way, so the hidden activation never moves;
 * - a fully connected op in no pair is column-parallel;
 * the tensor-parallel degree is the largest divisor of the split dim that fits in a node,
 * and every op's sample dim is split across nodes (data parallelism between nodes).
 * Everything else runs data parallel across nodes, one task per node on its first device:
 * Megatron replicates these ops inside the tensor-parallel group, which a SOAP config cannot
 * express; one task per node does the same work per device as one replica.
 */
export function megatron(graph: Graph, mesh: Mesh): Strategy {
  const order = graph.topoOrder();
  const nodes = meshNodes(mesh);
  const tp = tensorParallelDims(graph);
  const configs = new Map<string, OpConfig>();
  for (const o of order) configs.set(o.name, tp.has(o.name) ? nodeGridConfig(o, nodes, tp.get(o.name)!) : nodeSlotConfig(o, nodes, 0));
  return strategyOf("megatron", graph, mesh, configs);
}

/**
 * Megatron-LM's tensor-parallel split (the rules above): the dim each tensor-parallel op
 * splits, by op name; ops not in the map are not tensor-parallel. Shared with the
 * pipeline-parallel Megatron configurations (src/ir/megatron.ts).
 */
export function tensorParallelDims(graph: Graph): Map<string, number> {
  const order = graph.topoOrder();
  /** Dim to split within the node, per op that is tensor-parallel. */
  const tp = new Map<string, number>();
  const fc = (o: OpNode) => playsRole(o, "fully-connected") && !tp.has(o.name);
  const column = (o: OpNode) => {
    if (fc(o) && firstDimOfClass(o, "parameter") >= 0) tp.set(o.name, firstDimOfClass(o, "parameter"));
  };
  const row = (o: OpNode) => {
    if (fc(o) && firstDimOfClass(o, "reduction") >= 0) tp.set(o.name, firstDimOfClass(o, "reduction"));
  };

  for (const o of order) {
    if (!playsRole(o, "attention-heads")) continue;
    const head = o.sig.space.findIndex((d) => /^heads?$/.test(d.name));
    if (splittable(o, head)) tp.set(o.name, head);
  }

  for (const second of order) {
    if (!fc(second) || firstDimOfClass(second, "reduction") < 0) continue;
    const between: OpNode[] = [];
    let cur = soleProducer(graph, second);
    while (cur && playsRole(cur, "passthrough") && cur.inputs.length === 1 && featureDim(cur) >= 0 && !tp.has(cur.name)) {
      between.push(cur);
      cur = soleProducer(graph, cur);
    }
    if (cur && fc(cur) && firstDimOfClass(cur, "parameter") >= 0) {
      column(cur);
      row(second);
      for (const b of between) tp.set(b.name, featureDim(b));
    }
  }
  for (const o of order) column(o);
  return tp;
}

export function baseline(kind: BaselineKind, graph: Graph, mesh: Mesh): Strategy {
  switch (kind) {
    case "dp":
      return dataParallel(graph, mesh);
    case "mp":
      return modelParallel(graph, mesh);
    case "expert":
      return expert(graph, mesh);
    case "megatron":
      return megatron(graph, mesh);
  }
}
