// What differs between two strategies beyond their per-op configs: replicas, the pipeline
// (micro-batches, schedule, virtual stages, each stage's ops and devices), ZeRO,
// recomputation and precision, in words for `par diff` (and as data for its --json).

import { deviceRangeText } from "./device-list.js";
import { listNames } from "./strategy-validate.js";
import type { PipelineConfig, PipelineStage, Strategy } from "./strategy.js";

export interface ScaleChange {
  /** What changed: `replicas`, `pipeline`, `microbatches`, `schedule`, `virtual stages`, `stage k`, `stages`, `zero`, `recompute`, `precision`. */
  what: string;
  a: string;
  b: string;
  /** More detail, one line each (recomputation: the ops added and removed). */
  detail?: string[];
}

const ZERO_NAMES = ["off", "optimizer state sharded", "optimizer state and gradients sharded", "optimizer state, gradients and weights sharded"];

function replicasText(s: Strategy): string {
  return s.replicas && s.replicas.count > 1 ? `${s.replicas.count} replicas, ${s.replicas.offset} devices apart` : "1 (no replicas)";
}

function pipelineText(p: PipelineConfig | undefined): string {
  if (!p) return "none";
  const v = p.virtualStages ?? 1;
  return `${p.stages.length} stage${p.stages.length === 1 ? "" : "s"}${v > 1 ? ` (${v} per device group)` : ""}, ${p.microbatches} micro-batch${p.microbatches === 1 ? "" : "es"}, ${p.schedule}`;
}

function stageText(st: PipelineStage | undefined): string {
  if (!st) return "none";
  return `${st.first === st.last ? st.first : `${st.first} .. ${st.last}`} on ${deviceRangeText(st.devices)}`;
}

/** The strategy-level differences from `a` to `b`, in a fixed order; empty when they agree. */
export function scaleChanges(a: Strategy, b: Strategy): ScaleChange[] {
  const out: ScaleChange[] = [];
  const change = (what: string, x: string, y: string, detail?: string[]) => {
    if (x !== y || (detail && detail.length > 0)) out.push(detail && detail.length > 0 ? { what, a: x, b: y, detail } : { what, a: x, b: y });
  };
  change("replicas", replicasText(a), replicasText(b));
  const pa = a.pipeline;
  const pb = b.pipeline;
  if (!pa || !pb) change("pipeline", pipelineText(pa), pipelineText(pb));
  else {
    change("microbatches", String(pa.microbatches), String(pb.microbatches));
    change("schedule", pa.schedule, pb.schedule);
    change("virtual stages", String(pa.virtualStages ?? 1), String(pb.virtualStages ?? 1));
    change("stages", String(pa.stages.length), String(pb.stages.length));
    for (let k = 0; k < Math.max(pa.stages.length, pb.stages.length); k++) change(`stage ${k}`, stageText(pa.stages[k]), stageText(pb.stages[k]));
  }
  const za = a.zero ?? 0;
  const zb = b.zero ?? 0;
  change("zero", `${za} (${ZERO_NAMES[za] ?? "?"})`, `${zb} (${ZERO_NAMES[zb] ?? "?"})`);
  const ra = new Set(a.recompute ?? []);
  const rb = new Set(b.recompute ?? []);
  const added = [...rb].filter((n) => !ra.has(n));
  const removed = [...ra].filter((n) => !rb.has(n));
  const detail = [...(added.length > 0 ? [`+ ${listNames(added)}`] : []), ...(removed.length > 0 ? [`− ${listNames(removed)}`] : [])];
  const opsText = (n: number) => `${n} op${n === 1 ? "" : "s"} recomputed`;
  change("recompute", opsText(ra.size), opsText(rb.size), detail);
  change("precision", a.precision ?? "f32", b.precision ?? "f32");
  return out;
}
