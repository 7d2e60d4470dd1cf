import { readdirSync, readFileSync } from "node:fs";
import { Lexer, type ILexingResult, type IToken } from "chevrotain";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as T from "../../grammar/tokens.js";
import { assertProperty } from "../support/property.js";
import { validProgramArb } from "../support/program-gen.js";

function lex(text: string): { types: string[]; images: string[]; comments: string[]; invalid: string[]; errors: number } {
  const r = T.parLexer.tokenize(text);
  return {
    types: r.tokens.map((t) => t.tokenType.name),
    images: r.tokens.map((t) => t.image),
    comments: (r.groups.comments ?? []).map((t) => t.image),
    invalid: (r.groups.invalid ?? []).map((t) => `${t.tokenType.name}:${t.image}`),
    errors: r.errors.length,
  };
}

describe("lexer", () => {
  it("reserves exactly the documented words; longer names and `x` stay identifiers", () => {
    expect(T.RESERVED_WORDS).toEqual(["model", "block", "mesh", "strategy", "input", "repeat", "for", "in", "return", "as", "on", "device", "link", "true", "false"]);
    for (const w of T.RESERVED_WORDS) expect(lex(w).types).not.toEqual(["Identifier"]);
    expect(lex("models input_x x f32 _t inputs blocks").types).toEqual(Array(7).fill("Identifier"));
  });

  it("reads ints with underscores, floats, and splits ranges", () => {
    expect(lex("64 1_000 0.1 1e-5 2.5e3 1E+2").types).toEqual(["IntLiteral", "IntLiteral", "FloatLiteral", "FloatLiteral", "FloatLiteral", "FloatLiteral"]);
    expect(lex("0..15").types).toEqual(["IntLiteral", "DotDot", "IntLiteral"]);
    expect(lex("0.5..1").types).toEqual(["FloatLiteral", "DotDot", "IntLiteral"]);
  });

  it("lexes malformed numbers and unterminated strings into the invalid group", () => {
    expect(lex("16GB 1__0 1_ 2e 12ab").invalid).toEqual(["MalformedNumber:16GB", "MalformedNumber:1__0", "MalformedNumber:1_", "MalformedNumber:2e", "MalformedNumber:12ab"]);
    expect(lex('"abc\nx').invalid).toEqual(['UnterminatedString:"abc']);
    expect(lex('"a\\"b"').types).toEqual(["StringLiteral"]);
  });

  it("tells operators apart: // from /, .. from ., and marks binary operators", () => {
    expect(lex("a // b / c % d .. e . f ? * + -").types).toEqual([
      "Identifier", "SlashSlash", "Identifier", "Slash", "Identifier", "Percent", "Identifier", "DotDot", "Identifier", "Dot", "Identifier", "Question", "Star", "Plus", "Minus",
    ]);
    for (const op of [T.Plus, T.Minus, T.Star, T.Slash, T.SlashSlash, T.Percent]) expect(op.CATEGORIES).toContain(T.BinaryOp);
  });

  it("keeps comments in their own group and skips whitespace and a BOM", () => {
    const r = lex("\uFEFFh = x # note\n# full line\r\ny");
    expect(r.images).toEqual(["h", "=", "x", "y"]);
    expect(r.comments).toEqual(["# note", "# full line"]);
    expect(r.errors).toBe(0);
  });

  it("reports characters no token starts with", () => {
    expect(lex("a @ b $").errors).toBe(2);
  });
});

/** chevrotain's own lexer over the same token definitions: the reference for the hand-written one. */
const reference = new Lexer(T.ALL_TOKENS, { positionTracking: "onlyOffset", ensureOptimizations: true });

function normalized(r: ILexingResult): unknown {
  const tok = (t: IToken): unknown[] => [t.tokenType.name, t.image, t.startOffset, t.startOffset + t.image.length - 1];
  return {
    tokens: r.tokens.map(tok),
    comments: (r.groups.comments ?? []).map(tok),
    invalid: (r.groups.invalid ?? []).map(tok),
    groups: Object.keys(r.groups),
    errors: r.errors.map((e) => [e.offset, e.length, e.message]),
  };
}

function sameAsReference(text: string): boolean {
  const ours = T.parLexer.tokenize(text);
  expect(normalized(ours), JSON.stringify(text)).toEqual(normalized(reference.tokenize(text)));
  for (const t of [...ours.tokens, ...(ours.groups.comments ?? []), ...(ours.groups.invalid ?? [])]) expect(t.endOffset).toBe(t.startOffset + t.image.length - 1);
  return true;
}

describe("lexer: the hand-written scanner gives what chevrotain's lexer gives", () => {
  it("on tricky text", () => {
    for (const text of [
      "", " ", "model models modelx _model in input inputs inx x1 1x _ __a true truex True",
      "0 1_000 1__0 1_ 0.5 .5 5. 1e5 1e 2.5e-3 2.5e+ 1E+2 0..15 0.5..1 1.2.3 12ab 16GB 1e5x 007",
      'a = "str" "esc\\" "q\\"" "open\nnext" "bad\\', "\"", "a // b / c % d .. e . f ? * + - ... //// /",
      "# c\r\n#\n#x\ry", "\uFEFFh\t=\fx\v", "a @ b $$ c `d` \u00a7 é ok \u2028 \uFE01 \uD83D\uDE00 z", "@", "@@", "a@", "'s'",
      "(){}[],:;=", "x = relu(linear(h, out = hidden * 2 / 2))  # layer 3\n",
    ]) sameAsReference(text);
  });

  it("on every model in models/", () => {
    const dir = new URL("../../models/", import.meta.url);
    for (const f of readdirSync(dir).filter((name) => name.endsWith(".par"))) sameAsReference(readFileSync(new URL(f, dir), "utf8"));
  });

  it("on random text over the characters that matter", () => {
    const chars = [..."abexinmodlutr_019 .\t\n\r#\"\\/*+-%?=:;,()[]{}@$`é\uFEFFE"];
    const text = fc.array(fc.constantFrom(...chars), { maxLength: 60 }).map((cs) => cs.join(""));
    assertProperty(fc.property(text, sameAsReference), 3000);
  });

  it("on generated programs", () => {
    assertProperty(fc.property(validProgramArb, sameAsReference), 300);
  });
});
