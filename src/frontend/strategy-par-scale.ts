// Resolving the large-scale parts of a `.par` strategy block: the strategy-wide settings
// (replicas, ZeRO, precision) and the pipeline with its stages, explicit or cut evenly by
// `stages = p`. Positions of every setting are kept so that validation problems found
// later (src/ir/strategy-validate-scale.ts) are reported where they were written.
// Semantics: docs/strategies.md.

import { didYouMean, type SourcePos } from "../core/diagnostics.js";
import type { Mesh } from "../core/mesh.js";
import type { OpNode } from "../ir/graph.js";
import { defaultReplicaOffset, replicaZeroDevices } from "../ir/strategy-replicas.js";
import { evenDeviceBlocks, evenStages, type StageBalance } from "../ir/strategy-stages.js";
import type { ScaleSubject } from "../ir/strategy-validate-scale.js";
import type { PipelineConfig, PipelineSchedule, PipelineStage, Precision, ReplicaConfig, ZeroStage } from "../ir/strategy.js";
import type { OpPattern, PipelineDecl, StageDecl, StrategyDecl } from "./ast.js";
import { spanPos, type EvalContext } from "./eval.js";
import { PIPELINE_SETTING_KEYS, readSettings, STAGE_SETTING_KEYS, STRATEGY_SETTING_KEYS, type Setting, type SettingValue } from "./strategy-options.js";

type Settings = Map<string, Setting<SettingValue>>;

/** Where a stage came from: an explicit stage line, or the `stages = p` setting. */
interface StagePositions {
  decl: SourcePos;
  first: SourcePos;
  last: SourcePos;
  devices: SourcePos;
}

/** Where each large-scale setting was written. */
export interface ScalePositions {
  settings: Settings;
  pipeline?: SourcePos;
  pipelineSettings: Settings;
  stages: StagePositions[];
}

export interface ResolvedScale {
  replicas?: ReplicaConfig;
  pipeline?: PipelineConfig;
  zero?: ZeroStage;
  precision?: Precision;
  positions: ScalePositions;
}

/** The position a validation problem about a large-scale field is reported at (op problems are the caller's). */
export function scaleSubjectPos(subject: Exclude<ScaleSubject, { kind: "op" }>, positions: ScalePositions, fallback: SourcePos): SourcePos {
  const { settings, pipelineSettings } = positions;
  const pipeline = positions.pipeline ?? fallback;
  switch (subject.kind) {
    case "pipeline": {
      const key = subject.field === "virtualStages" ? "virtual" : subject.field;
      return pipelineSettings.get(key)?.pos ?? (key === "virtual" ? pipelineSettings.get("schedule")?.pos : undefined) ?? pipeline;
    }
    case "stage": {
      const st = positions.stages[subject.stage];
      return st ? st[subject.field] : pipeline;
    }
    case "replicas":
      return settings.get(subject.field === "count" ? "replicas" : "offset")?.pos ?? settings.get("replicas")?.pos ?? fallback;
    case "zero":
      return settings.get("zero")?.pos ?? fallback;
    case "precision":
      return settings.get("precision")?.pos ?? fallback;
    case "recompute":
      return fallback;
  }
}

/**
 * Reads the strategy-wide settings and the pipeline of `decl`. Problems it can see alone
 * (unknown keys, wrong values, stage bounds that are not ops, an even cut that does not
 * fit) are reported here; a part with such a problem is left out of the result.
 */
export function resolveScale(decl: StrategyDecl, order: readonly OpNode[], mesh: Mesh, ctx: EvalContext): ResolvedScale {
  const { file, diagnostics } = ctx;
  const settings: Settings = new Map();
  for (const item of decl.settings) readSettings(item.settings, STRATEGY_SETTING_KEYS, "a strategy-wide setting", ctx, settings);
  const positions: ScalePositions = { settings, pipelineSettings: new Map(), stages: [] };
  const out: ResolvedScale = { positions };
  const meshSize = mesh.devices.length;

  const count = settings.get("replicas");
  const offset = settings.get("offset");
  if (offset && !count) {
    diagnostics.error("PAR3181", "`offset` is the distance between replicas, but the strategy has no `replicas`", { pos: offset.pos, expected: "`replicas = R, offset = k`" });
  } else if (count && (count.value as number) > 1) {
    const R = count.value as number;
    const k = offset ? (offset.value as number) : defaultReplicaOffset(meshSize, R);
    if (k === undefined) {
      diagnostics.error("PAR3181", `the ${meshSize} devices of mesh \`${mesh.name}\` do not split into ${R} equal blocks of replicas`, {
        pos: count.pos,
        expected: `a replica count dividing ${meshSize}, or an explicit \`offset\``,
        hint: `give the device distance between replicas: \`replicas = ${R}, offset = ${Math.max(1, Math.floor(meshSize / R))}\``,
      });
    } else out.replicas = { count: R, offset: k };
  }
  const zero = settings.get("zero");
  if (zero && zero.value !== 0) out.zero = zero.value as ZeroStage;
  const precision = settings.get("precision");
  if (precision && precision.value !== "f32") out.precision = precision.value as Precision;

  decl.pipelines.slice(1).forEach((p) => {
    diagnostics.error("PAR3191", "the strategy has a second `pipeline`", { pos: spanPos(file, p.span), expected: "one `pipeline(...)` per strategy", hint: "list all stages in one pipeline's body" });
  });
  const p = decl.pipelines[0];
  if (p) {
    positions.pipeline = spanPos(file, p.span);
    const pipeline = resolvePipeline(p, order, meshSize, out.replicas, ctx, positions);
    if (pipeline) out.pipeline = pipeline;
  }
  return out;
}

/** True when a problem was reported for `key` among `settings` (a value that was wrong). */
function written(settings: readonly { name: string }[], key: string): boolean {
  return settings.some((s) => s.name === key);
}

function resolvePipeline(p: PipelineDecl, order: readonly OpNode[], meshSize: number, replicas: ReplicaConfig | undefined, ctx: EvalContext, positions: ScalePositions): PipelineConfig | undefined {
  const { diagnostics } = ctx;
  const at = positions.pipeline!;
  const ps = positions.pipelineSettings;
  const errorsBefore = diagnostics.errors.length;
  readSettings(p.settings, PIPELINE_SETTING_KEYS, "a pipeline setting", ctx, ps);
  const microbatches = ps.get("microbatches");
  if (!microbatches && !written(p.settings, "microbatches")) {
    diagnostics.error("PAR3175", "the pipeline needs a micro-batch count", { pos: at, expected: "`pipeline(microbatches = M, ...)`", hint: "each replica's batch is cut into M micro-batches that flow through the stages" });
  }
  const schedule = (ps.get("schedule")?.value ?? "1f1b") as PipelineSchedule;
  const virtual = (ps.get("virtual")?.value ?? 1) as number;
  const evenCount = ps.get("stages");
  const balance = ps.get("balance");
  const explicit = p.stages;
  if (evenCount && explicit) {
    diagnostics.error("PAR3194", "the pipeline has both `stages = n` and a list of stages", { pos: evenCount.pos, expected: "one of them", hint: "`stages = n` cuts the ops evenly; a list `{ first .. last ... }` cuts them where it says" });
  } else if (!evenCount && !explicit && !written(p.settings, "stages")) {
    diagnostics.error("PAR3194", "the pipeline has no stages", { pos: at, expected: "`stages = n` (an even cut) or a list of stages: `pipeline(...) { first .. last : devices = 0..3 ... }`" });
  }
  if (balance && explicit) diagnostics.error("PAR3194", "`balance` chooses how `stages = n` cuts the ops; this pipeline lists its stages", { pos: balance.pos, expected: "no `balance` with a list of stages" });
  if (diagnostics.errors.length > errorsBefore || !microbatches) return undefined;

  // Device groups and the default device blocks: replica 0's devices in p equal blocks.
  const stageCount = explicit ? explicit.length : (evenCount!.value as number);
  const groups = virtual >= 1 && stageCount % virtual === 0 ? stageCount / virtual : stageCount;
  const pool = replicaZeroDevices(meshSize, replicas);
  const blocks = evenDeviceBlocks(pool, groups);
  const noBlocks = `replica 0's ${pool.length} device${pool.length === 1 ? "" : "s"} do not split into ${groups} equal device group${groups === 1 ? "" : "s"}`;
  let stages: PipelineStage[] | undefined;
  if (!explicit) {
    const countPos = evenCount!.pos;
    if (stageCount > order.length) {
      diagnostics.error("PAR3194", `\`stages = ${stageCount}\`, but the model has ${order.length} op${order.length === 1 ? "" : "s"}`, { pos: countPos, expected: `at most ${order.length} stages (each stage holds at least one op)` });
    } else if (!blocks) {
      diagnostics.error("PAR3194", `\`stages = ${stageCount}\` needs equal device groups, but ${noBlocks}`, { pos: countPos, expected: `a number of device groups dividing ${pool.length}`, hint: "list the stages with their devices instead" });
    } else {
      stages = evenStages(order, stageCount, (balance?.value ?? "flops") as StageBalance, blocks);
      positions.stages = stages.map(() => ({ decl: countPos, first: countPos, last: countPos, devices: countPos }));
    }
  } else stages = explicitStages(explicit, order, groups, blocks, noBlocks, ctx, positions);
  if (!stages) return undefined;
  const config: PipelineConfig = { microbatches: microbatches.value as number, schedule, stages };
  if (virtual !== 1) config.virtualStages = virtual;
  return config;
}

/** An explicit stage bound: an op name (quoted when needed), not a glob. */
function boundName(pat: OpPattern, order: readonly OpNode[], ctx: EvalContext): string | undefined {
  const pos = spanPos(ctx.file, pat.span);
  if (/[*?]/.test(pat.text) && !order.some((o) => o.name === pat.text)) {
    ctx.diagnostics.error("PAR3193", `a stage starts and ends at one op each; \`${pat.text}\` is a glob`, { pos, expected: "an op name", hint: "quote an op name that contains `*` or `?`" });
    return undefined;
  }
  if (!order.some((o) => o.name === pat.text)) {
    ctx.diagnostics.error("PAR3165", `\`${pat.text}\` is not an op of the model`, { pos, expected: "an op name", hint: didYouMean(pat.text, order.map((o) => o.name)) });
    return undefined;
  }
  return pat.text;
}

function explicitStages(
  decls: readonly StageDecl[],
  order: readonly OpNode[],
  groups: number,
  blocks: number[][] | undefined,
  noBlocks: string,
  ctx: EvalContext,
  positions: ScalePositions,
): PipelineStage[] | undefined {
  const { file, diagnostics } = ctx;
  if (decls.length === 0) {
    diagnostics.error("PAR3194", "the pipeline's list of stages is empty", { pos: positions.pipeline!, expected: "at least one stage `first .. last`" });
    return undefined;
  }
  const stages: PipelineStage[] = [];
  let ok = true;
  decls.forEach((st, k) => {
    const first = boundName(st.first, order, ctx);
    const last = st.last ? boundName(st.last, order, ctx) : first;
    const settings: Settings = new Map();
    readSettings(st.settings, STAGE_SETTING_KEYS, "a stage setting", ctx, settings);
    const declPos = spanPos(file, st.span);
    const given = settings.get("devices");
    positions.stages.push({ decl: declPos, first: spanPos(file, st.first.span), last: spanPos(file, (st.last ?? st.first).span), devices: given?.pos ?? declPos });
    let devices = given?.value as number[] | undefined;
    if (!devices && !written(st.settings, "devices")) {
      // Stage k of the first p (device groups) takes block k; later ones repeat stage k mod p.
      if (k >= groups) devices = stages[k % groups]?.devices;
      else if (blocks) devices = blocks[k];
      else diagnostics.error("PAR3194", `stage ${k} has no \`devices\`, and ${noBlocks}`, { pos: declPos, expected: "`devices = ...` for this stage" });
    }
    if (first === undefined || last === undefined || !devices) ok = false;
    stages.push({ first: first ?? "", last: last ?? "", devices: devices ? [...devices] : [] });
  });
  return ok ? stages : undefined;
}
