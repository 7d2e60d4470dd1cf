// The coded error a call throws, for tests of PARxxxx codes raised as ParError.
import { ParError } from "../../src/core/diagnostics.js";

/** The code of the first diagnostic of the ParError that f throws; undefined when f returns. Other errors propagate. */
export function thrownCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof ParError) return e.diagnostics[0].code;
    throw e;
  }
  return undefined;
}
