// Random large-scale strategies (replicas, pipelines under every schedule, ZeRO 0–3,
// recomputation) for the random graphs of random-cases.ts, as pure functions of integer
// seeds. The graph's batch is drawn to split evenly into replicas × micro-batches; every op
// config describes one micro-batch of replica 0 (sample-dim degrees at most its size) on
// the devices of its stage. The strategies are valid by construction, and the generator
// checks that with the validator, so a case the lowering refuses is a lowering bug.
import type { Mesh } from "../../src/core/mesh.js";
import type { Graph } from "../../src/ir/graph.js";
import type { PipelineSchedule, Strategy, ZeroStage } from "../../src/ir/strategy.js";
import { sampleDims } from "../../src/ir/strategy-stages.js";
import { hasDataParallelGroup, recomputable, scaleProblems } from "../../src/ir/strategy-validate-scale.js";
import { rng } from "../support/sharded.js";
import { randomGraph, type Family, type RandomCase } from "./random-cases.js";

export interface ScaleCaseSeeds {
  graphSeed: number;
  family: Family;
  strategySeed: number;
  /** Devices available (the mesh size). */
  devices: number;
}

/** A random graph of `family` and a random large-scale strategy for it on `devices` devices. */
export function randomScaleCase(a: ScaleCaseSeeds): RandomCase {
  const r = rng(a.strategySeed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const chance = (p: number) => r() < p;

  const replicas = a.devices >= 2 && chance(0.4) ? 2 : 1;
  const perReplica = Math.floor(a.devices / replicas);
  // The op count does not depend on the batch: the graph's shape of ops, before its batch is known.
  const opCount = randomGraph(a.graphSeed, a.family).topoOrder().length;
  // A pipeline needs at least two device groups; without one, ZeRO over replicas and sample splits.
  const piped = perReplica >= 2 && opCount >= 2 && chance(0.8);
  const groups = piped ? int(2, Math.min(4, perReplica, opCount)) : 1;
  let schedule: PipelineSchedule = pick(["gpipe", "1f1b", "interleaved"] as const);
  if (schedule === "interleaved" && (!piped || 2 * groups > opCount || 2 * groups > 8)) schedule = "1f1b";
  const virtual = schedule === "interleaved" ? 2 : 1;
  // Interleaving needs a multiple of the device groups.
  const microbatches = !piped ? 1 : schedule === "interleaved" ? groups * int(1, Math.floor(8 / groups)) : int(2, 8);
  const batch = replicas * microbatches * int(1, 2);
  const graph = randomGraph(a.graphSeed, a.family, batch);
  const order = graph.topoOrder();

  // Device groups of replica 0: contiguous blocks of 0..perReplica-1.
  const blocks: number[][] = Array.from({ length: groups }, () => []);
  for (let d = 0; d < perReplica; d++) blocks[d < groups ? d : int(0, groups - 1)].push(d);
  for (const b of blocks) b.sort((x, y) => x - y);
  const stageCount = groups * virtual;

  // Cut the ops into stageCount contiguous non-empty ranges.
  const cuts = new Set<number>();
  while (cuts.size < stageCount - 1) cuts.add(int(1, order.length - 1));
  const starts = [0, ...[...cuts].sort((x, y) => x - y)];
  const stageOf: number[] = [];
  starts.forEach((s, k) => {
    const end = k + 1 < starts.length ? starts[k + 1] : order.length;
    for (let i = s; i < end; i++) stageOf[i] = k;
  });

  const ops: Strategy["ops"] = {};
  order.forEach((o, i) => {
    const devices = blocks[stageOf[i] % groups];
    const samples = new Set(sampleDims(o));
    let tasks = 1;
    const degrees = o.sig.space.map((d, di) => {
      if (d.splittable === false) return 1;
      const size = samples.has(di) ? (d.size % (replicas * microbatches) === 0 ? d.size / (replicas * microbatches) : 1) : d.size;
      const cap = Math.min(size, Math.floor(4 / tasks), 2);
      const deg = cap <= 1 ? 1 : int(1, cap);
      tasks *= deg;
      return deg;
    });
    ops[o.name] = { degrees, devices: Array.from({ length: tasks }, () => pick(devices)) };
  });

  const strategy: Strategy = { name: `scale-${a.strategySeed}`, model: graph.name, mesh: `cpu${a.devices}`, ops };
  if (replicas > 1) strategy.replicas = { count: replicas, offset: perReplica };
  if (piped) {
    strategy.pipeline = {
      microbatches,
      schedule,
      stages: starts.map((s, k) => {
        const end = k + 1 < starts.length ? starts[k + 1] : order.length;
        return { first: order[s].name, last: order[end - 1].name, devices: blocks[k % groups] };
      }),
      ...(schedule === "interleaved" ? { virtualStages: virtual } : {}),
    };
  }
  const zero = int(0, 3) as ZeroStage;
  if (zero > 0 && hasDataParallelGroup(graph, strategy)) strategy.zero = zero;
  const recompute = order.filter((o) => recomputable(o) && chance(0.3)).map((o) => o.name);
  if (recompute.length) strategy.recompute = recompute;

  const mesh = { name: `cpu${a.devices}`, devices: Array.from({ length: a.devices }, (_, index) => ({ index })) } as unknown as Mesh;
  const problems = scaleProblems(graph, mesh, strategy).filter((p) => p.severity === "error");
  if (problems.length) throw new Error(`random scale strategy ${a.strategySeed} is invalid: ${problems.map((p) => `${p.code} ${p.message}`).join("; ")}`);
  return { graph, strategy, devices: a.devices };
}

/** The large-scale fields of a case, for failure messages (describeCase prints the op configs). */
export function describeScale(s: Strategy): string {
  const p = s.pipeline;
  return [
    s.replicas ? `replicas ${s.replicas.count} (offset ${s.replicas.offset})` : "1 replica",
    p ? `pipeline ${p.schedule}${p.virtualStages ? ` v=${p.virtualStages}` : ""}, ${p.microbatches} micro-batches, stages ${p.stages.map((st) => `${st.first}..${st.last}@[${st.devices.join(",")}]`).join(" | ")}` : "no pipeline",
    `zero ${s.zero ?? 0}`,
    `recompute [${(s.recompute ?? []).join(", ")}]`,
  ].join("; ");
}
