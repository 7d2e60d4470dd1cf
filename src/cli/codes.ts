// Diagnostic codes of the command line itself (PAR4xxx): files that cannot be read or written.
import type { CodeTable } from "../core/codes.js";

export const CLI_CODES: CodeTable = {
  PAR4001: { title: "cannot read file" },
  PAR4002: { title: "cannot write file" },
};
