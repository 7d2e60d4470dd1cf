// Grammar-aware mutations of .par text: the text is cut into the lexer's tokens and edited
// token by token (insert, delete, swap, duplicate a run), numbers become extremes and names
// near-misses, so most mutants are almost valid programs and reach the checker, the
// elaborator and the later stages, not only the parser.

import type { IToken } from "chevrotain";
import { parLexer } from "../grammar/tokens.js";
import type { Rng } from "./rng.js";

/** Numbers that stress arithmetic, shapes and limits. */
export const EXTREME_NUMBERS = ["0", "1", "-1", "2", "3", "7", "1024", "65536", "2147483647", "4294967296", "9007199254740991", "9007199254740993", "1e308", "1e-320", "0.5", "-0.0", "99999999999999999999", "1_000_000"];
/** Tokens worth inserting: brackets, operators, keywords and separators. */
const INSERTS = ["(", ")", "[", "]", "{", "}", ",", ":", ";", "=", "..", ".", "*", "/", "//", "%", "+", "-", "?", "model", "block", "mesh", "strategy", "input", "repeat", "for", "in", "return", "as", "on", "device", "link", "true", "false", "x", "h", "batch", "linear", "relu", "\"s\"", "f32", "i32", "GB/s", "us", "#c\n", "\n"];

interface Piece {
  text: string;
  /** A token (not the whitespace or comment between tokens). */
  token: boolean;
  kind: string;
}

/** The text as a list of tokens and the gaps between them (so that joining gives it back). */
function pieces(text: string): Piece[] {
  const lexed = parLexer.tokenize(text);
  const tokens: IToken[] = [...lexed.tokens, ...(lexed.groups.invalid ?? [])].sort((a, b) => a.startOffset - b.startOffset);
  const out: Piece[] = [];
  let at = 0;
  for (const t of tokens) {
    if (t.startOffset < at) continue;
    if (t.startOffset > at) out.push({ text: text.slice(at, t.startOffset), token: false, kind: "gap" });
    out.push({ text: t.image, token: true, kind: t.tokenType.name });
    at = t.startOffset + t.image.length;
  }
  if (at < text.length) out.push({ text: text.slice(at), token: false, kind: "gap" });
  return out;
}

/** A name one edit away: a letter dropped, doubled, swapped or changed. */
export function nearMiss(name: string, rng: Rng): string {
  if (name.length === 0) return "x";
  const i = rng.int(name.length);
  switch (rng.int(4)) {
    case 0:
      return name.length > 1 ? name.slice(0, i) + name.slice(i + 1) : name + "_";
    case 1:
      return name.slice(0, i + 1) + name[i] + name.slice(i + 1);
    case 2:
      return i + 1 < name.length ? name.slice(0, i) + name[i + 1] + name[i] + name.slice(i + 2) : name + "2";
    default:
      return name.slice(0, i) + rng.pick("abcdefghijklmnopqrstuvwxyz_".split("")) + name.slice(i + 1);
  }
}

/** One to `max` token-level edits of `text`. */
export function mutatePar(text: string, rng: Rng, max = 4): string {
  let ps = pieces(text);
  const edits = 1 + rng.int(max);
  for (let e = 0; e < edits; e++) {
    const tokenAt = ps.map((p, i) => (p.token ? i : -1)).filter((i) => i >= 0);
    if (tokenAt.length === 0) {
      ps.push({ text: ` ${rng.pick(INSERTS)} `, token: true, kind: "insert" });
      continue;
    }
    const i = rng.pick(tokenAt);
    const p = ps[i];
    const kind = rng.weighted<string>([
      [3, "number"],
      [3, "name"],
      [2, "delete"],
      [2, "insert"],
      [1, "swap"],
      [1, "duplicate"],
      [1, "truncate"],
    ]);
    if (kind === "number" && /Literal$/.test(p.kind) && p.kind !== "StringLiteral") ps[i] = { ...p, text: rng.pick(EXTREME_NUMBERS) };
    else if (kind === "name" && p.kind === "Identifier") ps[i] = { ...p, text: nearMiss(p.text, rng) };
    else if (kind === "delete") ps.splice(i, 1);
    else if (kind === "insert") ps.splice(i, 0, { text: ` ${rng.pick(INSERTS)} `, token: true, kind: "insert" });
    else if (kind === "swap") {
      const j = tokenAt[Math.min(tokenAt.length - 1, tokenAt.indexOf(i) + 1)];
      [ps[i], ps[j]] = [ps[j], ps[i]];
    } else if (kind === "duplicate") {
      const len = 1 + rng.int(Math.min(12, ps.length - i));
      ps.splice(i, 0, ...ps.slice(i, i + len));
    } else if (kind === "truncate") ps = ps.slice(0, i);
    else if (p.kind === "Identifier") ps[i] = { ...p, text: nearMiss(p.text, rng) };
    else ps.splice(i, 1);
  }
  return ps.map((p) => p.text).join("");
}
