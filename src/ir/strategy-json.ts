// Strategy files: the JSON form (format "par-strategy", versions 1 and 2; schemas in
// src/ir/strategy-schema.ts). Writing picks version 1 for a strategy without large-scale
// fields (so such files stay exactly as they were) and version 2 otherwise. Reading checks
// the schema of the file's version first (ajv) and turns each schema error into a coded
// diagnostic at the JSON path (and line:column when the text is known), then maps
// parallel-dim names to indices and device range texts to lists. Whether the configs are
// valid for a mesh is `validateStrategy`'s business; reading needs only the graph.

import { didYouMean, ParError, type Diagnostics, type SourcePos } from "../core/diagnostics.js";
import { writeFileAtomic } from "../core/files.js";
import { INPUT_LIMITS, readTextFile } from "../core/read-text.js";
import type { Graph } from "./graph.js";
import { jsonLocations, lineColumn, pointerSegment, type JsonLocation } from "../core/json-positions.js";
import { deviceRangeText, parseDeviceRangeText } from "./device-list.js";
import { usesScaleFeatures, type OpConfig, type PipelineConfig, type Strategy } from "./strategy.js";
import {
  STRATEGY_FORMAT,
  STRATEGY_VERSION,
  STRATEGY_VERSIONS,
  strategyValidator,
  type DevicesJson,
  type OpConfigJson,
  type PipelineJson,
  type SchemaError,
  type StrategyJson,
  type StrategyVersion,
} from "./strategy-schema.js";

/** A version-2 device list: the range text when it is shorter than the array ("0..1023" for 1,024 devices). */
function compactDevices(devices: readonly number[]): DevicesJson {
  const text = deviceRangeText(devices);
  const arrayLength = devices.reduce((n, d) => n + String(d).length + 2, 0);
  return text.length + 2 < arrayLength ? text : [...devices];
}

/**
 * The JSON form of a strategy: ops in the graph's topological order, degree-1 dims omitted.
 * Version 1 when the strategy uses no large-scale field, else version 2 (with device
 * lists as range texts where shorter, recomputed ops in topological order).
 */
export function strategyToJson(graph: Graph, strategy: Strategy): StrategyJson {
  for (const name of Object.keys(strategy.ops)) {
    if (!graph.ops.has(name)) throw new Error(`strategyToJson: strategy ${strategy.name} configures ${name}, which is not an op of ${graph.name}`);
  }
  const v2 = usesScaleFeatures(strategy);
  const devicesOf = (d: readonly number[]): DevicesJson => (v2 ? compactDevices(d) : [...d]);
  const ops: Record<string, OpConfigJson> = {};
  const order = graph.topoOrder();
  for (const op of order) {
    const c = strategy.ops[op.name];
    if (!c) continue;
    if (c.degrees.length !== op.sig.space.length) throw new Error(`strategyToJson: op ${op.name} has ${op.sig.space.length} dims but ${c.degrees.length} degrees`);
    const dims: Record<string, number> = {};
    op.sig.space.forEach((d, i) => {
      if (c.degrees[i] !== 1) dims[d.name] = c.degrees[i];
    });
    ops[op.name] = Object.keys(dims).length > 0 ? { dims, devices: devicesOf(c.devices) } : { devices: devicesOf(c.devices) };
  }
  const json: StrategyJson = { format: STRATEGY_FORMAT, version: v2 ? 2 : 1, name: strategy.name, model: strategy.model, mesh: strategy.mesh, ops };
  if (!v2) return json;
  if (strategy.replicas && strategy.replicas.count > 1) json.replicas = { count: strategy.replicas.count, offset: strategy.replicas.offset };
  if (strategy.pipeline) {
    const p = strategy.pipeline;
    const pj: PipelineJson = { microbatches: p.microbatches, schedule: p.schedule, stages: [] };
    if ((p.virtualStages ?? 1) !== 1) pj.virtualStages = p.virtualStages;
    pj.stages = p.stages.map((st) => ({ ops: [st.first, st.last], devices: compactDevices(st.devices) }));
    json.pipeline = pj;
  }
  if ((strategy.zero ?? 0) !== 0) json.zero = strategy.zero;
  if (strategy.recompute && strategy.recompute.length > 0) {
    const rank = new Map(order.map((o, i) => [o.name, i]));
    json.recompute = [...strategy.recompute].sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity));
  }
  if ((strategy.precision ?? "f32") !== "f32") json.precision = strategy.precision;
  return json;
}

const devicesText = (d: DevicesJson): string => (typeof d === "string" ? JSON.stringify(d) : `[${d.join(", ")}]`);

/** Lines of a list of strings: on one line when it fits in `width`, else one item per line. */
function stringList(key: string, items: readonly string[], width: number): string[] {
  const s = (v: unknown) => JSON.stringify(v);
  const oneLine = `  ${s(key)}: [${items.map(s).join(", ")}],`;
  if (oneLine.length <= width) return [oneLine];
  return [`  ${s(key)}: [`, ...items.map((x, i) => `    ${s(x)}${i < items.length - 1 ? "," : ""}`), "  ],"];
}

/**
 * The file text of a strategy: one op (and one pipeline stage) per line, diff-friendly and
 * still compact for thousands of ops; keys in a fixed order, so the same strategy always
 * prints the same.
 */
export function formatStrategyJson(json: StrategyJson): string {
  const s = (v: unknown) => JSON.stringify(v);
  const lines = ["{"];
  if (json.$schema !== undefined) lines.push(`  "$schema": ${s(json.$schema)},`);
  lines.push(`  "format": ${s(json.format)},`, `  "version": ${s(json.version)},`, `  "name": ${s(json.name)},`, `  "model": ${s(json.model)},`, `  "mesh": ${s(json.mesh)},`);
  if (json.replicas) lines.push(`  "replicas": { "count": ${json.replicas.count}, "offset": ${json.replicas.offset} },`);
  if (json.pipeline) {
    const p = json.pipeline;
    lines.push(`  "pipeline": {`, `    "microbatches": ${p.microbatches},`, `    "schedule": ${s(p.schedule)},`);
    if (p.virtualStages !== undefined) lines.push(`    "virtualStages": ${p.virtualStages},`);
    lines.push(`    "stages": [`);
    p.stages.forEach((st, k) => lines.push(`      { "ops": [${st.ops.map(s).join(", ")}], "devices": ${devicesText(st.devices)} }${k < p.stages.length - 1 ? "," : ""}`));
    lines.push("    ]", "  },");
  }
  if (json.zero !== undefined) lines.push(`  "zero": ${json.zero},`);
  if (json.recompute) lines.push(...stringList("recompute", json.recompute, 100));
  if (json.precision !== undefined) lines.push(`  "precision": ${s(json.precision)},`);
  const names = Object.keys(json.ops);
  if (names.length === 0) lines.push(`  "ops": {}`);
  else {
    lines.push(`  "ops": {`);
    names.forEach((name, k) => {
      const c = json.ops[name];
      const dims = c.dims && Object.keys(c.dims).length > 0 ? `"dims": { ${Object.entries(c.dims).map(([d, v]) => `${s(d)}: ${v}`).join(", ")} }, ` : "";
      lines.push(`    ${s(name)}: { ${dims}"devices": ${devicesText(c.devices)} }${k < names.length - 1 ? "," : ""}`);
    });
    lines.push("  }");
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

export function strategyJsonText(graph: Graph, strategy: Strategy): string {
  return formatStrategyJson(strategyToJson(graph, strategy));
}

/** Writes a strategy file atomically (a crash never leaves half a strategy behind). */
export function writeStrategyFile(path: string, graph: Graph, strategy: Strategy): void {
  writeFileAtomic(path, strategyJsonText(graph, strategy));
}

/** Positions inside one JSON text, for diagnostics (found only when a diagnostic needs one: a large file costs nothing when it is fine). */
class Locator {
  private locs: Map<string, JsonLocation> | undefined;
  constructor(
    private readonly file: string,
    private readonly text: string | undefined,
  ) {}

  /** The position of the value at `pointer` (or of its key when `key` is set). */
  pos(pointer: string, key = false): SourcePos {
    if (this.text === undefined) return { file: this.file, line: 1, column: 1 };
    this.locs ??= jsonLocations(this.text);
    const loc = this.locs.get(pointer);
    if (!loc) return { file: this.file, line: 1, column: 1 };
    const offset = key && loc.key !== undefined ? loc.key : loc.value;
    const { line, column } = lineColumn(this.text, offset);
    return { file: this.file, line, column, offset, length: 1 };
  }
}

function describePointer(p: string): string {
  return p === "" ? "the top level" : `\`${p}\``;
}

const VERSIONS_TEXT = STRATEGY_VERSIONS.join(" or ");

/** One schema error as a diagnostic: what is wrong, where, and what was expected. */
function reportSchemaError(e: SchemaError, loc: Locator, diagnostics: Diagnostics): void {
  const at = e.instancePath;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties": {
      const extra = String(params.additionalProperty);
      // The schema the object failed (ajv's `verbose`) lists the fields it allows.
      const allowed = Object.keys((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
      diagnostics.error("PAR3161", `unknown field \`${extra}\` in ${describePointer(at)}`, {
        pos: loc.pos(`${at}/${pointerSegment(extra)}`, true),
        expected: `one of ${allowed.map((a) => `\`${a}\``).join(", ")}`,
        hint: didYouMean(extra, allowed) ?? (at === "" && !allowed.includes("pipeline") ? "the large-scale fields (pipeline, replicas, zero, recompute, precision) need `\"version\": 2`" : undefined),
      });
      return;
    }
    case "required":
      diagnostics.error("PAR3161", `missing field \`${String(params.missingProperty)}\` in ${describePointer(at)}`, { pos: loc.pos(at) });
      return;
    case "const":
      if (at === "/version") diagnostics.error("PAR3161", `\`/version\` must be ${VERSIONS_TEXT}`, { pos: loc.pos(at) });
      else diagnostics.error("PAR3161", `${describePointer(at)} must be ${JSON.stringify(params.allowedValue)}`, { pos: loc.pos(at) });
      return;
    case "enum":
      diagnostics.error("PAR3161", `${describePointer(at)} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`, { pos: loc.pos(at) });
      return;
    case "type":
      diagnostics.error("PAR3161", `${describePointer(at)} must be ${String(params.type).split(",").join(" or ")}`, { pos: loc.pos(at) });
      return;
    case "pattern":
      diagnostics.error("PAR3161", `${describePointer(at)} is not a device list`, {
        pos: loc.pos(at),
        expected: "device indices and inclusive ranges, such as \"0..3, 8\"",
      });
      return;
    default:
      diagnostics.error("PAR3161", `${describePointer(at)} ${e.message ?? "is invalid"}`, { pos: loc.pos(at) });
  }
}

/**
 * How many devices the range texts of one file may expand to in all: a few bytes of text
 * stand for a million devices, so a hostile file must not exhaust memory. 2^26 covers
 * 10,000 ops on 6,000 devices each.
 */
export const MAX_EXPANDED_DEVICES = 1 << 26;

/** Expands the device lists of one file, keeping count of what range texts expand to. */
class DeviceReader {
  private expanded = 0;
  constructor(
    private readonly loc: Locator,
    private readonly diagnostics: Diagnostics,
  ) {}

  /** An array as is, a range text expanded; a bad range (or too many devices in all) is PAR3161 at its position. */
  read(d: DevicesJson, pointer: string): number[] | undefined {
    if (typeof d !== "string") return [...d];
    if (this.expanded > MAX_EXPANDED_DEVICES) return undefined; // reported once, below
    const read = parseDeviceRangeText(d);
    const expected = "device indices and inclusive ascending ranges, such as \"0..3, 8\"";
    if (!Array.isArray(read)) {
      this.diagnostics.error("PAR3161", `\`${pointer}\`: ${read.message}`, { pos: this.loc.pos(pointer), expected });
      return undefined;
    }
    this.expanded += read.length;
    if (this.expanded > MAX_EXPANDED_DEVICES) {
      this.diagnostics.error("PAR3161", `\`${pointer}\`: the device range texts of this file expand to more than ${MAX_EXPANDED_DEVICES} devices`, { pos: this.loc.pos(pointer), expected });
      return undefined;
    }
    return read;
  }
}

/**
 * Reads a strategy from a parsed JSON value. `text` (the file's text) is optional and only
 * used to give diagnostics line:column positions. Returns undefined when the file has
 * errors; ops it does not configure are left out (validateStrategy reports them). Fields
 * at their defaults (`zero: 0`, `precision: "f32"`, one replica, no recomputed op) are
 * left out of the Strategy, so equal strategies read equal.
 */
export function strategyFromJson(graph: Graph, json: unknown, file: string, diagnostics: Diagnostics, text?: string): Strategy | undefined {
  const loc = new Locator(file, text);
  const devicesOf = new DeviceReader(loc, diagnostics);
  let version: StrategyVersion = STRATEGY_VERSION;
  // Format and version first: a different kind of file or an unknown format deserves one
  // clear message, not a cascade of schema errors.
  if (json !== null && typeof json === "object" && !Array.isArray(json)) {
    const obj = json as Record<string, unknown>;
    if (obj.format !== STRATEGY_FORMAT) {
      diagnostics.error("PAR3163", `${file} is not a par strategy file (\`format\` is ${obj.format === undefined ? "missing" : JSON.stringify(obj.format)})`, {
        pos: loc.pos(obj.format === undefined ? "" : "/format"),
        expected: `"format": "${STRATEGY_FORMAT}"`,
      });
      return undefined;
    }
    if (typeof obj.version === "number") {
      if (!(STRATEGY_VERSIONS as readonly number[]).includes(obj.version)) {
        const newer = obj.version > STRATEGY_VERSION;
        diagnostics.error("PAR3164", `${file} is strategy format version ${obj.version}; this par reads versions ${STRATEGY_VERSIONS.join(" and ")}`, {
          pos: loc.pos("/version"),
          expected: `"version": ${VERSIONS_TEXT}`,
          hint: newer ? "the file was written by a newer par; upgrade par to read it" : undefined,
        });
        return undefined;
      }
      version = obj.version as StrategyVersion;
    }
  }
  const validate = strategyValidator(version);
  if (!validate(json)) {
    for (const e of validate.errors ?? []) reportSchemaError(e, loc, diagnostics);
    return undefined;
  }
  const sj = json as StrategyJson;
  let ok = true;
  const ops: Record<string, OpConfig> = {};
  for (const [name, c] of Object.entries(sj.ops)) {
    const op = graph.ops.get(name);
    const opPtr = `/ops/${pointerSegment(name)}`;
    if (!op) {
      ok = false;
      diagnostics.error("PAR3151", `strategy \`${sj.name}\` configures \`${name}\`, which is not an op of \`${graph.name}\``, {
        pos: loc.pos(opPtr, true),
        hint: didYouMean(name, graph.ops.keys()),
      });
      continue;
    }
    const degrees = op.sig.space.map(() => 1);
    for (const [dim, degree] of Object.entries(c.dims ?? {})) {
      const i = op.sig.space.findIndex((d) => d.name === dim);
      if (i < 0) {
        ok = false;
        const names = op.sig.space.map((d) => d.name);
        diagnostics.error("PAR3162", `op \`${name}\` (\`${op.op}\`) has no parallel dim \`${dim}\``, {
          pos: loc.pos(`${opPtr}/dims/${pointerSegment(dim)}`, true),
          expected: names.length > 0 ? `one of ${names.map((n) => `\`${n}\``).join(", ")}` : "no dims (this op cannot be split)",
          hint: didYouMean(dim, names),
        });
        continue;
      }
      degrees[i] = degree;
    }
    const devices = devicesOf.read(c.devices, `${opPtr}/devices`);
    if (devices) ops[name] = { degrees, devices };
    else ok = false;
  }
  const strategy: Strategy = { name: sj.name, model: sj.model, mesh: sj.mesh, ops };
  if (sj.replicas && sj.replicas.count > 1) strategy.replicas = { count: sj.replicas.count, offset: sj.replicas.offset };
  if (sj.pipeline) {
    const pipeline = readPipeline(graph, sj.pipeline, loc, devicesOf, diagnostics);
    if (pipeline) strategy.pipeline = pipeline;
    else ok = false;
  }
  if (sj.zero !== undefined && sj.zero !== 0) strategy.zero = sj.zero;
  if (sj.recompute && sj.recompute.length > 0) {
    sj.recompute.forEach((name, i) => {
      if (graph.ops.has(name)) return;
      ok = false;
      diagnostics.error("PAR3186", `\`${name}\` is listed for recomputation but is not an op of \`${graph.name}\``, {
        pos: loc.pos(`/recompute/${i}`),
        expected: "op names of the model",
        hint: didYouMean(name, graph.ops.keys()),
      });
    });
    strategy.recompute = [...sj.recompute];
  }
  if (sj.precision !== undefined && sj.precision !== "f32") strategy.precision = sj.precision;
  return ok ? strategy : undefined;
}

function readPipeline(graph: Graph, pj: PipelineJson, loc: Locator, devicesOf: DeviceReader, diagnostics: Diagnostics): PipelineConfig | undefined {
  let ok = true;
  const stages = pj.stages.map((st, k) => {
    st.ops.forEach((name, end) => {
      if (graph.ops.has(name)) return;
      ok = false;
      diagnostics.error("PAR3165", `stage ${k} ${end === 0 ? "starts" : "ends"} at \`${name}\`, which is not an op of \`${graph.name}\``, {
        pos: loc.pos(`/pipeline/stages/${k}/ops/${end}`),
        expected: "an op name",
        hint: didYouMean(name, graph.ops.keys()),
      });
    });
    const devices = devicesOf.read(st.devices, `/pipeline/stages/${k}/devices`);
    if (!devices) ok = false;
    return { first: st.ops[0], last: st.ops[1], devices: devices ?? [] };
  });
  if (!ok) return undefined;
  const p: PipelineConfig = { microbatches: pj.microbatches, schedule: pj.schedule, stages };
  if (pj.virtualStages !== undefined && pj.virtualStages !== 1) p.virtualStages = pj.virtualStages;
  return p;
}

/** Parses a strategy file's text (JSON syntax errors become PAR3160 with a position). */
export function strategyFromJsonText(graph: Graph, text: string, file: string, diagnostics: Diagnostics): Strategy | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /position (\d+)/.exec(msg);
    const pos: SourcePos = { file, line: 1, column: 1 };
    if (m) Object.assign(pos, lineColumn(text, Number(m[1])), { offset: Number(m[1]), length: 1 });
    diagnostics.error("PAR3160", `${file} is not valid JSON: ${msg}`, { pos, expected: "a par strategy file (JSON)" });
    return undefined;
  }
  return strategyFromJson(graph, json, file, diagnostics, text);
}

/** Reads a strategy file; an unreadable, binary or oversized file is PAR3160 (naming the reason's own code). */
export function readStrategyFile(graph: Graph, path: string, diagnostics: Diagnostics, shown = path): Strategy | undefined {
  const text = readStrategyText(path, diagnostics, shown);
  return text === undefined ? undefined : strategyFromJsonText(graph, text, shown, diagnostics);
}

/** The text of a strategy file; undefined after PAR3160 (with the reason: missing, not text, too large). */
export function readStrategyText(path: string, diagnostics: Diagnostics, shown = path): string | undefined {
  try {
    return readTextFile(path, shown, INPUT_LIMITS.json);
  } catch (e) {
    if (!(e instanceof ParError)) throw e;
    for (const d of e.diagnostics) diagnostics.error("PAR3160", `cannot use strategy file ${shown}: ${d.message} (${d.code})`, { pos: d.pos, hint: d.hint });
    return undefined;
  }
}
