// Initializers that become par parameters. Their float data is handed over as is; data
// kept outside the model (external) is not read, so those parameters import without
// values and one warning names them.

import type { Diagnostics } from "../../core/diagnostics.js";
import { isFloatDType } from "./decode.js";
import { Unmappable } from "./errors.js";
import type { Val } from "./values.js";

/** Float data of a weight; undefined (and its name noted in `missing`) when external. */
export function weightData(v: Val, what: string, missing: string[]): Float32Array | undefined {
  if (v.kind !== "const") throw new Unmappable("PAR6016", `${what} must be a constant (an initializer)`);
  if (v.tensor) {
    if (!isFloatDType(v.tensor.dataType)) throw new Unmappable("PAR6016", `${what} must be float, got data type ${v.tensor.dataType}`);
    if (v.tensor.external) {
      missing.push(v.tensor.name);
      return undefined;
    }
    return v.tensor.floats!;
  }
  if (v.value?.dtype !== "float") throw new Unmappable("PAR6016", `${what} must be a float constant`);
  return Float32Array.from(v.value.data);
}

/** One PAR6007 warning for all weights imported without values. */
export function warnMissingWeights(missing: readonly string[], file: string, d: Diagnostics): void {
  if (!missing.length) return;
  d.warning("PAR6007", `${file}: ${missing.length} weight tensor${missing.length > 1 ? "s have" : " has"} external data, not read: the graph imports without their values`, {
    expected: `data inside the model (first: ${missing[0]})`,
  });
}
