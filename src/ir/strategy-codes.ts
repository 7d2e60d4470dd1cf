// Diagnostic codes raised when a strategy (internal form, JSON file or resolved `.par`
// block) is validated against its graph and mesh. The `.par` checker's reference checks
// (model/mesh exist) are PAR3101–PAR3102 in src/frontend/strategy-codes.ts; its checks of
// patterns, keys, degrees and devices raise the codes below.
import type { CodeTable } from "../core/codes.js";

export const STRATEGY_CODES: CodeTable = {
  PAR3150: { title: "an op of the graph has no config in the strategy" },
  PAR3151: { title: "the strategy configures an op the graph does not have" },
  PAR3152: { title: "a degree is not a positive integer" },
  PAR3153: { title: "an op config has a different number of degrees than the op has parallel dims" },
  PAR3154: { title: "the number of devices differs from the number of tasks (the product of the degrees)" },
  PAR3155: { title: "a degree exceeds the size of the dim it splits" },
  PAR3156: { title: "a dim that cannot be split has a degree other than 1" },
  PAR3157: { title: "a device index is not an integer within the mesh" },
  PAR3158: { title: "the strategy was written for a different model (warning)" },
  PAR3159: { title: "the strategy was written for a different mesh (warning)" },
  PAR3160: { title: "a strategy file is not valid JSON or cannot be read" },
  PAR3161: { title: "a strategy file does not match the strategy JSON schema" },
  PAR3162: { title: "a strategy file names a parallel dim the op does not have" },
  PAR3163: { title: "a JSON file is not a par strategy (`format` is not \"par-strategy\")" },
  PAR3164: { title: "a strategy file has a format version this par does not read" },
  PAR3170: { title: "an op pattern of a strategy rule matches no op of the model" },
  PAR3171: { title: "a strategy key is neither `devices` nor a parallel dim of any op the rule matches" },
  PAR3172: { title: "a degree in a strategy rule is not an integer expression" },
  PAR3173: { title: "`devices` is not a device index, an inclusive range `a..b` or a list of them" },
  PAR3174: { title: "a key is set twice in one strategy rule" },
};
