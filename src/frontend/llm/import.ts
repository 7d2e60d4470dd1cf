// `par import config.json`: a Hugging Face style config.json (model_type gpt2, bert, llama,
// mistral) becomes a .par program (src/frontend/llm/families.ts) that is parsed and checked
// like any .par file. Structure only: no weights are read, so a 70B model imports in well
// under a second. `--set NAME=VALUE` binds the model's integer parameters (batch, seq, and
// also layers, hidden, ...): the printed program's defaults are the bound values, so
// `par import` output checks to the same graph as the config itself.

import { basename } from "node:path";
import { didYouMean, type Diagnostics } from "../../core/diagnostics.js";
import { lineColumn } from "../../core/json-positions.js";
import type { Graph } from "../../ir/graph.js";
import { check, type CheckedProgram } from "../check.js";
import { identifierOf } from "../import-build.js";
import { parse } from "../parse.js";
import { format } from "../print.js";
import { ConfigFields, type ConfigObject } from "./fields.js";
import { FAMILIES } from "./families.js";

export interface LlmImportOptions {
  /** Model parameter values (`--set`): batch, seq, or any other parameter of the family. */
  overrides?: Record<string, number>;
  /** The generated model's name (default: from `_name_or_path`, the file name, or model_type). */
  name?: string;
}

export interface LlmImport {
  /** The generated .par program (what `par import` prints). */
  source: string;
  /** The name the program's diagnostics and sources use: `<file>.par`. */
  sourceFile: string;
  graph: Graph;
  program: CheckedProgram;
  /** The HF model_type. */
  family: string;
  parameters: number;
}

/** The model types `par import` reads, sorted. */
export const LLM_MODEL_TYPES: readonly string[] = Object.keys(FAMILIES).sort();

/**
 * Whether the beginning of a JSON file looks like an HF config: it names a `model_type` and
 * is no TensorFlow.js model.json (`modelTopology`). Decides the format before parsing.
 */
export function looksLikeLlmConfig(head: string): boolean {
  return /"model_type"\s*:/.test(head) && !head.includes('"modelTopology"');
}

/** A JSON.parse error's position (V8 says "at position N" or "line L column C"). */
function syntaxPos(text: string, message: string, file: string): { file: string; line: number; column: number } {
  const at = /position (\d+)/.exec(message);
  if (at) return { file, ...lineColumn(text, Number(at[1])) };
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return { file, line: Number(lc[1]), column: Number(lc[2]) };
  return { file, line: 1, column: 1 };
}

function defaultName(obj: ConfigObject, file: string, family: string): string {
  const hub = typeof obj._name_or_path === "string" ? obj._name_or_path.split("/").pop() ?? "" : "";
  if (hub) return identifierOf(hub.toLowerCase(), family);
  const base = basename(file).replace(/\.json$/i, "");
  return identifierOf(base.toLowerCase() === "config" ? family : base.toLowerCase(), family);
}

/** Imports an HF config; undefined after coded diagnostics. Registers the generated source in `sources`. */
export function importLlmConfig(text: string, file: string, options: LlmImportOptions, d: Diagnostics, sources?: Map<string, string>): LlmImport | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    d.error("PAR6060", `${file} is not valid JSON: ${message}`, { pos: syntaxPos(text, message, file), expected: "a Hugging Face config.json" });
    return undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    d.error("PAR6060", `${file} is not a JSON object`, { pos: { file, line: 1, column: 1 }, expected: "a Hugging Face config.json: an object with model_type and the model's sizes" });
    return undefined;
  }
  const obj = json as ConfigObject;
  const probe = new ConfigFields(file, text, obj, d, "model");
  const type = obj.model_type;
  if (typeof type !== "string" || !Object.prototype.hasOwnProperty.call(FAMILIES, type)) {
    d.error("PAR6061", `${file}: model_type ${JSON.stringify(type)} is not one par imports`, {
      pos: probe.pos(probe.has("model_type") ? "model_type" : undefined),
      expected: `one of ${LLM_MODEL_TYPES.map((t) => `"${t}"`).join(", ")}`,
      hint: typeof type === "string" ? didYouMean(type, LLM_MODEL_TYPES) : undefined,
    });
    return undefined;
  }
  const fields = new ConfigFields(file, text, obj, d, type);
  const model = FAMILIES[type](fields);
  if (!model || !fields.ok) return undefined;

  // Bind the shape: overrides of the family's parameters become the printed defaults; any
  // other name goes to the checker, which reports it like a `--set` on a .par model.
  const overrides = options.overrides ?? {};
  const params = model.params.map(([k, v]): [string, number] => [k, Object.prototype.hasOwnProperty.call(overrides, k) ? overrides[k] : v]);
  const rest: Record<string, number> = {};
  for (const [k, v] of Object.entries(overrides)) if (!model.params.some(([p]) => p === k)) rest[k] = v;
  const shape = Object.fromEntries(params);
  const nonPositive = params.find(([k, v]) => Object.prototype.hasOwnProperty.call(overrides, k) && v < 1);
  if (nonPositive) {
    d.error("PAR6063", `--set ${nonPositive[0]}=${nonPositive[1]}: the ${type} model's \`${nonPositive[0]}\` must be ≥ 1`, { expected: `--set ${nonPositive[0]}=N with N ≥ 1` });
    return undefined;
  }
  if (model.maxSeq !== undefined && shape.seq > model.maxSeq) {
    d.error("PAR6064", `seq ${shape.seq} exceeds the ${type} model's learned position table (${model.maxSeq} positions)`, {
      expected: `seq ≤ ${model.maxSeq}`,
      hint: `--set seq=${model.maxSeq} or less`,
    });
    return undefined;
  }
  model.bound?.(fields, shape);

  const name = options.name ?? defaultName(obj, file, type);
  const sourceFile = `${file}.par`;
  const before = d.errors.length;
  // The program as `par fmt` prints it (long calls wrapped), parsed again so that positions
  // in diagnostics are those of the printed text.
  const raw = parse(model.render(name, params), sourceFile, d);
  if (!raw || d.errors.length > before) return undefined;
  const source = format(raw);
  sources?.set(sourceFile, source);
  const program = parse(source, sourceFile, d);
  if (!program || d.errors.length > before) return undefined;
  const checked = check(program, d, { overrides: rest, model: name });
  const graph = checked.models.get(name);
  if (!graph || d.errors.length > before) return undefined;
  return { source, sourceFile, graph, program: checked, family: type, parameters: graph.parameterCount() };
}
