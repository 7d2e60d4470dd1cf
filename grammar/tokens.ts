// Tokens of the .par language and the one lexer built from them.
// Comments go to their own group (the printer keeps them); newlines and spaces are skipped,
// so statements are separated by structure, with ';' as an optional separator.
// Broken strings and numbers are lexed as tokens of the "invalid" group so that the front
// end can report them with a precise code instead of a generic "unexpected character".

import { createToken, Lexer, type IToken, type TokenType } from "chevrotain";

const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\v\uFEFF]+/, group: Lexer.SKIPPED, line_breaks: true });
export const Comment = createToken({ name: "Comment", pattern: /#[^\r\n]*/, group: "comments" });

export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*"/, label: "a string" });
/** A string that reaches the end of its line without a closing quote. */
export const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*\\?/, group: "invalid" });

// Numbers: `64`, `1_000`, `0.1`, `1e-5`, `2.5e3`. A digit run glued to letters (`12ab`,
// `16GB`, `1e`) or with stray underscores (`1__0`) is one malformed-number token.
// The float pattern needs a digit after '.', so `0..15` lexes as 0, .., 15.
export const FloatLiteral = createToken({
  name: "FloatLiteral",
  pattern: /\d+(?:_\d+)*(?:\.\d+(?:_\d+)*(?:[eE][+-]?\d+)?|[eE][+-]?\d+)(?![A-Za-z0-9_])/,
  start_chars_hint: DIGITS,
  label: "a number",
});
export const IntLiteral = createToken({ name: "IntLiteral", pattern: /\d+(?:_\d+)*(?![A-Za-z0-9_])/, start_chars_hint: DIGITS, label: "an integer" });
export const MalformedNumber = createToken({ name: "MalformedNumber", pattern: /\d[A-Za-z0-9_]*(?:\.\d[A-Za-z0-9_]*)?/, group: "invalid" });

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: "a name" });

function keyword(word: string): TokenType {
  const name = word[0].toUpperCase() + word.slice(1);
  return createToken({ name, pattern: new RegExp(word), longer_alt: Identifier, label: `\`${word}\`` });
}

// The reserved words; everything else (dtypes, op names, `x` in `node x 4`) is an identifier.
export const Model = keyword("model");
export const Block = keyword("block");
export const Mesh = keyword("mesh");
export const Strategy = keyword("strategy");
export const Input = keyword("input");
export const Repeat = keyword("repeat");
export const For = keyword("for");
export const In = keyword("in");
export const Return = keyword("return");
export const As = keyword("as");
export const On = keyword("on");
export const Device = keyword("device");
export const Link = keyword("link");
export const True = keyword("true");
export const False = keyword("false");

export const KEYWORDS = [Model, Block, Mesh, Strategy, Input, Repeat, For, In, Return, As, On, Device, Link, True, False];
export const RESERVED_WORDS: readonly string[] = KEYWORDS.map((k) => (k.LABEL ?? "").replace(/`/g, ""));

/** The binary arithmetic operators share a category, so the parser has one flat operator loop. */
export const BinaryOp = createToken({ name: "BinaryOp", pattern: Lexer.NA, label: "an operator" });

function punct(name: string, text: string, binary = false): TokenType {
  return createToken({ name, pattern: text, label: `\`${text}\``, ...(binary ? { categories: [BinaryOp] } : {}) });
}

export const LParen = punct("LParen", "(");
export const RParen = punct("RParen", ")");
export const LBracket = punct("LBracket", "[");
export const RBracket = punct("RBracket", "]");
export const LBrace = punct("LBrace", "{");
export const RBrace = punct("RBrace", "}");
export const Comma = punct("Comma", ",");
export const Colon = punct("Colon", ":");
export const Semicolon = punct("Semicolon", ";");
export const Equals = punct("Equals", "=");
export const DotDot = punct("DotDot", "..");
export const Dot = punct("Dot", ".");
export const Plus = punct("Plus", "+", true);
export const Minus = punct("Minus", "-", true);
export const Star = punct("Star", "*", true);
export const SlashSlash = punct("SlashSlash", "//", true);
export const Slash = punct("Slash", "/", true);
export const Percent = punct("Percent", "%", true);
export const Question = punct("Question", "?");

/** Order matters: the first pattern that matches wins (`//` before `/`, `..` before `.`). */
export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  Comment,
  StringLiteral,
  UnterminatedString,
  FloatLiteral,
  IntLiteral,
  MalformedNumber,
  ...KEYWORDS,
  Identifier,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Semicolon,
  Equals,
  DotDot,
  Dot,
  Plus,
  Minus,
  Star,
  SlashSlash,
  Slash,
  Percent,
  Question,
  BinaryOp,
];

/** The parser's token vocabulary: what can reach it (no skipped or grouped tokens). */
export const PARSER_TOKENS: TokenType[] = ALL_TOKENS.filter((t) => t !== WhiteSpace && t !== Comment && t !== UnterminatedString && t !== MalformedNumber);

/**
 * Tokens carry offsets only (`startOffset`, `endOffset`): no line counting while lexing, and
 * a token half the size. Lines and columns come from the text when a diagnostic or a span
 * needs them (src/frontend/lines.ts). chevrotain's offset-only tokens lack `endOffset`, which
 * the parser's node locations need, so this lexer adds it (same value as full tracking).
 */
class OffsetLexer extends Lexer {
  createOffsetOnlyToken(image: string, startOffset: number, tokenTypeIdx: number, tokenType: TokenType, _line: unknown, _column: unknown, imageLength: number): IToken {
    return { image, startOffset, endOffset: startOffset + imageLength - 1, tokenTypeIdx, tokenType };
  }
}

function makeLexer(): Lexer {
  const lexer = new OffsetLexer(ALL_TOKENS, { positionTracking: "onlyOffset", ensureOptimizations: true });
  // Should a chevrotain update stop calling the override, track positions in full instead.
  if (lexer.tokenize("a").tokens[0]?.endOffset === 0) return lexer;
  return new Lexer(ALL_TOKENS, { positionTracking: "full", ensureOptimizations: true });
}

export const parLexer = makeLexer();

// Invalid tokens (malformed numbers, unterminated strings) are handed to the parser in
// place of the token they were meant to be, so one typo does not cascade into parse
// errors; they carry this payload so the AST builder drops them.
const INVALID = Symbol("invalid token");

export function markInvalid(t: IToken): void {
  t.payload = INVALID;
}

export function isInvalid(t: IToken): boolean {
  return t.payload === INVALID;
}
