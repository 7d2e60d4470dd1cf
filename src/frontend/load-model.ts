// Reading a model for a command, whatever its format: a `.par` program (parse → check, one
// model chosen), an ONNX model (`.onnx`), a TensorFlow.js LayersModel (`model.json`, weight
// shards beside it) or a Hugging Face LLM config.json (src/frontend/llm/: a generated .par).
// Dispatch is by extension, else by content (`{` → JSON, a protobuf ModelProto's first
// field → ONNX, text → .par); a JSON file naming a `model_type` is an LLM config. Every failure is a coded diagnostic
// (PAR4001 unreadable, PAR4010–PAR4013 here, PAR6xxx from the importers).

import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import { didYouMean, ParError, type Diagnostics } from "../core/diagnostics.js";
import { firstNonText, readBoundedBytes } from "../core/read-text.js";
import type { Graph, ParameterAccount } from "../ir/graph.js";
import { readSource } from "../core/read-source.js";
import { check, type CheckedProgram } from "./check.js";
import type { ImportedModel, ImportOptions, LossChoice, LossKind, ModelTensor } from "./import-build.js";
import { importKeras, KERAS_LAYERS } from "./keras/import.js";
import { freezeParams } from "./freeze.js";
import { decodeOnnx, DEFAULT_ONNX_LIMITS } from "./onnx/decode.js";
import { importOnnxDetailed, type UnmappableForm } from "./onnx/import.js";
import { parse } from "./parse.js";
import { importLlmConfig, looksLikeLlmConfig } from "./llm/import.js";

export type ModelFormat = "par" | "onnx" | "keras" | "llm";

export interface LoadedModel {
  graph: Graph;
  /**
   * Imported models: the trained weights by param id "<op>.<param>" (absent for .par), read
   * when asked; reading one whose external data is missing throws PAR6008.
   */
  weights?: ReadonlyMap<string, Float32Array>;
  /** Imported models: param ids whose values are in a missing side file. */
  missingWeights?: string[];
  /** .par models: the whole checked program (its meshes and strategies). */
  program?: CheckedProgram;
  format: ModelFormat;
  /** Imported models: the model's parameter count (also graph.parameterCount()). */
  parameters?: number;
  /** Imported models: the model's own inputs (not the loss's labels). */
  inputs?: ModelTensor[];
  /** Imported models: the model's own outputs (not the training loss). */
  outputs?: ModelTensor[];
  /** Imported models: the training loss appended, and why. */
  loss?: LossChoice;
  /** LLM configs: the generated .par program (what `par import` prints). */
  source?: string;
}

export interface LoadModelContext {
  sources: Map<string, string>;
  diagnostics: Diagnostics;
  /** Relative paths (the model's and, for model.json, its shards') resolve against this. */
  cwd?: string;
}

export interface LoadModelOptions {
  /** .par: the model to use (required when the file declares several). */
  model?: string;
  /** .par: model parameter overrides (`--set k=v`). */
  overrides?: Record<string, number>;
  /** Imported models: input shapes by input name (`--input NAME=2x3x224x224`). */
  inputs?: Record<string, number[]>;
  /** Imported models: binds symbolic batch dims (`--batch N`). */
  batch?: number;
  /** Imported models: the training loss appended (`--loss`). */
  loss?: LossKind;
  /** Globs of weights not to train (`--freeze`): ONNX initializer names, else par param ids. */
  freeze?: string[];
  /** Imported models: binds input shapes from the declared inputs (see ImportOptions.bind). */
  bind?: ImportOptions["bind"];
}

export interface LoadModelResult {
  model?: LoadedModel;
  /** Operators (ONNX) or layer types (Keras) without a mapping, also on a failed import. */
  unsupported: { op: string; nodes: string[] }[];
  /** ONNX: nodes of supported op types in a form par cannot import, on a failed import. */
  unmappable?: UnmappableForm[];
  /** ONNX: the parameter count, known from the initializers also when the graph does not import. */
  account?: ParameterAccount;
  format?: ModelFormat;
}

/** Largest model.json accepted (the topology; weights live in shards). */
export const MAX_MODEL_JSON_BYTES = 256 * 1024 * 1024;
/** Largest single weight shard of a model.json. */
export const MAX_SHARD_BYTES = 2 ** 31 - 1;

/** The format of `path` by its extension, else undefined (then the content decides). */
export function formatByExtension(path: string): ModelFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith(".par")) return "par";
  if (lower.endsWith(".onnx")) return "onnx";
  if (lower.endsWith(".json")) return "keras";
  return undefined;
}

/** The format of a file by its first bytes. */
export function sniffFormat(head: Uint8Array): ModelFormat | undefined {
  let i = 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (i < head.length && head[i] === 0x7b /* { */) return "keras";
  // A ModelProto starts with ir_version (field 1, varint: 0x08) and a small version.
  if (head.length >= 2 && head[0] === 0x08 && head[1] > 0 && head[1] < 0x20) return "onnx";
  const text = Buffer.from(head).toString("utf8");
  if (/^\s*(#[^\n]*\n\s*)*(model|mesh|strategy|block|import)\b/.test(text)) return "par";
  return undefined;
}

/** How much of a JSON file decides between a model.json and an LLM config. */
const JSON_SNIFF_BYTES = 64 * 1024;

/** A JSON model file ("keras" by extension or content) that is really an LLM config → "llm". */
function refineJson(format: ModelFormat | undefined, full: string): ModelFormat | undefined {
  if (format !== "keras") return format;
  const head = readHead(full, JSON_SNIFF_BYTES);
  return head instanceof Uint8Array && looksLikeLlmConfig(Buffer.from(head).toString("utf8")) ? "llm" : format;
}

/** The first `n` bytes of a file, or the error that stopped reading them. */
function readHead(full: string, n: number): Uint8Array | { error: unknown } {
  let fd: number | undefined;
  try {
    fd = openSync(full, "r");
    const buf = new Uint8Array(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } catch (e) {
    return { error: e };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function unreadable(path: string, full: string, e: unknown, d: Diagnostics): void {
  d.error("PAR4001", `cannot read file \`${path}\`: ${reason(e)}`, { hint: (e as NodeJS.ErrnoException).code === "ENOENT" ? missingHint(full) : undefined });
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return e instanceof Error ? e.message : String(e);
}

/** Reads a binary file with a size cap; undefined after a diagnostic. */
function readBytes(path: string, full: string, maxBytes: number, d: Diagnostics, tooLargeCode: string): Uint8Array | undefined {
  try {
    const st = statSync(full);
    if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    if (st.size > maxBytes) {
      d.error(tooLargeCode, `${path}: ${st.size} bytes, more than the import limit of ${maxBytes}`, { expected: `a model file of at most ${maxBytes} bytes` });
      return undefined;
    }
    // Bounded: a device or a pipe has no size to check beforehand.
    return readBoundedBytes(full, path, maxBytes);
  } catch (e) {
    if (e instanceof ParError) d.addAll(e.diagnostics);
    else unreadable(path, full, e, d);
    return undefined;
  }
}

function missingHint(full: string): string | undefined {
  try {
    return didYouMean(basename(full), readdirSync(dirname(full)));
  } catch {
    return undefined;
  }
}

/** The format of the file at `path` (extension, else content); undefined when unreadable or unknown. */
export function modelFormatOf(path: string, cwd?: string): ModelFormat | undefined {
  const full = cwd === undefined ? path : resolve(cwd, path);
  const byExt = formatByExtension(path);
  if (byExt) return refineJson(byExt, full);
  const head = readHead(full, 64);
  return head instanceof Uint8Array ? refineJson(sniffFormat(head), full) : undefined;
}

/** The one model of a checked program (or the one named); undefined after PAR4012. */
function pickModel(checked: CheckedProgram, file: string, name: string | undefined, d: Diagnostics): Graph | undefined {
  if (name !== undefined) return checked.models.get(name); // check() reported PAR2025 when missing
  const graphs = [...checked.models.values()];
  if (graphs.length === 1) return graphs[0];
  const declared = checked.program.items.flatMap((i) => (i.kind === "model" ? [i.name] : []));
  if (declared.length === 0) {
    d.error("PAR4012", `${file} declares no model`, { expected: "a `model` declaration" });
  } else if (declared.length > 1) {
    d.error("PAR4012", `${file} declares ${declared.length} models; pick one with --model`, { expected: `--model with one of ${declared.join(", ")}`, hint: `models: ${declared.join(", ")}` });
  }
  return undefined;
}

/** Options that do not apply to a format are errors (PAR4013), not silently ignored. */
function checkApplicable(format: ModelFormat, path: string, options: LoadModelOptions, d: Diagnostics): boolean {
  const bad: string[] = [];
  if (format === "par" || format === "llm") {
    if (options.inputs && Object.keys(options.inputs).length) bad.push("--input");
    if (options.batch !== undefined) bad.push("--batch");
    if (options.loss !== undefined) bad.push("--loss");
    if (options.freeze?.length) bad.push("--freeze");
    if (format === "llm" && options.model !== undefined) bad.push("--model");
  } else {
    if (options.model !== undefined) bad.push("--model");
    if (options.overrides && Object.keys(options.overrides).length) bad.push("--set");
  }
  if (!bad.length) return true;
  const what = format === "par" ? "a .par model" : format === "llm" ? "an LLM config" : `an imported (${format === "onnx" ? "ONNX" : "model.json"}) model`;
  d.error("PAR4013", `${path}: ${bad.join(", ")} do${bad.length === 1 ? "es" : ""} not apply to ${what}`, {
    hint: format === "par" || format === "llm" ? `${format === "llm" ? "an LLM config's" : "a .par model's"} shapes come from its parameters: use --set batch=N (and seq=N)` : "an imported model's shapes come from --input NAME=AxBx.. and --batch N",
  });
  return false;
}

/** An importer's result as a LoadedModel. */
export function fromImported(m: ImportedModel, format: ModelFormat): LoadedModel {
  return { graph: m.graph, weights: m.weights, missingWeights: m.missingWeights, format, parameters: m.parameters, inputs: m.inputs, outputs: m.outputs, loss: m.loss };
}

/** Layer types of a model.json that the Keras importer does not map, with their layer names. */
function kerasUnsupported(json: unknown): { op: string; nodes: string[] }[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObj(json)) return [];
  const topo = isObj(json.modelTopology) ? json.modelTopology : json;
  const model = isObj(topo.model_config) ? topo.model_config : topo;
  const cfg = isObj(model) ? model.config : undefined;
  const layers = Array.isArray(cfg) ? cfg : isObj(cfg) && Array.isArray(cfg.layers) ? cfg.layers : [];
  const by = new Map<string, string[]>();
  layers.forEach((l: unknown, i: number) => {
    if (!isObj(l) || typeof l.class_name !== "string" || KERAS_LAYERS.has(l.class_name)) return;
    const name = isObj(l.config) && typeof l.config.name === "string" ? l.config.name : typeof l.name === "string" ? l.name : `layer_${i}`;
    by.set(l.class_name, [...(by.get(l.class_name) ?? []), name]);
  });
  return [...by.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([op, nodes]) => ({ op, nodes }));
}

/** Reads a weight shard named in a model.json, relative to it and never outside its folder. */
function shardReader(modelFull: string): (p: string) => Uint8Array {
  const dir = dirname(modelFull);
  return (p: string) => {
    const full = resolve(dir, p);
    const rel = relative(dir, full);
    if (isAbsolute(p) || rel.startsWith("..") || isAbsolute(rel)) throw new Error(`the path leaves the model's folder (shards are read relative to ${basename(modelFull)})`);
    const size = statSync(full).size;
    if (size > MAX_SHARD_BYTES) throw new Error(`${size} bytes, more than the shard limit of ${MAX_SHARD_BYTES}`);
    return readBoundedBytes(full, p, MAX_SHARD_BYTES);
  };
}

/**
 * Loads `path` as a model, reporting what it found (including the importer's unsupported
 * operators when the import failed because of them).
 */
export function loadModelResult(path: string, ctx: LoadModelContext, options: LoadModelOptions = {}): LoadModelResult {
  const d = ctx.diagnostics;
  const full = ctx.cwd === undefined ? path : resolve(ctx.cwd, path);
  let format = formatByExtension(path);
  if (format === undefined) {
    const head = readHead(full, 64);
    if (!(head instanceof Uint8Array)) {
      unreadable(path, full, head.error, d);
      return { unsupported: [] };
    }
    format = sniffFormat(head);
    if (format === undefined) {
      d.error("PAR4010", `${path}: not a model par can read`, { expected: "a .par program, an ONNX model (.onnx) or a TensorFlow.js model.json" });
      return { unsupported: [] };
    }
  }
  format = refineJson(format, full);
  if (!checkApplicable(format!, path, options, d)) return { unsupported: [], format };
  const importOptions: ImportOptions = {};
  if (options.inputs && Object.keys(options.inputs).length) importOptions.inputs = options.inputs;
  if (options.batch !== undefined) importOptions.batch = options.batch;
  if (options.loss !== undefined) importOptions.loss = options.loss;
  if (options.bind) importOptions.bind = options.bind;
  const freeze = options.freeze ?? [];

  if (format === "par") {
    const text = readSource(path, { sources: ctx.sources, diagnostics: d }, ctx.cwd);
    if (text === undefined) return { unsupported: [], format };
    const errorsBefore = d.errors.length;
    const program = parse(text, path, d);
    if (!program || d.errors.length > errorsBefore) return { unsupported: [], format };
    const checked = check(program, d, { overrides: options.overrides ?? {}, model: options.model });
    if (d.errors.length > errorsBefore) return { unsupported: [], format };
    const graph = pickModel(checked, path, options.model, d);
    return graph ? { model: { graph, program: checked, format }, unsupported: [], format } : { unsupported: [], format };
  }

  if (format === "onnx") {
    const bytes = readBytes(path, full, DEFAULT_ONNX_LIMITS.maxBytes, d, "PAR6001");
    if (!bytes) return { unsupported: [], format };
    const decoded = decodeOnnx(bytes, path, d);
    if (!decoded) return { unsupported: [], format };
    const r = importOnnxDetailed(decoded, path, { ...importOptions, freeze, dir: dirname(full) }, d);
    return { model: r.model && fromImported(r.model, "onnx"), unsupported: r.unsupported, unmappable: r.unmappable, ...(r.account ? { account: r.account } : {}), format };
  }

  if (format === "llm") return loadLlmConfig(path, full, ctx, options);

  // model.json
  const bytes = readBytes(path, full, MAX_MODEL_JSON_BYTES, d, "PAR6001");
  if (!bytes) return { unsupported: [], format };
  const notText = firstNonText(bytes);
  if (notText) {
    d.error("PAR4003", `\`${path}\` is not a text file: byte ${notText.offset} is ${notText.what}`, { expected: "a TensorFlow.js model.json (UTF-8 JSON)" });
    return { unsupported: [], format };
  }
  const text = Buffer.from(bytes).toString("utf8");
  ctx.sources.set(path, text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    d.error("PAR6030", `${path}: not JSON: ${e instanceof Error ? e.message : String(e)}`, { expected: "a TensorFlow.js model.json" });
    return { unsupported: [], format };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json) || !("modelTopology" in json)) {
    const obj = json as Record<string, unknown> | null;
    const what = obj && typeof obj === "object" && typeof obj.format === "string" ? ` (its \`format\` is "${obj.format}")` : "";
    d.error("PAR4011", `${path} is JSON but not a TensorFlow.js model.json${what}: it has no \`modelTopology\``, {
      expected: "a LayersModel model.json with modelTopology and weightsManifest",
      hint: "plans and strategies are JSON too: pass them with --plan / --strategy",
    });
    return { unsupported: [], format };
  }
  const unsupported = kerasUnsupported(json);
  const m = importKeras(json, path, importOptions, d, shardReader(full));
  if (m && !freezeParams(m.graph, freeze, path, d)) return { unsupported, format };
  return { model: m && fromImported(m, "keras"), unsupported, format };
}

/** An LLM config.json: the generated .par program, checked with the --set values. */
function loadLlmConfig(path: string, full: string, ctx: LoadModelContext, options: LoadModelOptions): LoadModelResult {
  const d = ctx.diagnostics;
  const bytes = readBytes(path, full, MAX_MODEL_JSON_BYTES, d, "PAR6001");
  if (!bytes) return { unsupported: [], format: "llm" };
  const notText = firstNonText(bytes);
  if (notText) {
    d.error("PAR4003", `\`${path}\` is not a text file: byte ${notText.offset} is ${notText.what}`, { expected: "a Hugging Face config.json (UTF-8 JSON)" });
    return { unsupported: [], format: "llm" };
  }
  const text = Buffer.from(bytes).toString("utf8");
  ctx.sources.set(path, text);
  const m = importLlmConfig(text, path, { overrides: options.overrides }, d, ctx.sources);
  const model: LoadedModel | undefined = m && { graph: m.graph, program: m.program, format: "llm", parameters: m.parameters, source: m.source };
  return { model, unsupported: [], format: "llm" };
}

/** Loads `path` as a model; undefined after reporting coded diagnostics. */
export function loadModel(path: string, ctx: LoadModelContext, options: LoadModelOptions = {}): LoadedModel | undefined {
  const before = ctx.diagnostics.errors.length;
  const r = loadModelResult(path, ctx, options);
  return r.model && ctx.diagnostics.errors.length === before ? r.model : undefined;
}
