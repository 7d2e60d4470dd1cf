// What `par compile`, `run`, `verify` and `profile` share: turning FILE (a .par model, an
// ONNX model, a TensorFlow.js model.json or a plan .json) plus the model-loading flags
// (--model/--set for .par, --input/--batch/--loss for imported models; src/cli/model-flags.ts)
// and --mesh/--strategy/--search/--optimizer/--seed into a Plan, the graph, mesh and strategy
// it came from (when known), and the single-device reference plan. An imported model's
// trained weights go into the plan (`lower`'s `weights`), and the reference plan starts from
// the same given weights (read back from `plan.weights`), so plan files verify too.

import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { basename, resolve } from "node:path";
import { Diagnostics, ParError } from "../../core/diagnostics.js";
import type { Mesh } from "../../core/mesh.js";
import type { TensorType } from "../../core/tensor.js";
import { lower, singleDeviceStrategy, type LowerMesh } from "../../codegen/lower.js";
import type { OptimizerConfig, Plan } from "../../plan/plan.js";
import { readPlan } from "../../plan/io.js";
import { decodeF32 } from "../../plan/weights.js";
import { modelFormatOf, type ModelFormat } from "../../frontend/load-model.js";
import { Graph } from "../../ir/graph.js";
import type { Strategy } from "../../ir/strategy.js";
import { validateStrategy } from "../../ir/strategy-validate.js";
import { getOp } from "../../ops/registry.js";
import { DEFAULT_BUDGET, type Budget } from "../../search/mcmc.js";
import { searchStrategy } from "../../search/search.js";
import { NO_DECLS, resolveMesh, resolveStrategy, type Decls } from "../pick.js";
import { str, UsageError, type FlagSpec } from "../args.js";

export { str };
import type { CommandContext } from "../command.js";
import { loadModelFromArgs, MODEL_LOADING_FLAGS } from "../model-flags.js";

export const OPTIMIZER_KINDS = ["sgd", "momentum", "adam"] as const;

/** Learning rates that train the zoo's small configurations stably; the plan records them. */
export function optimizerConfig(kind: string): OptimizerConfig {
  switch (kind) {
    case "sgd":
      return { kind: "sgd", learningRate: 0.01 };
    case "momentum":
      return { kind: "momentum", learningRate: 0.01, momentum: 0.9 };
    case "adam":
      return { kind: "adam", learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    default:
      throw new UsageError(`unknown optimizer ${kind}`, `one of ${OPTIMIZER_KINDS.join(", ")}`);
  }
}

export const COMPILE_FLAGS: FlagSpec[] = [
  ...MODEL_LOADING_FLAGS,
  { name: "mesh", kind: "string", value: "NAME|FILE", doc: "a mesh declared in FILE, a built-in mesh (see `par meshes`) or a .par file with one mesh (default: local)" },
  { name: "strategy", kind: "string", value: "S", doc: "a strategy declared in FILE, a strategy .json/.par file, or a baseline: dp, mp, expert, megatron (default: --search)" },
  { name: "search", kind: "bool", doc: "search for the strategy (the default when --strategy is not given)" },
  { name: "budget", kind: "string", value: "N|Ns", doc: "search budget: N iterations or N seconds (`30s`); default 4000 iterations" },
  { name: "optimizer", kind: "string", value: "NAME", doc: "sgd, momentum or adam (default sgd)" },
  { name: "seed", kind: "int", value: "N", doc: "seeds weights, data and the search (default 1)" },
];

function parseBudget(spec: string | undefined): Budget {
  if (spec === undefined) return DEFAULT_BUDGET;
  const m = /^(\d+)(s?)$/.exec(spec);
  if (!m || Number(m[1]) <= 0) throw new UsageError(`--budget needs N (iterations) or Ns (seconds), got "${spec}"`);
  return m[2] ? { seconds: Number(m[1]) } : { iterations: Number(m[1]) };
}

function pickMesh(spec: string | undefined, checked: Decls, ctx: CommandContext, diagnostics: Diagnostics): Mesh | undefined {
  return resolveMesh(spec, checked, ctx, diagnostics, { fallback: "local", preferDeclared: false });
}

function pickStrategy(ctx: CommandContext, graph: Graph, mesh: Mesh, checked: Decls, file: string, seed: number, diagnostics: Diagnostics): Strategy | undefined {
  const spec = str(ctx.args, "strategy");
  if (spec !== undefined && ctx.args.flags.search === true) throw new UsageError("give --strategy or --search, not both");
  if (spec === undefined) {
    const r = searchStrategy(graph, mesh, { budget: parseBudget(str(ctx.args, "budget")), seed, optimizer: optimizerConfig(str(ctx.args, "optimizer") ?? "sgd").kind });
    for (const d of r.diagnostics) diagnostics.add(d);
    return { ...r.best.strategy, name: r.best.strategy.name || "searched" };
  }
  return resolveStrategy(spec, graph, mesh, checked, file, ctx, diagnostics);
}

export interface Compiled {
  plan: Plan;
  /** Known when FILE is a model (or rebuilt from the plan, see graphFromPlan). */
  graph: Graph;
  mesh?: Mesh;
  strategy?: Strategy;
  /** The model file's format, or "plan" for a plan .json. */
  from: ModelFormat | "plan";
}

export const SINGLE_MESH: LowerMesh = { name: "single", devices: [{ index: 0, spec: { kind: "cpu" } }] };

/**
 * Loads a model FILE (.par, .onnx or model.json, per the shared model-loading flags) and
 * compiles it per the flags; an imported model's weights are kept. Undefined after
 * reporting errors.
 */
export function compileModel(ctx: CommandContext, file: string, options: { strategy?: Strategy } = {}): Compiled | undefined {
  const diagnostics = new Diagnostics();
  const seed = typeof ctx.args.flags.seed === "number" ? ctx.args.flags.seed : 1;
  const optimizer = optimizerConfig(str(ctx.args, "optimizer") ?? "sgd");
  const loaded = loadModelFromArgs(ctx, file);
  if (!loaded) return undefined;
  const graph = loaded.graph;
  // An imported model declares no meshes or strategies: built-in meshes, baselines and files.
  const decls: Decls = loaded.program ?? NO_DECLS;
  const mesh = pickMesh(str(ctx.args, "mesh"), decls, ctx, diagnostics);
  const strategy = mesh && (options.strategy ?? pickStrategy(ctx, graph, mesh, decls, file, seed, diagnostics));
  if (!mesh || !strategy || diagnostics.hasErrors() || !validateStrategy(graph, mesh, strategy, diagnostics)) {
    ctx.report(diagnostics.items);
    return undefined;
  }
  ctx.report(diagnostics.items);
  const plan = lower(graph, { ...strategy, mesh: mesh.name }, mesh, { seed, optimizer, ...(loaded.weights ? { weights: loaded.weights } : {}) });
  return { plan, graph, mesh, strategy, from: loaded.format };
}

/** The former name of compileModel (it now reads every model format). */
export const compilePar = compileModel;

/**
 * The model graph a plan was lowered from, rebuilt from the plan's ops (in order) and the
 * op registry: output ids follow from op names, so they match the plan's tensor ids.
 */
export function graphFromPlan(plan: Plan): Graph {
  const g = new Graph(plan.model);
  for (const p of plan.params) if (p.trainable === false) g.frozen.add(p.tensor);
  const types = new Map<string, TensorType>();
  for (const t of plan.tensors) types.set(t.id, { dtype: t.dtype, shape: [...t.shape], dims: t.shape.map((_, i) => `${t.id}.d${i}`) });
  for (const t of plan.tensors) if (t.role === "input") g.addInput(t.id, types.get(t.id)!);
  for (const op of plan.ops) {
    const entry = getOp(op.op);
    if (!entry) throw new ParError([{ code: "PAR5111", severity: "error", message: `plan op ${op.name}: unknown op kind ${op.op}` }]);
    const diagnostics = new Diagnostics();
    const sig = entry.infer(op.inputs.map((id) => g.tensor(id).type), op.attrs, { opName: op.name, diagnostics });
    if (!sig) throw new ParError(diagnostics.items.length ? diagnostics.items : [{ code: "PAR5111", severity: "error", message: `plan op ${op.name} does not re-infer` }]);
    const node = g.addOp({ name: op.name, op: op.op, attrs: op.attrs, inputs: op.inputs, sig });
    node.outputs.forEach((id, i) => {
      if (id !== op.outputs[i]) throw new ParError([{ code: "PAR5111", severity: "error", message: `plan op ${op.name}: output ${i} is ${op.outputs[i]}, the model would call it ${id}` }]);
    });
  }
  return g;
}

/** Flags that only apply when FILE is a model (compiled here), not a plan. */
const COMPILE_ONLY_FLAGS = [...MODEL_LOADING_FLAGS.map((f) => f.name), "mesh", "strategy", "search", "budget", "optimizer", "seed"];

/**
 * Whether a .json FILE is a TensorFlow.js model.json rather than a plan: its beginning names
 * a `modelTopology` (or the file is called model.json) and does not say `"format": "par-plan"`.
 */
export function isModelJson(full: string): boolean {
  let head = "";
  let fd: number | undefined;
  try {
    fd = openSync(full, "r");
    const buf = Buffer.alloc(64 * 1024);
    head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString("utf8");
  } catch {
    return basename(full).toLowerCase() === "model.json";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (/"format"\s*:\s*"par-plan"/.test(head)) return false;
  return head.includes('"modelTopology"') || basename(full).toLowerCase() === "model.json";
}

/**
 * FILE as a plan: a plan .json is read and validated; a model (.par, .onnx, a TensorFlow.js
 * model.json, or a file whose content says which) is compiled per the flags.
 */
export function loadPlanOrPar(ctx: CommandContext, file: string): Compiled | undefined {
  const full = resolve(ctx.io.cwd, file);
  if (/\.json$/i.test(file) && !isModelJson(full)) {
    for (const f of COMPILE_ONLY_FLAGS) {
      if (f in ctx.args.flags) throw new UsageError(`--${f} applies to a model FILE (.par, .onnx, model.json), not to a plan`);
    }
    const diagnostics = new Diagnostics();
    let plan: Plan | undefined;
    try {
      plan = readPlan(full, diagnostics);
    } catch (e) {
      diagnostics.error("PAR5111", `cannot read ${file}: ${(e as Error).message}`);
    }
    ctx.report(diagnostics.items);
    if (!plan) return undefined;
    return { plan, graph: graphFromPlan(plan), from: "plan" };
  }
  // A missing file goes to the loader, which reports PAR4001 (with a did-you-mean).
  if (existsSync(full) && modelFormatOf(full) === undefined) {
    throw new UsageError(`${file} is neither a model (.par, .onnx, model.json) nor a plan .json`);
  }
  return compileModel(ctx, file);
}

/** The given weights of a plan (imported models' trained weights) by param id. */
export function planGivenWeights(plan: Plan): Map<string, Float32Array> | undefined {
  if (!plan.weights) return undefined;
  const out = new Map<string, Float32Array>();
  for (const [id, w] of Object.entries(plan.weights)) {
    const v = decodeF32(w.data);
    if (v) out.set(id, v);
  }
  return out.size ? out : undefined;
}

/** The single-device plan of the same model, seed, optimizer and given weights: verification's reference. */
export function singleDevicePlan(c: Compiled): Plan {
  const weights = planGivenWeights(c.plan);
  return lower(c.graph, singleDeviceStrategy(c.graph, SINGLE_MESH.name), SINGLE_MESH, { seed: c.plan.seed, optimizer: c.plan.optimizer, ...(weights ? { weights } : {}) });
}
