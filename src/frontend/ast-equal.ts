// Structural equality of ASTs that ignores where things were written: source spans
// (`span`, `*Span`) and comments. Used by the round-trip tests of `par fmt`.

const IGNORED = new Set(["span", "leadingComments", "trailingComment", "endComments"]);

function ignored(key: string): boolean {
  return IGNORED.has(key) || key.endsWith("Span");
}

/** A deep copy without spans and comments (keys whose value is undefined are dropped too). */
export function stripSpans<T>(x: T): T {
  if (Array.isArray(x)) return x.map((v) => stripSpans(v)) as T;
  if (x === null || typeof x !== "object") return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) if (!ignored(k) && v !== undefined) out[k] = stripSpans(v);
  return out as T;
}

/** True when `a` and `b` have the same structure and values, spans and comments aside. */
export function astEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => astEqual(v, b[i]));
  const keys = (o: object): string[] =>
    Object.entries(o)
      .filter(([k, v]) => !ignored(k) && v !== undefined)
      .map(([k]) => k)
      .sort();
  const ka = keys(a);
  const kb = keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => astEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
