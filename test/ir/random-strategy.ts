// Random valid strategies for property tests: per op, random degrees (uneven splits
// included, unsplittable dims kept at 1, at most 8 tasks) and random devices of the mesh.
import type { Mesh } from "../../src/core/mesh.js";
import type { Graph } from "../../src/ir/graph.js";
import { replicaZeroDevices } from "../../src/ir/strategy-replicas.js";
import { batchSize } from "../../src/ir/strategy-stages.js";
import { recomputable } from "../../src/ir/strategy-validate-scale.js";
import type { PipelineSchedule, Strategy, ZeroStage } from "../../src/ir/strategy.js";
import { rng } from "../support/sharded.js";
import { testMesh } from "./fixtures.js";

export function randomStrategy(graph: Graph, deviceCount: number, seed: number, name = "rand"): Strategy {
  const next = rng(seed);
  const pick = (n: number) => Math.floor(next() * n);
  const ops: Strategy["ops"] = {};
  for (const op of graph.topoOrder()) {
    let tasks = 1;
    const degrees = op.sig.space.map((d) => {
      if (d.splittable === false || next() < 0.4) return 1;
      const deg = 1 + pick(Math.min(d.size, Math.floor(8 / tasks)));
      tasks *= deg;
      return deg;
    });
    // Half the ops keep the default placement 0..n-1 (when it fits), the rest are random.
    const devices = tasks <= deviceCount && next() < 0.5 ? Array.from({ length: tasks }, (_, i) => i) : Array.from({ length: tasks }, () => pick(deviceCount));
    ops[op.name] = { degrees, devices };
  }
  return { name, model: graph.name, mesh: `test1x${deviceCount}`, ops };
}

const SCHEDULES: PipelineSchedule[] = ["gpipe", "1f1b", "interleaved"];

/** A flat test mesh whose devices have f32, bf16 and f16 peaks (so no precision is warned about). */
export function scaleTestMesh(devices: number): Mesh {
  const mesh = testMesh(1, devices);
  for (const d of mesh.devices) d.spec = { ...d.spec, peakFlops: { f32: 1e12, bf16: 4e12, f16: 4e12 } };
  return mesh;
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/**
 * A random valid strategy that uses the large-scale fields: replicas (count and offset
 * laid out so that images stay distinct and in the mesh), a pipeline (random contiguous
 * stages on disjoint random device groups, any schedule; interleaved with v ≥ 2), ZeRO
 * (only with replicas, so it is never warned about), recomputed ops and a precision. Op
 * configs split each sample dim at most to one micro-batch of one replica and place tasks
 * on their stage's devices (half of them on the default: the first n of the pool).
 */
export function randomScaleStrategy(graph: Graph, deviceCount: number, seed: number, name = "rand"): Strategy {
  const next = rng(seed ^ 0x5eed);
  const pick = (n: number) => Math.floor(next() * n);
  const choose = <T>(xs: readonly T[]): T => xs[pick(xs.length)];
  const order = graph.topoOrder();
  const batch = batchSize(graph) ?? 1;
  const strategy: Strategy = { name, model: graph.name, mesh: `test1x${deviceCount}`, ops: {} };

  // Replicas: R | batch, R ≤ devices; offset: contiguous blocks or interleaved.
  const R = next() < 0.5 ? choose(divisors(batch).filter((d) => d <= deviceCount)) : 1;
  let offset = 1;
  if (R > 1) {
    offset = next() < 0.5 ? Math.floor(deviceCount / R) : 1 + pick(Math.max(1, Math.floor(deviceCount / R)));
    strategy.replicas = { count: R, offset };
  }
  const pool = replicaZeroDevices(deviceCount, strategy.replicas).filter((d) => d + (R - 1) * offset < deviceCount);

  // Pipeline: M | batch / R; p device groups of the pool, k = p·v stages over the ops.
  let stageOf: number[] = order.map(() => 0);
  let stageDevs: number[][] = [pool];
  if (next() < 0.6) {
    const schedule = choose(SCHEDULES);
    const v = schedule === "interleaved" ? 2 + pick(2) : 1;
    const maxGroups = Math.min(pool.length, Math.floor(order.length / v));
    if (maxGroups >= 1) {
      const p = 1 + pick(maxGroups);
      const Ms = divisors(batch / R).filter((m) => schedule !== "interleaved" || m % p === 0);
      if (Ms.length > 0) {
        const M = choose(Ms);
        const k = p * v;
        // Cut points: k-1 distinct positions in 1..n-1.
        const cuts = new Set<number>();
        while (cuts.size < k - 1) cuts.add(1 + pick(order.length - 1));
        const starts = [0, ...[...cuts].sort((a, b) => a - b)];
        stageOf = order.map((_, i) => starts.filter((s) => s <= i).length - 1);
        // Device groups: a shuffled subset of the pool dealt into p non-empty groups.
        const shuffled = [...pool].sort(() => next() - 0.5).slice(0, p + pick(pool.length - p + 1));
        const groups: number[][] = Array.from({ length: p }, (_, g) => [shuffled[g]]);
        for (const d of shuffled.slice(p)) groups[pick(p)].push(d);
        stageDevs = Array.from({ length: k }, (_, s) => groups[s % p]);
        strategy.pipeline = {
          microbatches: M,
          schedule,
          stages: starts.map((start, s) => ({ first: order[start].name, last: order[(starts[s + 1] ?? order.length) - 1].name, devices: [...stageDevs[s]] })),
        };
        if (v > 1) strategy.pipeline.virtualStages = v;
      }
    }
  }
  const parts = R * (strategy.pipeline?.microbatches ?? 1);

  order.forEach((op, i) => {
    const devs = stageDevs[stageOf[i]];
    let tasks = 1;
    const degrees = op.sig.space.map((d) => {
      const cap = d.cls === "sample" ? d.size / parts : d.size;
      if (d.splittable === false || next() < 0.4) return 1;
      const deg = 1 + pick(Math.min(cap, Math.floor(8 / tasks)));
      tasks *= deg;
      return deg;
    });
    const devices = tasks <= devs.length && next() < 0.5 ? devs.slice(0, tasks) : Array.from({ length: tasks }, () => choose(devs));
    strategy.ops[op.name] = { degrees, devices };
  });
  if (R > 1 && next() < 0.7) strategy.zero = (1 + pick(3)) as ZeroStage;
  const recomputed = order.filter((o) => recomputable(o) && next() < 0.3).map((o) => o.name);
  if (recomputed.length > 0) strategy.recompute = recomputed;
  if (next() < 0.5) strategy.precision = choose(["bf16", "f16"] as const);
  return strategy;
}
