// `par strategy export|import|baseline`: move strategies between their two forms and make
// the baseline ones.
//   par strategy export FILE.par [--name S] [--model M] [--mesh NAME] [--out S.json]
//       a `strategy` block of FILE.par, resolved against its model and mesh → JSON
//   par strategy import S.json --model-file FILE.par [--model M] [--mesh NAME]
//       a JSON strategy, validated against the model → a canonical `.par` block on stdout
//   par strategy baseline dp|mp|expert|megatron FILE.par [--model M] [--mesh NAME] [--out S.json] [--par]
//       a baseline strategy for a model of FILE.par → JSON (or `.par` with --par)
// import and baseline also take an imported model (.onnx, model.json; --input/--batch/--loss)
// in place of FILE.par, with a built-in --mesh.
// Without --out, JSON goes to stdout. Exit 1 on errors in the inputs, 2 on usage errors.

import { resolve as resolvePath } from "node:path";
import { builtinMesh, builtinMeshNames } from "../../core/builtin-meshes.js";
import { didYouMean, Diagnostics } from "../../core/diagnostics.js";
import type { Mesh } from "../../core/mesh.js";
import type { CheckedProgram } from "../../frontend/check.js";
import { loadProgram } from "../../frontend/load.js";
import { BASELINE_KINDS, baseline, type BaselineKind } from "../../ir/baselines.js";
import type { Graph } from "../../ir/graph.js";
import { readStrategyText, strategyFromJsonText, strategyJsonText } from "../../ir/strategy-json.js";
import { resolveStrategyDecl, strategyToPar } from "../../frontend/strategy-par.js";
import { validateStrategy } from "../../ir/strategy-validate.js";
import type { Strategy } from "../../ir/strategy.js";
import { str, UsageError, type FlagSpec } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { IMPORT_FLAGS, loadModelFromArgs, MODEL_FLAG, modelFlag, parseOverrides, SET_FLAG } from "../model-flags.js";
import { modelFormatOf } from "../../frontend/load-model.js";
import { outputFlag, writeOutput } from "../output-path.js";

const FLAGS: FlagSpec[] = [
  MODEL_FLAG,
  SET_FLAG,
  ...IMPORT_FLAGS,
  { name: "name", kind: "string", value: "S", doc: "export: the strategy block to export (when the file has several)" },
  { name: "mesh", kind: "string", value: "NAME", doc: "the mesh (declared in the file or built in); default: the strategy's own, or the file's only mesh" },
  { name: "out", kind: "string", value: "FILE", doc: "export, baseline: write the JSON strategy to FILE (atomically) instead of stdout" },
  { name: "model-file", kind: "string", value: "FILE", doc: "import: the .par file that declares the strategy's model" },
  { name: "par", kind: "bool", doc: "baseline: print the .par form instead of JSON" },
];

/** Which flags each subcommand takes (the others are usage errors, not silently ignored). */
const ALLOWED: Record<string, string[]> = {
  export: ["model", "set", "name", "mesh", "out"],
  import: ["model", "set", "input", "batch", "loss", "mesh", "model-file"],
  baseline: ["model", "set", "input", "batch", "loss", "mesh", "out", "par"],
};

/** What a .par file declares besides its models (nothing, for an imported model). */
type Decls = Pick<CheckedProgram, "meshes" | "strategies">;

/** A mesh by name: declared in the program first, then built in. */
function findMesh(checked: Decls, name: string): Mesh | undefined {
  return checked.meshes.get(name) ?? builtinMesh(name);
}

function meshOrUsage(checked: Decls, name: string, what: string): Mesh {
  const mesh = findMesh(checked, name);
  if (!mesh) {
    const known = [...checked.meshes.keys(), ...builtinMeshNames()];
    throw new UsageError(`${what} \`${name}\` is neither declared in the file nor built in`, didYouMean(name, known) ?? `meshes: ${known.join(", ")}`);
  }
  return mesh;
}

/** The one model of the program (or the one named). */
function pickGraph(checked: CheckedProgram, file: string, name: string | undefined): Graph {
  if (name !== undefined) {
    const g = checked.models.get(name);
    if (!g) throw new UsageError(`no model \`${name}\` in ${file}`, didYouMean(name, checked.models.keys()));
    return g;
  }
  const graphs = [...checked.models.values()];
  if (graphs.length !== 1) {
    throw new UsageError(
      graphs.length === 0 ? `${file} declares no model` : `${file} declares ${graphs.length} models; pick one with --model`,
      graphs.length ? `models: ${graphs.map((g) => g.name).join(", ")}` : undefined,
    );
  }
  return graphs[0];
}

function load(ctx: CommandContext, file: string, model: string | undefined, diagnostics: Diagnostics): CheckedProgram | undefined {
  const checked = loadProgram(file, { sources: ctx.sources, diagnostics }, { overrides: parseOverrides(ctx.args), model });
  if (!checked || diagnostics.hasErrors()) {
    ctx.report(diagnostics.items);
    return undefined;
  }
  return checked;
}

function emitJson(ctx: CommandContext, graph: Graph, strategy: Strategy): void {
  const text = strategyJsonText(graph, strategy);
  const out = outputFlag(ctx, "out");
  if (out !== undefined) writeOutput(out, text);
  else ctx.io.out(text);
}

function runExport(ctx: CommandContext, positionals: string[]): number {
  if (positionals.length !== 1) throw new UsageError(`export takes one FILE.par, got ${positionals.length}`);
  const [file] = positionals;
  const diagnostics = new Diagnostics();
  const model = modelFlag(ctx.args);
  const checked = load(ctx, file, model, diagnostics);
  if (!checked) return 1;
  const wanted = str(ctx.args, "name");
  const candidates = checked.strategies.filter((s) => (wanted === undefined || s.name === wanted) && (model === undefined || s.model === model));
  if (candidates.length !== 1) {
    const all = checked.strategies.map((s) => s.name);
    if (wanted !== undefined && candidates.length === 0) throw new UsageError(`no strategy \`${wanted}\` in ${file}`, didYouMean(wanted, all) ?? (all.length ? `strategies: ${all.join(", ")}` : undefined));
    throw new UsageError(
      candidates.length === 0 ? `${file} declares no strategy${model !== undefined ? ` for model \`${model}\`` : ""}` : `${file} declares ${candidates.length} strategies; pick one with --name`,
      candidates.length ? `strategies: ${candidates.map((s) => s.name).join(", ")}` : undefined,
    );
  }
  const decl = candidates[0];
  const graph = checked.models.get(decl.model);
  if (!graph) throw new UsageError(`strategy \`${decl.name}\` is for model \`${decl.model}\`, which ${file} does not declare`);
  const meshName = str(ctx.args, "mesh") ?? decl.mesh;
  const mesh = meshOrUsage(checked, meshName, "mesh");
  const strategy = resolveStrategyDecl(decl, graph, mesh, file, diagnostics);
  // --mesh re-targets the strategy: the file records the mesh it was resolved against.
  strategy.mesh = mesh.name;
  ctx.report(diagnostics.items);
  if (diagnostics.hasErrors()) return 1;
  emitJson(ctx, graph, strategy);
  return 0;
}

function runImport(ctx: CommandContext, positionals: string[]): number {
  if (positionals.length !== 1) throw new UsageError(`import takes one S.json, got ${positionals.length}`);
  const [jsonFile] = positionals;
  const modelFile = str(ctx.args, "model-file");
  if (modelFile === undefined) throw new UsageError("import needs --model-file FILE.par (the file that declares the model)");
  const diagnostics = new Diagnostics();
  const text = readStrategyText(resolvePath(ctx.io.cwd, jsonFile), diagnostics, jsonFile);
  if (text === undefined) {
    ctx.report(diagnostics.items);
    return 1;
  }
  ctx.sources.set(jsonFile, text);
  let checked: Decls;
  let graph: Graph;
  if ((modelFormatOf(modelFile, ctx.io.cwd) ?? "par") !== "par") {
    // An imported model (.onnx, model.json): its one graph, no declared meshes.
    const loaded = loadModelFromArgs(ctx, modelFile);
    if (!loaded) return 1;
    checked = { meshes: new Map(), strategies: [] };
    graph = loaded.graph;
  } else {
    const program = load(ctx, modelFile, modelFlag(ctx.args), diagnostics);
    if (!program) return 1;
    checked = program;
    // Which model: --model, else the one the JSON names when the file declares it, else the file's only one.
    let model = modelFlag(ctx.args);
    if (model === undefined) {
      try {
        const named = (JSON.parse(text) as { model?: unknown }).model;
        if (typeof named === "string" && program.models.has(named)) model = named;
      } catch {
        /* strategyFromJsonText reports the syntax error below */
      }
    }
    graph = pickGraph(program, modelFile, model);
  }
  const strategy = strategyFromJsonText(graph, text, jsonFile, diagnostics);
  const mesh = strategy && meshOrUsage(checked, str(ctx.args, "mesh") ?? strategy.mesh, "the strategy's mesh");
  if (strategy && mesh) validateStrategy(graph, mesh, strategy, diagnostics);
  ctx.report(diagnostics.items);
  if (!strategy || diagnostics.hasErrors()) return 1;
  // With the mesh, the printer can leave default stage devices out and use `stages = p`.
  ctx.io.out(strategyToPar(graph, strategy, mesh));
  return 0;
}

function runBaseline(ctx: CommandContext, positionals: string[]): number {
  if (positionals.length !== 2) throw new UsageError(`baseline takes a kind and one FILE.par, got ${positionals.length} arguments`, `kinds: ${BASELINE_KINDS.join(", ")}`);
  const [kind, file] = positionals;
  if (!(BASELINE_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown baseline \`${kind}\``, didYouMean(kind, BASELINE_KINDS) ?? `kinds: ${BASELINE_KINDS.join(", ")}`);
  const diagnostics = new Diagnostics();
  const loaded = loadModelFromArgs(ctx, file);
  if (!loaded) return 1;
  // An imported model declares no meshes: --mesh names a built-in one.
  const checked: Decls = loaded.program ?? { meshes: new Map(), strategies: [] };
  const graph = loaded.graph;
  let meshName = str(ctx.args, "mesh");
  if (meshName === undefined) {
    if (checked.meshes.size !== 1) throw new UsageError(`${file} declares ${checked.meshes.size} meshes; pick one (or a built-in mesh) with --mesh`, `built-in meshes: ${builtinMeshNames().join(", ")}`);
    meshName = [...checked.meshes.keys()][0];
  }
  const mesh = meshOrUsage(checked, meshName, "mesh");
  const strategy = baseline(kind as BaselineKind, graph, mesh);
  ctx.report(diagnostics.items);
  if (ctx.args.flags.par === true) ctx.io.out(strategyToPar(graph, strategy, mesh));
  else emitJson(ctx, graph, strategy);
  return 0;
}

export const strategyCommand: Command = {
  name: "strategy",
  summary: "convert strategies between .par and JSON, and generate baseline strategies",
  usage: "export FILE.par [--name S] [--mesh NAME] [--out S.json] | import S.json --model-file FILE.par|MODEL.onnx|model.json | baseline dp|mp|expert|megatron FILE.par|MODEL.onnx|model.json [--mesh NAME] [--out S.json] [--par]",
  flags: FLAGS,
  details: [
    "examples:",
    "  par strategy export docs/examples/hybrid.par --name hybrid --out mlp-hybrid.json",
    "  par strategy import strategies/mlp-dp-p100x16.json --model-file models/mlp.par",
    "  par strategy baseline megatron models/gpt2_small.par --mesh a100x8 --out gpt-megatron.json",
    "The JSON format and the .par form are described in docs/strategies.md.",
  ].join("\n"),
  run(ctx: CommandContext): number {
    const [sub, ...rest] = ctx.args.positionals;
    if (sub === undefined) throw new UsageError("missing subcommand", "one of export, import, baseline");
    const allowed = ALLOWED[sub];
    if (!allowed) throw new UsageError(`unknown subcommand \`${sub}\``, didYouMean(sub, Object.keys(ALLOWED)) ?? "one of export, import, baseline");
    for (const flag of Object.keys(ctx.args.flags)) {
      if (flag !== "help" && !allowed.includes(flag)) throw new UsageError(`option --${flag} does not apply to \`strategy ${sub}\``, `${sub} takes ${allowed.map((f) => `--${f}`).join(", ")}`);
    }
    // A bad --out fails before the work (emitJson checks it again when writing).
    outputFlag(ctx, "out");
    if (sub === "export") return runExport(ctx, rest);
    if (sub === "import") return runImport(ctx, rest);
    return runBaseline(ctx, rest);
  },
};
