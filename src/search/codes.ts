// Diagnostic codes of the strategy search (src/search) and its commands (`par search`,
// `par diff`): PAR7001–PAR7049.
import type { CodeTable } from "../core/codes.js";

export const SEARCH_CODES: CodeTable = {
  PAR7001: { title: "no feasible strategy: every strategy the search visited needs more memory than some device has" },
  PAR7002: { title: "a search budget is neither an iteration count (`20000`) nor a duration (`10s`, `500ms`, `2m`)" },
  PAR7003: { title: "the exhaustive search space is larger than the limit (use MCMC, or the DP on chains)" },
  PAR7004: { title: "the graph is not a chain, so the chain dynamic program does not apply" },
  PAR7005: { title: "a baseline strategy does not fit in device memory (warning)" },
  PAR7006: { title: "the two strategies of `par diff` are for different models (warning)" },
};
