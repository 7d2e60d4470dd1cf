// The scale search's space (docs/scale.md, "Search"): every way to use all N devices of the
// mesh as t-way tensor parallelism inside a node × p pipeline groups × d data-parallel
// replicas (t·p·d = N), with micro-batches of b samples, a schedule (1F1B, or interleaved
// with v virtual stages), a ZeRO stage, a recomputation mode and a placement for the ops
// outside tensor parallelism. Each candidate is a Megatron-style configuration
// (src/ir/megatron.ts) whose repeated block is configured once and reused for every copy.
//
// Candidates are ordered by a closed-form estimate of their step time (compute at the
// devices' 16-bit peak, stretched by the pipeline bubble (p − 1)/(v·M) and recomputation,
// plus tensor-parallel and data-parallel communication over the mesh's links), so that the
// budget goes to the promising ones first; the simulator decides. Candidates whose weights,
// gradients and optimizer state alone exceed a device's memory are left out.

import type { Mesh } from "../../core/mesh.js";
import { bytesPerWeight } from "../../cost/scale-memory.js";
import type { Optimizer } from "../../cost/memory.js";
import { meshNodes } from "../../ir/baselines.js";
import type { Graph } from "../../ir/graph.js";
import type { MegatronAnalysis, MegatronConfig, RecomputeMode } from "../../ir/megatron.js";
import type { Precision, ZeroStage } from "../../ir/strategy.js";
import { stepFlops } from "../evaluate-scale.js";

export interface Candidate {
  config: MegatronConfig;
  /** Closed-form step-time estimate, seconds (ordering only). */
  estimate: number;
  /** Closed-form model-state bytes per device (weights, gradients, optimizer). */
  states: number;
}

export interface SpaceFacts {
  devices: number;
  perNode: number;
  params: number;
  flops: number;
  /** Bytes of one sample's block output (the activation crossing layers), in the compute precision. */
  sampleActivation: number;
  capacity: number;
  peak: number;
  intra: number;
  inter: number;
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (n % i === 0) out.push(i);
  return out;
}

export function spaceFacts(graph: Graph, mesh: Mesh, a: MegatronAnalysis, precision: Precision): SpaceFacts {
  const nodes = meshNodes(mesh);
  const spec = mesh.devices[0].spec;
  let params = 0;
  for (const op of graph.ops.values()) for (const p of op.sig.params) params += p.shape.reduce((x, y) => x * y, 1);
  let sampleActivation = 0;
  if (a.blocks) {
    const out = a.order[a.blocks.start + a.blocks.period - 1].sig.outputs[0];
    sampleActivation = (out.shape.reduce((x, y) => x * y, 1) / a.batch) * (precision === "f32" ? 4 : 2);
  }
  const linkOf = (depth: number) => {
    let g = mesh.root;
    for (let i = 0; i < depth && g.children.length; i++) g = g.children[0];
    return g.link?.bandwidth ?? Infinity;
  };
  const depth = mesh.devices[0].path.length;
  return {
    devices: mesh.devices.length,
    perNode: nodes[0].length,
    params,
    flops: stepFlops(graph),
    sampleActivation,
    capacity: spec.memoryBytes,
    peak: spec.peakFlops[precision] ?? spec.peakFlops.f32 ?? 1e12,
    intra: linkOf(depth),
    inter: depth > 0 ? linkOf(depth - 1) : linkOf(depth),
  };
}

const RECOMPUTE_FACTOR: Record<RecomputeMode, number> = { none: 1, selective: 1.05, full: 4 / 3 };

export function estimate(c: MegatronConfig, f: SpaceFacts, a: MegatronAnalysis, optimizer: Optimizer, precision: Precision): Candidate {
  const { tensor: t, pipeline: p, data: d, microbatchSize: b } = c;
  const M = a.batch / (d * b);
  const v = c.schedule === "interleaved" ? (c.virtual ?? 2) : 1;
  const layers = a.blocks?.count ?? 1;
  const compute = (f.flops / (f.devices * f.peak * 0.6)) * RECOMPUTE_FACTOR[c.recompute ?? "none"];
  const bubble = (p - 1) / (v * M);
  // Megatron's rest-on-one-device keeps element-wise work un-split: a small penalty per t.
  const rest = c.rest === "sequence" ? 1 : 1 + 0.04 * (t - 1);
  const tp = t > 1 ? ((layers / p) * M * 4 * 2 * ((t - 1) / t) * b * f.sampleActivation) / f.intra : 0;
  const shard = f.params / (t * p);
  const gradBytes = shard * (precision === "f32" ? 4 : 2);
  const zeroExtra = (c.zero ?? 0) >= 3 ? 3 * M : (c.zero ?? 0) >= 1 ? 1 : 0;
  const dp = d > 1 ? ((2 * ((d - 1) / d) * gradBytes) / f.inter) * (1 + zeroExtra / 2) : 0;
  const pp = p > 1 ? (2 * M * v * b * f.sampleActivation) / t / f.inter : 0;
  const per = bytesPerWeight(precision, optimizer);
  const z = c.zero ?? 0;
  const states = shard * (per.weights / (z >= 3 ? d : 1) + per.gradients / (z >= 2 ? d : 1) + per.optimizer / (z >= 1 ? d : 1));
  return { config: c, estimate: compute * rest * (1 + bubble) + tp + dp + pp, states };
}

export interface SpaceOptions {
  optimizer: Optimizer;
  precision: Precision;
}

/** Every candidate of the space that could fit, best estimate first (ties: a fixed order of the sizes). */
export function candidates(graph: Graph, mesh: Mesh, a: MegatronAnalysis, o: SpaceOptions): Candidate[] {
  const f = spaceFacts(graph, mesh, a, o.precision);
  const N = f.devices;
  const L = a.blocks?.count ?? 0;
  const out: Candidate[] = [];
  for (const t of divisors(f.perNode)) {
    if (N % t !== 0) continue;
    for (const p of divisors(N / t)) {
      if (p > 1 && p > L) continue;
      const d = N / (t * p);
      if (a.batch % d !== 0) continue;
      for (const b of divisors(a.batch / d)) {
        if (b > 32) break;
        const M = a.batch / (d * b);
        const schedules: { schedule: "1f1b" | "interleaved"; virtual?: number }[] = [{ schedule: "1f1b" }];
        if (p > 1 && M % p === 0) for (const v of [2, 3, 4]) if (L % (p * v) === 0) schedules.push({ schedule: "interleaved", virtual: v });
        const zeros: ZeroStage[] = p === 1 ? [0, 1, 2, 3] : [0, 1];
        for (const s of schedules) {
          for (const zero of zeros) {
            if (zero > 0 && d === 1) continue;
            for (const recompute of ["none", "selective", "full"] as RecomputeMode[]) {
              for (const rest of t > 1 ? (["sequence", "first"] as const) : (["first"] as const)) {
                const c: MegatronConfig = { tensor: t, pipeline: p, data: d, microbatchSize: b, ...s, zero, recompute, rest, precision: o.precision };
                const e = estimate(c, f, a, o.optimizer, o.precision);
                if (e.states <= f.capacity) out.push(e);
              }
            }
          }
        }
      }
    }
  }
  // Stable: equal estimates keep the enumeration order.
  return out.map((c, i) => ({ c, i })).sort((x, y) => x.c.estimate - y.c.estimate || x.i - y.i).map((x) => x.c);
}
