// Reading the declared properties of an op entry (contract.ts: InputSpec.role and
// .classes, OpEntry.roles), so that code outside src/ops asks what an op *is* instead of
// comparing its name.

import type { Attrs, InputSpec, OpEntry, OpRole } from "./contract.js";

/** The spec of input `index` (a variadic last input covers every index past it). */
export function inputSpecAt(entry: OpEntry, index: number): InputSpec | undefined {
  if (index < entry.inputs.length) return entry.inputs[index];
  const last = entry.inputs[entry.inputs.length - 1];
  return last?.variadic ? last : undefined;
}

export function hasRole(entry: OpEntry | undefined, role: OpRole): boolean {
  return entry?.roles?.includes(role) ?? false;
}

/**
 * The class count an integer input of an op instance ranges over (InputSpec.classes), from
 * the instance's input shapes and attributes; undefined when the spec declares none or
 * the instance does not carry it.
 */
export function classCountOf(spec: InputSpec | undefined, inputShapes: readonly (readonly number[])[], attrs: Attrs): number | undefined {
  const c = spec?.classes;
  if (!c) return undefined;
  if ("attr" in c) {
    const v = attrs[c.attr];
    return typeof v === "number" ? v : undefined;
  }
  const shape = inputShapes[c.input];
  if (!shape) return undefined;
  return shape[c.axis < 0 ? shape.length + c.axis : c.axis];
}

/**
 * The training losses an importer can append to a model's output: losses of two inputs
 * whose second is the `labels` or `target` the importer adds as a new graph input.
 */
export function appendableLosses(ops: readonly OpEntry[]): OpEntry[] {
  return ops.filter((e) => e.isLoss && e.inputs.length === 2 && (e.inputs[1].role === "labels" || e.inputs[1].role === "target"));
}
