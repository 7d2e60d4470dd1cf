// Diagnostic codes of the cost model (PAR7101–PAR7149, beside the search's PAR70xx): measured-cost tables (`par profile`,
// `--costs FILE`) that cannot be used. Reading the file itself is PAR4001/PAR4003/PAR4004.
import type { CodeTable } from "../core/codes.js";

export const COST_CODES: CodeTable = {
  PAR7101: { title: "a measured-cost table is not valid JSON" },
  PAR7102: { title: "a measured-cost table does not match the par-measured-costs format" },
};
