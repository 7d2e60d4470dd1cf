// Op naming: stable, readable, unique names that strategies address ops by
// ("layer3.attn.qkv"). A name already taken gets `_2`, `_3`, ... in claim order, which the
// elaborator makes source order, so names do not shift when unrelated code changes.

export class NameTable {
  /**
   * Every name taken, with the next suffix to try when it is claimed again (0: none tried
   * yet, so `_2`). One map, so that a claim costs one lookup and one insertion: a large
   * model claims tens of thousands of names.
   */
  private readonly taken = new Map<string, number>();

  has(name: string): boolean {
    return this.taken.has(name);
  }

  /** Reserves `base` if free, else the first free `base_2`, `base_3`, ... and returns it. */
  claim(base: string): string {
    const next = this.taken.get(base);
    if (next === undefined) {
      this.taken.set(base, 0);
      return base;
    }
    let n = next === 0 ? 2 : next;
    let name = `${base}_${n}`;
    while (this.taken.has(name)) name = `${base}_${++n}`;
    this.taken.set(base, n + 1);
    this.taken.set(name, 0);
    return name;
  }
}

/** The name of an anonymous input dim: axis i is `d<i>`. */
export function anonymousDimName(axis: number): string {
  return `d${axis}`;
}

/** Prefix of the names made in iteration `i` of `repeat N as label` / `for label in ...`. */
export function loopPrefix(label: string, i: number): string {
  return `${label}${i}.`;
}

/** The label `repeat` uses when none is given. */
export const DEFAULT_REPEAT_LABEL = "layer";

/**
 * A strategy glob as an anchored regular expression: `*` matches any run of characters
 * (dots included), `?` exactly one; everything else is literal.
 */
export function globToRegExp(pattern: string): RegExp {
  let src = "";
  for (const ch of pattern) {
    if (ch === "*") src += ".*";
    else if (ch === "?") src += ".";
    else src += ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${src}$`, "s");
}
