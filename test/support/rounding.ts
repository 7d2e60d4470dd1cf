// Comparing a sharded plan with one device when the model itself amplifies rounding.
//
// Sharding only reorders f32 additions, a perturbation at rounding level; par verify's
// default (1e-4 of each tensor's largest magnitude) assumes that moves nothing by more.
// Deep nets with batch norm on a small batch are more sensitive: one training step of
// DenseNet-121 at batch 4 moves the first conv's gradient by 4e-3 when every weight is
// perturbed by 1e-7 relative (measured). So where a tensor is beyond 1e-4, one more
// single-device run, on weights so perturbed, measures each tensor's rounding noise, and
// the plan may differ from the reference by the larger of 1e-4 relative and ten times
// that noise. A sharding bug (a wrong region, a missing all-reduce) is off by O(1), far
// above either. Noise is not smooth: a ReLU input near 0 flips under one perturbation and
// not another (ResNet-101, R3D-18), so a tensor beyond ten times the first run's noise
// gets a second perturbed run, and the larger noise counts.
import type { TF } from "../../src/ops/contract.js";
import type { Plan } from "../../src/plan/plan.js";
import { runPlanInProcess, type InProcessResult } from "../../src/runtime/exec/run-inprocess.js";
import { tensorError } from "../../src/runtime/exec/verify.js";

type Pair = [what: string, reference: ArrayLike<number>, actual: ArrayLike<number>, ofNoisy: (n: InProcessResult) => ArrayLike<number>];

/**
 * What of `actual` (a plan's one training step) differs from `reference` (one device's)
 * beyond rounding: empty when it trains as one device does. `noisy(v)` gives the one step
 * of the single-device plan on weights perturbed with variant v (see perturb); variants
 * 0 and 1 are asked only when needed.
 */
export async function beyondRounding(actual: InProcessResult, reference: InProcessResult, noisy: (variant: number) => Promise<InProcessResult>): Promise<string[]> {
  // Every gradient the runs report: the trainable params' (a frozen buffer's is never summed).
  const pairs: Pair[] = [
    ["loss", reference.losses, actual.losses, (n) => n.losses],
    ...[...reference.grads].map(([p, g]): Pair => [`gradient of ${p}`, g, actual.grads.get(p)!, (n) => n.grads.get(p)!]),
    ...[...reference.params].map(([p, w]): Pair => [`weight ${p}`, w, actual.params.get(p)!, (n) => n.params.get(p)!]),
  ];
  // Allowed: par verify's fixed tolerance (1e-4 of the tensor's largest magnitude), or ten
  // times the noise measured so far.
  const noise = new Map<Pair, number>();
  const beyond = (pair: Pair) => {
    const e = tensorError(pair[1], pair[2]);
    const fixed = Math.max(1e-4 * (e.rel > 0 ? e.abs / e.rel : 0), 1e-6);
    return !(e.abs <= Math.max(fixed, 10 * (noise.get(pair) ?? 0)));
  };
  // Within the fixed tolerance everywhere (the common case), no perturbed run is made.
  let left = pairs.filter(beyond);
  for (let variant = 0; variant < 2 && left.length > 0; variant++) {
    const run = await noisy(variant);
    for (const pair of left) noise.set(pair, Math.max(noise.get(pair) ?? 0, tensorError(pair[1], pair[3](run)).abs));
    left = left.filter(beyond);
  }
  return left.map((pair) => {
    const e = tensorError(pair[1], pair[2]);
    return `${pair[0]}: off by ${e.abs.toExponential(2)} (${e.rel.toExponential(2)} relative), rounding noise ${noise.get(pair)!.toExponential(2)}`;
  });
}

/** `w` with every element scaled by 1 + 1e-7·u, u ∈ [−1, 1) from a hash of (variant, tensor, element): a rounding-level perturbation. */
export function perturb(weights: ReadonlyMap<string, Float32Array>, variant = 0): Map<string, Float32Array> {
  return new Map([...weights].map(([id, w], j) => [id, w.map((x, i) => x * (1 + 1e-7 * ((Math.imul(i + 1, 2654435761) ^ Math.imul(j + 1 + 7919 * variant, 40503)) / 2 ** 31)))]));
}

/** A plan's initial weights (its seeded or given init), by param tensor. */
export async function initialWeights(plan: Plan, tf: TF): Promise<Map<string, Float32Array>> {
  return (await runPlanInProcess(plan, tf, { steps: 0 })).params;
}

/** `make(v)` run once per v, when first asked. */
export function memo<T>(make: (v: number) => Promise<T>): (v: number) => Promise<T> {
  const made = new Map<number, Promise<T>>();
  return (v) => made.get(v) ?? made.set(v, make(v)).get(v)!;
}
