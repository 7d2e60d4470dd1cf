// The parameter count of an ONNX model, the same for every command: the elements of its
// float initializers, each initializer counted once however many nodes read it (a tied
// embedding is one weight), and whether each trains. A float initializer is a buffer
// when no gradient reaches it (differentiable.ts: a mask, an index, a shape operand, a
// batch-norm statistic) or when it holds non-finite values (a −inf causal mask); `--freeze`
// globs make more initializers non-trainable. Integer initializers are not parameters.

import type { Diagnostics } from "../../core/diagnostics.js";
import type { ParameterAccount } from "../../ir/graph.js";
import { globToRegExp } from "../naming.js";
import { isFloatDType, type OnnxModel, type OnnxNode } from "./decode.js";
import { gradientReach } from "./differentiable.js";
import { elementsOf, hasNonFinite } from "./tensor-data.js";

export interface WeightAccount {
  account: ParameterAccount;
  /** Float initializers that train. */
  trainable: Set<string>;
  /** Float initializers that are buffers. */
  buffers: Set<string>;
}

/**
 * Counts and classifies the float initializers. `freeze` globs match initializer names;
 * one that matches none is PAR6009 (a typo would otherwise train what it meant to freeze).
 */
export function accountWeights(model: OnnxModel, order: readonly OnnxNode[], freeze: readonly string[], file: string, d: Diagnostics): WeightAccount | undefined {
  const reached = gradientReach(model, order);
  const floats = [...model.graph.initializers.values()].filter((t) => isFloatDType(t.dataType));
  const patterns = freeze.map((g) => ({ glob: g, re: globToRegExp(g), hits: 0 }));
  const trainable = new Set<string>();
  const buffers = new Set<string>();
  const account: ParameterAccount = { parameters: 0, trainable: 0, buffers: 0 };
  for (const t of floats) {
    const n = elementsOf(t);
    account.parameters += n;
    // Unknown (external data not at hand) counts as finite: the structure alone says nothing else.
    const isBuffer = !reached.has(t.name) || hasNonFinite(t) === true;
    if (isBuffer) {
      buffers.add(t.name);
      account.buffers += n;
      continue;
    }
    let frozen = false;
    for (const p of patterns) {
      if (p.re.test(t.name)) {
        p.hits++;
        frozen = true;
      }
    }
    if (frozen) continue;
    trainable.add(t.name);
    account.trainable += n;
  }
  const unmatched = patterns.filter((p) => p.hits === 0 && ![...buffers].some((b) => p.re.test(b)));
  if (unmatched.length) {
    const names = floats.slice(0, 5).map((t) => t.name);
    d.error("PAR6009", `${file}: --freeze ${unmatched.map((p) => `"${p.glob}"`).join(", ")} match${unmatched.length === 1 ? "es" : ""} no weight of the model`, {
      expected: `globs over the model's weight names, e.g. ${names.join(", ")}${floats.length > 5 ? ", ..." : ""}`,
      hint: "`*` matches any run of characters (dots included), `?` one character",
    });
    return undefined;
  }
  return { account, trainable, buffers };
}
