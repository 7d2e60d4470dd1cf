// Structure-aware mutations of JSON documents (plans, strategies, model.json, cost tables):
// a value somewhere in the tree becomes an extreme or another kind, a key or an element
// goes away or is repeated; sometimes the text is then cut short.

import type { Rng } from "./rng.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const EXTREMES: Json[] = [0, -1, 1, 2, 1e308, -1e308, 2 ** 53 + 2, 2 ** 31, 0.5, -0.5, "", "x", "NaN", null, true, [], {}, [0], [-1, -1], [1e9, 1e9]];

/** Every path to a value of `doc` (the root excluded), at most `limit` of them, breadth first. */
function paths(doc: Json, limit = 20000): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: { v: Json; p: (string | number)[] }[] = [{ v: doc, p: [] }];
  while (queue.length && out.length < limit) {
    const { v, p } = queue.shift()!;
    if (Array.isArray(v)) v.forEach((x, i) => (out.push([...p, i]), queue.push({ v: x, p: [...p, i] })));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) (out.push([...p, k]), queue.push({ v: x, p: [...p, k] }));
  }
  return out;
}

function parentOf(doc: Json, path: (string | number)[]): Json {
  let v = doc;
  for (const k of path.slice(0, -1)) v = (v as Record<string, Json>)[k as string];
  return v;
}

/** One to `max` structural edits of `text` (JSON); the result may not be JSON any more. */
export function mutateJson(text: string, rng: Rng, max = 3): string {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch {
    return text.slice(0, rng.int(text.length + 1));
  }
  const edits = 1 + rng.int(max);
  for (let e = 0; e < edits; e++) {
    const all = paths(doc);
    if (all.length === 0) break;
    const path = rng.pick(all);
    const parent = parentOf(doc, path) as Record<string, Json> & Json[];
    const key = path[path.length - 1];
    const old = parent[key as number];
    const kind = rng.weighted<string>([
      [5, "extreme"],
      [2, "delete"],
      [1, "duplicate"],
      [2, "nudge"],
    ]);
    if (kind === "delete") {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else if (kind === "duplicate" && Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(old));
    else if (kind === "nudge" && typeof old === "number") parent[key as number] = rng.pick([old + 1, old - 1, old * 2, -old, Math.floor(old / 2)]);
    else if (kind === "nudge" && typeof old === "string") parent[key as number] = old + rng.pick(["_", "x", "0"]);
    else parent[key as number] = structuredClone(rng.pick(EXTREMES));
  }
  const out = JSON.stringify(doc);
  return rng.chance(0.08) ? out.slice(0, rng.int(out.length)) : out;
}
