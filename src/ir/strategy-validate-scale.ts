// Validation of a strategy's large-scale fields (pipeline, replicas, ZeRO, recomputation,
// precision) against its graph and mesh; the rules are in docs/strategies.md. Problems come
// back as values naming what they concern (`subject`), so that `validateStrategy` can
// report them plainly and the `.par` resolver at the setting that caused each one.

import type { Mesh } from "../core/mesh.js";
import { getOp } from "../ops/registry.js";
import type { Graph, OpNode } from "./graph.js";
import { replicaCount } from "./strategy-replicas.js";
import { deviceGroupCount, microbatchCount, sampleDims, stageRanges } from "./strategy-stages.js";
import { PIPELINE_SCHEDULES, PRECISIONS, type OpConfig, type PipelineConfig, type Strategy } from "./strategy.js";

export type ScaleCode =
  | "PAR3165" | "PAR3166" | "PAR3167" | "PAR3168" | "PAR3169"
  | "PAR3175" | "PAR3176" | "PAR3177" | "PAR3178" | "PAR3179" | "PAR3180"
  | "PAR3181" | "PAR3182" | "PAR3183" | "PAR3184" | "PAR3185"
  | "PAR3186" | "PAR3187" | "PAR3188" | "PAR3189";

/** What a problem concerns, so that a caller with source positions can point at it. */
export type ScaleSubject =
  | { kind: "pipeline"; field: "microbatches" | "schedule" | "virtualStages" }
  | { kind: "stage"; stage: number; field: "first" | "last" | "devices" }
  /** One op's config; `dim` is the iteration-dim index when the problem is one degree. */
  | { kind: "op"; op: string; dim?: number }
  | { kind: "replicas"; field: "count" | "offset" }
  | { kind: "zero" }
  | { kind: "recompute"; op: string }
  | { kind: "precision" };

export interface ScaleProblem {
  severity: "error" | "warning";
  code: ScaleCode;
  message: string;
  subject: ScaleSubject;
  expected?: string;
  hint?: string;
}

/** How many devices or ops a message lists before "...". */
const SHOWN = 8;

function list(xs: readonly (string | number)[]): string {
  const shown = xs.slice(0, SHOWN).join(", ");
  return xs.length > SHOWN ? `${shown}, ... (${xs.length} in all)` : shown;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** True when `c` is well-formed enough to look at its devices (the per-op checks report the rest). */
function usable(c: OpConfig | undefined): c is OpConfig {
  return c !== undefined && Array.isArray(c.degrees) && Array.isArray(c.devices);
}

/** Ops whose outputs cannot be recomputed: losses (backward starts there) and weight sources (no inputs: their output is a weight, always kept). */
export function recomputable(op: OpNode): boolean {
  return !getOp(op.op)?.isLoss && op.inputs.length > 0;
}

/**
 * True when some weight shard is held by several devices that each compute a different
 * part of the batch: replicas, or an op with parameters whose tasks differ only in dims
 * that index no parameter (its sample dims, typically) and sit on different devices. ZeRO
 * shards across exactly these groups.
 */
export function hasDataParallelGroup(graph: Graph, s: Strategy): boolean {
  if (replicaCount(s) > 1) return true;
  for (const op of graph.ops.values()) {
    if (op.sig.params.length === 0) continue;
    const c = s.ops[op.name];
    if (!usable(c) || c.devices.length < 2) continue;
    const weightDims = new Set<number>();
    for (const maps of op.sig.paramMaps) for (const m of maps) if (m.kind !== "full") weightDims.add(m.dim);
    // Task t's coordinates, row-major over the degrees (last dim fastest).
    const holder = new Map<string, number>();
    for (let t = 0; t < c.devices.length; t++) {
      let rest = t;
      const key: number[] = [];
      for (let i = c.degrees.length - 1; i >= 0; i--) {
        const coord = rest % c.degrees[i];
        rest = Math.floor(rest / c.degrees[i]);
        if (weightDims.has(i)) key.push(coord);
      }
      const k = key.join(",");
      const first = holder.get(k);
      if (first === undefined) holder.set(k, c.devices[t]);
      else if (first !== c.devices[t]) return true;
    }
  }
  return false;
}

/** Every problem with the large-scale fields of `s`; empty for a strategy without them. */
export function scaleProblems(graph: Graph, mesh: Mesh, s: Strategy): ScaleProblem[] {
  const out: ScaleProblem[] = [];
  const order = graph.topoOrder();
  const meshSize = mesh.devices.length;
  let stageOf: number[] | undefined;
  if (s.pipeline) stageOf = pipelineProblems(order, meshSize, s.pipeline, out);
  batchProblems(order, s, out);
  if (s.pipeline && stageOf) opsInStageProblems(order, meshSize, s, s.pipeline, stageOf, out);
  if (s.replicas) replicaProblems(order, meshSize, s, out);
  if (s.zero !== undefined) zeroProblems(graph, s, out);
  if (s.recompute) recomputeProblems(graph, s.recompute, out);
  if (s.precision !== undefined) precisionProblems(mesh, s.precision, out);
  return out;
}

// ------------------------------------------------------------------ pipeline

/** Checks the pipeline; returns the stage of each op (by topological index) when the stages cut the ops properly. */
function pipelineProblems(order: readonly OpNode[], meshSize: number, p: PipelineConfig, out: ScaleProblem[]): number[] | undefined {
  const err = (code: ScaleCode, subject: ScaleSubject, message: string, expected?: string, hint?: string) => out.push({ severity: "error", code, subject, message, expected, hint });
  if (!Number.isSafeInteger(p.microbatches) || p.microbatches < 1) {
    err("PAR3175", { kind: "pipeline", field: "microbatches" }, `the pipeline has ${p.microbatches} micro-batches`, "an integer ≥ 1");
  }
  if (!PIPELINE_SCHEDULES.includes(p.schedule)) {
    err("PAR3176", { kind: "pipeline", field: "schedule" }, `unknown pipeline schedule \`${String(p.schedule)}\``, `one of ${PIPELINE_SCHEDULES.map((x) => `\`${x}\``).join(", ")}`);
  }
  const v = p.virtualStages ?? 1;
  const n = p.stages.length;
  let groups = n;
  if (p.schedule === "interleaved") {
    if (!Number.isSafeInteger(v) || v < 2 || n % v !== 0) {
      err(
        "PAR3177",
        { kind: "pipeline", field: "virtualStages" },
        `the interleaved schedule needs v ≥ 2 virtual stages per device group dividing the ${plural(n, "stage")}; it has v = ${v}`,
        `v ≥ 2 with ${n} % v = 0`,
        "with v = 1 the schedule is plain 1F1B: write `1f1b`",
      );
      groups = 0;
    } else {
      groups = deviceGroupCount(p);
      if (Number.isSafeInteger(p.microbatches) && p.microbatches % groups !== 0) {
        err(
          "PAR3178",
          { kind: "pipeline", field: "microbatches" },
          `the interleaved schedule needs the micro-batches to be a multiple of the ${plural(groups, "device group")}; it has ${p.microbatches}`,
          `a multiple of ${groups}`,
          "Narayanan et al. (2021) schedule micro-batches in rounds of one per device group",
        );
      }
    }
  } else if (v !== 1) {
    err("PAR3177", { kind: "pipeline", field: "virtualStages" }, `virtual stages (${v}) need the interleaved schedule; this pipeline is \`${p.schedule}\``, "no virtual stages", "use `interleaved`, or drop the virtual stages");
  }

  // Stage devices: a non-empty set inside the mesh; disjoint across device groups; with interleaving, stage k repeats stage k mod p.
  const owner = new Map<number, number>();
  p.stages.forEach((st, k) => {
    const subject: ScaleSubject = { kind: "stage", stage: k, field: "devices" };
    const devs = Array.isArray(st.devices) ? st.devices : [];
    const outside = devs.filter((d) => !Number.isSafeInteger(d) || d < 0 || d >= meshSize);
    const distinct = new Set<number>();
    const repeated: number[] = [];
    for (const d of devs) {
      if (distinct.has(d)) repeated.push(d);
      distinct.add(d);
    }
    if (devs.length === 0 || outside.length > 0 || repeated.length > 0) {
      const what = devs.length === 0 ? "no devices" : outside.length > 0 ? `device${outside.length === 1 ? "" : "s"} ${list(outside)} outside the mesh` : `device${repeated.length === 1 ? "" : "s"} ${list([...new Set(repeated)])} twice`;
      err("PAR3167", subject, `stage ${k} has ${what}`, `distinct device indices 0..${meshSize - 1}`);
      return;
    }
    if (groups > 0 && k >= groups) {
      const base = p.stages[k % groups].devices;
      if (devs.length !== base.length || devs.some((d, i) => d !== base[i])) {
        err("PAR3168", subject, `stage ${k} must run on the devices of stage ${k % groups} (interleaved: stage k on device group k mod ${groups})`, `devices ${list(base)}`);
      }
      return;
    }
    const shared = devs.filter((d) => owner.has(d));
    if (shared.length > 0) {
      err("PAR3168", subject, `stage ${k} shares device${shared.length === 1 ? "" : "s"} ${list(shared)} with stage ${owner.get(shared[0])}`, "disjoint device sets, one per stage", "stages run concurrently: each needs its own devices");
    }
    for (const d of devs) if (!owner.has(d)) owner.set(d, k);
  });

  // Stage bounds: ops of the graph, contiguous in topological order, covering every op once.
  const ranges = stageRanges(order, p.stages);
  let ok = true;
  ranges.forEach((r, k) => {
    if (r) return;
    ok = false;
    for (const field of ["first", "last"] as const) {
      const name = p.stages[k][field];
      if (!order.some((o) => o.name === name)) err("PAR3165", { kind: "stage", stage: k, field }, `stage ${k} ${field === "first" ? "starts" : "ends"} at \`${name}\`, which is not an op of the model`, "an op name");
    }
  });
  if (!ok) return undefined;
  let next = 0;
  for (let k = 0; k < ranges.length; k++) {
    const r = ranges[k]!;
    const st = p.stages[k];
    if (r.end < r.start) {
      err("PAR3166", { kind: "stage", stage: k, field: "last" }, `stage ${k} ends at \`${st.last}\`, which comes before its first op \`${st.first}\` in topological order`, `an op at or after \`${st.first}\``);
      return undefined;
    }
    if (r.start !== next) {
      const expectedOp = next < order.length ? order[next].name : undefined;
      const message =
        r.start > next
          ? `ops ${list(order.slice(next, r.start).map((o) => `\`${o.name}\``))} are in no stage: stage ${k} starts at \`${st.first}\``
          : `stage ${k} starts at \`${st.first}\`, inside ${k === 0 ? "the model" : `stage ${k - 1}`} (ops are in one stage each, in topological order)`;
      err("PAR3166", { kind: "stage", stage: k, field: "first" }, message, expectedOp ? `stage ${k} to start at \`${expectedOp}\`` : "no further stage", "stages cut the topological order (`par graph` lists it) into contiguous pieces");
      return undefined;
    }
    next = r.end + 1;
  }
  if (next !== order.length) {
    const k = ranges.length - 1;
    err("PAR3166", { kind: "stage", stage: k, field: "last" }, `ops ${list(order.slice(next).map((o) => `\`${o.name}\``))} are in no stage: the last stage ends at \`${p.stages[k].last}\``, `the last stage to end at \`${order[order.length - 1].name}\``);
    return undefined;
  }
  const stageOf = new Array<number>(order.length);
  ranges.forEach((r, k) => {
    for (let i = r!.start; i <= r!.end; i++) stageOf[i] = k;
  });
  return stageOf;
}

/** Every op's devices lie inside its stage's devices. */
function opsInStageProblems(order: readonly OpNode[], meshSize: number, s: Strategy, p: PipelineConfig, stageOf: readonly number[], out: ScaleProblem[]): void {
  const sets = p.stages.map((st) => new Set(st.devices));
  order.forEach((op, i) => {
    const c = s.ops[op.name];
    if (!usable(c)) return;
    const k = stageOf[i];
    // Devices outside the mesh are the per-op check's (PAR3157) to report.
    const outside = [...new Set(c.devices.filter((d) => d >= 0 && d < meshSize && !sets[k].has(d)))];
    if (outside.length > 0) {
      out.push({
        severity: "error",
        code: "PAR3169",
        subject: { kind: "op", op: op.name },
        message: `op \`${op.name}\` is in stage ${k}, but device${outside.length === 1 ? "" : "s"} ${list(outside)} of its config ${outside.length === 1 ? "is" : "are"} not among the stage's devices`,
        expected: `devices of stage ${k}: ${list(p.stages[k].devices)}`,
      });
    }
  });
}

// ------------------------------------------------------------------ micro-batches

/** Sample dims split into replicas × micro-batches: each must divide, and each op's sample degree fit one part. */
function batchProblems(order: readonly OpNode[], s: Strategy, out: ScaleProblem[]): void {
  const R = replicaCount(s);
  const M = microbatchCount(s);
  const parts = R * M;
  if (!Number.isSafeInteger(parts) || parts <= 1) return;
  const field: ScaleSubject = M > 1 ? { kind: "pipeline", field: "microbatches" } : { kind: "replicas", field: "count" };
  const split = [R > 1 ? plural(R, "replica") : "", M > 1 ? plural(M, "micro-batch", "micro-batches") : ""].filter(Boolean).join(" × ");
  // One problem per kind of mistake (not per op: a 1,000-op model has one batch size).
  const unsplittable: string[] = [];
  const uneven = new Map<number, string[]>();
  for (const op of order) {
    for (const i of sampleDims(op)) {
      const dim = op.sig.space[i];
      if (dim.splittable === false) {
        unsplittable.push(`\`${op.name}\``);
        continue;
      }
      if (dim.size % parts !== 0) {
        const ops = uneven.get(dim.size) ?? [];
        uneven.set(dim.size, [...ops, `\`${op.name}\``]);
        continue;
      }
      const c = s.ops[op.name];
      if (!usable(c)) continue;
      const part = dim.size / parts;
      const deg = c.degrees[i];
      if (Number.isSafeInteger(deg) && deg > part) {
        out.push({
          severity: "error",
          code: "PAR3180",
          subject: { kind: "op", op: op.name, dim: i },
          message: `op \`${op.name}\`: degree ${deg} of \`${dim.name}\` exceeds the ${part} sample${part === 1 ? "" : "s"} of one micro-batch (${dim.size} / ${parts})`,
          expected: `a degree between 1 and ${part}`,
          hint: "an op config describes one micro-batch of one replica",
        });
      }
    }
  }
  if (unsplittable.length > 0) {
    out.push({ severity: "error", code: "PAR3179", subject: field, message: `op${unsplittable.length === 1 ? "" : "s"} ${list(unsplittable)} cannot run on part of ${unsplittable.length === 1 ? "its" : "their"} sample dim, so the batch cannot be split into ${split}`, expected: "replicas × microbatches = 1 for this model", hint: "their kernels need the whole sample dim" });
  }
  for (const [size, ops] of uneven) {
    out.push({
      severity: "error",
      code: "PAR3179",
      subject: field,
      message: `a sample dim of size ${size} (op${ops.length === 1 ? "" : "s"} ${list(ops)}) does not split into ${split} (${parts} equal parts)`,
      expected: `replicas × microbatches dividing ${size}`,
      hint: "every replica runs the same number of equal micro-batches",
    });
  }
}

// ------------------------------------------------------------------ replicas

/** Replica 0's devices: every op's and every stage's. */
function replicaZeroUsed(order: readonly OpNode[], s: Strategy): Set<number> {
  const used = new Set<number>();
  for (const op of order) {
    const c = s.ops[op.name];
    if (usable(c)) for (const d of c.devices) used.add(d);
  }
  for (const st of s.pipeline?.stages ?? []) if (Array.isArray(st.devices)) for (const d of st.devices) used.add(d);
  return used;
}

function replicaProblems(order: readonly OpNode[], meshSize: number, s: Strategy, out: ScaleProblem[]): void {
  const { count, offset } = s.replicas!;
  let bad = false;
  if (!Number.isSafeInteger(count) || count < 1) {
    out.push({ severity: "error", code: "PAR3181", subject: { kind: "replicas", field: "count" }, message: `${count} replicas`, expected: "an integer ≥ 1" });
    bad = true;
  }
  if (!Number.isSafeInteger(offset) || offset < 1) {
    out.push({ severity: "error", code: "PAR3181", subject: { kind: "replicas", field: "offset" }, message: `replica offset ${offset}`, expected: "an integer ≥ 1 (the device distance between consecutive replicas)" });
    bad = true;
  }
  if (bad || count === 1) return;
  const used = replicaZeroUsed(order, s);
  const devices = [...used].filter((d) => Number.isSafeInteger(d) && d >= 0 && d < meshSize).sort((a, b) => a - b);
  const outside: string[] = [];
  const clash: string[] = [];
  // Beyond r = meshSize every image leaves the mesh (offset ≥ 1), so a huge count costs no more than that.
  const last = Math.min(count - 1, meshSize);
  for (let r = 1; r <= last && outside.length < SHOWN && clash.length < SHOWN; r++) {
    for (const d of devices) {
      const image = d + r * offset;
      if (image >= meshSize) outside.push(`${d} → ${image} (replica ${r})`);
      else if (used.has(image)) clash.push(`${d} → ${image} (replica ${r})`);
      if (outside.length >= SHOWN || clash.length >= SHOWN) break;
    }
  }
  if (outside.length > 0) {
    out.push({
      severity: "error",
      code: "PAR3182",
      subject: { kind: "replicas", field: "count" },
      message: `${count} replicas ${offset} devices apart leave the mesh of ${meshSize} devices: ${outside.join(", ")}`,
      expected: `replica images d + r·${offset} below ${meshSize}`,
      hint: `replica 0 should use devices whose images fit: with offset ${offset}, d + ${(count - 1) * offset} < ${meshSize}`,
    });
  }
  if (clash.length > 0) {
    out.push({
      severity: "error",
      code: "PAR3183",
      subject: { kind: "replicas", field: "offset" },
      message: `replicas ${offset} devices apart land on devices replica 0 already uses: ${clash.join(", ")}`,
      expected: "each replica on its own devices",
      hint: `replica 0's devices must avoid d + r·${offset}; with contiguous replicas the offset is at least the span of replica 0's devices`,
    });
  }
}

// ------------------------------------------------------------------ ZeRO, recomputation, precision

function zeroProblems(graph: Graph, s: Strategy, out: ScaleProblem[]): void {
  const z = s.zero as number;
  if (!Number.isSafeInteger(z) || z < 0 || z > 3) {
    out.push({ severity: "error", code: "PAR3184", subject: { kind: "zero" }, message: `ZeRO stage ${z}`, expected: "0 (off), 1 (optimizer state), 2 (and gradients) or 3 (and weights)" });
    return;
  }
  if (z > 0 && !hasDataParallelGroup(graph, s)) {
    out.push({
      severity: "warning",
      code: "PAR3185",
      subject: { kind: "zero" },
      message: `ZeRO stage ${z} has nothing to shard: no weight is held by several devices that process different samples`,
      hint: "ZeRO shards across data-parallel groups: add replicas or split the sample dim of ops with weights",
    });
  }
}

function recomputeProblems(graph: Graph, names: readonly string[], out: ScaleProblem[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    const op = graph.ops.get(name);
    if (seen.has(name)) {
      out.push({ severity: "error", code: "PAR3186", subject: { kind: "recompute", op: name }, message: `\`${name}\` is listed twice for recomputation`, expected: "each op once" });
      continue;
    }
    seen.add(name);
    if (!op) {
      out.push({ severity: "error", code: "PAR3186", subject: { kind: "recompute", op: name }, message: `\`${name}\` is listed for recomputation but is not an op of \`${graph.name}\``, expected: "op names of the model" });
    } else if (!recomputable(op)) {
      const what = getOp(op.op)?.isLoss ? "a loss (backward starts from its output)" : "a weight source with no inputs (its output is a weight, always kept)";
      out.push({ severity: "error", code: "PAR3187", subject: { kind: "recompute", op: name }, message: `op \`${name}\` cannot be recomputed: it is ${what}`, hint: "recompute the activations between them instead" });
    }
  }
}

function precisionProblems(mesh: Mesh, precision: string, out: ScaleProblem[]): void {
  if (!(PRECISIONS as readonly string[]).includes(precision)) {
    out.push({ severity: "error", code: "PAR3188", subject: { kind: "precision" }, message: `unknown precision \`${precision}\``, expected: `one of ${PRECISIONS.map((x) => `\`${x}\``).join(", ")}` });
    return;
  }
  const lacking = [...new Set(mesh.devices.filter((d) => d.spec.peakFlops[precision as keyof typeof d.spec.peakFlops] === undefined).map((d) => d.spec.kind))];
  if (lacking.length > 0) {
    out.push({
      severity: "warning",
      code: "PAR3189",
      subject: { kind: "precision" },
      message: `${lacking.map((k) => `\`${k}\``).join(", ")} in mesh \`${mesh.name}\` ${lacking.length === 1 ? "has" : "have"} no ${precision} peak: ${precision} math would be emulated or unsupported`,
      hint: precision === "bf16" ? "bf16 needs Ampere (A100) or later; `f16` runs on older GPUs" : "use a precision the devices support",
    });
  }
}
