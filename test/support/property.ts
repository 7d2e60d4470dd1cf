// fast-check settings: a fixed seed in CI (printed on failure with the shrunk case),
// a random one locally unless PAR_SEED is set.
import fc from "fast-check";

export function propertySeed(): number {
  if (process.env.PAR_SEED) return Number(process.env.PAR_SEED);
  return process.env.CI ? 20261122 : Date.now() % 2147483647;
}

export function fcParams<T>(numRuns: number): fc.Parameters<T> {
  return { seed: propertySeed(), numRuns, verbose: 1, endOnFailure: false };
}

/** Asserts a property; fast-check's error message carries the seed, path and shrunk counterexample. */
export function assertProperty<Ts extends [unknown, ...unknown[]]>(prop: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, numRuns: number): void | Promise<void> {
  return fc.assert(prop as fc.IProperty<Ts>, fcParams(numRuns) as fc.Parameters<Ts>);
}

export { divisors } from "../../src/core/integers.js";

/** An arbitrary degree for a dim of `size`: any value 1..min(size, max) (uneven splits included). */
export function degreeFor(size: number, max = 4): fc.Arbitrary<number> {
  return fc.integer({ min: 1, max: Math.max(1, Math.min(size, max)) });
}
