// How a flat run of elements is cut into even slices among a group's members (one
// contiguous slice each, the first `n mod parts` one element longer). The all-reduces cut
// their buffers this way, and ZeRO's slices of a weight shard are defined by it: member k
// of a group (in group order) owns slice k of the shard's row-major elements.

/** The index range of member `k`'s slice when `n` elements are cut into `parts` slices. */
export function sliceOf(n: number, parts: number, k: number): [number, number] {
  const base = Math.floor(n / parts);
  const extra = n % parts;
  const lo = k * base + Math.min(k, extra);
  return [lo, lo + base + (k < extra ? 1 : 0)];
}
