// Diagnostic codes of `par report` (PAR4050–PAR4069): the measured trace it reads and how
// it fits the report's plan. Reading and writing files are the CLI's PAR4001–PAR4004.
import type { CodeTable } from "../core/codes.js";

export const REPORT_CODES: CodeTable = {
  PAR4050: { title: "the measured trace is not a Chrome trace par can read (JSON with a `traceEvents` array of complete events)" },
  PAR4051: { title: "the trace holds no measured timeline (`par run --trace` writes one; `par simulate --trace` only predicts)" },
  PAR4052: { title: "the measured trace names devices the report's mesh does not have" },
  PAR4053: { title: "the measured trace was taken for another model, strategy or mesh than the report shows (warning)" },
  PAR4054: { title: "the mesh given for a plan has another number of devices than the plan" },
};
