// `--budget`, the same in every command that searches: one parser and one default
// (src/search/budget.ts). A malformed budget is a usage error (exit 2) that keeps its code.

import { BUDGET_SYNTAX, budgetDiagnostic, DEFAULT_BUDGET, formatBudget, parseBudget, type Budget } from "../search/budget.js";
import { str, UsageError, type FlagSpec, type ParsedArgs } from "./args.js";

export const BUDGET_FLAG: FlagSpec = {
  name: "budget",
  kind: "string",
  value: "N|DURATION",
  doc: `search budget: ${BUDGET_SYNTAX}; default ${formatBudget(DEFAULT_BUDGET)}`,
};

/** The --budget of `args`, or the default; PAR7002 (as a usage error) when malformed. */
export function budgetFlag(args: ParsedArgs): Budget {
  const text = str(args, "budget");
  if (text === undefined) return DEFAULT_BUDGET;
  const b = parseBudget(text);
  if (b) return b;
  const d = budgetDiagnostic(text);
  throw new UsageError(d.message, d.hint, d.code);
}
