// A map keyed by regions' values. Layouts look up every region of every task (which group
// writes this output region, which shard is this weight region, which id has this input
// region), thousands per layout and layouts by the thousand in a search: hashing the
// coordinates, rather than building a string key per lookup, keeps that free of garbage.

import { regionEquals, type Region } from "../core/region.js";

interface Entry<T> {
  region: Region;
  value: T;
  /** The next entry whose region hashes alike. */
  next: Entry<T> | undefined;
}

function hashOf(r: Region): number {
  let h = r.lo.length;
  for (let i = 0; i < r.lo.length; i++) {
    h = Math.imul(h ^ r.lo[i], 0x9e3779b1);
    h = Math.imul(h ^ r.hi[i], 0x85ebca6b);
  }
  return h ^ (h >>> 15);
}

export class RegionMap<T> {
  private readonly buckets = new Map<number, Entry<T>>();
  private readonly added: T[] = [];

  get size(): number {
    return this.added.length;
  }

  get(r: Region): T | undefined {
    for (let e = this.buckets.get(hashOf(r)); e; e = e.next) if (regionEquals(e.region, r)) return e.value;
    return undefined;
  }

  /** Sets the value of `r` (which must not be in the map yet). */
  add(r: Region, value: T): void {
    const h = hashOf(r);
    this.buckets.set(h, { region: r, value, next: this.buckets.get(h) });
    this.added.push(value);
  }

  /** The values, in the order they were added (the map's own array: read it only). */
  values(): readonly T[] {
    return this.added;
  }
}
