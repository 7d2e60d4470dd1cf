// A large-scale strategy (docs/strategies.md, "Large-scale training") as the pieces the
// hierarchical simulator and memory model price: its pipeline stages, each with its ops at
// the micro-batch size (src/ir/microbatch-graph.ts) on replica 0's stage devices (a
// sub-mesh with the same links, src/core/sub-mesh.ts), its op configs on the sub-mesh's
// local device indices, what it reads from other stages, and a structural key: two stages
// with equal keys (the same ops, shapes, configs, recomputation and sub-mesh structure, up
// to names and device numbering) take the same time and memory, so they are priced once.
// A strategy without a pipeline is one stage of every op on the devices its configs use.

import { parError } from "../core/diagnostics.js";
import type { DeviceSpec, Mesh, MeshGroup } from "../core/mesh.js";
import { subMesh, type SubMesh } from "../core/sub-mesh.js";
import type { Graph, OpNode } from "./graph.js";
import { microbatchGraph } from "./microbatch-graph.js";
import { replicaCount } from "./strategy-replicas.js";
import { deviceGroupCount, microbatchCount, stageIndexOf } from "./strategy-stages.js";
import type { OpConfig, PipelineSchedule, Precision, ReplicaConfig, Strategy, ZeroStage } from "./strategy.js";

/** A tensor a stage reads from outside itself. */
export interface StageInput {
  tensor: string;
  /** The stage producing it; −1 for a graph input (resident where read). */
  from: number;
  /**
   * True for a tensor without samples (a weight read from another stage: GPT's tied
   * embedding): it is not sent per micro-batch; the reading stage keeps a copy whose
   * gradient is summed with the owner's once per step.
   */
  weight: boolean;
}

export interface StagePlan {
  index: number;
  /** Device group: index mod p (interleaved stages share their group's devices). */
  group: number;
  /** The stage's ops of the whole graph, in topological order. */
  ops: readonly OpNode[];
  /** Replica 0's devices of the stage (the whole mesh's indices), ascending. */
  devices: readonly number[];
  /** The stage's devices as a mesh of their own (local index i is devices[i]). */
  sub: SubMesh;
  /** The stage's ops at the micro-batch size and the strategy's precision. */
  graph: Graph;
  /** Op configs with devices as local indices of `sub`. */
  configs: Record<string, OpConfig>;
  recomputed: ReadonlySet<string>;
  /** Ops without a sample dim: they run once per step, not per micro-batch. */
  perStep: ReadonlySet<string>;
  inputs: readonly StageInput[];
  /** Equal keys: equal time and memory (see the header). */
  key: string;
}

export interface ScalePlan {
  graph: Graph;
  mesh: Mesh;
  strategy: Strategy;
  stages: StagePlan[];
  /** Device groups p, virtual stages per group v (1 unless interleaved), micro-batches M. */
  groups: number;
  virtual: number;
  microbatches: number;
  schedule: PipelineSchedule;
  replicas: ReplicaConfig;
  zero: ZeroStage;
  precision: Precision;
}

export interface PlanOptions {
  /**
   * The graph at the micro-batch size (the same op names), e.g. the .par model elaborated
   * again with its batch parameter set: used instead of re-typing the ops, which fails for
   * ops whose attributes pin the batch (PAR7050).
   */
  microbatchSource?: Graph;
  /**
   * Stage graphs by first op, last op, sample parts and precision, shared across calls: a
   * search planning many strategies of one graph re-types each range of ops once.
   */
  graphCache?: Map<string, Graph>;
}

/** The stages of a validated strategy (throws PAR7052 when its pipeline does not cut the graph). */
export function planStages(graph: Graph, mesh: Mesh, strategy: Strategy, options: PlanOptions = {}): ScalePlan {
  const order = graph.topoOrder();
  const R = replicaCount(strategy);
  const replicas: ReplicaConfig = strategy.replicas ?? { count: 1, offset: mesh.devices.length };
  const M = microbatchCount(strategy);
  const pipe = strategy.pipeline;
  let stageOf: number[];
  let stageDevices: number[][];
  if (pipe) {
    const cut = stageIndexOf(order, pipe);
    if (!cut) throw parError("PAR7052", `the pipeline of strategy \`${strategy.name}\` does not cut the ops of \`${graph.name}\` into contiguous stages in topological order`, { hint: "validate the strategy (`par strategy import`) to see which stage is wrong" });
    stageOf = cut;
    stageDevices = pipe.stages.map((s) => [...new Set(s.devices)].sort((a, b) => a - b));
  } else {
    stageOf = order.map(() => 0);
    const used = new Set<number>();
    for (const op of order) for (const d of configOf(strategy, op).devices) used.add(d);
    stageDevices = [[...used].sort((a, b) => a - b)];
  }
  const K = stageDevices.length;
  const groups = pipe ? deviceGroupCount(pipe) : 1;
  const source = options.microbatchSource;
  const parts = source ? 1 : R * M;
  const precision = strategy.precision ?? "f32";
  const recompute = new Set(strategy.recompute ?? []);
  const stageOfOp = new Map<string, number>(order.map((o, i) => [o.name, stageOf[i]]));
  const stages: StagePlan[] = [];
  for (let k = 0; k < K; k++) {
    const ops = order.filter((_, i) => stageOf[i] === k);
    const devices = stageDevices[k];
    const sub = subMesh(mesh, devices, `${mesh.name}/stage${k}`);
    const local = new Map(devices.map((d, i) => [d, i]));
    const configs: Record<string, OpConfig> = {};
    for (const op of ops) {
      const c = configOf(strategy, op);
      configs[op.name] = {
        degrees: [...c.degrees],
        devices: c.devices.map((d) => {
          const l = local.get(d);
          if (l === undefined) throw parError("PAR7052", `op \`${op.name}\` has a task on device ${d}, outside its stage ${k}'s devices`, { hint: "validate the strategy first (PAR3169)" });
          return l;
        }),
      };
    }
    const srcOps = source ? ops.map((o) => source.op(o.name)) : ops;
    const cacheKey = `${ops[0].name}|${ops[ops.length - 1].name}|${ops.length}|${parts}|${precision}`;
    let micro = source ? undefined : options.graphCache?.get(cacheKey);
    if (!micro) {
      micro = microbatchGraph(source ?? graph, srcOps, parts, precision);
      if (!source) options.graphCache?.set(cacheKey, micro);
    }
    const inputs: StageInput[] = [];
    for (const id of micro.inputs) {
      const p = graph.tensor(id).producer;
      const from = p ? stageOfOp.get(p.op)! : -1;
      inputs.push({ tensor: id, from, weight: p !== undefined && !hasSampleDim(graph.op(p.op)) });
    }
    const recomputed = new Set(ops.filter((o) => recompute.has(o.name)).map((o) => o.name));
    const perStep = new Set(ops.filter((o) => !hasSampleDim(o)).map((o) => o.name));
    const plan: StagePlan = { index: k, group: k % groups, ops, devices, sub, graph: micro, configs, recomputed, perStep, inputs, key: "" };
    plan.key = stageKey(plan);
    stages.push(plan);
  }
  return {
    graph,
    mesh,
    strategy,
    stages,
    groups,
    virtual: pipe ? K / groups : 1,
    microbatches: M,
    schedule: pipe?.schedule ?? "1f1b",
    replicas,
    zero: strategy.zero ?? 0,
    precision,
  };
}

function configOf(s: Strategy, op: OpNode): OpConfig {
  const c = s.ops[op.name];
  if (!c) throw new Error(`strategy ${s.name} has no config for op ${op.name}`);
  return c;
}

export function hasSampleDim(op: OpNode): boolean {
  return op.sig.space.some((d) => d.cls === "sample");
}

/**
 * The structural key of a stage: per op its kind, attributes, where each input comes from
 * (an earlier op of the stage by position, or an outside tensor by type), its config on
 * local devices and whether it is recomputed; then the sub-mesh's tree (labels, links,
 * device kinds). Names and global device numbers are left out, so that the stages of
 * identical layers on identical nodes share one key.
 */
function stageKey(s: StagePlan): string {
  const g = s.graph;
  const position = new Map(s.ops.map((o, i) => [o.name, i]));
  const external = new Map(g.inputs.map((id, i) => [id, i]));
  const parts: string[] = [];
  for (const id of g.inputs) {
    const t = g.tensor(id).type;
    parts.push(`x${t.dtype}[${t.shape.join(",")}]`);
  }
  for (const op of s.ops) {
    const node = g.op(op.name);
    const ins = node.inputs.map((id) => {
      const p = g.tensor(id).producer;
      return p ? `o${position.get(p.op)}.${p.output}` : `x${external.get(id)}`;
    });
    const c = s.configs[op.name];
    parts.push(`${node.op}${canonicalJson(node.attrs)}(${ins.join(",")})${c.degrees.join("x")}@${c.devices.join(",")}${s.recomputed.has(op.name) ? "r" : ""}`);
  }
  parts.push(meshKey(s.sub.mesh.root, s.sub.mesh));
  return parts.join(";");
}

function meshKey(g: MeshGroup, mesh: Mesh): string {
  const link = g.link ? `${g.link.name}:${g.link.bandwidth}:${g.link.latency}:${g.link.hostCopies ? 1 : 0}` : "";
  const devs = g.devices.map((d) => specKey(mesh.devices[d].spec)).join(",");
  return `${g.label}(${link})[${devs}]{${g.children.map((c) => meshKey(c, mesh)).join("|")}}`;
}

/** A device's figures (two devices of one kind may differ by overrides). */
function specKey(spec: DeviceSpec): string {
  return `${spec.kind}:${canonicalJson(spec.peakFlops)}:${spec.peakTf32Flops ?? ""}:${spec.memoryBytes}:${spec.memoryBandwidth}:${spec.launchOverhead}`;
}

/** JSON with object keys sorted: equal attributes, equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}
