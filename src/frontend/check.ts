// Semantic checking: a parsed Program → one Graph per model, one Mesh per mesh declaration,
// and strategy declarations checked by reference (their model, mesh, op patterns, keys,
// degrees and device indices; strategy-wide and pipeline settings, stage bounds). Every
// problem is a coded diagnostic; nothing throws.

import { Diagnostics, didYouMean } from "../core/diagnostics.js";
import { builtinMesh, builtinMeshNames } from "../core/builtin-meshes.js";
import type { Mesh } from "../core/mesh.js";
import type { Graph, OpNode } from "../ir/graph.js";
import type { ParallelDim } from "../ops/contract.js";
import { getOp } from "../ops/registry.js";
import type { BlockDecl, Expr, MeshDecl, ModelDecl, Param, Program, StrategyDecl, StrategyRule } from "./ast.js";
import { elaborateModel, type ElaborationLimits } from "./elaborate.js";
import { evalInt, spanPos, type EvalContext } from "./eval.js";
import { buildMesh } from "./mesh-build.js";
import { globToRegExp } from "./naming.js";
import { PIPELINE_SETTING_KEYS, readSettings, readValue, RULE_KEYS, STAGE_SETTING_KEYS, STRATEGY_SETTING_KEYS, type Setting, type SettingValue } from "./strategy-options.js";

export interface CheckedProgram {
  program: Program;
  /** Elaborated models, by name (only those that checked without errors). */
  models: Map<string, Graph>;
  /** Meshes declared in the program, by name (only those that built without errors). */
  meshes: Map<string, Mesh>;
  strategies: StrategyDecl[];
}

export interface CheckOptions {
  /** Model parameter values replacing defaults (`--set batch=128`). */
  overrides?: Record<string, number>;
  /** Elaborate only this model. */
  model?: string;
  limits?: ElaborationLimits;
}

export function check(program: Program, diagnostics: Diagnostics, options: CheckOptions = {}): CheckedProgram {
  const file = program.file;
  if (program.items.length === 0) {
    // An empty file (or one of comments only) is more likely the wrong file than a program.
    diagnostics.error("PAR2031", `${file} declares nothing`, {
      pos: { file, line: 1, column: 1 },
      expected: "a `model`, `block`, `mesh` or `strategy` declaration",
      hint: "is this the right file? a model starts `model NAME(PARAMS) { ... }` (docs/language.md)",
    });
  }
  const decls = collectDecls(program, diagnostics);
  const result: CheckedProgram = { program, models: new Map(), meshes: new Map(), strategies: decls.strategies };

  let selected = [...decls.models.values()];
  if (options.model !== undefined) {
    const m = decls.models.get(options.model);
    if (!m) {
      diagnostics.error("PAR2025", `no model \`${options.model}\` in ${file}`, {
        expected: decls.models.size ? `one of ${[...decls.models.keys()].join(", ")}` : "a file that declares a model",
        hint: didYouMean(options.model, decls.models.keys()),
      });
      selected = [];
    } else selected = [m];
  }

  const overrides = options.overrides ?? {};
  checkOverrides(overrides, selected, diagnostics);
  for (const model of selected) {
    checkParamNames(model.params, `model \`${model.name}\``, file, diagnostics);
    const params = Object.create(null) as Record<string, number>;
    for (const p of model.params) if (Object.hasOwn(overrides, p.name)) params[p.name] = overrides[p.name];
    const graph = elaborateModel({ model, file, blocks: decls.blocks, params, diagnostics, limits: options.limits });
    if (graph) result.models.set(model.name, graph);
  }

  for (const decl of decls.meshes.values()) {
    const mesh = buildMesh(decl, file, diagnostics);
    if (mesh) result.meshes.set(decl.name, mesh);
  }

  for (const s of decls.strategies) checkStrategy(s, decls, result, file, diagnostics);
  return result;
}

/** Elaborates one model of a program (with overrides) for commands that need just its graph. */
export function buildGraph(program: Program, modelName: string, overrides: Record<string, number>, diagnostics: Diagnostics): Graph | undefined {
  return check(program, diagnostics, { model: modelName, overrides }).models.get(modelName);
}

/** Reports cycles of a graph that did not come from elaboration (imported ONNX / tfjs models). */
export function reportCycles(graph: Graph, file: string, diagnostics: Diagnostics): boolean {
  const cycles = graph.cycles();
  for (const c of cycles) {
    const first = graph.ops.get(c[0]);
    diagnostics.error("PAR2015", `graph \`${graph.name}\` has a cycle: ${[...c, c[0]].join(" → ")}`, {
      pos: first?.pos ?? { file, line: 1, column: 1 },
      expected: "an acyclic graph (each op reads only values computed before it)",
    });
  }
  return cycles.length === 0;
}

// ---------------------------------------------------------------- declarations

interface Decls {
  models: Map<string, ModelDecl>;
  blocks: Map<string, BlockDecl>;
  meshes: Map<string, MeshDecl>;
  strategies: StrategyDecl[];
}

function collectDecls(program: Program, diagnostics: Diagnostics): Decls {
  const d: Decls = { models: new Map(), blocks: new Map(), meshes: new Map(), strategies: [] };
  const strategyNames = new Map<string, StrategyDecl>();
  const file = program.file;
  const once = <T extends { name: string; nameSpan: { line: number; column: number; offset: number; endOffset: number } }>(map: Map<string, T>, item: T, what: string): boolean => {
    const prev = map.get(item.name);
    if (prev) {
      diagnostics.error("PAR2002", `${what} \`${item.name}\` is declared twice (first at line ${prev.nameSpan.line})`, {
        pos: spanPos(file, item.nameSpan),
        expected: `a fresh ${what} name`,
      });
      return false;
    }
    map.set(item.name, item);
    return true;
  };
  for (const item of program.items) {
    switch (item.kind) {
      case "model":
        once(d.models, item, "model");
        break;
      case "block":
        if (getOp(item.name)) {
          diagnostics.error("PAR2029", `block \`${item.name}\` has the name of a built-in op`, {
            pos: spanPos(file, item.nameSpan),
            expected: "a block name that is not an op name",
            hint: `rename it, e.g. \`${item.name}_block\``,
          });
          break;
        }
        if (once(d.blocks, item, "block")) checkParamNames(item.params, `block \`${item.name}\``, file, diagnostics);
        break;
      case "mesh":
        once(d.meshes, item, "mesh");
        break;
      case "strategy":
        if (once(strategyNames, item, "strategy")) d.strategies.push(item);
        break;
    }
  }
  return d;
}

function checkParamNames(params: Param[], owner: string, file: string, diagnostics: Diagnostics): void {
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.name)) {
      diagnostics.error("PAR2003", `${owner} has two parameters named \`${p.name}\``, { pos: spanPos(file, p.span), expected: "distinct parameter names" });
    }
    seen.add(p.name);
  }
}

function checkOverrides(overrides: Record<string, number>, models: ModelDecl[], diagnostics: Diagnostics): void {
  const known = new Set(models.flatMap((m) => m.params.map((p) => p.name)));
  for (const [name, value] of Object.entries(overrides)) {
    if (!known.has(name)) {
      diagnostics.error("PAR2014", `no model parameter \`${name}\` to set`, {
        expected: known.size ? `one of ${[...known].join(", ")}` : "a model with parameters",
        hint: didYouMean(name, known),
      });
    } else if (!Number.isSafeInteger(value)) {
      diagnostics.error("PAR2013", `model parameter \`${name}\` must be an integer within ±2^53, got ${value}`, { expected: "an integer" });
    }
  }
}

// ---------------------------------------------------------------- strategies

function checkStrategy(s: StrategyDecl, decls: Decls, result: CheckedProgram, file: string, diagnostics: Diagnostics): void {
  if (!decls.models.has(s.model)) {
    diagnostics.error("PAR3101", `strategy \`${s.name}\` is for model \`${s.model}\`, which is not declared`, {
      pos: spanPos(file, s.modelSpan),
      expected: decls.models.size ? `one of ${[...decls.models.keys()].join(", ")}` : "a model declared in this file",
      hint: didYouMean(s.model, decls.models.keys()),
    });
  }
  let mesh: Mesh | undefined = result.meshes.get(s.mesh);
  if (!mesh && !decls.meshes.has(s.mesh)) {
    mesh = builtinMesh(s.mesh);
    if (!mesh) {
      diagnostics.error("PAR3102", `strategy \`${s.name}\` is on mesh \`${s.mesh}\`, which is neither declared nor built in`, {
        pos: spanPos(file, s.meshSpan),
        expected: "a mesh declared in this file or a built-in mesh",
        hint: didYouMean(s.mesh, [...decls.meshes.keys(), ...builtinMeshNames()]),
      });
    }
  }
  // Patterns, keys and degrees need the elaborated model (absent if it had errors or was not selected).
  const graph = result.models.get(s.model);
  if (!graph) return;
  // The op names, listed only when a pattern other than `*` needs them.
  let names: string[] | undefined;
  const opNames = (): string[] => (names ??= [...graph.ops.keys()]);
  for (const rule of s.rules) checkRule(rule, graph, opNames, mesh, file, diagnostics);
  checkScaleItems(s, graph, opNames, mesh, paramContext(graph, file, diagnostics));
}

/** Integer values may use the model's parameters (`sample = batch // 8`, `microbatches = (batch / 4)`). */
function paramContext(graph: Graph, file: string, diagnostics: Diagnostics): EvalContext {
  return {
    file,
    diagnostics,
    lookup: (name) => (Object.hasOwn(graph.modelParams, name) ? graph.modelParams[name] : undefined),
    names: () => Object.keys(graph.modelParams),
  };
}

/** The strategy-wide settings and the pipeline, by reference: known keys, values of the right kind, stage bounds that name ops, devices in the mesh. */
function checkScaleItems(s: StrategyDecl, graph: Graph, opNames: () => string[], mesh: Mesh | undefined, ctx: EvalContext): void {
  const settings = new Map<string, Setting<SettingValue>>();
  for (const item of s.settings) readSettings(item.settings, STRATEGY_SETTING_KEYS, "a strategy-wide setting", ctx, settings);
  s.pipelines.forEach((p, i) => {
    if (i > 0) ctx.diagnostics.error("PAR3191", "the strategy has a second `pipeline`", { pos: spanPos(ctx.file, p.span), expected: "one `pipeline(...)` per strategy" });
    readSettings(p.settings, PIPELINE_SETTING_KEYS, "a pipeline setting", ctx, new Map());
    for (const st of p.stages ?? []) {
      for (const bound of st.last ? [st.first, st.last] : [st.first]) {
        const pos = spanPos(ctx.file, bound.span);
        if (graph.ops.has(bound.text)) continue;
        if (/[*?]/.test(bound.text)) ctx.diagnostics.error("PAR3193", `a stage starts and ends at one op each; \`${bound.text}\` is a glob`, { pos, expected: "an op name" });
        else ctx.diagnostics.error("PAR3165", `\`${bound.text}\` is not an op of model \`${graph.name}\``, { pos, expected: "an op name", hint: didYouMean(bound.text, opNames()) });
      }
      for (const setting of st.settings) {
        if (setting.name === "devices") checkDevices(setting.value, mesh, ctx);
        else readSettings([setting], STAGE_SETTING_KEYS, "a stage setting", ctx, new Map());
      }
    }
  });
}

function checkRule(rule: StrategyRule, graph: Graph, opNames: () => string[], mesh: Mesh | undefined, file: string, diagnostics: Diagnostics): void {
  // The ops the patterns match. An op matched by two patterns is listed twice, which changes
  // nothing below (a minimum and a union of dim names).
  const matched: OpNode[] = [];
  for (const p of rule.patterns) {
    let any = false;
    if (/^\*+$/.test(p.text)) {
      // `*` matches every name: no need to run the expression over each op.
      for (const op of graph.ops.values()) matched.push(op);
      any = graph.ops.size > 0;
    } else {
      const re = globToRegExp(p.text);
      for (const n of opNames()) {
        if (re.test(n)) {
          matched.push(graph.op(n));
          any = true;
        }
      }
    }
    if (!any) {
      diagnostics.error("PAR3170", `pattern \`${p.text}\` matches no op of model \`${graph.name}\``, {
        pos: spanPos(file, p.span),
        expected: "a glob over op names (`*` any run of characters, `?` one character)",
        hint: didYouMean(p.text, opNames()),
      });
    }
  }
  // The iteration spaces of the matched ops, each once: ops of one shape share theirs.
  const spaces = new Set<readonly ParallelDim[]>();
  let last: readonly ParallelDim[] | undefined;
  for (const op of matched) {
    if (op.sig.space !== last) spaces.add((last = op.sig.space));
  }
  const ctx: EvalContext = {
    file,
    diagnostics,
    // Degrees may use the model's parameters (`sample = batch // 8`).
    lookup: (name) => (Object.hasOwn(graph.modelParams, name) ? graph.modelParams[name] : undefined),
    names: () => Object.keys(graph.modelParams),
  };
  const seen = new Set<string>();
  for (const setting of rule.settings) {
    const pos = spanPos(file, setting.span);
    if (seen.has(setting.name)) {
      diagnostics.error("PAR3174", `\`${setting.name}\` is set twice in one rule`, { pos, expected: "each key once per rule" });
      continue;
    }
    seen.add(setting.name);
    if (setting.name === "devices") {
      checkDevices(setting.value, mesh, ctx);
      continue;
    }
    if (setting.name === "recompute") {
      readValue(setting, RULE_KEYS.recompute, ctx);
      continue;
    }
    // A key applies to the matched ops that have that dim (so `* : sample = 4` works
    // across ops with different dims); it is an error only when none of them has it.
    let size: number | undefined;
    for (const space of spaces) {
      for (const d of space) {
        if (d.name === setting.name) {
          size = size === undefined ? d.size : Math.min(size, d.size);
          break;
        }
      }
    }
    if (matched.length > 0 && size === undefined) {
      const allDims = new Set<string>();
      for (const space of spaces) for (const d of space) allDims.add(d.name);
      const dims = [...allDims].sort();
      diagnostics.error("PAR3171", `no op matched by this rule has a parallel dim \`${setting.name}\``, {
        pos,
        expected: `devices, recompute or one of ${dims.join(", ") || "(no dims)"}`,
        hint: didYouMean(setting.name, [...dims, ...Object.keys(RULE_KEYS)]),
      });
      continue;
    }
    if (!isIntExprKind(setting.value)) {
      diagnostics.error("PAR3172", `degree of \`${setting.name}\` must be a positive integer, got a ${setting.value.kind}`, { pos: spanPos(file, setting.value.span), expected: "a positive integer" });
      continue;
    }
    const degree = evalInt(setting.value, ctx);
    if (degree === undefined) continue;
    if (degree < 1) {
      diagnostics.error("PAR3152", `degree of \`${setting.name}\` is ${degree}`, { pos: spanPos(file, setting.value.span), expected: "a positive integer" });
    } else if (size !== undefined && degree > size) {
      diagnostics.error("PAR3155", `degree ${degree} of \`${setting.name}\` exceeds the dim's size ${size}`, {
        pos: spanPos(file, setting.value.span),
        expected: `a degree between 1 and ${size}`,
      });
    }
  }
}

/** `devices = 3`, `devices = 0..7` or `devices = [0, 2, 4..7]`: every index inside the mesh. */
function checkDevices(value: Expr, mesh: Mesh | undefined, ctx: EvalContext): void {
  const items = value.kind === "list" ? value.elements : [value];
  for (const item of items) {
    const bounds: Expr[] = item.kind === "range" ? [item.start, item.end] : [item];
    for (const b of bounds) {
      if (!isIntExprKind(b)) {
        ctx.diagnostics.error("PAR3173", `a ${b.kind} is not a device index`, { pos: spanPos(ctx.file, b.span), expected: "a device index, a range `a..b` or a list of them" });
        continue;
      }
      const i = evalInt(b, ctx);
      if (i === undefined || !mesh) continue;
      if (i < 0 || i >= mesh.devices.length) {
        ctx.diagnostics.error("PAR3157", `device ${i} is outside mesh \`${mesh.name}\` (devices 0..${mesh.devices.length - 1})`, {
          pos: spanPos(ctx.file, b.span),
          expected: `an index between 0 and ${mesh.devices.length - 1}`,
        });
      }
    }
  }
}

/** Expression kinds that can denote an integer (anything else is the wrong kind outright). */
function isIntExprKind(e: Expr): boolean {
  return e.kind === "int" || e.kind === "ident" || e.kind === "unary" || e.kind === "binary";
}
