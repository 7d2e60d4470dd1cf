// Everything `par report` shows, as one JSON-able value: the op graph with each op's
// configuration, the predicted timeline per device (and a measured one beside it), memory
// per device against capacity, the top communication edges, and how a strategy differs
// from data parallelism. A section the inputs cannot fill (a plan without its mesh, say)
// carries `missing`: the sentence the page shows instead.

import { describeMesh } from "../core/builtin-meshes.js";
import { Diagnostics } from "../core/diagnostics.js";
import type { Mesh } from "../core/mesh.js";
import type { MemoryReport, Optimizer } from "../cost/memory.js";
import { baseline } from "../ir/baselines.js";
import type { Graph } from "../ir/graph.js";
import type { ScaleChange } from "../ir/strategy-diff.js";
import { validateStrategy } from "../ir/strategy-validate.js";
import type { Strategy } from "../ir/strategy.js";
import { simulate, type PipelineContext } from "../pipeline.js";
import type { Timeline } from "../sim/simulate.js";
import { configText, graphView, type GraphView } from "./graph-view.js";
import type { MeasuredTimeline } from "./measured-trace.js";
import { compareStrategies, timeByOp } from "./strategy-compare.js";
import { TASK_KINDS, timelineView, topCommEdges, type CommEdge, type TimelineView } from "./timeline-view.js";

/** How many communication edges the report lists. */
export const TOP_COMM_EDGES = 12;
/** How many ops the comparison names as the largest gains and losses. */
const TOP_CHANGED_OPS = 8;

export interface ReportInput {
  graph: Graph;
  /** The file the report is of, as the user wrote it, and what it is. */
  source: { file: string; kind: "model" | "plan" };
  /** Undefined when not known (a plan whose mesh par cannot build): `meshMissing` says why. */
  mesh?: Mesh;
  meshMissing?: string;
  /** The per-op configs; undefined with `strategyMissing` when a plan's cannot be recovered. */
  strategy?: Strategy;
  strategyMissing?: string;
  /** A plan's per-op degrees, drawn when its placement is unknown. */
  degrees?: ReadonlyMap<string, readonly number[]>;
  /** Found by search (`--search`, a strategy file or plan named "searched"). */
  searched: boolean;
  optimizer: Optimizer;
  measured?: MeasuredTimeline;
}

export interface MemoryRow {
  device: number;
  capacity: number;
  total: number;
  /** Bytes by part, in MEMORY_PARTS order. */
  parts: number[];
}

export const MEMORY_PARTS = ["weights", "gradients", "optimizer state", "activations", "received copies and other"] as const;

export interface OpChange {
  op: string;
  dp: string;
  config: string;
  /** Seconds saved (positive) or lost, compute plus communication summed over the op's tasks. */
  saved: number;
  computeDelta: number;
  commDelta: number;
  memoryDelta: number;
}

export interface Comparison {
  searched: boolean;
  dpIterationTime: number;
  iterationTime: number;
  /** dp / this: above 1 means this strategy is predicted faster. */
  speedup: number;
  dp: { computeTime: number; commTime: number; busiest: number; bytes: Record<string, number> };
  self: { computeTime: number; commTime: number; busiest: number; bytes: Record<string, number> };
  changes: ScaleChange[];
  sameOps: number;
  changedOps: number;
  /** The changed ops that save the most, then those that lose the most. */
  gains: OpChange[];
  losses: OpChange[];
  /** The explanation, in sentences built from the numbers above. */
  why: string[];
}

export interface ReportData {
  title: string;
  model: string;
  source: { file: string; kind: "model" | "plan" };
  strategy?: string;
  searched: boolean;
  optimizer: Optimizer;
  mesh?: { name: string; devices: number; summary: string };
  /** Predicted seconds of one training iteration. */
  iterationTime?: number;
  notes: string[];
  graph: GraphView;
  timeline: { kinds: readonly string[]; predicted?: TimelineView; measured?: MeasuredTimeline; missing?: string; deviceCount: number };
  memory: { parts: readonly string[]; devices?: MemoryRow[]; overCapacity?: number[]; missing?: string };
  comm: { edges?: CommEdge[]; bytesByLinkClass?: Record<string, number>; missing?: string };
  comparison: { result?: Comparison; note?: string; missing?: string };
}

function memoryRows(m: MemoryReport): MemoryRow[] {
  return m.devices.map((d) => {
    const known = [d.weights, d.gradients, d.optimizer, d.activations];
    const rest = Math.max(0, d.total - known.reduce((a, b) => a + b, 0));
    return { device: d.device, capacity: d.capacity, total: d.total, parts: [...known, rest] };
  });
}

const summary = (t: Timeline) => ({ computeTime: t.computeTime, commTime: t.commTime, busiest: Math.max(0, ...t.deviceBusy), bytes: { ...t.bytesByLinkClass } });

const seconds = (s: number): string => (s >= 1 ? `${s.toFixed(3)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(3)} ms` : `${(s * 1e6).toFixed(1)} µs`);
const bytesText = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);
const totalBytes = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** The comparison of `strategy` with data parallelism, explained. */
function compareWithDp(graph: Graph, mesh: Mesh, strategy: Strategy, searched: boolean, optimizer: Optimizer, ctx: PipelineContext): Comparison {
  const dp = baseline("dp", graph, mesh);
  const cmp = compareStrategies(graph, mesh, dp, strategy, ctx, optimizer);
  const changed = cmp.ops.filter((r) => !r.same);
  const rows: OpChange[] = changed.map((r) => {
    const op = graph.op(r.op);
    return { op: r.op, dp: configText(op, r.a), config: configText(op, r.b), saved: -(r.computeDelta + r.commDelta), computeDelta: r.computeDelta, commDelta: r.commDelta, memoryDelta: r.memoryDelta };
  });
  const gains = rows.filter((r) => r.saved > 0).sort((a, b) => b.saved - a.saved || (a.op < b.op ? -1 : 1)).slice(0, TOP_CHANGED_OPS);
  const losses = rows.filter((r) => r.saved < 0).sort((a, b) => a.saved - b.saved || (a.op < b.op ? -1 : 1)).slice(0, TOP_CHANGED_OPS);
  const A = summary(cmp.a.timeline);
  const B = summary(cmp.b.timeline);
  const speedup = cmp.a.timeline.iterationTime / cmp.b.timeline.iterationTime;
  const why: string[] = [];
  const who = searched ? "The searched strategy" : `Strategy ${strategy.name}`;
  if (speedup > 1) why.push(`${who} is predicted ${speedup.toFixed(2)}× faster than data parallelism: ${seconds(cmp.b.timeline.iterationTime)} per iteration against ${seconds(cmp.a.timeline.iterationTime)}.`);
  else if (speedup < 1) why.push(`${who} is predicted ${(1 / speedup).toFixed(2)}× slower than data parallelism: ${seconds(cmp.b.timeline.iterationTime)} per iteration against ${seconds(cmp.a.timeline.iterationTime)}.`);
  else why.push(`${who} is predicted as fast as data parallelism (${seconds(cmp.b.timeline.iterationTime)} per iteration).`);
  const commSaved = A.commTime - B.commTime;
  const bytesA = totalBytes(A.bytes);
  const bytesB = totalBytes(B.bytes);
  if (bytesA !== bytesB || commSaved !== 0) {
    why.push(`It moves ${bytesText(bytesB)} between devices where data parallelism moves ${bytesText(bytesA)}, and spends ${seconds(B.commTime)} of link time against ${seconds(A.commTime)} (${commSaved >= 0 ? "saving" : "adding"} ${seconds(Math.abs(commSaved))}).`);
  }
  if (A.computeTime !== B.computeTime || A.busiest !== B.busiest) {
    why.push(`Compute summed over devices is ${seconds(B.computeTime)} against ${seconds(A.computeTime)}; the busiest device computes for ${seconds(B.busiest)} against ${seconds(A.busiest)}.`);
  }
  why.push(`${changed.length} of ${cmp.ops.length} ops are configured differently from data parallelism${cmp.changes.length ? `, and ${cmp.changes.length} strategy-wide setting${cmp.changes.length === 1 ? "" : "s"} differ (${cmp.changes.map((c) => c.what).join(", ")})` : ""}.`);
  if (gains.length > 0) {
    const g = gains[0];
    why.push(`The largest gain is op ${g.op}: ${g.dp} under data parallelism, ${g.config} here, saving ${seconds(g.saved)} of compute and communication.`);
  }
  return {
    searched,
    dpIterationTime: cmp.a.timeline.iterationTime,
    iterationTime: cmp.b.timeline.iterationTime,
    speedup,
    dp: A,
    self: B,
    changes: cmp.changes,
    sameOps: cmp.ops.length - changed.length,
    changedOps: changed.length,
    gains,
    losses,
    why,
  };
}

/** Whether `s` is data parallelism itself (same per-op configs, no strategy-wide settings). */
function isDp(graph: Graph, mesh: Mesh, s: Strategy): boolean {
  const dp = baseline("dp", graph, mesh);
  const sameOps = graph.topoOrder().every((op) => s.ops[op.name]?.degrees.join() === dp.ops[op.name].degrees.join() && s.ops[op.name]?.devices.join() === dp.ops[op.name].devices.join());
  return sameOps && !s.replicas && !s.pipeline && !s.zero && !(s.recompute?.length) && (s.precision ?? "f32") === "f32";
}

/**
 * The report's data. The strategy of a model FILE has been validated by the caller (an
 * invalid one is the pipeline's coded error); a plan's recovered configs are validated
 * here, and when they do not validate the sections that need them say so.
 */
export function buildReport(input: ReportInput, ctx: PipelineContext): ReportData {
  const { graph, mesh } = input;
  const notes: string[] = [];
  let strategy = input.strategy;
  let strategyMissing = input.strategyMissing;
  if (strategy && mesh && input.source.kind === "plan") {
    const sink = new Diagnostics();
    if (!validateStrategy(graph, mesh, strategy, sink)) {
      strategyMissing = `the plan's per-op configs do not make a valid strategy on mesh ${mesh.name} (${sink.errors[0]?.code ?? "?"}: ${sink.errors[0]?.message ?? "invalid"}); a plan does not record replicas, pipelines or ZeRO`;
      strategy = undefined;
    }
  }
  const why = !mesh ? (input.meshMissing ?? "the mesh is not known") : !strategy ? (strategyMissing ?? "the strategy is not known") : undefined;
  const simulated = mesh && strategy ? simulate(graph, mesh, strategy, ctx, { optimizer: input.optimizer }) : undefined;
  const opIndex = new Map(graph.topoOrder().map((op, i) => [op.name, i]));
  const configs = strategy?.ops ?? input.strategy?.ops;
  const view = graphView(graph, configs, { ...(input.degrees ? { degrees: input.degrees } : {}), ...(simulated ? { times: timeByOp(simulated.timeline) } : {}) });
  if (input.strategyMissing) notes.push(`Placement: ${input.strategyMissing}.`);
  const deviceCount = mesh?.devices.length ?? 0;
  const data: ReportData = {
    title: `${graph.name}${strategy || input.strategy ? ` / ${(strategy ?? input.strategy)!.name}` : ""}${mesh ? ` on ${mesh.name}` : ""}`,
    model: graph.name,
    source: input.source,
    searched: input.searched,
    optimizer: input.optimizer,
    notes,
    graph: view,
    timeline: { kinds: TASK_KINDS, deviceCount },
    memory: { parts: MEMORY_PARTS },
    comm: {},
    comparison: {},
  };
  const name = (strategy ?? input.strategy)?.name;
  if (name !== undefined) data.strategy = name;
  if (mesh) {
    const d = describeMesh(mesh);
    const links = [...new Set(d.levels.flatMap((l) => l.links.map((x) => x.name)))];
    data.mesh = { name: mesh.name, devices: mesh.devices.length, summary: `${d.kinds.map((k) => `${k.count} × ${k.kind}`).join(", ")}${links.length ? `; links: ${links.join(", ")}` : ""}` };
  }
  if (input.measured) data.timeline.measured = input.measured;
  if (!simulated) {
    const text = `No prediction: ${why}.`;
    data.timeline.missing = text;
    data.memory.missing = text;
    data.comm.missing = text;
    data.comparison.missing = text;
    return data;
  }
  const t = simulated.timeline;
  data.iterationTime = t.iterationTime;
  data.timeline.predicted = timelineView(t, deviceCount, opIndex);
  data.memory.devices = memoryRows(simulated.memory);
  data.memory.overCapacity = simulated.memory.overCapacity.map((o) => o.device);
  data.comm.edges = topCommEdges(t, TOP_COMM_EDGES);
  data.comm.bytesByLinkClass = { ...t.bytesByLinkClass };
  if (isDp(graph, mesh!, strategy!)) data.comparison.note = "This strategy is data parallelism itself: there is nothing to compare it with.";
  else {
    data.comparison.result = compareWithDp(graph, mesh!, strategy!, input.searched, input.optimizer, ctx);
    if (!input.searched) data.comparison.note = `Strategy ${strategy!.name} was not found by search; it is compared with data parallelism all the same.`;
  }
  return data;
}
