// Regions: half-open hyper-rectangles [lo, hi) over a tensor's (or an iteration space's)
// index space. Everything about sharding (which data a task needs, which transfers a
// strategy implies, which gradients overlap) is computed with these few functions.

export interface Region {
  lo: number[];
  hi: number[];
}

export function fullRegion(shape: readonly number[]): Region {
  return { lo: shape.map(() => 0), hi: [...shape] };
}

export function regionShape(r: Region): number[] {
  return r.hi.map((h, i) => h - r.lo[i]);
}

export function regionVolume(r: Region): number {
  let v = 1;
  for (let i = 0; i < r.lo.length; i++) v *= Math.max(0, r.hi[i] - r.lo[i]);
  return v;
}

export function isEmpty(r: Region): boolean {
  for (let i = 0; i < r.lo.length; i++) if (r.hi[i] <= r.lo[i]) return true;
  return false;
}

export function regionEquals(a: Region, b: Region): boolean {
  return a.lo.length === b.lo.length && a.lo.every((v, i) => v === b.lo[i] && a.hi[i] === b.hi[i]);
}

/** The common part of a and b, or undefined when they do not overlap. */
export function intersect(a: Region, b: Region): Region | undefined {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let i = 0; i < a.lo.length; i++) {
    const l = Math.max(a.lo[i], b.lo[i]);
    const h = Math.min(a.hi[i], b.hi[i]);
    if (h <= l) return undefined;
    lo.push(l);
    hi.push(h);
  }
  return { lo, hi };
}

export function overlaps(a: Region, b: Region): boolean {
  return intersect(a, b) !== undefined;
}

/** True when `inner` lies entirely inside `outer` (an empty inner is contained anywhere). */
export function contains(outer: Region, inner: Region): boolean {
  if (isEmpty(inner)) return true;
  return inner.lo.every((l, i) => l >= outer.lo[i] && inner.hi[i] <= outer.hi[i]);
}

/** `r` expressed relative to `origin`'s corner (for slicing a shard out of a held region). */
export function relativeTo(r: Region, origin: Region): Region {
  return { lo: r.lo.map((l, i) => l - origin.lo[i]), hi: r.hi.map((h, i) => h - origin.lo[i]) };
}

/**
 * Split [0, size) into `parts` contiguous ranges. Uneven rule (documented in docs/ops.md):
 * the first `size % parts` ranges get one extra element, as numpy.array_split does.
 */
export function splitRange(size: number, parts: number, index: number): [number, number] {
  const base = Math.floor(size / parts);
  const extra = size % parts;
  const lo = index * base + Math.min(index, extra);
  const hi = lo + base + (index < extra ? 1 : 0);
  return [lo, hi];
}

/** Row-major index of a task from its per-dim coordinates (last dim fastest). */
export function linearIndex(coords: readonly number[], degrees: readonly number[]): number {
  let idx = 0;
  for (let i = 0; i < degrees.length; i++) idx = idx * degrees[i] + coords[i];
  return idx;
}

/** Per-dim coordinates of task `index` in a grid of `degrees` (inverse of linearIndex). */
export function gridCoords(index: number, degrees: readonly number[]): number[] {
  const coords = new Array<number>(degrees.length);
  for (let i = degrees.length - 1; i >= 0; i--) {
    coords[i] = index % degrees[i];
    index = Math.floor(index / degrees[i]);
  }
  return coords;
}

/** The region of task `index` when `shape` is split by `degrees` (one degree per dim). */
export function partRegion(shape: readonly number[], degrees: readonly number[], index: number): Region {
  const coords = gridCoords(index, degrees);
  const lo: number[] = [];
  const hi: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const [l, h] = splitRange(shape[i], degrees[i], coords[i]);
    lo.push(l);
    hi.push(h);
  }
  return { lo, hi };
}

/** All parts of `shape` split by `degrees`, in row-major task order. They tile the shape exactly. */
export function partition(shape: readonly number[], degrees: readonly number[]): Region[] {
  if (shape.length !== degrees.length) throw new RangeError(`partition: ${shape.length} dims but ${degrees.length} degrees`);
  let n = 1;
  for (const d of degrees) {
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`partition: degree ${d} is not a positive integer`);
    n *= d;
  }
  const parts: Region[] = [];
  for (let i = 0; i < n; i++) parts.push(partRegion(shape, degrees, i));
  return parts;
}

/** The parts of `r` not covered by `b`: at most 2 per dim, disjoint, in a fixed order. */
export function subtractOne(r: Region, b: Region): Region[] {
  const common = intersect(r, b);
  if (!common) return isEmpty(r) ? [] : [r];
  const out: Region[] = [];
  const lo = [...r.lo];
  const hi = [...r.hi];
  for (let d = 0; d < r.lo.length; d++) {
    if (lo[d] < common.lo[d]) {
      const piece = { lo: [...lo], hi: [...hi] };
      piece.hi[d] = common.lo[d];
      out.push(piece);
    }
    if (common.hi[d] < hi[d]) {
      const piece = { lo: [...lo], hi: [...hi] };
      piece.lo[d] = common.hi[d];
      out.push(piece);
    }
    lo[d] = common.lo[d];
    hi[d] = common.hi[d];
  }
  return out;
}

/** The parts of `r` covered by none of `others`, as disjoint regions. */
export function subtract(r: Region, others: readonly Region[]): Region[] {
  let rest: Region[] = isEmpty(r) ? [] : [r];
  for (const o of others) {
    const next: Region[] = [];
    for (const piece of rest) next.push(...subtractOne(piece, o));
    rest = next;
    if (rest.length === 0) break;
  }
  return rest;
}

/** True when `others` together cover every element of `r`. */
export function covers(others: readonly Region[], r: Region): boolean {
  return subtract(r, others).length === 0;
}

/** Who holds which part of `r`: each owner's region intersected with `r` (owners in order). */
export function owners<T>(r: Region, held: readonly { owner: T; region: Region }[]): { owner: T; region: Region }[] {
  const out: { owner: T; region: Region }[] = [];
  for (const h of held) {
    const common = intersect(r, h.region);
    if (common) out.push({ owner: h.owner, region: common });
  }
  return out;
}

/** A compact string naming `r` exactly ("lo,…:hi,…"), for maps keyed by region. */
export function regionKey(r: Region): string {
  return `${r.lo.join(",")}:${r.hi.join(",")}`;
}

export function formatRegion(r: Region): string {
  return `[${r.lo.map((l, i) => `${l}:${r.hi[i]}`).join(", ")}]`;
}
