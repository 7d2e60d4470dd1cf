// Megatron-LM's PTD-P configurations (Narayanan et al., SC'21) as par strategies: tensor
// parallelism t inside a node (src/ir/baselines.ts `tensorParallelDims`: attention split by
// heads, MLP column- then row-parallel, the LM head and the embedding tables split by
// their vocabulary-side dims), pipeline parallelism p over repeated blocks (the layers,
// src/ir/repeated-blocks.ts: as even as the layer count allows, the embedding in the first
// stage, the head in the last), data parallelism d as replicas, micro-batches of b samples.
// Ranks follow Megatron's order: rank = stage·(t·d) + replica·t + tensor rank, so a
// replica's devices are `offset = t` apart and each stage's t devices share a node.
//
// Ops Megatron replicates across the tensor-parallel group (layer norms, dropouts, residual
// adds) run once per group in a SOAP config: on its first device (`rest: "first"`, the
// same work per device as replication), or split along the sequence across the group
// (`rest: "sequence"`, Megatron's later sequence parallelism, Korthikanti et al. 2022).
//
// Also the search's candidate builder (src/search/scale/): every pipeline strategy par
// searches is one of these with its own t, p, d, b, schedule, ZeRO stage and recomputation.

import { parError } from "../core/diagnostics.js";
import type { Mesh } from "../core/mesh.js";
import { gridCoords } from "../core/region.js";
import type { Graph, OpNode } from "./graph.js";
import { largestDivisorAtMost, tensorParallelDims } from "./baselines.js";
import { repeatedBlocks, type RepeatedBlocks } from "./repeated-blocks.js";
import { batchSize } from "./strategy-stages.js";
import { recomputable } from "./strategy-validate-scale.js";
import type { OpConfig, PipelineSchedule, PipelineStage, Precision, Strategy, ZeroStage } from "./strategy.js";

export type RecomputeMode = "none" | "selective" | "full";

export interface MegatronConfig {
  /** Tensor-parallel size t (devices of one stage). */
  tensor: number;
  /** Pipeline device groups p. */
  pipeline: number;
  /** Data-parallel replicas d. */
  data: number;
  /** Samples per micro-batch b; micro-batches M = batch / (d·b). */
  microbatchSize: number;
  /** Default 1f1b (gpipe when p = 1 makes no difference). */
  schedule?: PipelineSchedule;
  /** Interleaved schedule: virtual stages per group (≥ 2). */
  virtual?: number;
  zero?: ZeroStage;
  /**
   * none; selective: the element-wise ops (everything but fully connected and attention ops);
   * full: every op but each block's output (Megatron's `--recompute-method uniform`, one
   * layer per checkpoint).
   */
  recompute?: RecomputeMode;
  precision?: Precision;
  /** Where ops outside tensor parallelism run (see the header). Default "first". */
  rest?: "first" | "sequence";
  /** First device of the configuration (default 0). */
  firstDevice?: number;
}

/** Ops per role, found once per graph and reused for every configuration. */
export interface MegatronAnalysis {
  order: OpNode[];
  tp: Map<string, number>;
  blocks: RepeatedBlocks | undefined;
  batch: number;
}

export function analyseForMegatron(graph: Graph): MegatronAnalysis {
  const order = graph.topoOrder();
  const batch = batchSize(graph);
  if (batch === undefined) throw parError("PAR7054", `model \`${graph.name}\` has no op with a sample dim: there is no batch to split into micro-batches`, { hint: "Megatron configurations need a batched model" });
  return { order, tp: tensorParallelDims(graph), blocks: repeatedBlocks(graph, order), batch };
}

function invalid(message: string): never {
  throw parError("PAR7055", message, { hint: "choose sizes that divide the batch, the layers and the mesh (t·p·d ≤ devices)" });
}

/** The dim to split `op` by in the tensor-parallel group, or −1 (see the header). */
function tensorDim(op: OpNode, a: MegatronAnalysis, graph: Graph, rest: "first" | "sequence"): number {
  const tp = a.tp.get(op.name);
  if (tp !== undefined) return tp;
  // Embedding tables and their lookups: split the hidden side, so that a lookup reads its
  // table's slice locally (no per-micro-batch transfer of the table).
  if (op.inputs.length === 0) return op.sig.space.length - 1;
  const readsTable = op.inputs.some((id) => {
    const p = graph.tensor(id).producer;
    return p !== undefined && graph.op(p.op).inputs.length === 0;
  });
  if (readsTable) {
    const i = op.sig.space.findIndex((d) => d.cls === "parameter");
    if (i >= 0) return i;
  }
  if (rest === "sequence") return op.sig.space.findIndex((d) => d.cls === "attribute" && d.splittable !== false);
  return -1;
}

/** Op configs of stage devices `devices` (t of them). */
function opConfig(op: OpNode, dim: number, devices: readonly number[]): OpConfig {
  const degrees = op.sig.space.map(() => 1);
  const k = dim >= 0 && op.sig.space[dim].splittable !== false ? largestDivisorAtMost(op.sig.space[dim].size, devices.length) : 1;
  if (k > 1) degrees[dim] = k;
  const out: number[] = [];
  const n = degrees.reduce((x, y) => x * y, 1);
  for (let t = 0; t < n; t++) out.push(devices[k > 1 ? gridCoords(t, degrees)[dim] : 0]);
  return { degrees, devices: out };
}

/**
 * Stage cuts: per stage, its first and last index in `order`. The blocks are spread as
 * evenly as possible (earlier stages take the remainder), ops before the first block go
 * to the first stage and ops after the last block to the last.
 */
export function blockStageCuts(a: MegatronAnalysis, stages: number, blocksPerStage?: readonly number[]): [number, number][] {
  const n = a.order.length;
  if (stages === 1) return [[0, n - 1]];
  const b = a.blocks;
  if (!b || b.count < stages) invalid(`a pipeline of ${stages} stages needs at least ${stages} repeated blocks (layers); the model has ${b?.count ?? 0}`);
  const per = blocksPerStage ?? Array.from({ length: stages }, (_, s) => Math.floor(b.count / stages) + (s < b.count % stages ? 1 : 0));
  const cuts: [number, number][] = [];
  let block = 0;
  for (let s = 0; s < stages; s++) {
    const first = s === 0 ? 0 : b.start + block * b.period;
    block += per[s];
    const last = s === stages - 1 ? n - 1 : b.start + block * b.period - 1;
    cuts.push([first, last]);
  }
  return cuts;
}

/** The strategy of configuration `c` (PAR7055 when its sizes do not fit the model or mesh). */
export function megatronStrategy(graph: Graph, mesh: Mesh, c: MegatronConfig, name = megatronName(c), analysis: MegatronAnalysis = analyseForMegatron(graph), blocksPerStage?: readonly number[]): Strategy {
  const { tensor: t, pipeline: p, data: d, microbatchSize: b } = c;
  const a = analysis;
  const v = c.schedule === "interleaved" ? (c.virtual ?? 2) : 1;
  const base = c.firstDevice ?? 0;
  for (const [k, x] of Object.entries({ tensor: t, pipeline: p, data: d, microbatchSize: b, virtual: v })) {
    if (!(Number.isInteger(x) && x >= 1)) invalid(`${k} must be a whole number ≥ 1, got ${x}`);
  }
  if (base + t * p * d > mesh.devices.length) invalid(`t·p·d = ${t}·${p}·${d} = ${t * p * d} devices from device ${base}, but mesh \`${mesh.name}\` has ${mesh.devices.length}`);
  if (a.batch % (d * b) !== 0) invalid(`the batch of ${a.batch} does not split into ${d} replicas × micro-batches of ${b}`);
  const M = a.batch / (d * b);
  if (c.schedule === "interleaved" && (v < 2 || M % p !== 0)) invalid(`the interleaved schedule needs v ≥ 2 virtual stages (got ${v}) and micro-batches (${M}) a multiple of p = ${p}`);
  const rest = c.rest ?? "first";
  // Device group g: t devices starting at g·t·d (Megatron's rank order).
  const groupDevices = (g: number) => Array.from({ length: t }, (_, i) => base + g * t * d + i);
  const K = p * v;
  const cuts = blockStageCuts(a, K, blocksPerStage);
  const ops: Record<string, OpConfig> = {};
  const stages: PipelineStage[] = [];
  const recompute: string[] = [];
  const blockEnds = new Set<number>();
  if (a.blocks) for (let i = 1; i <= a.blocks.count; i++) blockEnds.add(a.blocks.start + i * a.blocks.period - 1);
  cuts.forEach(([first, last], k) => {
    const devices = groupDevices(k % p);
    for (let i = first; i <= last; i++) {
      const op = a.order[i];
      ops[op.name] = opConfig(op, tensorDim(op, a, graph, rest), devices);
      if (!recomputable(op)) continue;
      const heavy = a.tp.has(op.name);
      if ((c.recompute === "selective" && !heavy) || (c.recompute === "full" && !blockEnds.has(i) && i !== last)) recompute.push(op.name);
    }
    stages.push({ first: a.order[first].name, last: a.order[last].name, devices });
  });
  const s: Strategy = { name, model: graph.name, mesh: mesh.name, ops };
  if (d > 1) s.replicas = { count: d, offset: t };
  if (p > 1 || M > 1) {
    s.pipeline = { microbatches: M, schedule: c.schedule ?? "1f1b", stages };
    if (v > 1) s.pipeline.virtualStages = v;
  }
  if (c.zero) s.zero = c.zero;
  if (recompute.length) s.recompute = recompute;
  if (c.precision && c.precision !== "f32") s.precision = c.precision;
  return s;
}

export function megatronName(c: MegatronConfig): string {
  const parts = [`t${c.tensor}`, `p${c.pipeline}`, `d${c.data}`, `b${c.microbatchSize}`];
  if (c.schedule === "interleaved") parts.push(`v${c.virtual ?? 2}`);
  else if (c.schedule === "gpipe") parts.push("gpipe");
  if (c.zero) parts.push(`zero${c.zero}`);
  if (c.recompute && c.recompute !== "none") parts.push(c.recompute === "full" ? "rc" : "src");
  if (c.rest === "sequence") parts.push("sp");
  return `megatron-${parts.join("-")}`;
}
