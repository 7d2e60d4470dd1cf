// The `.par` human form of a strategy:
//
//   strategy dp for mlp on p100x4 {
//     * : sample = 4
//     fc2 : sample = 2, channel = 2, devices = [0, 2, 1, 3]
//   }
//
// `resolveStrategyDecl` turns a declaration into the internal Strategy; `strategyToPar`
// prints a Strategy back as a canonical, compact block that resolves to the same Strategy.
// Semantics (docs/strategies.md):
// - rules apply in order; a rule's patterns are globs over op names (`*` any run of
//   characters, dots included; `?` one character; anchored);
// - a rule sets its keys on every op it matches; a later rule overrides only the keys it
//   sets; an op's unset dims have degree 1;
// - a dim key applies to the matched ops that have that dim and is skipped for the others
//   (so `* : sample = 4` works across ops with different dims); a key that no matched op
//   has (and is not `devices`) is an error;
// - `devices` is an index, an inclusive range `a..b`, or a list of indices and ranges;
//   an op with no `devices` puts its n tasks on the first n devices of its pipeline stage,
//   else of replica 0 (with replicas), else on devices 0..n-1;
// - `recompute = true | false` marks ops for recomputation (only those that can be);
// - an op no rule matches runs whole on the first device of that pool (device 0).
// Strategy-wide settings (`replicas`, `offset`, `zero`, `precision`) and the pipeline are
// resolved by src/frontend/strategy-par-scale.ts; printing is src/frontend/strategy-par-print.ts.

import { didYouMean, type Diagnostics, type SourcePos } from "../core/diagnostics.js";
import type { Mesh } from "../core/mesh.js";
import type { NamedArg, StrategyDecl } from "./ast.js";
import { evalInt, spanPos, type EvalContext } from "./eval.js";
import { globToRegExp } from "./naming.js";
import type { Graph, OpNode } from "../ir/graph.js";
import { replicaZeroDevices } from "../ir/strategy-replicas.js";
import { stageIndexOf } from "../ir/strategy-stages.js";
import { listNames, opConfigProblems, type OpConfigProblem } from "../ir/strategy-validate.js";
import { recomputable, scaleProblems } from "../ir/strategy-validate-scale.js";
import type { OpConfig, Strategy } from "../ir/strategy.js";
import { evalDevices, isIntExpr, readValue, RULE_KEYS, type Setting } from "./strategy-options.js";
import { resolveScale, scaleSubjectPos } from "./strategy-par-scale.js";

// ------------------------------------------------------------------ resolving

interface OpState {
  /** Degree per dim index, with the position of the setting that gave it. */
  dims: Map<number, Setting<number>>;
  devices?: Setting<number[]>;
  recompute?: Setting<boolean>;
}

/** The ops (in topological order) that any of `patterns` matches. */
export function matchOps(graph: Graph, patterns: readonly string[]): OpNode[] {
  const res = patterns.map(globToRegExp);
  return graph.topoOrder().filter((o) => res.some((re) => re.test(o.name)));
}

/** A problem with one op's config, from the per-op checks or the large-scale ones. */
type OpProblem = Pick<OpConfigProblem, "message" | "expected" | "hint"> & { code: string };

/**
 * Resolves a `.par` strategy declaration against its elaborated model and mesh. Reports
 * coded diagnostics (at the setting that caused each problem) and returns the strategy;
 * callers check `diagnostics.hasErrors()` before using it.
 */
export function resolveStrategyDecl(decl: StrategyDecl, graph: Graph, mesh: Mesh, file: string, diagnostics: Diagnostics): Strategy {
  const order = graph.topoOrder();
  const opNames = order.map((o) => o.name);
  const states = new Map<string, OpState>(order.map((o) => [o.name, { dims: new Map() }]));
  const ctx: EvalContext = {
    file,
    diagnostics,
    lookup: (name) => graph.modelParams[name],
    names: () => Object.keys(graph.modelParams),
  };

  for (const rule of decl.rules) {
    const matched = new Map<string, OpNode>();
    for (const p of rule.patterns) {
      const re = globToRegExp(p.text);
      const hits = order.filter((o) => re.test(o.name));
      if (hits.length === 0) {
        diagnostics.error("PAR3170", `pattern \`${p.text}\` matches no op of model \`${graph.name}\``, {
          pos: spanPos(file, p.span),
          expected: "a glob over op names (`*` any run of characters, `?` one character)",
          hint: didYouMean(p.text, opNames),
        });
      }
      for (const o of hits) matched.set(o.name, o);
    }
    const seen = new Set<string>();
    for (const s of rule.settings) applySetting(s);

    function applySetting(s: NamedArg): void {
      const pos = spanPos(file, s.span);
      if (seen.has(s.name)) {
        diagnostics.error("PAR3174", `\`${s.name}\` is set twice in one rule`, { pos, expected: "each key once per rule", hint: "a later rule can override it" });
        return;
      }
      seen.add(s.name);
      if (s.name === "devices") {
        const list = evalDevices(s.value, ctx);
        if (list) for (const o of matched.values()) states.get(o.name)!.devices = { value: list, pos };
        return;
      }
      if (s.name === "recompute") {
        const on = readValue(s, RULE_KEYS.recompute, ctx) as boolean | undefined;
        if (on === undefined) return;
        // Like a dim key, `recompute = true` applies to the matched ops that can be recomputed.
        const targets = [...matched.values()].filter((o) => !on || recomputable(o));
        if (targets.length === 0 && matched.size > 0) {
          diagnostics.error("PAR3187", "no op this rule matches can be recomputed: losses and weight sources (no inputs) keep their outputs", { pos, hint: "match the activations to recompute" });
        }
        for (const o of targets) states.get(o.name)!.recompute = { value: on, pos };
        return;
      }
      const targets: [OpNode, number][] = [];
      for (const o of matched.values()) {
        const i = o.sig.space.findIndex((d) => d.name === s.name);
        if (i >= 0) targets.push([o, i]);
      }
      if (targets.length === 0) {
        if (matched.size === 0) return; // the pattern error already explains this rule
        const dims = [...new Set([...matched.values()].flatMap((o) => o.sig.space.map((d) => d.name)))];
        diagnostics.error("PAR3171", `no op this rule matches has a parallel dim \`${s.name}\``, {
          pos,
          expected: `\`devices\`, \`recompute\` or a dim of a matched op: ${dims.map((d) => `\`${d}\``).join(", ") || "(the matched ops have no dims)"}`,
          hint: didYouMean(s.name, [...dims, ...Object.keys(RULE_KEYS)]),
        });
        return;
      }
      if (!isIntExpr(s.value)) {
        diagnostics.error("PAR3172", `the degree of \`${s.name}\` must be an integer, got a ${s.value.kind}`, {
          pos: spanPos(file, s.value.span),
          expected: "a positive integer (an expression over model parameters is allowed: `sample = batch // 8`)",
        });
        return;
      }
      const degree = evalInt(s.value, ctx);
      if (degree === undefined) return;
      for (const [o, i] of targets) states.get(o.name)!.dims.set(i, { value: degree, pos });
    }
  }

  const scale = resolveScale(decl, order, mesh, ctx);
  const stageOf = scale.pipeline ? stageIndexOf(order, scale.pipeline) : undefined;
  // Where an op's tasks go without `devices`: the first n devices of its stage, else of
  // replica 0's devices; a plain strategy keeps 0..n-1 (and its PAR3157 hint).
  const replicaPool = scale.replicas ? replicaZeroDevices(mesh.devices.length, scale.replicas) : undefined;
  const poolOf = (i: number): { devices: number[]; what: string } | undefined => {
    if (stageOf && scale.pipeline) return { devices: scale.pipeline.stages[stageOf[i]].devices, what: `stage ${stageOf[i]}` };
    return replicaPool ? { devices: replicaPool, what: "replica 0" } : undefined;
  };

  // Build every op's config and check it, reporting each problem at the setting behind it.
  // The same mistake in a `*` rule hits many ops: group them into one diagnostic.
  const ops: Record<string, OpConfig> = {};
  const grouped = new Map<string, { problem: OpProblem; pos: SourcePos | undefined; ops: string[] }>();
  const addProblem = (op: string, p: OpProblem, pos: SourcePos | undefined, dimName: string) => {
    const key = `${p.code}|${pos ? `${pos.line}:${pos.column}` : "-"}|${dimName}`;
    const g = grouped.get(key);
    if (g) g.ops.push(op);
    else grouped.set(key, { problem: p, pos, ops: [op] });
  };
  const recompute: string[] = [];
  order.forEach((o, index) => {
    const st = states.get(o.name)!;
    if (st.recompute?.value) recompute.push(o.name);
    const degrees = o.sig.space.map((_, i) => st.dims.get(i)?.value ?? 1);
    const degreesOk = degrees.every((d) => Number.isSafeInteger(d) && d >= 1);
    const tasks = degreesOk ? degrees.reduce((a, b) => a * b, 1) : 0;
    const firstDimPos = [...st.dims.values()][0]?.pos;
    // Default placement, capped so a wild degree cannot exhaust memory (the degree check reports it).
    let devices = st.devices?.value;
    if (!devices) {
      const pool = poolOf(index);
      if (tasks > 1 << 20) devices = [];
      else if (!pool) devices = Array.from({ length: tasks }, (_, i) => i);
      else {
        if (tasks > pool.devices.length) {
          addProblem(o.name, {
            code: "PAR3195",
            message: `op \`${o.name}\` has ${tasks} tasks but no \`devices\`, and ${pool.what} has only ${pool.devices.length} device${pool.devices.length === 1 ? "" : "s"} to put them on`,
            expected: `at most ${pool.devices.length} tasks, or \`devices\``,
            hint: "without `devices`, task i goes to the i-th device of the op's stage (or of replica 0)",
          }, firstDimPos, "");
        }
        devices = Array.from({ length: tasks }, (_, i) => pool.devices[i % pool.devices.length]);
      }
    }
    const config: OpConfig = { degrees, devices };
    ops[o.name] = config;
    for (const p of opConfigProblems(o, config, mesh.devices.length)) {
      const pos = p.dim !== undefined ? st.dims.get(p.dim)?.pos : (st.devices?.pos ?? firstDimPos);
      const hint = p.code === "PAR3157" && !st.devices ? `with no \`devices\`, an op's tasks go to devices 0..n-1; the mesh \`${mesh.name}\` has ${mesh.devices.length}` : p.hint;
      addProblem(o.name, { ...p, hint }, pos, p.dim !== undefined ? o.sig.space[p.dim].name : "");
    }
  });

  const strategy: Strategy = { name: decl.name, model: decl.model, mesh: decl.mesh, ops };
  if (scale.replicas) strategy.replicas = scale.replicas;
  if (scale.pipeline) strategy.pipeline = scale.pipeline;
  if (scale.zero !== undefined) strategy.zero = scale.zero;
  if (recompute.length > 0) strategy.recompute = recompute;
  if (scale.precision !== undefined) strategy.precision = scale.precision;

  // The large-scale checks, each at the setting behind it.
  const headerPos = spanPos(file, decl.nameSpan);
  for (const p of scaleProblems(graph, mesh, strategy)) {
    const subject = p.subject;
    if (subject.kind === "op") {
      const st = states.get(subject.op)!;
      const pos = subject.dim !== undefined ? st.dims.get(subject.dim)?.pos : st.devices?.pos;
      addProblem(subject.op, p, pos ?? [...st.dims.values()][0]?.pos ?? scaleSubjectPos({ kind: "pipeline", field: "microbatches" }, scale.positions, headerPos), String(subject.dim ?? ""));
      continue;
    }
    const pos = subject.kind === "recompute" ? (states.get(subject.op)?.recompute?.pos ?? headerPos) : scaleSubjectPos(subject, scale.positions, headerPos);
    const extras = { pos, expected: p.expected, hint: p.hint };
    if (p.severity === "error") diagnostics.error(p.code, p.message, extras);
    else diagnostics.warning(p.code, p.message, extras);
  }
  for (const { problem, pos, ops: names } of grouped.values()) {
    const more = names.length > 1 ? ` (the same for ${names.length - 1} more op${names.length === 2 ? "" : "s"}: ${listNames(names.slice(1))})` : "";
    diagnostics.error(problem.code, problem.message + more, { pos, expected: problem.expected, hint: problem.hint });
  }
  return strategy;
}

// ------------------------------------------------------------------ printing

export { formatDevices, strategyToPar } from "./strategy-par-print.js";
