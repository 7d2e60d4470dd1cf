// The single-device reference a plan is verified against: the same model, seed, optimizer
// and given weights (an imported model's trained weights, read back from the plan), all of
// it on one device, so that any sharding must reproduce its losses, gradients and weights.

import type { Graph } from "../ir/graph.js";
import type { Plan } from "../plan/plan.js";
import { decodeF32 } from "../plan/weights.js";
import { lower, singleDeviceStrategy, type LowerMesh } from "./lower.js";

/** The one device the reference runs on. */
export const SINGLE_MESH: LowerMesh = { name: "single", devices: [{ index: 0, spec: { kind: "cpu" } }] };

/** The given weights of a plan (imported models' trained weights) by param id, if any. */
export function planGivenWeights(plan: Plan): Map<string, Float32Array> | undefined {
  if (!plan.weights) return undefined;
  const out = new Map<string, Float32Array>();
  for (const [id, w] of Object.entries(plan.weights)) {
    const v = decodeF32(w.data);
    if (v) out.set(id, v);
  }
  return out.size ? out : undefined;
}

/** The single-device plan of `graph` with `plan`'s seed, optimizer and given weights. */
export function referencePlan(graph: Graph, plan: Plan): Plan {
  const weights = planGivenWeights(plan);
  return lower(graph, singleDeviceStrategy(graph, SINGLE_MESH.name), SINGLE_MESH, { seed: plan.seed, optimizer: plan.optimizer, ...(weights ? { weights } : {}) });
}
