// Small timing helpers for benchmarks: warm up, repeat, report the median.
import { median } from "../src/core/stats.js";

export { median };

export function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}


/** Median of `repeats` timed runs after `warmup` untimed ones. */
export function measure(fn: () => void, repeats = 7, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(timeMs(fn));
  return median(times);
}
