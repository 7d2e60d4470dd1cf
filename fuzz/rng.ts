// The fuzzer's randomness: one seeded generator (mulberry32, as everything random in par),
// so a run is a pure function of its seed and any case can be made again.

import { mulberry32 } from "../src/core/random.js";

export class Rng {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("pick from an empty list");
    return xs[this.int(xs.length)];
  }

  /** One of `choices` with probability proportional to its weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((a, [w]) => a + w, 0);
    let r = this.next() * total;
    for (const [w, x] of choices) {
      r -= w;
      if (r < 0) return x;
    }
    return choices[choices.length - 1][1];
  }

  /** A fresh generator for one case, so cases do not depend on how many draws earlier ones took. */
  fork(salt: number): Rng {
    return new Rng((Math.imul(this.seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(salt, 0xc2b2ae35)) >>> 0);
  }
}
