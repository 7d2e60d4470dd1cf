// Peak memory per device of one training step of a large-scale strategy (docs/scale.md,
// "Memory"), per device of replica 0 (every replica's images hold the same):
//
//   weights      each shard a device holds, in the compute precision (2 bytes under
//                bf16/f16, else 4); ZeRO-3 divides it by the shard's data-parallel group N
//   gradients    one buffer per shard in the compute precision; ZeRO-2/3 divide it by N
//   optimizer    f32 state per weight: the optimizer's buffers (sgd 0, momentum 1, adam 2)
//                plus, under bf16/f16, the f32 master copy; ZeRO-1/2/3 divide it by N.
//                So a weight costs (2 + 2 + K) bytes with K = 12 for mixed-precision Adam,
//                and a device (2 + 2 + K)·Ψ/N under ZeRO-3 (Rajbhandari et al. 2020, §5)
//   activations  per micro-batch, the outputs each device keeps for backward (outputs of
//                recomputed ops are not kept; graph/stage inputs and received copies are),
//                times the micro-batches in flight at the worst point of the group's
//                schedule (GPipe: M; 1F1B: p − s; interleaved: walked from the order)
//   recompute    the recomputed outputs of one checkpoint segment (a run of consecutive
//                recomputed ops) of one micro-batch, live while its backward runs: the worst
//   workspace    ZeRO-3: the gathered weights of the two largest ops (one in use, one
//                prefetched); with a data-parallel group: two gradient buckets in flight
// A device of an interleaved group holds all of its virtual stages.

import { intersect, regionKey, regionVolume } from "../core/region.js";
import { dtypeBytes } from "../core/tensor.js";
import { pipelineOrder } from "../ir/pipeline-schedule.js";
import type { ScalePlan, StagePlan } from "../ir/stage-plan.js";
import { LayoutCache } from "../layout/cache.js";
import { holders as holdersOf, type Held } from "../layout/placement.js";
import { stageShards, type ShardHolding } from "../layout/stage-shards.js";
import { optimizerStateFactor, type Optimizer } from "./memory.js";

/** PyTorch DDP's bucket (src/sim/scale/weight-sync.ts): two are in flight. */
const BUCKET_BYTES = 25 * 2 ** 20;

export interface ScaleDeviceMemory {
  /** The whole mesh's index (replica 0's device). */
  device: number;
  weights: number;
  gradients: number;
  optimizer: number;
  activations: number;
  recompute: number;
  workspace: number;
  total: number;
  capacity: number;
  /** Most micro-batches whose activations this device holds at once (summed over its virtual stages). */
  inFlight: number;
}

export interface ScaleMemoryReport {
  devices: ScaleDeviceMemory[];
  /** The largest total. */
  peak: number;
  overCapacity: ScaleDeviceMemory[];
}

/** Bytes per weight element of each buffer, before ZeRO's division. */
export function bytesPerWeight(precision: ScalePlan["precision"], optimizer: Optimizer): { weights: number; gradients: number; optimizer: number } {
  const half = precision !== "f32";
  const state = 4 * optimizerStateFactor(optimizer) + (half ? 4 : 0);
  return { weights: half ? 2 : 4, gradients: half ? 2 : 4, optimizer: state };
}

/** Per local device of a stage: kept activation bytes of one micro-batch, and the largest checkpoint segment's recomputed ones. */
export function stageActivations(stage: StagePlan): { kept: Float64Array; recomputed: Float64Array } {
  const g = stage.graph;
  const n = stage.devices.length;
  const kept = new Float64Array(n);
  const recomputed = new Float64Array(n);
  const seen: Set<string>[] = Array.from({ length: n }, () => new Set());
  const once = (d: number, key: string) => (seen[d].has(key) ? false : (seen[d].add(key), true));
  const layouts = LayoutCache.of(g);
  const held = new Map<string, Held[]>();
  // Recomputed outputs are live one run of consecutive recomputed ops at a time (between
  // kept outputs: a checkpoint segment); the worst run counts.
  const run = new Float64Array(n);
  const closeRun = () => {
    for (let d = 0; d < n; d++) recomputed[d] = Math.max(recomputed[d], run[d]);
    run.fill(0);
  };
  for (const op of stage.ops) {
    const node = g.op(op.name);
    const cfg = stage.configs[op.name];
    const L = layouts.layout(node, cfg.degrees);
    const perStep = stage.perStep.has(op.name);
    const isRecomputed = stage.recomputed.has(op.name);
    if (!isRecomputed && !perStep) closeRun();
    const into = isRecomputed ? run : kept;
    for (let t = 0; t < L.count; t++) {
      const dev = cfg.devices[t];
      const box = L.boxes[t];
      if (!perStep) {
        L.outputs.forEach((regions, o) => {
          const r = regions[t];
          if (once(dev, `o|${op.name}|${o}|${regionKey(r)}|${L.reductionDims.map((d) => box.lo[d]).join(",")}`)) into[dev] += regionVolume(r) * dtypeBytes(node.sig.outputs[o].dtype);
        });
      }
      L.inputs.forEach((regions, i) => {
        const r = regions[t];
        const id = node.inputs[i];
        const bytes = dtypeBytes(g.tensor(id).type.dtype);
        const h = held.get(id);
        if (!h) {
          // A stage input (graph input or another stage's activation): kept where it is read.
          if (once(dev, `i|${id}|${regionKey(r)}`)) kept[dev] += regionVolume(r) * bytes;
          return;
        }
        for (const x of h) {
          if (x.device === dev) continue;
          const common = intersect(r, x.region);
          if (common && once(dev, `x|${id}|${regionKey(common)}`)) kept[dev] += regionVolume(common) * bytes;
        }
      });
    }
    node.outputs.forEach((id, o) => held.set(id, holdersOf(L, cfg.devices, o)));
  }
  closeRun();
  return { kept, recomputed };
}

/**
 * Per device group, per position of its program, the micro-batches held by each of its
 * stages; the worst total in bytes given each stage's per-micro-batch bytes `perStage`.
 */
function worstInFlight(order: readonly { stage: number; backward: boolean }[], perStage: (stage: number) => number): { bytes: number; count: number } {
  const live = new Map<number, number>();
  let bytes = 0;
  let count = 0;
  let worst = { bytes: 0, count: 0 };
  for (const u of order) {
    const d = u.backward ? -1 : 1;
    live.set(u.stage, (live.get(u.stage) ?? 0) + d);
    bytes += d * perStage(u.stage);
    count += d;
    // A backward needs its micro-batch until it ends: the peak is just before a backward ends.
    if (!u.backward && (bytes > worst.bytes || (bytes === worst.bytes && count > worst.count))) worst = { bytes, count };
  }
  return worst;
}

export function scaleMemory(plan: ScalePlan, optimizer: Optimizer = "sgd", shards?: readonly ShardHolding[][][]): ScaleMemoryReport {
  const per = bytesPerWeight(plan.precision, optimizer);
  const zero = plan.zero;
  const order = pipelineOrder(plan.schedule, plan.groups, plan.virtual, plan.microbatches);
  const byDevice = new Map<number, ScaleDeviceMemory>();
  // Stages with one key keep the same activations on the same local devices.
  const byKey = new Map<string, ReturnType<typeof stageActivations>>();
  const activations = plan.stages.map((s) => {
    let a = byKey.get(s.key);
    if (!a) byKey.set(s.key, (a = stageActivations(s)));
    return a;
  });
  const held = shards ?? plan.stages.map((s) => stageShards(s, plan.replicas));
  for (let g = 0; g < plan.groups; g++) {
    const members = plan.stages.filter((s) => s.group === g);
    const devices = members[0].devices;
    devices.forEach((device, local) => {
      const m: ScaleDeviceMemory = { device, weights: 0, gradients: 0, optimizer: 0, activations: 0, recompute: 0, workspace: 0, total: 0, capacity: plan.mesh.devices[device].spec.memoryBytes, inFlight: 0 };
      let gatherLargest = 0;
      let gatherSecond = 0;
      let grouped = false;
      for (const s of members) {
        const byOp = new Map<number, number>();
        for (const sh of held[s.index][local] ?? []) {
          const N = sh.group.length;
          if (N > 1) grouped = true;
          m.weights += (sh.params * per.weights) / (zero >= 3 ? N : 1);
          m.gradients += (sh.params * per.gradients) / (zero >= 2 ? N : 1);
          m.optimizer += (sh.params * per.optimizer) / (zero >= 1 ? N : 1);
          if (zero >= 3 && N > 1) byOp.set(sh.op, (byOp.get(sh.op) ?? 0) + sh.params * per.weights);
        }
        for (const b of byOp.values()) {
          if (b > gatherLargest) [gatherLargest, gatherSecond] = [b, gatherLargest];
          else if (b > gatherSecond) gatherSecond = b;
        }
        m.recompute = Math.max(m.recompute, activations[s.index].recomputed[local]);
      }
      const worst = worstInFlight(order[g], (k) => activations[k].kept[local]);
      m.activations = worst.bytes;
      m.inFlight = worst.count;
      m.workspace = gatherLargest + gatherSecond + (grouped ? 2 * BUCKET_BYTES : 0);
      m.total = m.weights + m.gradients + m.optimizer + m.activations + m.recompute + m.workspace;
      byDevice.set(device, m);
    });
  }
  const devices = [...byDevice.values()].sort((a, b) => a.device - b.device);
  const peak = Math.max(0, ...devices.map((d) => d.total));
  return { devices, peak, overCapacity: devices.filter((d) => d.total > d.capacity) };
}
