// Op signatures exported into a plan. An engine written in another language (the torch
// engine, python/par_torch) cannot run the registry's `infer`, so rather than porting
// every op's shape inference it reads each op's iteration space and axis maps from the
// plan itself: `PlanOp.signature`, derived here from the registry. Validation re-derives
// them and rejects a plan whose exported signature disagrees (PAR5014), so a stale or
// hand-edited signature cannot make an engine compute on the wrong regions.

import { Diagnostics } from "../core/diagnostics.js";
import type { TensorType } from "../core/tensor.js";
import type { OpSignature } from "../ops/contract.js";
import { getOp } from "../ops/registry.js";
import type { Plan, PlanOp, PlanOpSignature, PlanTensor } from "./plan.js";

function tensorType(t: PlanTensor): TensorType {
  return { dtype: t.dtype, shape: [...t.shape], dims: t.shape.map((_, i) => `${t.id}.d${i}`) };
}

/** The registry's signature of a plan op, or undefined (with the reason) when it cannot be inferred. */
export function inferPlanOp(plan: Plan, op: PlanOp, tensors = new Map(plan.tensors.map((t) => [t.id, t]))): { sig: OpSignature } | { error: string } {
  const entry = getOp(op.op);
  if (!entry) return { error: `op kind \`${op.op}\` is not in the op registry` };
  const inputs: TensorType[] = [];
  for (const id of op.inputs) {
    const t = tensors.get(id);
    if (!t) return { error: `unknown input tensor ${id}` };
    inputs.push(tensorType(t));
  }
  const diagnostics = new Diagnostics();
  const sig = entry.infer(inputs, op.attrs, { opName: op.name, diagnostics });
  if (!sig) return { error: diagnostics.items.map((d) => `${d.code} ${d.message}`).join("; ") || "infer failed" };
  return { sig };
}

/** The plain-data part of a signature (space and axis maps), as the plan carries it. */
export function exportSignature(sig: OpSignature): PlanOpSignature {
  return {
    space: sig.space.map((d) => ({ name: d.name, cls: d.cls, size: d.size, ...(d.splittable === false ? { splittable: false } : {}) })),
    inputMaps: sig.inputMaps.map((ms) => ms.map((m) => ({ ...m }))),
    paramMaps: sig.paramMaps.map((ms) => ms.map((m) => ({ ...m }))),
    outputMaps: sig.outputMaps.map((ms) => ms.map((m) => ({ ...m }))),
  };
}

/**
 * A copy of `plan` whose every op carries its exported signature. Throws when an op cannot
 * be typed (a plan that passed validatePlan always can).
 */
export function withSignatures(plan: Plan): Plan {
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  const ops = plan.ops.map((op) => {
    const r = inferPlanOp(plan, op, tensors);
    if ("error" in r) throw new Error(`op ${op.name}: ${r.error}`);
    return { ...op, signature: exportSignature(r.sig) };
  });
  return { ...plan, ops };
}

/** Canonical JSON (object keys sorted), to compare two signatures' parts. */
function canonical(x: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : typeof v === "object" && v !== null ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(sorted(x));
}

/** Undefined when a plan op's exported signature equals the registry's; else what differs. */
export function signatureMismatch(given: PlanOpSignature, sig: OpSignature): string | undefined {
  const want = exportSignature(sig);
  for (const field of ["space", "inputMaps", "paramMaps", "outputMaps"] as const) {
    if (canonical(given[field]) !== canonical(want[field])) return `\`${field}\` is ${JSON.stringify(given[field])}, the registry infers ${JSON.stringify(want[field])}`;
  }
  return undefined;
}
