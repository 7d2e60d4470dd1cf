import { describe, expect, it } from "vitest";
import * as T from "../../grammar/tokens.js";

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
