// Strategy files: the JSON form (format "par-strategy", version 1; schema in
// src/ir/strategy-schema.ts). Reading checks the schema first (ajv) and turns each schema
// error into a coded diagnostic at the JSON path (and line:column when the text is known),
// then maps parallel-dim names to indices. Whether the configs are valid for a mesh is
// `validateStrategy`'s business; reading needs only the graph.

import { didYouMean, ParError, type Diagnostics, type SourcePos } from "../core/diagnostics.js";
import { writeFileAtomic } from "../core/files.js";
import { INPUT_LIMITS, readTextFile } from "../core/read-text.js";
import type { Graph } from "./graph.js";
import { jsonLocations, lineColumn, pointerSegment, type JsonLocation } from "../core/json-positions.js";
import type { OpConfig, Strategy } from "./strategy.js";
import { STRATEGY_FORMAT, STRATEGY_VERSION, strategyValidator, type OpConfigJson, type SchemaError, type StrategyJson } from "./strategy-schema.js";

/** The JSON form of a strategy: ops in the graph's topological order, degree-1 dims omitted. */
export function strategyToJson(graph: Graph, strategy: Strategy): StrategyJson {
  for (const name of Object.keys(strategy.ops)) {
    if (!graph.ops.has(name)) throw new Error(`strategyToJson: strategy ${strategy.name} configures ${name}, which is not an op of ${graph.name}`);
  }
  const ops: Record<string, OpConfigJson> = {};
  for (const op of graph.topoOrder()) {
    const c = strategy.ops[op.name];
    if (!c) continue;
    if (c.degrees.length !== op.sig.space.length) throw new Error(`strategyToJson: op ${op.name} has ${op.sig.space.length} dims but ${c.degrees.length} degrees`);
    const dims: Record<string, number> = {};
    op.sig.space.forEach((d, i) => {
      if (c.degrees[i] !== 1) dims[d.name] = c.degrees[i];
    });
    ops[op.name] = Object.keys(dims).length > 0 ? { dims, devices: [...c.devices] } : { devices: [...c.devices] };
  }
  return { format: STRATEGY_FORMAT, version: STRATEGY_VERSION, name: strategy.name, model: strategy.model, mesh: strategy.mesh, ops };
}

/**
 * The file text of a strategy: one op per line (diff-friendly and still compact for
 * hundreds of ops), keys in a fixed order, so the same strategy always prints the same.
 */
export function formatStrategyJson(json: StrategyJson): string {
  const s = (v: unknown) => JSON.stringify(v);
  const lines = ["{"];
  if (json.$schema !== undefined) lines.push(`  "$schema": ${s(json.$schema)},`);
  lines.push(`  "format": ${s(json.format)},`, `  "version": ${s(json.version)},`, `  "name": ${s(json.name)},`, `  "model": ${s(json.model)},`, `  "mesh": ${s(json.mesh)},`);
  const names = Object.keys(json.ops);
  if (names.length === 0) lines.push(`  "ops": {}`);
  else {
    lines.push(`  "ops": {`);
    names.forEach((name, k) => {
      const c = json.ops[name];
      const dims = c.dims && Object.keys(c.dims).length > 0 ? `"dims": { ${Object.entries(c.dims).map(([d, v]) => `${s(d)}: ${v}`).join(", ")} }, ` : "";
      lines.push(`    ${s(name)}: { ${dims}"devices": [${c.devices.join(", ")}] }${k < names.length - 1 ? "," : ""}`);
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

/** Positions inside one JSON text, for diagnostics. */
class Locator {
  private readonly locs: Map<string, JsonLocation> | undefined;
  constructor(
    private readonly file: string,
    private readonly text: string | undefined,
  ) {
    this.locs = text === undefined ? undefined : jsonLocations(text);
  }

  /** The position of the value at `pointer` (or of its key when `key` is set). */
  pos(pointer: string, key = false): SourcePos {
    const loc = this.locs?.get(pointer);
    if (!loc || this.text === undefined) return { file: this.file, line: 1, column: 1 };
    const offset = key && loc.key !== undefined ? loc.key : loc.value;
    const { line, column } = lineColumn(this.text, offset);
    return { file: this.file, line, column, offset, length: 1 };
  }
}

function describePointer(p: string): string {
  return p === "" ? "the top level" : `\`${p}\``;
}

/** One schema error as a diagnostic: what is wrong, where, and what was expected. */
function reportSchemaError(e: SchemaError, loc: Locator, diagnostics: Diagnostics): void {
  const at = e.instancePath;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties": {
      const extra = String(params.additionalProperty);
      const allowed = at === "" ? ["$schema", "format", "version", "name", "model", "mesh", "ops"] : ["dims", "devices"];
      diagnostics.error("PAR3161", `unknown field \`${extra}\` in ${describePointer(at)}`, {
        pos: loc.pos(`${at}/${pointerSegment(extra)}`, true),
        expected: `one of ${allowed.map((a) => `\`${a}\``).join(", ")}`,
        hint: didYouMean(extra, allowed),
      });
      return;
    }
    case "required":
      diagnostics.error("PAR3161", `missing field \`${String(params.missingProperty)}\` in ${describePointer(at)}`, { pos: loc.pos(at) });
      return;
    case "const":
      diagnostics.error("PAR3161", `${describePointer(at)} must be ${JSON.stringify(params.allowedValue)}`, { pos: loc.pos(at) });
      return;
    default:
      diagnostics.error("PAR3161", `${describePointer(at)} ${e.message ?? "is invalid"}`, { pos: loc.pos(at) });
  }
}

/**
 * Reads a strategy from a parsed JSON value. `text` (the file's text) is optional and only
 * used to give diagnostics line:column positions. Returns undefined when the file has
 * errors; ops it does not configure are left out (validateStrategy reports them).
 */
export function strategyFromJson(graph: Graph, json: unknown, file: string, diagnostics: Diagnostics, text?: string): Strategy | undefined {
  const loc = new Locator(file, text);
  // Format and version first: a different kind of file or a newer format deserves one
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
    if (typeof obj.version === "number" && obj.version !== STRATEGY_VERSION) {
      const newer = obj.version > STRATEGY_VERSION;
      diagnostics.error("PAR3164", `${file} is strategy format version ${obj.version}; this par reads version ${STRATEGY_VERSION}`, {
        pos: loc.pos("/version"),
        expected: `"version": ${STRATEGY_VERSION}`,
        hint: newer ? "the file was written by a newer par; upgrade par to read it" : undefined,
      });
      return undefined;
    }
  }
  const validate = strategyValidator();
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
    ops[name] = { degrees, devices: [...c.devices] };
  }
  if (!ok) return undefined;
  return { name: sj.name, model: sj.model, mesh: sj.mesh, ops };
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
