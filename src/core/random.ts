// mulberry32: a tiny, fast, seeded PRNG. Everything random in par (the search's choices,
// generated test cases, benchmark walks) draws from it, so runs are pure functions of
// their seed. (Data and weights use counter-based hashes instead: src/runtime/exec/hash.ts.)

/** A generator of uniform numbers in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
