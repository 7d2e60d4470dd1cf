// Tokens of the .par language and the one lexer that reads them (`parLexer`: scanned by
// hand, equal to chevrotain's lexer over `ALL_TOKENS`).
// Comments go to their own group (the printer keeps them); newlines and spaces are skipped,
// so statements are separated by structure, with ';' as an optional separator.
// Broken strings and numbers are lexed as tokens of the "invalid" group so that the front
// end can report them with a precise code instead of a generic "unexpected character".

import { createToken, defaultLexerErrorProvider, Lexer, type ILexingError, type ILexingResult, type IToken, type TokenType } from "chevrotain";

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

/**
 * The token definitions in lexing order: the first pattern that matches wins (`//` before
 * `/`, `..` before `.`). `parLexer` follows this order; a test compares it with chevrotain's
 * lexer built from this list.
 */
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

/** What `parLexer.tokenize` returns: chevrotain's lexing result. */
export type LexingResult = ILexingResult;

/** chevrotain's message for characters no token starts with (the front end words its own). */
const unexpectedCharacters = (text: string, offset: number, length: number): string =>
  defaultLexerErrorProvider.buildUnexpectedCharactersMessage(text, offset, length, undefined, undefined, "defaultMode");

// Character classes of the scanner below (char codes).
const enum Ch {
  Tab = 9, Newline = 10, VerticalTab = 11, FormFeed = 12, Return = 13, Space = 32,
  Quote = 34, Hash = 35, Dot = 46, Slash = 47, Zero = 48, Nine = 57, Underscore = 95, Bom = 0xfeff,
}

function isBlank(c: number): boolean {
  return c === Ch.Space || c === Ch.Newline || c === Ch.Return || c === Ch.Tab || c === Ch.VerticalTab || c === Ch.FormFeed || c === Ch.Bom;
}
function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === Ch.Underscore;
}
function isNamePart(c: number): boolean {
  return isNameStart(c) || (c >= Ch.Zero && c <= Ch.Nine);
}

/** The one-character tokens by char code below 128 (`.` and `/` start two-character tokens too). */
const SINGLE: (TokenType | undefined)[] = new Array<TokenType | undefined>(128).fill(undefined);
for (const t of [LParen, RParen, LBracket, RBracket, LBrace, RBrace, Comma, Colon, Semicolon, Equals, Plus, Minus, Star, Percent, Question]) SINGLE[(t.PATTERN as string).charCodeAt(0)] = t;
/** Reserved words by first letter: a name is a keyword when it is one exactly (longer names stay names). */
const KEYWORDS_BY_FIRST: ({ word: string; type: TokenType }[] | undefined)[] = new Array<undefined>(128).fill(undefined);
for (const type of KEYWORDS) {
  const word = (type.PATTERN as RegExp).source;
  (KEYWORDS_BY_FIRST[word.charCodeAt(0)] ??= []).push({ word, type });
}
const sticky = (t: TokenType): RegExp => new RegExp((t.PATTERN as RegExp).source, "y");
const STRING = sticky(StringLiteral);
const UNTERMINATED = sticky(UnterminatedString);
const FLOAT = sticky(FloatLiteral);
const INT = sticky(IntLiteral);
const MALFORMED = sticky(MalformedNumber);

/** True when some token can start with char code `c` (where the lexer resumes after unexpected characters). */
function startsToken(c: number): boolean {
  return isBlank(c) || isNameStart(c) || (c >= Ch.Zero && c <= Ch.Nine) || c === Ch.Hash || c === Ch.Quote || c === Ch.Dot || c === Ch.Slash || (c < 128 && SINGLE[c] !== undefined);
}

/** End (exclusive) of the match of sticky `re` at `at`, or -1. */
function matchEnd(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : -1;
}

function token(image: string, startOffset: number, type: TokenType): IToken {
  return { image, startOffset, endOffset: startOffset + image.length - 1, tokenTypeIdx: type.tokenTypeIdx as number, tokenType: type };
}

/**
 * The lexer: the tokens above, scanned by hand. It gives exactly what chevrotain's lexer
 * built from `ALL_TOKENS` gives with offset-only positions plus `endOffset` (a test holds
 * the two equal over random text): the first token type in `ALL_TOKENS` order that matches,
 * a reserved word only when the whole name is one, and after characters no token starts
 * with, one error spanning them. Names and punctuation (most tokens) are scanned without
 * regular expressions, which makes it about twice as fast.
 *
 * Tokens carry offsets only (`startOffset`, `endOffset`): no line counting while lexing, and
 * a smaller token. Lines and columns come from the text when a diagnostic or a span needs
 * them (src/frontend/lines.ts).
 */
export const parLexer = {
  tokenize(text: string): LexingResult {
    const tokens: IToken[] = [];
    const comments: IToken[] = [];
    const invalid: IToken[] = [];
    const errors: ILexingError[] = [];
    /** Recent names by hash (a direct-mapped cache, so that equal names share one string). */
    const names: (string | undefined)[] = new Array<string | undefined>(1024).fill(undefined);
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (isBlank(c)) {
        i++;
        while (i < n && isBlank(text.charCodeAt(i))) i++;
        continue;
      }
      if (isNameStart(c)) {
        let j = i + 1;
        let hash = c;
        for (let ch = text.charCodeAt(j); j < n && isNamePart(ch); ch = text.charCodeAt(++j)) hash = (Math.imul(hash, 31) + ch) | 0;
        let type = Identifier;
        const candidates = KEYWORDS_BY_FIRST[c];
        if (candidates !== undefined) {
          for (const k of candidates) {
            if (k.word.length === j - i && text.startsWith(k.word, i)) {
              type = k.type;
              break;
            }
          }
        }
        let image: string;
        if (type === Identifier) {
          // One string per distinct name (a name recurs on most lines): the last name seen
          // with this hash, when it is this one, else a new string that replaces it.
          const slot = hash & (names.length - 1);
          const seen = names[slot];
          if (seen !== undefined && seen.length === j - i && text.startsWith(seen, i)) image = seen;
          else image = names[slot] = text.substring(i, j);
        } else image = (type.PATTERN as RegExp).source;
        tokens.push(token(image, i, type));
        i = j;
        continue;
      }
      const single = c < 128 ? SINGLE[c] : undefined;
      if (single !== undefined) {
        tokens.push(token(single.PATTERN as string, i, single));
        i++;
        continue;
      }
      if (c >= Ch.Zero && c <= Ch.Nine) {
        let type = FloatLiteral;
        let end = matchEnd(FLOAT, text, i);
        if (end < 0) {
          type = IntLiteral;
          end = matchEnd(INT, text, i);
        }
        if (end < 0) {
          type = MalformedNumber;
          end = matchEnd(MALFORMED, text, i);
        }
        (type === MalformedNumber ? invalid : tokens).push(token(text.substring(i, end), i, type));
        i = end;
        continue;
      }
      if (c === Ch.Dot || c === Ch.Slash) {
        const double = text.charCodeAt(i + 1) === c;
        const type = c === Ch.Dot ? (double ? DotDot : Dot) : double ? SlashSlash : Slash;
        tokens.push(token(type.PATTERN as string, i, type));
        i += double ? 2 : 1;
        continue;
      }
      if (c === Ch.Hash) {
        let j = i + 1;
        for (let ch = text.charCodeAt(j); j < n && ch !== Ch.Newline && ch !== Ch.Return; ch = text.charCodeAt(++j));
        comments.push(token(text.substring(i, j), i, Comment));
        i = j;
        continue;
      }
      if (c === Ch.Quote) {
        let end = matchEnd(STRING, text, i);
        if (end >= 0) tokens.push(token(text.substring(i, end), i, StringLiteral));
        else {
          end = matchEnd(UNTERMINATED, text, i);
          invalid.push(token(text.substring(i, end), i, UnterminatedString));
        }
        i = end;
        continue;
      }
      // Characters no token starts with: one error up to where one can start again.
      const from = i;
      i++;
      while (i < n && !startsToken(text.charCodeAt(i))) i++;
      errors.push({ offset: from, line: undefined, column: undefined, length: i - from, message: unexpectedCharacters(text, from, i - from) });
    }
    return { tokens, groups: { comments, invalid }, errors };
  },
};

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
