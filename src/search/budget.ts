// The search budget: how long the MCMC search runs. One parser and one default for every
// caller (each `par` command that searches, the pipeline, the library API).
//
// A plain integer is an iteration count: the documented, deterministic meaning (the result
// is a pure function of graph, mesh, options, budget and seed). A duration (`500ms`, `10s`,
// `1.5m`) is wall clock, so its result depends on the machine and its load.

import { ParError, type Diagnostic } from "../core/diagnostics.js";

export type Budget = { iterations: number } | { seconds: number };

/**
 * The default budget: deterministic, and enough for the zoo's models on 16 devices (the
 * search also stops once its best has not improved for half the budget).
 */
export const DEFAULT_BUDGET: Budget = { iterations: 4000 };

/** How a budget is written, for help texts and hints. */
export const BUDGET_SYNTAX = "an iteration count (20000: deterministic) or a duration (500ms, 10s, 2m)";

/** Parses `20000` (iterations), `500ms`, `10s`, `2m` or `2min` into a Budget; undefined when malformed. */
export function parseBudget(text: string): Budget | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  if (!(v > 0)) return undefined;
  switch (m[2]) {
    case undefined:
      return Number.isInteger(v) ? { iterations: v } : undefined;
    case "ms":
      return { seconds: v / 1000 };
    case "s":
      return { seconds: v };
    default:
      return { seconds: v * 60 };
  }
}

/** The PAR7002 diagnostic of a malformed budget `text`. */
export function budgetDiagnostic(text: string): Diagnostic {
  return {
    code: "PAR7002",
    severity: "error",
    message: `search budget "${text}" is neither an iteration count nor a duration`,
    hint: `write ${BUDGET_SYNTAX}`,
  };
}

/** The budget `text` describes (the default when undefined); a ParError with PAR7002 when malformed. */
export function readBudget(text: string | undefined): Budget {
  if (text === undefined) return DEFAULT_BUDGET;
  const b = parseBudget(text);
  if (!b) throw new ParError([budgetDiagnostic(text)]);
  return b;
}

/** `4000 iterations` or `10 s`: a budget for people. */
export function formatBudget(b: Budget): string {
  return "iterations" in b ? `${b.iterations} iterations` : `${b.seconds} s`;
}
