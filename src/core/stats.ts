// Small statistics shared by the runtime's profiler, the CLI's reports and the benchmarks.

/**
 * The q-quantile (0 ≤ q ≤ 1) by linear interpolation between the order statistics
 * (position q·(n−1)); NaN for no values.
 */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = Math.min(1, Math.max(0, q)) * (s.length - 1);
  const lo = Math.floor(pos);
  const frac = pos - lo;
  return frac === 0 ? s[lo] : s[lo] + (s[lo + 1] - s[lo]) * frac;
}

/** The median (mean of the two middle values for an even count); NaN for no values. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
