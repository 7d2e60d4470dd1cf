// Optimizer-step times from a measured table's `updates` rows (`par profile` times the
// runtime's `update` instructions). The roofline charges an update memory traffic at the
// device's bandwidth, but par's CPU runtime steps weights in a JavaScript loop, a few
// nanoseconds per element, several times slower; measuring it keeps the simulator honest.
//
// A shard size that was measured gets its own time. Any other size is read off the least-
// squares line ms = a + b·floats through the measured sizes (a fixed cost per update plus
// a cost per element, both ≥ 0), or scaled from the one size measured.

export interface MeasuredUpdate {
  /** "sgd", "momentum" or "adam" (the plan's optimizer). */
  optimizer: string;
  /** Elements of the weight shard. */
  floats: number;
  ms: number;
}

export class UpdateTimes {
  private readonly exact = new Map<number, number>();
  private readonly fixedMs: number;
  private readonly perFloatMs: number;

  constructor(rows: readonly MeasuredUpdate[]) {
    if (rows.length === 0) throw new RangeError("UpdateTimes needs at least one measured update");
    for (const r of rows) this.exact.set(r.floats, r.ms);
    const xs = [...this.exact.keys()];
    const ys = xs.map((x) => this.exact.get(x)!);
    const n = xs.length;
    const mx = xs.reduce((a, b) => a + b, 0) / n;
    const my = ys.reduce((a, b) => a + b, 0) / n;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < n; i++) {
      sxx += (xs[i] - mx) ** 2;
      sxy += (xs[i] - mx) * (ys[i] - my);
    }
    if (sxx > 0) {
      const slope = Math.max(0, sxy / sxx);
      const fixed = my - slope * mx;
      // A negative intercept (noise on small shards) would make tiny updates free: refit through the origin.
      if (fixed >= 0) {
        this.fixedMs = fixed;
        this.perFloatMs = slope;
      } else {
        this.fixedMs = 0;
        this.perFloatMs = xs.reduce((a, x, i) => a + x * ys[i], 0) / xs.reduce((a, x) => a + x * x, 0);
      }
    } else {
      this.fixedMs = 0;
      this.perFloatMs = mx > 0 ? my / mx : 0;
    }
  }

  /** Seconds to step a shard of `floats` elements. */
  seconds(floats: number): number {
    const ms = this.exact.get(floats) ?? this.fixedMs + this.perFloatMs * floats;
    return ms / 1000;
  }
}
