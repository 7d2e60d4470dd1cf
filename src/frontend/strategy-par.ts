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
//   an op with no `devices` puts its tasks on devices 0..n-1 (n = its task count);
// - an op no rule matches runs whole on device 0.

import type { TokenType } from "chevrotain";
import * as T from "../../grammar/tokens.js";
import { RESERVED_WORDS } from "../../grammar/tokens.js";
import { didYouMean, type Diagnostics, type SourcePos } from "../core/diagnostics.js";
import type { Mesh } from "../core/mesh.js";
import type { Expr, NamedArg, StrategyDecl } from "./ast.js";
import { evalInt, spanPos, type EvalContext } from "./eval.js";
import { globToRegExp } from "./naming.js";
import type { Graph, OpNode } from "../ir/graph.js";
import { listNames, opConfigProblems, type OpConfigProblem } from "../ir/strategy-validate.js";
import { taskCount, type OpConfig, type Strategy } from "../ir/strategy.js";

// ------------------------------------------------------------------ resolving

interface Setting<T> {
  value: T;
  pos: SourcePos;
}

interface OpState {
  /** Degree per dim index, with the position of the setting that gave it. */
  dims: Map<number, Setting<number>>;
  devices?: Setting<number[]>;
}

/** The ops (in topological order) that any of `patterns` matches. */
export function matchOps(graph: Graph, patterns: readonly string[]): OpNode[] {
  const res = patterns.map(globToRegExp);
  return graph.topoOrder().filter((o) => res.some((re) => re.test(o.name)));
}

const INT_EXPR_KINDS = new Set<Expr["kind"]>(["int", "ident", "unary", "binary"]);

/** `devices` as a list: an int expression, `a..b` (inclusive), or a list of those. */
function evalDevices(e: Expr, ctx: EvalContext, file: string, diagnostics: Diagnostics, nested = false): number[] | undefined {
  if (INT_EXPR_KINDS.has(e.kind)) {
    const v = evalInt(e, ctx);
    return v === undefined ? undefined : [v];
  }
  if (e.kind === "range") {
    const a = evalInt(e.start, ctx);
    const b = evalInt(e.end, ctx);
    if (a === undefined || b === undefined) return undefined;
    if (b < a) {
      diagnostics.error("PAR3173", `device range ${a}..${b} is empty (ranges are inclusive and ascending)`, {
        pos: spanPos(file, e.span),
        expected: "a range a..b with a ≤ b",
        hint: b >= 0 ? `write the devices as a list for a descending order, e.g. [${a}, ${a - 1}, ...]` : undefined,
      });
      return undefined;
    }
    if (b - a >= 1 << 20) {
      diagnostics.error("PAR3173", `device range ${a}..${b} is too long`, { pos: spanPos(file, e.span), expected: "at most 2^20 devices" });
      return undefined;
    }
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (e.kind === "list" && !nested) {
    const out: number[] = [];
    let ok = true;
    for (const el of e.elements) {
      const part = evalDevices(el, ctx, file, diagnostics, true);
      if (part) out.push(...part);
      else ok = false;
    }
    if (ok && out.length === 0) {
      diagnostics.error("PAR3173", "`devices` is an empty list", { pos: spanPos(file, e.span), expected: "at least one device index" });
      return undefined;
    }
    return ok ? out : undefined;
  }
  diagnostics.error("PAR3173", `\`devices\` cannot be a ${nested && e.kind === "list" ? "nested list" : e.kind}`, {
    pos: spanPos(file, e.span),
    expected: "a device index, an inclusive range `a..b`, or a list of them: `[0..3, 8]`",
  });
  return undefined;
}

/**
 * Resolves a `.par` strategy declaration against its elaborated model and mesh. Reports
 * coded diagnostics (at the rule setting that caused each problem) and returns the
 * strategy; callers check `diagnostics.hasErrors()` before using it.
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
        const list = evalDevices(s.value, ctx, file, diagnostics);
        if (list) for (const o of matched.values()) states.get(o.name)!.devices = { value: list, pos };
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
          expected: `\`devices\` or a dim of a matched op: ${dims.map((d) => `\`${d}\``).join(", ") || "(the matched ops have no dims)"}`,
          hint: didYouMean(s.name, [...dims, "devices"]),
        });
        return;
      }
      if (!INT_EXPR_KINDS.has(s.value.kind)) {
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

  // Build every op's config and check it, reporting each problem at the setting behind it.
  // The same mistake in a `*` rule hits many ops: group them into one diagnostic.
  const ops: Record<string, OpConfig> = {};
  const grouped = new Map<string, { problem: OpConfigProblem; pos: SourcePos | undefined; ops: string[] }>();
  for (const o of order) {
    const st = states.get(o.name)!;
    const degrees = o.sig.space.map((_, i) => st.dims.get(i)?.value ?? 1);
    const degreesOk = degrees.every((d) => Number.isSafeInteger(d) && d >= 1);
    const tasks = degreesOk ? degrees.reduce((a, b) => a * b, 1) : 0;
    // Default placement: tasks on devices 0..n-1. Capped so a wild degree cannot exhaust memory;
    // the degree check below reports it anyway.
    const devices = st.devices?.value ?? (tasks <= 1 << 20 ? Array.from({ length: tasks }, (_, i) => i) : []);
    const config: OpConfig = { degrees, devices };
    ops[o.name] = config;
    for (const p of opConfigProblems(o, config, mesh.devices.length)) {
      const firstDimPos = [...st.dims.values()][0]?.pos;
      const pos = p.dim !== undefined ? st.dims.get(p.dim)?.pos : (st.devices?.pos ?? firstDimPos);
      const dimName = p.dim !== undefined ? o.sig.space[p.dim].name : "";
      const key = `${p.code}|${pos ? `${pos.line}:${pos.column}` : "-"}|${dimName}`;
      const g = grouped.get(key);
      if (g) g.ops.push(o.name);
      else {
        const hint = p.code === "PAR3157" && !st.devices ? `with no \`devices\`, an op's tasks go to devices 0..n-1; the mesh \`${mesh.name}\` has ${mesh.devices.length}` : p.hint;
        grouped.set(key, { problem: { ...p, hint }, pos, ops: [o.name] });
      }
    }
  }
  for (const { problem, pos, ops: names } of grouped.values()) {
    const more = names.length > 1 ? ` (the same for ${names.length - 1} more op${names.length === 2 ? "" : "s"}: ${listNames(names.slice(1))})` : "";
    diagnostics.error(problem.code, problem.message + more, { pos, expected: problem.expected, hint: problem.hint });
  }
  return { name: decl.name, model: decl.model, mesh: decl.mesh, ops };
}

// ------------------------------------------------------------------ printing

/** An identifier for the strategy header; other characters become `_`, reserved words get a `_` suffix (documented). */
function ident(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_]/g, "_");
  const id = /^[A-Za-z_]/.test(t) ? t : `_${t}`;
  return RESERVED_WORDS.includes(id) ? `${id}_` : id;
}

/** A device list as `.par` text: runs of consecutive ascending indices become ranges. */
export function formatDevices(devices: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < devices.length) {
    let j = i;
    while (j + 1 < devices.length && devices[j + 1] === devices[j] + 1) j++;
    parts.push(j > i ? `${devices[i]}..${devices[j]}` : String(devices[i]));
    i = j + 1;
  }
  return parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
}

/** True when `devices` is the default placement 0..n-1. */
function isDefaultPlacement(devices: readonly number[]): boolean {
  return devices.every((d, i) => d === i);
}

const PATTERN_PIECES = new Set<TokenType>([T.Identifier, T.IntLiteral, T.FloatLiteral, T.Star, T.Question, T.Dot]);

/** A pattern as `.par` text: bare when it lexes back as glob pieces only, quoted otherwise (as `par fmt` does). */
function patternText(p: string): string {
  const lexed = T.parLexer.tokenize(p);
  const bare =
    p.length > 0 &&
    lexed.errors.length === 0 &&
    Object.values(lexed.groups).every((g) => g.length === 0) &&
    lexed.tokens.every((t) => PATTERN_PIECES.has(t.tokenType)) &&
    lexed.tokens.map((t) => t.image).join("") === p;
  // Only `\` and `"` are escaped, as the front end's string literals expect.
  return bare ? p : `"${p.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

interface Rule {
  ops: OpNode[];
  settings: string;
}

/** Settings text for one op: its degree>1 dims (space order) and `devices` when needed. */
function settingsText(op: OpNode, c: OpConfig, forceDims: readonly string[], forceDevices: boolean): string {
  const parts: string[] = [];
  op.sig.space.forEach((d, i) => {
    if (c.degrees[i] !== 1 || forceDims.includes(d.name)) parts.push(`${d.name} = ${c.degrees[i]}`);
  });
  if (forceDevices || !isDefaultPlacement(c.devices)) parts.push(`devices = ${formatDevices(c.devices)}`);
  return parts.join(", ");
}

/** Patterns that match exactly `group` among `all`: `*` for everything, digit runs generalised where exact, else names. */
function compressPatterns(group: readonly OpNode[], all: readonly OpNode[]): string[] {
  if (group.length === all.length) return ["*"];
  const inGroup = new Set(group.map((o) => o.name));
  const covered = new Set<string>();
  const out: string[] = [];
  for (const o of group) {
    if (covered.has(o.name)) continue;
    // Candidates: every digit run as `*`, or one run at a time; the exact one covering most wins.
    const runs = [...o.name.matchAll(/[0-9]+/g)];
    const candidates = [o.name.replace(/[0-9]+/g, "*"), ...(runs.length > 1 ? runs.map((m) => o.name.slice(0, m.index) + "*" + o.name.slice(m.index + m[0].length)) : [])];
    let best: { pattern: string; hits: OpNode[] } | undefined;
    for (const c of runs.length > 0 ? candidates : []) {
      const re = globToRegExp(c);
      const hits = all.filter((a) => re.test(a.name));
      if (hits.length > 1 && hits.every((h) => inGroup.has(h.name)) && (!best || hits.length > best.hits.length)) best = { pattern: c, hits };
    }
    if (best) {
      out.push(best.pattern);
      for (const h of best.hits) covered.add(h.name);
      continue;
    }
    out.push(o.name);
    covered.add(o.name);
  }
  return out;
}

/** Groups ops with identical settings text into rules (first-op order), dropping empty ones. */
function groupRules(items: { op: OpNode; settings: string }[]): Rule[] {
  const byText = new Map<string, OpNode[]>();
  for (const { op, settings } of items) {
    if (settings === "") continue;
    const g = byText.get(settings);
    if (g) g.push(op);
    else byText.set(settings, [op]);
  }
  return [...byText.entries()].map(([settings, ops]) => ({ ops, settings }));
}

function render(header: string, rules: { patterns: string[]; settings: string }[]): string {
  const lines = [`${header} {`];
  for (const r of rules) lines.push(`  ${r.patterns.map(patternText).join(", ")} : ${r.settings}`);
  lines.push("}");
  return lines.join("\n") + "\n";
}

/**
 * A canonical `.par` strategy block that resolves back to exactly `strategy` (every op of
 * the graph must have a config). Two candidate layouts, the shorter wins: (a) one rule per
 * group of ops with identical settings, ops on the default config left out; (b) a `*` rule
 * with the most common config, then rules for the ops that differ. Layout (b) is only used
 * when every op has every dim the `*` rule sets, so each key applies to all ops it matches.
 */
export function strategyToPar(graph: Graph, strategy: Strategy): string {
  const order = graph.topoOrder();
  for (const o of order) {
    const c = strategy.ops[o.name];
    if (!c) throw new Error(`strategyToPar: strategy ${strategy.name} has no config for op ${o.name}`);
    if (c.degrees.length !== o.sig.space.length || c.devices.length !== taskCount(c)) throw new Error(`strategyToPar: malformed config for op ${o.name}`);
  }
  const header = `strategy ${ident(strategy.name)} for ${ident(strategy.model)} on ${ident(strategy.mesh)}`;
  const toRules = (rules: Rule[]) => rules.map((r) => ({ patterns: compressPatterns(r.ops, order), settings: r.settings }));

  const plain = groupRules(order.map((op) => ({ op, settings: settingsText(op, strategy.ops[op.name], [], false) })));
  let best = render(header, toRules(plain));

  // Layout (b): the most common non-empty config as a `*` base, if its dims are universal.
  const counts = new Map<string, { n: number; op: OpNode }>();
  for (const r of plain) counts.set(r.settings, { n: r.ops.length, op: r.ops[0] });
  let base: { n: number; op: OpNode } | undefined;
  for (const c of counts.values()) if (!base || c.n > base.n) base = c;
  if (base) {
    const baseOp = base.op;
    const baseConfig = strategy.ops[baseOp.name];
    const baseDims = baseOp.sig.space.filter((_, i) => baseConfig.degrees[i] !== 1).map((d) => d.name);
    const baseDevices = !isDefaultPlacement(baseConfig.devices);
    const universal = order.every((o) => baseDims.every((n) => o.sig.space.some((d) => d.name === n)));
    if (universal) {
      const baseSettings = settingsText(baseOp, baseConfig, [], false);
      const overrides = groupRules(
        order.map((op) => {
          const own = settingsText(op, strategy.ops[op.name], [], false);
          return { op, settings: own === baseSettings ? "" : settingsText(op, strategy.ops[op.name], baseDims, baseDevices) };
        }),
      );
      const text = render(header, [{ patterns: ["*"], settings: baseSettings }, ...toRules(overrides)]);
      if (text.length < best.length) best = text;
    }
  }
  return best;
}
