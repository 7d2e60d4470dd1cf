// Shared weights: an initializer read by more than one node (a tied embedding and LM head,
// a layer applied twice). par keeps such a weight as one tensor (a `param` op, src/ops/
// shared.ts) that every reader takes as an input, so that it is counted once and its
// gradients add up, as in the source framework. Reads count through views: a Transpose,
// Identity or float Cast of the initializer is the same weight (torch exports a tied LM
// head as MatMul(h, Transpose(wte))).

import { isFloatDType, type OnnxModel, type OnnxNode } from "./decode.js";
import { differentiableInputs } from "./differentiable.js";

/** Ops whose output is their input seen differently (no new values): views of a weight. */
export function isViewNode(n: OnnxNode): boolean {
  return n.opType === "Transpose" || n.opType === "Identity" || (n.opType === "Cast" && isFloatDType(n.attrs.get("to")?.i ?? 0));
}

/** Float initializers that more than one node reads as a value (directly or through views). */
export function sharedInitializers(model: OnnxModel, order: readonly OnnxNode[]): Set<string> {
  const inits = model.graph.initializers;
  const viewOf = new Map<string, string>();
  for (const [name, t] of inits) if (isFloatDType(t.dataType)) viewOf.set(name, name);
  const reads = new Map<string, number>();
  for (const n of order) {
    const base = viewOf.get(n.inputs[0] ?? "");
    if (isViewNode(n) && base !== undefined) {
      for (const o of n.outputs) if (o !== "") viewOf.set(o, base);
      continue;
    }
    const diff = differentiableInputs(n);
    n.inputs.forEach((name, i) => {
      const init = viewOf.get(name);
      if (init !== undefined && diff[i]) reads.set(init, (reads.get(init) ?? 0) + 1);
    });
  }
  return new Set([...reads].filter(([, k]) => k > 1).map(([name]) => name));
}
