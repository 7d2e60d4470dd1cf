// Printing a Strategy as a canonical `.par` strategy block that resolves back to exactly
// the same Strategy (src/frontend/strategy-par.ts resolves; a property test checks the
// round trip on random graphs and strategies, large-scale fields included). Layout:
// strategy-wide settings, the pipeline, then the per-op rules; defaults are left out.

import type { TokenType } from "chevrotain";
import * as T from "../../grammar/tokens.js";
import { RESERVED_WORDS } from "../../grammar/tokens.js";
import type { Mesh } from "../core/mesh.js";
import { deviceRuns } from "../ir/device-list.js";
import type { Graph, OpNode } from "../ir/graph.js";
import { firstReplicaZeroDevices, replicaZeroDevices } from "../ir/strategy-replicas.js";
import { deviceGroupCount, evenDeviceBlocks, evenStages, stageIndexOf, STAGE_BALANCES } from "../ir/strategy-stages.js";
import { recomputable } from "../ir/strategy-validate-scale.js";
import { taskCount, type OpConfig, type PipelineConfig, type PipelineStage, type Strategy } from "../ir/strategy.js";
import { globToRegExp } from "./naming.js";

/** An identifier for the strategy header; other characters become `_`, reserved words get a `_` suffix (documented). */
function ident(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_]/g, "_");
  const id = /^[A-Za-z_]/.test(t) ? t : `_${t}`;
  return RESERVED_WORDS.includes(id) ? `${id}_` : id;
}

/** A device list as `.par` text: runs of consecutive ascending indices become ranges. */
export function formatDevices(devices: readonly number[]): string {
  const parts = deviceRuns(devices).map(([a, b]) => (b > a ? `${a}..${b}` : String(a)));
  return parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
}

const sameList = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

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

/** A name value: bare when it is an identifier (`gpipe`, `bf16`), a string otherwise (`"1f1b"`). */
function nameText(s: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !RESERVED_WORDS.includes(s) ? s : JSON.stringify(s);
}

interface Rule {
  ops: OpNode[];
  settings: string;
}

/** What an op's rule text is measured against: its default devices and whether it is recomputed. */
interface OpFacts {
  config: OpConfig;
  /** The devices its tasks get without `devices`. */
  defaultDevices: (n: number) => number[];
  recomputed: boolean;
}

/** Settings text for one op on its own: its degree>1 dims (space order), `devices` when not the default, `recompute` when set. */
function settingsText(op: OpNode, f: OpFacts): string {
  const c = f.config;
  const parts: string[] = [];
  op.sig.space.forEach((d, i) => {
    if (c.degrees[i] !== 1) parts.push(`${d.name} = ${c.degrees[i]}`);
  });
  if (!sameList(c.devices, f.defaultDevices(c.devices.length))) parts.push(`devices = ${formatDevices(c.devices)}`);
  if (f.recomputed) parts.push("recompute = true");
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

/** The strategy-wide settings and the pipeline as lines (two-space indent). */
function scaleLines(graph: Graph, s: Strategy, mesh: Mesh | undefined): string[] {
  const lines: string[] = [];
  if (s.replicas && s.replicas.count > 1) lines.push(`replicas = ${s.replicas.count}, offset = ${s.replicas.offset}`);
  if ((s.zero ?? 0) !== 0) lines.push(`zero = ${s.zero}`);
  if ((s.precision ?? "f32") !== "f32") lines.push(`precision = ${s.precision}`);
  if (s.pipeline) lines.push(...pipelineLines(graph, s, s.pipeline, mesh));
  return lines;
}

function pipelineLines(graph: Graph, s: Strategy, p: PipelineConfig, mesh: Mesh | undefined): string[] {
  const v = p.virtualStages ?? 1;
  const head = [`microbatches = ${p.microbatches}`, `schedule = ${nameText(p.schedule)}`, ...(v !== 1 ? [`virtual = ${v}`] : [])];
  const groups = deviceGroupCount(p);
  // The default device blocks need the mesh (replica 0's devices in it); without one every first-round stage names its devices.
  const blocks = mesh ? evenDeviceBlocks(replicaZeroDevices(mesh.devices.length, s.replicas), groups) : undefined;
  const order = graph.topoOrder();
  if (blocks && p.stages.length <= order.length) {
    for (const balance of STAGE_BALANCES) {
      const even = evenStages(order, p.stages.length, balance, blocks);
      if (even.every((st, k) => sameStage(st, p.stages[k]))) {
        return [`pipeline(${[...head, `stages = ${p.stages.length}`, ...(balance !== "flops" ? [`balance = ${balance}`] : [])].join(", ")})`];
      }
    }
  }
  const lines = [`pipeline(${head.join(", ")}) {`];
  p.stages.forEach((st, k) => {
    const bounds = st.first === st.last ? patternText(st.first) : `${patternText(st.first)} .. ${patternText(st.last)}`;
    const byDefault = k >= groups ? p.stages[k % groups].devices : blocks?.[k];
    lines.push(byDefault && sameList(st.devices, byDefault) ? `  ${bounds}` : `  ${bounds} : devices = ${formatDevices(st.devices)}`);
  });
  lines.push("}");
  return lines;
}

function sameStage(a: PipelineStage, b: PipelineStage): boolean {
  return a.first === b.first && a.last === b.last && sameList(a.devices, b.devices);
}

function render(header: string, scale: readonly string[], rules: { patterns: string[]; settings: string }[]): string {
  const lines = [`${header} {`];
  for (const l of scale) lines.push(`  ${l}`);
  for (const r of rules) lines.push(`  ${r.patterns.map(patternText).join(", ")} : ${r.settings}`);
  lines.push("}");
  return lines.join("\n") + "\n";
}

/**
 * A canonical `.par` strategy block that resolves back to exactly `strategy` (every op of
 * the graph must have a config; a pipeline must cut the ops properly). First the
 * strategy-wide settings and the pipeline (as `stages = p` when the even cut gives exactly
 * its stages, else as a list; stage devices left out where they are the default, which
 * for the first round of stages needs `mesh`). Then the per-op rules, in one of two
 * layouts, the shorter wins: (a) one rule per group of ops with identical settings, ops
 * on the default config left out; (b) a `*` rule with the most common config, then rules
 * for the ops that differ from what the `*` rule makes of them, setting only the keys that
 * differ (the rule's dim keys reach only the ops with those dims). An op's default
 * devices are the first n of its stage's (with a pipeline), of replica 0's (with
 * replicas), else 0..n-1.
 */
export function strategyToPar(graph: Graph, strategy: Strategy, mesh?: Mesh): string {
  const order = graph.topoOrder();
  for (const o of order) {
    const c = strategy.ops[o.name];
    if (!c) throw new Error(`strategyToPar: strategy ${strategy.name} has no config for op ${o.name}`);
    if (c.degrees.length !== o.sig.space.length || c.devices.length !== taskCount(c)) throw new Error(`strategyToPar: malformed config for op ${o.name}`);
  }
  const stageOf = strategy.pipeline ? stageIndexOf(order, strategy.pipeline) : undefined;
  if (strategy.pipeline && !stageOf) throw new Error(`strategyToPar: the pipeline of strategy ${strategy.name} does not cut the ops of ${graph.name} into contiguous stages`);
  const recomputed = new Set(strategy.recompute ?? []);
  const facts = new Map<string, OpFacts>(
    order.map((o, i) => {
      const stage = stageOf ? strategy.pipeline!.stages[stageOf[i]].devices : undefined;
      const defaultDevices = stage ? (n: number) => stage.slice(0, n) : (n: number) => (strategy.replicas ? firstReplicaZeroDevices(n, strategy.replicas) : Array.from({ length: n }, (_, k) => k));
      return [o.name, { config: strategy.ops[o.name], defaultDevices, recomputed: recomputed.has(o.name) }];
    }),
  );
  const text = (op: OpNode) => settingsText(op, facts.get(op.name)!);
  const header = `strategy ${ident(strategy.name)} for ${ident(strategy.model)} on ${ident(strategy.mesh)}`;
  const scale = scaleLines(graph, strategy, mesh);
  const toRules = (rules: Rule[]) => rules.map((r) => ({ patterns: compressPatterns(r.ops, order), settings: r.settings }));

  const plain = groupRules(order.map((op) => ({ op, settings: text(op) })));
  let best = render(header, scale, toRules(plain));

  // Layout (b): the most common non-empty config as a `*` base. Its dim keys reach the ops
  // that have those dims; every op the base does not give its exact config gets a rule.
  const counts = new Map<string, { n: number; op: OpNode }>();
  for (const r of plain) counts.set(r.settings, { n: r.ops.length, op: r.ops[0] });
  let base: { n: number; op: OpNode } | undefined;
  for (const c of counts.values()) if (!base || c.n > base.n) base = c;
  if (base) {
    const baseOp = base.op;
    const baseFacts = facts.get(baseOp.name)!;
    const baseConfig = baseFacts.config;
    const baseDegrees = new Map<string, number>();
    baseOp.sig.space.forEach((d, i) => {
      if (baseConfig.degrees[i] !== 1) baseDegrees.set(d.name, baseConfig.degrees[i]);
    });
    const baseDevices = sameList(baseConfig.devices, baseFacts.defaultDevices(baseConfig.devices.length)) ? undefined : baseConfig.devices;
    const overrides = groupRules(
      order.map((op) => {
        // Only what differs from what the `*` rule makes of this op: the rule's dim keys reach
        // the ops with those dims, `recompute = true` the ops that can be recomputed.
        const f = facts.get(op.name)!;
        const c = f.config;
        const parts: string[] = [];
        op.sig.space.forEach((d, i) => {
          if (c.degrees[i] !== (baseDegrees.get(d.name) ?? 1)) parts.push(`${d.name} = ${c.degrees[i]}`);
        });
        if (!sameList(c.devices, baseDevices ?? f.defaultDevices(c.devices.length))) parts.push(`devices = ${formatDevices(c.devices)}`);
        if (f.recomputed !== (baseFacts.recomputed && recomputable(op))) parts.push(`recompute = ${f.recomputed}`);
        return { op, settings: parts.join(", ") };
      }),
    );
    const candidate = render(header, scale, [{ patterns: ["*"], settings: text(baseOp) }, ...toRules(overrides)]);
    if (candidate.length < best.length) best = candidate;
  }
  return best;
}
