// Parameter initialisation as a pure function of (seed, param id, global element index):
// a shard computes its values itself, and any sharding of a weight gets exactly the
// values of the whole (test/runtime/init.test.ts). Distributions follow the op's InitSpec.
// A param with given values (Plan.weights, init `values`) takes its region of them.

import type { Region } from "../core/region.js";
import type { InitSpec } from "../ops/contract.js";
import { gaussian, hashKey, strHash, symmetric } from "./hash.js";
import { extract, forEachGlobal } from "./regions.js";

/** The initial value of element `index` (row-major, global) of param `param`. */
export function initValue(spec: InitSpec, seed: number, param: string, index: number): number {
  switch (spec.kind) {
    case "zeros":
      return 0;
    case "ones":
      return 1;
    case "uniform":
      return symmetric(hashKey(seed, strHash(param), index, 1)) * spec.bound;
    case "normal":
      return gaussian(hashKey(seed, strHash(param), index, 2), hashKey(seed, strHash(param), index, 3)) * spec.std;
  }
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
  forEachGlobal(shape, region, (g, k) => {
    out[k] = initValue(spec, seed, param, g);
  });
  return out;
}
