// Diagnostic codes raised when strategy declarations are checked against their model and
// mesh (by reference only; whether a strategy is good is the search's business).
import type { CodeTable } from "../core/codes.js";

export const STRATEGY_CHECK_CODES: CodeTable = {
  PAR3101: { title: "the strategy's model does not exist" },
  PAR3102: { title: "the strategy's mesh does not exist" },
  PAR3103: { title: "an op pattern matches no op of the model" },
  PAR3104: { title: "a strategy key is neither `devices` nor a parallel dim of any op the rule matches" },
  PAR3105: { title: "a degree is not a positive integer" },
  PAR3106: { title: "a device index is outside the mesh" },
  PAR3107: { title: "`devices` is not an index, a range or a list of them" },
  PAR3108: { title: "a key is set twice in one rule" },
  PAR3109: { title: "a degree exceeds the size of the dim it splits" },
};
