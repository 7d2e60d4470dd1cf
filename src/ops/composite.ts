// Composite ops (OpEntry.expansion): the declared parts of a composite become the sub-ops
// that replace it when a graph is built (src/frontend/elaborate.ts, import-build.ts).

import type { Attrs, ExpandedOp, OpEntry } from "./contract.js";

/**
 * The sub-ops of composite `entry` called with (resolved) `attrs`: each part with the
 * composite's attributes it declares handed on; the parts' other attributes take their
 * defaults when the sub-ops are resolved.
 */
export function expandComposite(entry: OpEntry, attrs: Attrs): ExpandedOp[] {
  if (!entry.expansion) throw new Error(`op ${entry.name} is not a composite`);
  return entry.expansion.map((part) => {
    const handed: Attrs = {};
    for (const name of part.attrs ?? []) if (attrs[name] !== undefined) handed[name] = attrs[name];
    return { suffix: part.suffix, op: part.op, inputs: [...part.inputs], attrs: handed };
  });
}
