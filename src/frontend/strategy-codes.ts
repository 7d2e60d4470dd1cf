// Diagnostic codes raised when strategy declarations are checked against their model and
// mesh (by reference only; whether a strategy is good is the search's business). The checks
// of patterns, keys, degrees and devices raise the same codes as resolving the block does
// (PAR315x, PAR317x in src/ir/strategy-codes.ts): one mistake, one code, whichever command
// finds it.
import type { CodeTable } from "../core/codes.js";

export const STRATEGY_CHECK_CODES: CodeTable = {
  PAR3101: { title: "the strategy's model does not exist" },
  PAR3102: { title: "the strategy's mesh does not exist" },
};
