// Diagnostic codes of the runtime (PAR5050–PAR5099): problems found while preparing or
// running a plan. The runtime throws them inside a ParError so callers get coded messages.
import type { CodeTable } from "../core/codes.js";

export const RUNTIME_CODES: CodeTable = {
  PAR5050: { title: "the plan has no program for this device" },
  PAR5051: { title: "an op's signature cannot be re-inferred from the plan's tensor types" },
  PAR5052: { title: "an instruction names a buffer this device does not hold" },
  PAR5053: { title: "a received message or kernel result has the wrong number of elements" },
  PAR5054: { title: "a graph input's feed names a teacher tensor the plan does not have" },
};
