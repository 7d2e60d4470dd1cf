// How the all-reduces cut a buffer among a group's members (one contiguous slice each).

/** The index range of member `k`'s slice when `n` elements are cut into `parts` slices. */
export function sliceOf(n: number, parts: number, k: number): [number, number] {
  const base = Math.floor(n / parts);
  const extra = n % parts;
  const lo = k * base + Math.min(k, extra);
  return [lo, lo + base + (k < extra ? 1 : 0)];
}
