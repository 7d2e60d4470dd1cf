// Parameter initialisation as a pure function of (seed, param id, global element index):
// a shard computes its values itself, and any sharding of a weight gets exactly the
// values of the whole (test/runtime/exec/init.test.ts). Distributions follow the op's InitSpec.
// A param with given values (Plan.weights, init `values`) takes its region of them.

import type { Region } from "../../core/region.js";
import type { InitSpec } from "../../ops/contract.js";
import { gaussian, HASH_START, hashStep, strHash, symmetric } from "./hash.js";
import { extract, forEachGlobal } from "./regions.js";

/** The hash state of (seed, param): computed once per tensor, not once per element. */
function paramPrefix(seed: number, param: string): number {
  return hashStep(hashStep(HASH_START, seed), strHash(param));
}

/** Element `index` from a param's prefix: equals hashKey(seed, strHash(param), index, ...). */
function valueFrom(spec: InitSpec, prefix: number, index: number): number {
  switch (spec.kind) {
    case "zeros":
      return 0;
    case "ones":
      return 1;
    case "uniform":
      return symmetric(hashStep(hashStep(prefix, index), 1)) * spec.bound;
    case "normal": {
      const h = hashStep(prefix, index);
      return gaussian(hashStep(h, 2), hashStep(h, 3)) * spec.std;
    }
  }
}

/** The initial value of element `index` (row-major, global) of param `param`. */
export function initValue(spec: InitSpec, seed: number, param: string, index: number): number {
  return valueFrom(spec, paramPrefix(seed, param), index);
}

/** The values of `region` out of a param's given values `whole` (row-major over `shape`). */
export function givenRegion(whole: Float32Array, shape: readonly number[], region: Region): Float32Array {
  return extract(whole, { lo: shape.map(() => 0), hi: [...shape] }, region);
}

/** The values of `region` of a param of `shape`, row-major over the region. */
export function initRegion(spec: InitSpec, seed: number, param: string, shape: readonly number[], region: Region): Float32Array {
  let n = 1;
  for (let i = 0; i < region.lo.length; i++) n *= Math.max(0, region.hi[i] - region.lo[i]);
  const out = new Float32Array(n);
  if (spec.kind === "zeros") return out;
  const prefix = paramPrefix(seed, param);
  forEachGlobal(shape, region, (g, k) => {
    out[k] = valueFrom(spec, prefix, g);
  });
  return out;
}
