// Exact dynamic programming over chains (OptCNN, Jia et al., ICML 2018), the search's
// cross-check.
//
// A chain: ops o1 → o2 → … → ok where each op after the first reads exactly one op-produced
// tensor, the previous op's (graph inputs such as labels may be read anywhere), and every op
// but the last feeds only the next. On a chain OptCNN's cost is additive:
//   cost = Σ node(oi, ci) + Σ edge(oi, ci, oi+1, ci+1)
// with, from the SAME SimCosts the simulator uses:
//   node  the busiest device's forward + backward compute of the op's tasks, the slowest
//         partial-sum reduction (remote partials transferred to the owner, then added),
//         the slowest weight-gradient all-reduce and the slowest optimizer update;
//   edge  the slowest consumer task's input transfers from producer holders on other
//         devices, counted twice (activations forward, their gradients backward).
// This is not the simulator's makespan (which overlaps compute and transfers across ops);
// it is the decomposable model the DP optimises exactly. So the DP is checked against an
// exhaustive search under this same additive cost (exhaustive.ts, objective "chain"), and
// its strategy is one more MCMC seed on chains.

import type { Mesh } from "../core/mesh.js";
import { Diagnostics } from "../core/diagnostics.js";
import { intersect, regionVolume, type Region } from "../core/region.js";
import { dtypeBytes } from "../core/tensor.js";
import type { Graph, OpNode } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import { LayoutCache } from "../layout/cache.js";
import { sumsPartials } from "../layout/flow.js";
import { holders, shardGroup, type Held } from "../layout/placement.js";
import type { SimCosts } from "../sim/costs.js";
import type { SearchSpace } from "./space.js";

/** The chain's ops in order, or undefined when the graph is not a chain. */
export function chainOps(graph: Graph): OpNode[] | undefined {
  const ops = graph.topoOrder();
  for (let i = 0; i < ops.length; i++) {
    const producers = ops[i].inputs.map((t) => graph.tensor(t).producer?.op).filter((p): p is string => p !== undefined);
    if (i === 0 ? producers.length !== 0 : producers.length !== 1 || producers[0] !== ops[i - 1].name) return undefined;
    const consumers = new Set(ops[i].outputs.flatMap((t) => graph.tensor(t).consumers.map((c) => c.op)));
    if (i < ops.length - 1 ? consumers.size !== 1 || !consumers.has(ops[i + 1].name) : consumers.size !== 0) return undefined;
  }
  return ops;
}

/** OptCNN's additive cost of chain strategies, with the simulator's SimCosts. */
export class ChainCost {
  private readonly nodeCache = new Map<string, number>();
  private readonly layouts: LayoutCache;

  constructor(readonly graph: Graph, readonly mesh: Mesh, readonly costs: SimCosts) {
    this.layouts = LayoutCache.of(graph);
  }

  node(op: OpNode, cfg: OpConfig): number {
    const key = `${op.name}|${cfg.degrees.join(",")}|${cfg.devices.join(",")}`;
    const hit = this.nodeCache.get(key);
    if (hit !== undefined) return hit;
    const L = this.layouts.layout(op, cfg.degrees);
    const busy = new Map<number, number>();
    for (let t = 0; t < cfg.devices.length; t++) {
      const dev = cfg.devices[t];
      const c = this.costs.compute(op, L.extents[L.extentOf[t]], dev);
      busy.set(dev, (busy.get(dev) ?? 0) + c.forward + c.backward);
    }
    let compute = 0;
    for (const b of busy.values()) compute = Math.max(compute, b);
    // Partial sums of each output group (as the simulator adds them): the partials on
    // other devices travel to the owner, then it adds them all.
    let reduce = 0;
    L.groups.forEach((groups, o) => {
      if (!sumsPartials(this.graph, op, o)) return;
      const bytes = (g: { volume: number }) => g.volume * dtypeBytes(op.sig.outputs[o].dtype);
      for (const g of groups) {
        if (g.partials.length === 1) continue;
        const owner = cfg.devices[g.owner];
        let xfer = 0;
        for (const p of g.partials) if (cfg.devices[p] !== owner) xfer = Math.max(xfer, this.costs.transfer(bytes(g), cfg.devices[p], owner));
        reduce = Math.max(reduce, xfer + this.costs.partialSum(bytes(g), g.partials.length, owner));
      }
    });
    let sync = 0;
    let update = 0;
    const paramDtype = op.inputs.map((t) => this.graph.tensor(t).type).find((x) => x.dtype !== "i32" && x.dtype !== "i64")?.dtype ?? "f32";
    L.shards.forEach((shards, p) => {
      const elem = dtypeBytes(op.sig.params[p].dtype ?? paramDtype);
      for (const shard of shards) {
        const devs = shardGroup(shard, cfg.devices);
        const bytes = shard.volume * elem;
        if (devs.length > 1) sync = Math.max(sync, this.costs.allReduce(bytes, devs));
        for (const d of devs) update = Math.max(update, this.costs.update(bytes, d));
      }
    });
    const total = compute + reduce + sync + update;
    this.nodeCache.set(key, total);
    return total;
  }

  /** Transfer time from producer `a` (config ca) into consumer `b` (config cb), forward and backward. */
  // Holders and input regions depend on one op's config only: cached, as the DP asks for
  // every (producer config, consumer config) pair.
  private readonly holderCache = new Map<string, Held[]>();
  private readonly inputCache = new Map<string, Region[][]>();

  private cachedHolders(op: OpNode, cfg: OpConfig, o: number): Held[] {
    const key = `${op.name}|${o}|${cfg.degrees.join(",")}|${cfg.devices.join(",")}`;
    let h = this.holderCache.get(key);
    if (!h) this.holderCache.set(key, (h = holders(this.layouts.layout(op, cfg.degrees), cfg.devices, o)));
    return h;
  }

  /** Per task, per input: the region it reads. */
  private taskInputs(op: OpNode, cfg: OpConfig): Region[][] {
    const key = `${op.name}|${cfg.degrees.join(",")}`;
    let r = this.inputCache.get(key);
    if (!r) {
      const L = this.layouts.layout(op, cfg.degrees);
      r = [];
      for (let t = 0; t < L.count; t++) r.push(L.inputs.map((regions) => regions[t]));
      this.inputCache.set(key, r);
    }
    return r;
  }

  edge(a: OpNode, ca: OpConfig, b: OpNode, cb: OpConfig): number {
    const inputs = this.taskInputs(b, cb);
    let worst = 0;
    for (let t = 0; t < cb.devices.length; t++) {
      const dev = cb.devices[t];
      let time = 0;
      b.inputs.forEach((tid, i) => {
        const p = this.graph.tensor(tid).producer;
        if (!p || p.op !== a.name) return;
        const hs = this.cachedHolders(a, ca, p.output);
        const bytesPer = dtypeBytes(this.graph.tensor(tid).type.dtype);
        for (const h of hs) {
          if (h.device === dev) continue;
          const common = intersect(inputs[t][i], h.region);
          if (common) time += this.costs.transfer(regionVolume(common) * bytesPer, h.device, dev);
        }
      });
      worst = Math.max(worst, time);
    }
    return 2 * worst;
  }

  /** The additive cost of a whole chain strategy (same summation order as the DP). */
  total(chain: readonly OpNode[], ops: Record<string, OpConfig>): number {
    let acc = this.node(chain[0], ops[chain[0].name]);
    for (let i = 1; i < chain.length; i++) {
      acc = acc + this.edge(chain[i - 1], ops[chain[i - 1].name], chain[i], ops[chain[i].name]) + this.node(chain[i], ops[chain[i].name]);
    }
    return acc;
  }
}

export interface ChainDpResult {
  strategy: Strategy;
  /** The additive chain cost of `strategy` (seconds). */
  cost: number;
  /** Configs considered per op. */
  configs: number[];
}

/**
 * The strategy minimising ChainCost over the space's configs (exact). Reports PAR7004 and
 * returns undefined when the graph is not a chain.
 */
export function chainDp(graph: Graph, mesh: Mesh, costs: SimCosts, space: SearchSpace, diagnostics: Diagnostics = new Diagnostics()): ChainDpResult | undefined {
  const chain = chainOps(graph);
  if (!chain || chain.length === 0) {
    diagnostics.error("PAR7004", `model \`${graph.name}\` is not a chain (some op reads several earlier ops or feeds several later ones), so the chain DP does not apply`, {
      hint: "use the MCMC search (searchStrategy) or, for a tiny graph, the exhaustive search",
    });
    return undefined;
  }
  const model = new ChainCost(graph, mesh, costs);
  const configs = chain.map((op) => space.enumerateConfigs(op));
  // best[i][c]: cheapest prefix o1..oi with oi in config c; back[i][c]: the argmin of o(i-1).
  let best = configs[0].map((c) => model.node(chain[0], c));
  const back: number[][] = [[]];
  for (let i = 1; i < chain.length; i++) {
    const next: number[] = [];
    const arg: number[] = [];
    for (const c of configs[i]) {
      let m = Infinity;
      let am = 0;
      configs[i - 1].forEach((p, j) => {
        const v = best[j] + model.edge(chain[i - 1], p, chain[i], c);
        if (v < m) {
          m = v;
          am = j;
        }
      });
      next.push(m + model.node(chain[i], c));
      arg.push(am);
    }
    best = next;
    back.push(arg);
  }
  let k = 0;
  for (let j = 1; j < best.length; j++) if (best[j] < best[k]) k = j;
  const ops: Record<string, OpConfig> = {};
  for (let i = chain.length - 1; i >= 0; i--) {
    ops[chain[i].name] = configs[i][k];
    if (i > 0) k = back[i][k];
  }
  return {
    strategy: { name: "chain-dp", model: graph.name, mesh: mesh.name, ops },
    cost: model.total(chain, ops),
    configs: configs.map((c) => c.length),
  };
}
