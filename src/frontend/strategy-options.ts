// The keys and values of a `.par` strategy's settings beyond per-op degrees: the
// strategy-wide settings (`replicas = 4, offset = 8`, `zero = 1`, `precision = bf16`), the
// pipeline's (`pipeline(microbatches = 8, schedule = "1f1b", stages = 4)`), a stage's
// (`devices = 0..3`) and the rule key `recompute = true`. One reader for the checker
// (src/frontend/check.ts) and the resolver (src/frontend/strategy-par.ts), so that both
// report the same mistake with the same code at the same place.

import { didYouMean, type SourcePos } from "../core/diagnostics.js";
import { MAX_RANGE_LENGTH } from "../ir/device-list.js";
import { STAGE_BALANCES } from "../ir/strategy-stages.js";
import { PIPELINE_SCHEDULES, PRECISIONS } from "../ir/strategy.js";
import type { Expr, NamedArg } from "./ast.js";
import { evalInt, spanPos, type EvalContext } from "./eval.js";

/** What a key's value must be. `code` is raised for an integer outside [min, max]. */
export type ValueSpec =
  | { kind: "int"; min: number; max?: number; code: string; expected: string }
  | { kind: "name"; choices: readonly string[] }
  | { kind: "bool" }
  | { kind: "devices" };

export type KeySpecs = Readonly<Record<string, ValueSpec>>;

/** Strategy-wide settings: a line of `key = value`s anywhere in the strategy. */
export const STRATEGY_SETTING_KEYS: KeySpecs = {
  replicas: { kind: "int", min: 1, code: "PAR3181", expected: "a replica count ≥ 1" },
  offset: { kind: "int", min: 1, code: "PAR3181", expected: "a device distance ≥ 1 between consecutive replicas" },
  zero: { kind: "int", min: 0, max: 3, code: "PAR3184", expected: "a ZeRO stage: 0 (off), 1, 2 or 3" },
  precision: { kind: "name", choices: PRECISIONS },
};

/** The settings in `pipeline(...)`. */
export const PIPELINE_SETTING_KEYS: KeySpecs = {
  microbatches: { kind: "int", min: 1, code: "PAR3175", expected: "a micro-batch count ≥ 1" },
  schedule: { kind: "name", choices: PIPELINE_SCHEDULES },
  stages: { kind: "int", min: 1, code: "PAR3194", expected: "a stage count ≥ 1" },
  virtual: { kind: "int", min: 1, code: "PAR3177", expected: "virtual stages per device group ≥ 1" },
  balance: { kind: "name", choices: STAGE_BALANCES },
};

/** The settings of one explicit stage. */
export const STAGE_SETTING_KEYS: KeySpecs = { devices: { kind: "devices" } };

/** The rule keys that are not parallel dims. */
export const RULE_KEYS: KeySpecs = { devices: { kind: "devices" }, recompute: { kind: "bool" } };

/** Which group a misplaced key belongs to, for the hint. */
const HOMES: [KeySpecs, string][] = [
  [STRATEGY_SETTING_KEYS, "a strategy-wide setting: its own line, `replicas = 4`"],
  [PIPELINE_SETTING_KEYS, "a pipeline setting: `pipeline(microbatches = 8, ...)`"],
  [STAGE_SETTING_KEYS, "a stage setting: `first .. last : devices = 0..3` inside `pipeline(...) { }`"],
];

export interface Setting<T> {
  value: T;
  pos: SourcePos;
}

export type SettingValue = number | string | boolean | number[];

const INT_EXPR_KINDS = new Set<Expr["kind"]>(["int", "ident", "unary", "binary"]);

/** True for expression kinds that can denote an integer. */
export function isIntExpr(e: Expr): boolean {
  return INT_EXPR_KINDS.has(e.kind);
}

/** `devices` as a list: an int expression, `a..b` (inclusive), or a list of those (PAR3173 otherwise). */
export function evalDevices(e: Expr, ctx: EvalContext, nested = false): number[] | undefined {
  const { file, diagnostics } = ctx;
  if (isIntExpr(e)) {
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
    if (b - a >= MAX_RANGE_LENGTH) {
      diagnostics.error("PAR3173", `device range ${a}..${b} is too long`, { pos: spanPos(file, e.span), expected: "at most 2^20 devices" });
      return undefined;
    }
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (e.kind === "list" && !nested) {
    const out: number[] = [];
    let ok = true;
    for (const el of e.elements) {
      const part = evalDevices(el, ctx, true);
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

/** The value of one setting by its spec; reports PAR3192 (wrong kind) or the spec's range code. */
export function readValue(s: NamedArg, spec: ValueSpec, ctx: EvalContext): SettingValue | undefined {
  const { file, diagnostics } = ctx;
  const at = spanPos(file, s.value.span);
  const v = s.value;
  switch (spec.kind) {
    case "devices":
      return evalDevices(v, ctx);
    case "bool":
      if (v.kind === "bool") return v.value;
      diagnostics.error("PAR3192", `\`${s.name}\` is \`true\` or \`false\`, not a ${v.kind}`, { pos: at, expected: "`true` or `false`" });
      return undefined;
    case "name": {
      const text = v.kind === "ident" ? v.name : v.kind === "string" ? v.value : undefined;
      const choices = spec.choices.map((c) => `\`${c}\``).join(", ");
      if (text === undefined) {
        diagnostics.error("PAR3192", `\`${s.name}\` is a name, not a ${v.kind}`, { pos: at, expected: `one of ${choices}` });
        return undefined;
      }
      if (!spec.choices.includes(text)) {
        diagnostics.error("PAR3192", `unknown ${s.name} \`${text}\``, { pos: at, expected: `one of ${choices}`, hint: didYouMean(text, spec.choices) });
        return undefined;
      }
      return text;
    }
    case "int": {
      if (!isIntExpr(v)) {
        diagnostics.error("PAR3192", `\`${s.name}\` is an integer, not a ${v.kind}`, { pos: at, expected: spec.expected });
        return undefined;
      }
      const n = evalInt(v, ctx);
      if (n === undefined) return undefined;
      if (n < spec.min || (spec.max !== undefined && n > spec.max)) {
        diagnostics.error(spec.code, `\`${s.name} = ${n}\` is out of range`, { pos: at, expected: spec.expected });
        return undefined;
      }
      return n;
    }
  }
}

/**
 * Reads settings by their specs into `out` (key → value and position). Unknown keys are
 * PAR3190 (with a did-you-mean, or where the key belongs), a key already in `out` PAR3191.
 * A setting whose value is wrong is reported and left out.
 */
export function readSettings(settings: readonly NamedArg[], specs: KeySpecs, what: string, ctx: EvalContext, out: Map<string, Setting<SettingValue>>): void {
  const { file, diagnostics } = ctx;
  for (const s of settings) {
    const pos = spanPos(file, s.span);
    const spec = Object.hasOwn(specs, s.name) ? specs[s.name] : undefined;
    if (!spec) {
      const home = HOMES.find(([keys]) => keys !== specs && Object.hasOwn(keys, s.name));
      diagnostics.error("PAR3190", `\`${s.name}\` is not ${what}`, {
        pos,
        expected: `one of ${Object.keys(specs).map((k) => `\`${k}\``).join(", ")}`,
        hint: home ? `\`${s.name}\` is ${home[1]}` : didYouMean(s.name, Object.keys(specs)),
      });
      continue;
    }
    if (out.has(s.name)) {
      const first = out.get(s.name)!.pos;
      diagnostics.error("PAR3191", `\`${s.name}\` is set twice`, { pos, expected: "each setting once per strategy", hint: `it is first set at line ${first.line}` });
      continue;
    }
    const value = readValue(s, spec, ctx);
    if (value !== undefined) out.set(s.name, { value, pos });
  }
}
