// Malformed input never makes parse + check throw, and always yields at least one coded
// diagnostic at a real position in the text. Every mutation below is malformed by
// construction (a character no token starts with, an unbalanced bracket, a reference
// renamed to a fresh undefined name, a soup that cannot start a program), so the property
// can fail only when par misbehaves.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { Call, Expr, Program, Stmt } from "../../src/frontend/ast.js";
import { check } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import { validProgramArb } from "../support/program-gen.js";
import { assertProperty } from "../support/property.js";

/** Six properties × 1,700 runs: more than 10,000 malformed inputs per test run. */
const RUNS = 1700;

/** Parse + check; the diagnostics, or the exception's message if anything escaped. */
function analyze(text: string): Diagnostics {
  const d = new Diagnostics();
  const program = parse(text, "fuzz.par", d);
  // Check even a partial program recovered from syntax errors: it must not throw either.
  // Small limits: random loops (`repeat 99 { repeat 99 ... }`) stop early, with PAR2021.
  if (program) check(program, d, { limits: { maxOps: 500, maxSteps: 2000 } });
  return d;
}

/** True when the diagnostics include an error-or-warning with a code and an in-text position. */
function wellReported(text: string, d: Diagnostics): boolean {
  const lines = text.split(/\r\n|\r|\n/);
  if (d.items.length === 0) return false;
  return d.items.every((x) => {
    if (!/^PAR\d{4}$/.test(x.code) || !x.pos) return false;
    const { line, column, offset } = x.pos;
    if (!(Number.isInteger(line) && Number.isInteger(column) && line >= 1 && column >= 1 && line <= lines.length)) return false;
    if (column > lines[line - 1].length + 1) return false;
    return offset === undefined || (offset >= 0 && offset <= text.length);
  });
}

function property(text: string): boolean {
  const d = analyze(text);
  if (!wellReported(text, d)) throw new Error(`not reported well:\n${text}\n---\n${JSON.stringify(d.items, null, 1)}`);
  return true;
}

/** Offsets where inserted text is code (not inside a string or a comment): state before each char. */
function codeOffsets(text: string): number[] {
  const out: number[] = [];
  let state: "code" | "string" | "comment" = "code";
  for (let i = 0; i <= text.length; i++) {
    if (state === "code") out.push(i);
    const c = text[i];
    if (c === undefined) break;
    if (state === "code") {
      if (c === '"') state = "string";
      else if (c === "#") state = "comment";
    } else if (state === "string") {
      if (c === "\\" && text[i + 1] !== "\n" && text[i + 1] !== "\r" && text[i + 1] !== undefined) i++;
      else if (c === '"' || c === "\n" || c === "\r") state = "code";
    } else if (c === "\n" || c === "\r") state = "code";
  }
  return out;
}

/** Offsets of code characters that are one of `chars`. */
function codeCharOffsets(text: string, chars: string): number[] {
  const code = new Set(codeOffsets(text));
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) if (chars.includes(text[i]) && code.has(i) && code.has(i + 1)) out.push(i);
  return out;
}

const pick = <T>(xs: readonly T[], r: number): T => xs[Math.floor(r * xs.length) % xs.length];
const rand = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const BAD_CHARS = ["$", "@", "`", "\u00a7"];

/** Inserts a character that no token can start with, at a code offset. */
const insertBadChar = fc.tuple(validProgramArb, rand, fc.constantFrom(...BAD_CHARS)).map(([text, r, ch]) => {
  const at = pick(codeOffsets(text), r);
  return text.slice(0, at) + ch + text.slice(at);
});

/** Garbage (always containing a never-lexable character) at a code offset. */
const insertGarbage = fc
  .tuple(validProgramArb, rand, fc.string({ maxLength: 6 }), fc.constantFrom(...BAD_CHARS), fc.nat(6))
  .map(([text, r, junk, bad, k]) => {
    const at = pick(codeOffsets(text), r);
    // No `#` or `"` in the junk: they would turn the bad character into a comment or string.
    const clean = junk.replace(/[#"\r\n]/g, "");
    const g = clean.slice(0, k) + bad + clean.slice(k);
    return text.slice(0, at) + g + text.slice(at);
  });

/** Deletes a closing bracket, or (when there is none) appends an unmatched opener. */
const deleteCloser = fc.tuple(validProgramArb, rand).map(([text, r]) => {
  const closers = codeCharOffsets(text, "})]");
  if (closers.length === 0) return text + " {";
  const at = pick(closers, r);
  return text.slice(0, at) + text.slice(at + 1);
});

/** Duplicates an opening bracket token (the copy is never closed). */
const duplicateOpener = fc.tuple(validProgramArb, rand).map(([text, r]) => {
  const openers = codeCharOffsets(text, "{([");
  if (openers.length === 0) return "(" + text;
  const at = pick(openers, r);
  return text.slice(0, at + 1) + text.slice(at);
});

/** Cuts the text where at least one bracket is still open. */
const truncate = fc.tuple(validProgramArb, rand).map(([text, r]) => {
  const code = new Set(codeOffsets(text));
  const cuts: number[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (code.has(i) && code.has(i + 1)) {
      if ("{([".includes(text[i])) depth++;
      else if ("})]".includes(text[i])) depth--;
    }
    if (depth > 0) cuts.push(i + 1);
  }
  if (cuts.length === 0) return text + "model";
  return text.slice(0, pick(cuts, r));
});

/**
 * Calls in statements directly in model bodies. Each model is elaborated and each such
 * statement runs (or an error stopped it first), so an unknown callee there is always
 * reported, wherever the call sits in the expression.
 */
function modelCallees(program: Program): Call[] {
  const out: Call[] = [];
  const expr = (e: Expr): void => {
    if (e.kind === "call") {
      out.push(e);
      e.args.forEach(expr);
      e.named.forEach((n) => expr(n.value));
    } else if (e.kind === "binary") {
      expr(e.left);
      expr(e.right);
    } else if (e.kind === "unary") expr(e.operand);
    else if (e.kind === "list") e.elements.forEach(expr);
    else if (e.kind === "range") {
      expr(e.start);
      expr(e.end);
    }
  };
  // Only statements directly in a model body: a loop body may run zero times.
  const stmts = (body: Stmt[]): void => {
    for (const s of body) if (s.kind === "assign") expr(s.value);
  };
  for (const item of program.items) if (item.kind === "model") stmts(item.body);
  return out;
}

/**
 * Renames a reference to a fresh name nothing defines: the callee of a call in a model
 * (unknown op), else a strategy's model (unknown model), else inserts a bad character.
 */
const renameToUndefined = fc.tuple(validProgramArb, rand).map(([text, r]) => {
  const program = parse(text, "seed.par", new Diagnostics());
  const fresh = "zq_undefined_name";
  if (program) {
    const calls = modelCallees(program);
    if (calls.length > 0) {
      const span = pick(calls, r).calleeSpan;
      return text.slice(0, span.offset) + fresh + text.slice(span.endOffset);
    }
    const strategies = program.items.filter((i) => i.kind === "strategy");
    if (strategies.length > 0) {
      const s = pick(strategies, r);
      if (s.kind === "strategy") return text.slice(0, s.modelSpan.offset) + fresh + text.slice(s.modelSpan.endOffset);
    }
  }
  return "$" + text;
});

const SOUP_TOKENS = ["model", "block", "mesh", "strategy", "input", "repeat", "as", "for", "in", "on", "return", "device", "link", "x", "h", "relu", "linear",
  "(", ")", "{", "}", "[", "]", ",", ":", ";", "=", "+", "-", "*", "/", "//", "%", "..", ".", "?", "0", "7", "1.5", '"s"', "true", "f32", "\n", "# c\n", "GB/s"];
/** Random tokens after one that can never start a program. */
const tokenSoup = fc
  .tuple(fc.constantFrom(")", "]", "}", "=", ",", ":", "..", "+", "*", "7", "@"), fc.array(fc.constantFrom(...SOUP_TOKENS), { maxLength: 40 }))
  .map(([first, rest]) => [first, ...rest].join(" "));

describe("malformed input: never throws, always a coded, positioned diagnostic", () => {
  it("a never-lexable character inserted into a valid program", () => {
    assertProperty(fc.property(insertBadChar, property), RUNS);
  });
  it("garbage inserted into a valid program", () => {
    assertProperty(fc.property(insertGarbage, property), RUNS);
  });
  it("a closing bracket deleted or an opening bracket duplicated", () => {
    assertProperty(fc.property(fc.oneof(deleteCloser, duplicateOpener), property), RUNS);
  });
  it("a valid program truncated inside an open bracket", () => {
    assertProperty(fc.property(truncate, property), RUNS);
  });
  it("a reference renamed to an undefined name", () => {
    assertProperty(fc.property(renameToUndefined, property), RUNS);
  });
  it("random token soup", () => {
    assertProperty(fc.property(tokenSoup, property), RUNS);
  });

  it("sanity: a clean program yields no diagnostic, a renamed callee exactly one", () => {
    // A valid, clean program produces no diagnostic: the property is not vacuous.
    const clean = "model m() {\n  input x : f32[2, 3]\n  loss = relu(x)\n}\n";
    expect(analyze(clean).items).toEqual([]);
    expect(wellReported(clean, analyze(clean))).toBe(false);
    expect(analyze(clean.replace("relu", "zq_undefined_name")).items.map((x) => x.code)).toEqual(["PAR2005"]);
  });
});
