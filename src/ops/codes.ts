// Diagnostic codes raised by operator entries and their attribute/arity validation.
import type { CodeTable } from "../core/codes.js";

export const OP_CODES: CodeTable = {
  PAR2101: { title: "unknown attribute for this op" },
  PAR2102: { title: "required attribute missing" },
  PAR2103: { title: "attribute has the wrong type" },
  PAR2104: { title: "attribute value out of range or not one of the allowed choices" },
  PAR2105: { title: "wrong number of inputs (arity)" },
  PAR2106: { title: "input has the wrong dtype" },
  PAR2107: { title: "input shapes do not match" },
  PAR2108: { title: "input has the wrong rank" },
  PAR2109: { title: "attribute gives an invalid shape (non-positive or non-integer dim)" },
};
