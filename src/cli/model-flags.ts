// The flags every command that reads a model shares, and loading the model they describe:
//   --model M            .par: the model of the file (when it declares several)
//   --set NAME=VALUE     .par: a model parameter (repeatable)
//   --input NAME=AxBx..  imported models: an input's whole shape (repeatable)
//   --batch N            imported models: binds symbolic batch dims
//   --loss KIND          imported models: the training loss appended (softmax_cross_entropy, mse)
//   --freeze GLOB        imported models: weights not to train (repeatable)
// The file may be a .par program, an ONNX model or a TensorFlow.js model.json
// (src/frontend/load-model.ts, through the pipeline's `load` stage); a flag that does not
// apply to its format is PAR4013.

import { ParError, type Diagnostics } from "../core/diagnostics.js";
import { appendableLossNames, type LossKind } from "../frontend/import-build.js";
import { loadModelResult, type LoadedModel, type LoadModelOptions, type LoadModelResult } from "../frontend/load-model.js";
import { UsageError, type FlagSpec, type ParsedArgs } from "./args.js";
import type { CommandContext } from "./command.js";
import { load } from "../pipeline.js";
import { CliPipeline } from "./stages.js";
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { formatBytes } from "./format.js";

/** Model files from this size on show a progress line while they load. */
const LARGE_MODEL_BYTES = 1024 * 1024;

function fileSize(full: string): number {
  try {
    return statSync(full).size;
  } catch {
    return 0; // the loader reports what is wrong with it
  }
}

export const MODEL_FLAG: FlagSpec = { name: "model", kind: "string", value: "M", doc: "only this model of the file" };
export const SET_FLAG: FlagSpec = { name: "set", kind: "string", value: "NAME=VALUE", repeatable: true, doc: "override a model parameter (repeatable), e.g. --set batch=128" };

/** The --set overrides as a record; a malformed one is a usage error. */
export function parseOverrides(args: ParsedArgs): Record<string, number> {
  const out = Object.create(null) as Record<string, number>;
  for (const item of (args.flags.set as string[] | undefined) ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(-?\d+)$/.exec(item);
    if (!m) throw new UsageError(`--set needs NAME=INTEGER, got "${item}"`, "for example --set batch=128");
    if (Object.prototype.hasOwnProperty.call(out, m[1])) throw new UsageError(`--set ${m[1]} given twice`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

export function modelFlag(args: ParsedArgs): string | undefined {
  return typeof args.flags.model === "string" ? args.flags.model : undefined;
}

/** The losses --loss may name: every loss an import can append (read from the op registry). */
export const LOSS_KINDS: readonly LossKind[] = appendableLossNames();

export const INPUT_FLAG: FlagSpec = { name: "input", kind: "string", value: "NAME=AxBx..", repeatable: true, doc: "imported models: an input's shape, e.g. --input image=2x3x224x224 (repeatable)" };
export const BATCH_FLAG: FlagSpec = { name: "batch", kind: "int", value: "N", doc: "imported models: bind symbolic batch dims to N" };
export const LOSS_FLAG: FlagSpec = { name: "loss", kind: "string", value: "KIND", doc: `imported models: the training loss appended: ${LOSS_KINDS.join(" or ")} (default by output)` };

export const FREEZE_FLAG: FlagSpec = { name: "freeze", kind: "string", value: "GLOB", repeatable: true, doc: "imported models: do not train the weights whose names match GLOB (`*`, `?`; ONNX initializer names, Keras param ids; repeatable)" };

/** --input, --batch, --loss, --freeze: the flags of imported models. */
export const IMPORT_FLAGS: FlagSpec[] = [INPUT_FLAG, BATCH_FLAG, LOSS_FLAG, FREEZE_FLAG];

/** --model, --set, --input, --batch, --loss. */
export const MODEL_LOADING_FLAGS: FlagSpec[] = [MODEL_FLAG, SET_FLAG, ...IMPORT_FLAGS];

/** The --input shapes as a record; a malformed one is a usage error. */
export function parseInputs(args: ParsedArgs): Record<string, number[]> | undefined {
  const items = (args.flags.input as string[] | undefined) ?? [];
  if (!items.length) return undefined;
  const out = Object.create(null) as Record<string, number[]>;
  for (const item of items) {
    const eq = item.lastIndexOf("=");
    const name = eq > 0 ? item.slice(0, eq) : "";
    const dims = eq > 0 ? item.slice(eq + 1).split(/[x×,]/) : [];
    if (!name || !dims.length || dims.some((d) => !/^[1-9]\d{0,9}$/.test(d))) {
      throw new UsageError(`--input needs NAME=DIMxDIM.., got "${item}"`, "for example --input image=2x3x224x224 (positive integer dims)");
    }
    if (Object.prototype.hasOwnProperty.call(out, name)) throw new UsageError(`--input ${name} given twice`);
    out[name] = dims.map(Number);
  }
  return out;
}

export function parseBatch(args: ParsedArgs): number | undefined {
  const b = args.flags.batch;
  if (b === undefined) return undefined;
  if (typeof b !== "number" || !Number.isSafeInteger(b) || b < 1) throw new UsageError(`--batch needs a positive integer, got ${String(b)}`);
  return b;
}

export function parseLoss(args: ParsedArgs): LossKind | undefined {
  const l = args.flags.loss;
  if (l === undefined) return undefined;
  if (typeof l !== "string" || !LOSS_KINDS.includes(l)) throw new UsageError(`unknown loss \`${String(l)}\``, `one of ${LOSS_KINDS.join(", ")}`);
  return l;
}

/** The LoadModelOptions the shared flags give (usage errors for malformed ones). */
export function modelOptions(args: ParsedArgs): LoadModelOptions {
  const options: LoadModelOptions = importOptionsOf(args);
  const model = modelFlag(args);
  if (model !== undefined) options.model = model;
  const overrides = parseOverrides(args);
  if (Object.keys(overrides).length) options.overrides = overrides;
  return options;
}

/** Only the options of imported models: --input, --batch, --loss, --freeze. */
export function importOptionsOf(args: ParsedArgs): LoadModelOptions {
  const options: LoadModelOptions = {};
  const inputs = parseInputs(args);
  if (inputs) options.inputs = inputs;
  const batch = parseBatch(args);
  if (batch !== undefined) options.batch = batch;
  const loss = parseLoss(args);
  if (loss !== undefined) options.loss = loss;
  const freeze = (args.flags.freeze as string[] | undefined) ?? [];
  if (freeze.some((g) => g === "")) throw new UsageError("--freeze needs a GLOB, got an empty one", "for example --freeze 'encoder.*'");
  if (freeze.length) options.freeze = freeze;
  return options;
}

/** Loads `path` per the shared flags, with the importer's unsupported list; diagnostics into `diagnostics`. */
export function loadModelResultFromArgs(ctx: CommandContext, path: string, diagnostics: Diagnostics): LoadModelResult {
  const options = modelOptions(ctx.args);
  showLoading(ctx, path);
  try {
    return loadModelResult(path, { sources: ctx.sources, diagnostics, cwd: ctx.io.cwd }, options);
  } finally {
    ctx.progress.end();
  }
}

/** Importing a large model takes seconds: the progress line says what is being read. */
export function showLoading(ctx: CommandContext, path: string): void {
  const size = fileSize(resolve(ctx.io.cwd, path));
  if (size >= LARGE_MODEL_BYTES) ctx.progress.phase(`load: ${path} (${formatBytes(size)})`);
}

/**
 * Loads `path` per the shared flags through the pipeline's `load` stage. Reports every
 * diagnostic (warnings too) through `ctx.report`; undefined when there were errors.
 */
export function loadModelFromArgs(ctx: CommandContext, path: string, pipeline = new CliPipeline(ctx)): LoadedModel | undefined {
  const options = modelOptions(ctx.args);
  let model: LoadedModel | undefined;
  showLoading(ctx, path);
  try {
    model = load(path, pipeline.ctx, options);
  } catch (e) {
    if (!(e instanceof ParError)) throw e;
  } finally {
    ctx.progress.end();
  }
  // Picking no model of several, or a flag for the wrong format, is how the command was
  // called, not what the file holds: a usage error (exit 2), its code kept in the message.
  const errors = pipeline.pending().filter((d) => d.severity === "error");
  if (errors.length === 1 && (errors[0].code === "PAR4012" || errors[0].code === "PAR4013")) {
    pipeline.report((d) => d.severity === "warning");
    throw new UsageError(errors[0].message, errors[0].hint, errors[0].code);
  }
  pipeline.report();
  return model;
}
