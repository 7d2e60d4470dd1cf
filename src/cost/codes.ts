// Diagnostic codes of the cost model (PAR8xxx): measured-cost tables (`par profile`,
// `--costs FILE`) that cannot be used. Reading the file itself is PAR4001/PAR4003/PAR4004.
import type { CodeTable } from "../core/codes.js";

export const COST_CODES: CodeTable = {
  PAR8001: { title: "a measured-cost table is not valid JSON" },
  PAR8002: { title: "a measured-cost table does not match the par-measured-costs format" },
};
