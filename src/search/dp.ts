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
import { intersect, partRegion, regionVolume, type Region } from "../core/region.js";
import { dtypeBytes } from "../core/tensor.js";
import type { Graph, OpNode } from "../ir/graph.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import { reductionDims, spaceSizes, taskRegions } from "../ops/regions.js";
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

interface Held {
  region: Region;
  device: number;
}

/** OptCNN's additive cost of chain strategies, with the simulator's SimCosts. */
export class ChainCost {
  private readonly nodeCache = new Map<string, number>();

  constructor(readonly graph: Graph, readonly mesh: Mesh, readonly costs: SimCosts) {}

  private shapes(op: OpNode): number[][] {
    return op.inputs.map((t) => this.graph.tensor(t).type.shape);
  }

  /** Where op's output `o` lives after forward (owners only, for split reductions). */
  private holders(op: OpNode, cfg: OpConfig, o: number): Held[] {
    const sizes = spaceSizes(op.sig);
    const red = reductionDims(op.sig);
    const out: Held[] = [];
    for (let t = 0; t < cfg.devices.length; t++) {
      const box = partRegion(sizes, cfg.degrees, t);
      if (red.some((d) => box.lo[d] !== 0)) continue;
      out.push({ region: taskRegions(op.sig, this.shapes(op), box).outputs[o], device: cfg.devices[t] });
    }
    return out;
  }

  node(op: OpNode, cfg: OpConfig): number {
    const key = `${op.name}|${cfg.degrees.join(",")}|${cfg.devices.join(",")}`;
    const hit = this.nodeCache.get(key);
    if (hit !== undefined) return hit;
    const sizes = spaceSizes(op.sig);
    const red = reductionDims(op.sig);
    const shapes = this.shapes(op);
    const busy = new Map<number, number>();
    const shards = new Map<string, { bytes: number; devices: Set<number> }>();
    const partials = new Map<string, { bytes: number; owner: number; from: number[] }>();
    let update = 0;
    const paramDtype = op.inputs.map((t) => this.graph.tensor(t).type).find((x) => x.dtype !== "i32" && x.dtype !== "i64")?.dtype ?? "f32";
    for (let t = 0; t < cfg.devices.length; t++) {
      const box = partRegion(sizes, cfg.degrees, t);
      const dev = cfg.devices[t];
      const c = this.costs.compute(op, box.hi.map((h, i) => h - box.lo[i]), dev);
      busy.set(dev, (busy.get(dev) ?? 0) + c.forward + c.backward);
      const regs = taskRegions(op.sig, shapes, box);
      regs.params.forEach((r, p) => {
        const k = `${p}|${r.lo.join(",")}:${r.hi.join(",")}`;
        const s = shards.get(k) ?? { bytes: regionVolume(r) * dtypeBytes(op.sig.params[p].dtype ?? paramDtype), devices: new Set<number>() };
        s.devices.add(dev);
        shards.set(k, s);
      });
      if (red.length) {
        regs.outputs.forEach((r, o) => {
          const k = `${o}|${r.lo.join(",")}:${r.hi.join(",")}`;
          const first = red.every((d) => box.lo[d] === 0);
          const p = partials.get(k) ?? { bytes: regionVolume(r) * dtypeBytes(op.sig.outputs[o].dtype), owner: -1, from: [] };
          if (first) p.owner = dev;
          else p.from.push(dev);
          partials.set(k, p);
        });
      }
    }
    let compute = 0;
    for (const b of busy.values()) compute = Math.max(compute, b);
    let reduce = 0;
    for (const p of partials.values()) {
      if (p.from.length === 0) continue;
      let xfer = 0;
      for (const src of p.from) if (src !== p.owner) xfer = Math.max(xfer, this.costs.transfer(p.bytes, src, p.owner));
      reduce = Math.max(reduce, xfer + this.costs.partialSum(p.bytes, p.from.length + 1, p.owner));
    }
    let sync = 0;
    for (const s of shards.values()) {
      const devs = [...s.devices].sort((a, b) => a - b);
      if (devs.length > 1) sync = Math.max(sync, this.costs.allReduce(s.bytes, devs));
      for (const d of devs) update = Math.max(update, this.costs.update(s.bytes, d));
    }
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
    if (!h) this.holderCache.set(key, (h = this.holders(op, cfg, o)));
    return h;
  }

  private taskInputs(op: OpNode, cfg: OpConfig): Region[][] {
    const key = `${op.name}|${cfg.degrees.join(",")}`;
    let r = this.inputCache.get(key);
    if (!r) {
      const sizes = spaceSizes(op.sig);
      const shapes = this.shapes(op);
      r = [];
      for (let t = 0; t < cfg.devices.length; t++) r.push(taskRegions(op.sig, shapes, partRegion(sizes, cfg.degrees, t)).inputs);
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
