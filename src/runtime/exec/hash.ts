// Counter-based pseudo-random numbers: every value is a pure function of its key (seed,
// tensor, global index, ...), never of a generator's state, so any sharding of a tensor
// regenerates exactly the same values as the whole (init.ts, data.ts).

/** splitmix32's finaliser: a bijective 32-bit mix with full avalanche. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a of a string (tensor ids become numeric keys). */
export function strHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The state hashKey starts from. */
export const HASH_START = 0x2545f491;

/** Folds one integer into a hash state (hashKey is a chain of these). */
export function hashStep(h: number, k: number): number {
  // Indices may exceed 2^32 in principle: fold the high part in separately.
  const hi = Math.floor(k / 4294967296);
  h = mix32(h ^ (k >>> 0));
  if (hi !== 0) h = mix32(h ^ (hi >>> 0));
  return h;
}

/** Hash of a key made of several integers (each folded in with a mix, so order matters). */
export function hashKey(...keys: number[]): number {
  let h = HASH_START;
  for (const k of keys) h = hashStep(h, k);
  return h;
}

/** Uniform in [0, 1) with 24 bits (exactly representable in f32). */
export function unit(h: number): number {
  return (h >>> 8) / 16777216;
}

/** Uniform in [-1, 1). */
export function symmetric(h: number): number {
  return unit(h) * 2 - 1;
}

/** Standard normal by Box-Muller from two independent hashes. */
export function gaussian(h1: number, h2: number): number {
  const u1 = ((h1 >>> 8) + 1) / 16777217; // (0, 1]: log is finite
  const u2 = unit(h2);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
