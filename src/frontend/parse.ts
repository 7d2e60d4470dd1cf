// Text → AST: lex, parse (with recovery, so several mistakes are reported at once), build
// the AST, attach comments. Every problem becomes a PAR1xxx diagnostic (codes in
// syntax-codes.ts); no input makes this throw.

import { lookupDevice, parKindName } from "../core/catalog.js";
import { EOF, type IRecognitionException, type IToken, type TokenType } from "chevrotain";
import { didYouMean, Diagnostics } from "../core/diagnostics.js";
import type { ProgramCstNode } from "../../grammar/cst.js";
import { errorBudget, ErrorLimitReached, parParser, type SyntaxErrorPayload } from "../../grammar/parser.js";
import * as T from "../../grammar/tokens.js";
import type { Program, TopItem } from "./ast.js";
import { attachComments, cstToAst } from "./cst-to-ast.js";
import { lineTable, type LineTable } from "./lines.js";
import { firstTooDeepExpression, firstTooDeepOpener, MAX_NESTING } from "./nesting.js";

const TOP_KEYWORDS = new Set<TokenType>([T.Model, T.Block, T.Mesh, T.Strategy]);
const LABELS = new Map<string, string>(T.PARSER_TOKENS.map((t) => [t.name, t.LABEL ?? t.name]));
const EXPR_START = ["IntLiteral", "FloatLiteral", "StringLiteral", "True", "False", "Identifier", "LParen", "LBracket", "Minus"];
const OPENERS: Record<string, string> = { LBrace: "RBrace", LParen: "RParen", LBracket: "RBracket" };
const PATTERN_PIECES = new Set<TokenType>([T.Identifier, T.IntLiteral, T.FloatLiteral, T.Star, T.Question, T.Dot]);
/** Reruns after stray top-level tokens, bounded so that a garbage file stays linear-time. */
const MAX_RUNS = 50;
/**
 * Syntax errors reported per file, PAR1011 included: the lexer's and the parser's together
 * (each parser error costs recovery time; more would not help anyone).
 */
export const MAX_SYNTAX_ERRORS = 100;
/** Rules whose lists hold named values (`name = value`), where a `:` is a slip for `=`. */
const NAMED_VALUE_RULES = new Set(["attrList", "paramList", "expr", "param"]);
/** When a list of items stops at a token that starts no item, say what items there could be. */
const ITEM_LISTS: Record<string, string> = {
  body: "a statement (`input`, `repeat`, `for`, `return`, `name = ...`) or `}`",
  meshBody: "`device`, `link`, a group `LABEL x COUNT { ... }` or `}`",
  strategyDecl: "a rule `PATTERN : key = value`, a setting `name = value`, `pipeline(...)` or `}`",
};

/**
 * Parses `text` (named `file` in diagnostics). Returns the program, possibly partial after
 * recovered errors; undefined when errors left nothing usable. Check `diagnostics`.
 */
export function parse(text: string, file: string, diagnostics: Diagnostics): Program | undefined {
  try {
    return parseUnguarded(text, file, diagnostics);
  } catch (e) {
    reportParserFailure(e, file, diagnostics);
    return undefined;
  }
}

/** The last line of defence: deep nesting overflows the stack; anything else is a bug in par. */
export function reportParserFailure(e: unknown, file: string, diagnostics: Diagnostics): void {
  const pos = { file, line: 1, column: 1 };
  if (e instanceof RangeError) {
    diagnostics.error("PAR1009", "the input is nested too deeply to parse", { pos, hint: "split deeply nested expressions into several statements" });
  } else {
    const msg = e instanceof Error ? e.message : String(e);
    diagnostics.error("PAR1010", `the parser failed unexpectedly: ${msg}`, { pos, hint: "this is a bug in par; please report it with the input file" });
  }
}

function parseUnguarded(text: string, file: string, diagnostics: Diagnostics): Program | undefined {
  const errorsBefore = diagnostics.errors.length;
  const lexed = T.parLexer.tokenize(text);
  const lines = lineTable(text);
  const lexical = new Diagnostics();
  for (const e of lexed.errors) {
    const found = text.substr(e.offset, Math.max(1, e.length));
    lexical.error("PAR1001", `unexpected character${found.length > 1 ? "s" : ""} \`${found}\``, {
      pos: { file, ...lines.position(e.offset), offset: e.offset, length: Math.max(1, e.length) },
      hint: found.startsWith("'") ? 'strings use double quotes: "name"' : undefined,
    });
  }
  const tokens = withInvalidTokens(lexed.tokens, lexed.groups.invalid ?? [], file, lines, lexical);
  // A text that is mostly not .par: the first errors, and how many more there were.
  if (lexical.items.length >= MAX_SYNTAX_ERRORS) {
    const sorted = lexical.items.sort((a, b) => (a.pos?.offset ?? 0) - (b.pos?.offset ?? 0));
    diagnostics.addAll(sorted.slice(0, MAX_SYNTAX_ERRORS - 1));
    const more = sorted.length - (MAX_SYNTAX_ERRORS - 1);
    diagnostics.error("PAR1011", `too many syntax errors: ${more} more after these ${MAX_SYNTAX_ERRORS - 1} are not shown`, {
      pos: sorted[MAX_SYNTAX_ERRORS - 1].pos,
      hint: "is this a .par file? fix the first errors and run again",
    });
    return undefined;
  }
  diagnostics.addAll(lexical.items);
  const opener = firstTooDeepOpener(tokens);
  if (opener) {
    diagnostics.error("PAR1009", `nested too deeply: this opens level ${MAX_NESTING + 1} of brackets and braces, more than the ${MAX_NESTING} par reads`, {
      pos: { file, ...lines.position(opener.startOffset), offset: opener.startOffset, length: 1 },
      hint: "split deeply nested expressions into several statements, or nested repeats into blocks",
    });
    return undefined;
  }
  const items: TopItem[] = [];
  const seenItems = new Set<number>();
  // Chevrotain's own re-sync may already have read past a stray top-level token, so a
  // rerun can meet declarations and errors seen before: keep each once.
  const seenErrors = new Set<string>();
  const keep = (found: Diagnostics): void => {
    for (const d of found.items) {
      const key = `${d.code}:${d.pos?.offset ?? ""}`;
      if (!seenErrors.has(key)) diagnostics.add(d);
      seenErrors.add(key);
    }
  };
  // A stray token at the top level ends a parser run; resume at the next declaration
  // keyword so that later declarations are still read (and their errors reported).
  let start = 0;
  let runs = 0;
  // One error is kept for PAR1011 itself.
  let budget = MAX_SYNTAX_ERRORS - 1 - lexical.items.length;
  do {
    errorBudget.left = budget;
    parParser.input = start === 0 ? tokens : tokens.slice(start);
    parParser.source = text;
    let cst: ProgramCstNode;
    try {
      cst = parParser.program() as ProgramCstNode;
    } catch (e) {
      if (!(e instanceof ErrorLimitReached)) throw e;
      reportErrorLimit(e.token, text, file, lines, diagnostics);
      break;
    } finally {
      errorBudget.left = Infinity;
    }
    budget -= parParser.errors.length;
    const errors = [...parParser.errors];
    const found = new Diagnostics();
    let resume = tokens.length;
    let lastLine = -1;
    for (const e of errors) {
      const payload = decode(e);
      // Recovery often trips again on the rest of a broken line: one error per line.
      const line = Number.isFinite(e.token.startOffset) ? lines.line(e.token.startOffset) : Infinity;
      if (line !== lastLine || payload.kind === "redundant") reportSyntaxError(e, payload, tokens, text, file, lines, found);
      lastLine = line;
      if (payload.kind === "redundant") {
        const at = indexOfToken(tokens, e.token);
        resume = tokens.findIndex((t, i) => i > at && TOP_KEYWORDS.has(t.tokenType));
        if (resume <= start) resume = tokens.length;
      }
    }
    const read = cstToAst(cst, text, file, found).items;
    for (const item of read) {
      if (!seenItems.has(item.span.offset)) items.push(item);
      seenItems.add(item.span.offset);
    }
    keep(found);
    // No rerun when the parser's own recovery already read a declaration from there on.
    const resumeOffset = tokens[resume]?.startOffset ?? Infinity;
    start = read.some((item) => item.span.offset >= resumeOffset) ? tokens.length : resume;
  } while (start < tokens.length && ++runs < MAX_RUNS);
  // The shared parser would otherwise keep this file's tokens alive until the next parse.
  parParser.input = [];
  parParser.source = "";
  const program: Program = { span: { line: 1, column: 1, offset: 0, endOffset: text.length }, file, items };
  const deep = firstTooDeepExpression(program);
  if (deep) {
    diagnostics.error("PAR1009", `expression nested too deeply: more than ${MAX_NESTING} levels (each sign, operator, call, list or bracket is one)`, {
      pos: { file, line: deep.line, column: deep.column, offset: deep.offset, length: Math.max(1, Math.min(deep.endOffset - deep.offset, 1)) },
      hint: "split the expression into several statements (`a = ...`, then `b = a + ...`)",
    });
    return undefined;
  }
  attachComments(program, lexed.groups.comments ?? [], text);
  if (items.length === 0 && diagnostics.errors.length > errorsBefore) return undefined;
  return program;
}

function reportErrorLimit(tok: IToken, text: string, file: string, lines: LineTable, diagnostics: Diagnostics): void {
  const at = Number.isFinite(tok.startOffset)
    ? { ...lines.position(tok.startOffset), offset: tok.startOffset, length: Math.max(1, tok.image.length) }
    : { ...endPosition(text), offset: text.length, length: 1 };
  const total = endPosition(text).line;
  const rest = at.line < total ? `; lines ${at.line}–${total} were not read, so their errors are not shown` : "";
  diagnostics.error("PAR1011", `too many syntax errors: stopped reading at line ${at.line} after ${MAX_SYNTAX_ERRORS - 1}${rest}`, {
    pos: { file, ...at },
    hint: "is this a .par file? fix the first errors and run again",
  });
}

/**
 * Reports malformed numbers and unterminated strings, and hands them to the parser as the
 * token they were meant to be (marked invalid, so the AST drops them): one typo, one error.
 */
function withInvalidTokens(tokens: IToken[], invalid: IToken[], file: string, lines: LineTable, diagnostics: Diagnostics): IToken[] {
  if (invalid.length === 0) return tokens;
  const replaced = invalid.map((t) => {
    const asString = t.tokenType === T.UnterminatedString;
    const pos = { file, ...lines.position(t.startOffset), offset: t.startOffset, length: t.image.length };
    if (asString) {
      diagnostics.error("PAR1002", "unterminated string: the line ends before the closing `\"`", { pos, expected: '`"`', hint: 'close the string on the same line; write `\\"` for a quote inside it' });
    } else {
      diagnostics.error("PAR1005", `malformed number \`${t.image}\``, { pos, expected: "a number such as `64`, `1_000`, `0.5` or `1e-5`", hint: catalogKindHint(tokens, t) ?? numberHint(t.image) });
    }
    const type = asString ? T.StringLiteral : T.IntLiteral;
    const copy: IToken = { ...t, tokenType: type, tokenTypeIdx: type.tokenTypeIdx as number };
    T.markInvalid(copy);
    return copy;
  });
  return [...tokens, ...replaced].sort((a, b) => a.startOffset - b.startOffset);
}

/**
 * `device A100-80GB`: a catalog kind holding `-` lexes as a name, a minus and a malformed
 * number; the hint names its `.par` spelling (`A100_80GB`).
 */
function catalogKindHint(tokens: readonly IToken[], t: IToken): string | undefined {
  const i = tokens.findIndex((x) => x.endOffset === t.startOffset - 1);
  const minus = tokens[i];
  const name = tokens.findLast((x) => x.endOffset === (minus?.startOffset ?? 0) - 1);
  if (!minus || minus.image !== "-" || !name) return undefined;
  const kind = `${name.image}-${t.image}`;
  return lookupDevice(kind).ok ? `a device kind with \`-\` is written with \`_\` in .par: \`${parKindName(kind)}\`` : undefined;
}

function numberHint(image: string): string | undefined {
  if (image === "1f1b") return 'the 1F1B pipeline schedule is written as a string: `schedule = "1f1b"`';
  const unit = /^[\d_.]+([A-Za-z]+)$/.exec(image);
  if (unit && !/^[eE]$/.test(unit[1])) return `put a space between a number and its unit: \`${image.slice(0, image.length - unit[1].length)} ${unit[1]}\``;
  if (/__|_$|_\./.test(image)) return "underscores go only between digits: `1_000`";
  if (/[eE]$/.test(image)) return "an exponent needs digits: `1e5`, `2.5e-3`";
  return "names cannot start with a digit";
}

function decode(e: IRecognitionException): SyntaxErrorPayload {
  let p: SyntaxErrorPayload;
  try {
    p = JSON.parse(e.message) as SyntaxErrorPayload;
  } catch {
    p = { kind: "mismatch", rule: "", expected: [] };
  }
  // The top rule's "expected end of file" means a token no declaration can start with.
  if (p.expected.length === 1 && p.expected[0] === "EOF") return { kind: "redundant", rule: p.rule, expected: ["Model", "Block", "Mesh", "Strategy"] };
  return p;
}

function words(names: readonly string[]): string {
  const set = new Set(names);
  let parts: string[] = [];
  if (EXPR_START.filter((n) => set.has(n)).length >= 6) {
    for (const n of EXPR_START) set.delete(n);
    parts.push("an expression");
  }
  parts = [...parts, ...[...set].map((n) => (n === "EOF" ? "end of file" : LABELS.get(n) ?? n))];
  parts = [...new Set(parts)];
  if (parts.length <= 1) return parts[0] ?? "something else";
  return `${parts.slice(0, -1).join(", ")} or ${parts[parts.length - 1]}`;
}

function reportSyntaxError(e: IRecognitionException, p: SyntaxErrorPayload, tokens: IToken[], text: string, file: string, lines: LineTable, diagnostics: Diagnostics): void {
  const tok = e.token;
  const itemList = p.kind === "mismatch" && p.expected.length === 1 && p.expected[0] === "RBrace" ? ITEM_LISTS[p.rule] : undefined;
  const expected = itemList ?? words(p.expected);
  if (tok.tokenType === EOF || !Number.isFinite(tok.startOffset)) {
    const opener = unclosedOpener(tokens);
    const closer = opener && OPENERS[opener.tokenType.name];
    if (opener && closer && p.expected.includes(closer)) {
      const close = LABELS.get(closer) ?? closer;
      const at = lines.position(opener.startOffset);
      diagnostics.error("PAR1004", `the file ends before ${close} closes the ${LABELS.get(opener.tokenType.name)} opened here`, {
        pos: { file, ...at, offset: opener.startOffset, length: 1 },
        expected: close,
        hint: `add ${close} at the end of the declaration that starts on line ${at.line}`,
      });
      return;
    }
    const end = endPosition(text);
    diagnostics.error("PAR1003", `found end of file, expected ${expected}`, { pos: { file, ...end, offset: text.length, length: 1 }, expected });
    return;
  }
  const found = `\`${tok.image}\``;
  const message = p.kind === "redundant" ? `found ${found} at the top level, expected a declaration` : `found ${found}, expected ${expected}`;
  diagnostics.error("PAR1003", message, {
    pos: { file, ...lines.position(tok.startOffset), offset: tok.startOffset, length: Math.max(1, tok.image.length) },
    expected,
    hint: hintFor(p, tok, tokens),
  });
}

/** A hint for the mistakes people make most: `=` vs `:`, reserved words, spaced patterns. */
function hintFor(p: SyntaxErrorPayload, tok: IToken, tokens: IToken[]): string | undefined {
  const type = tok.tokenType;
  if (type === T.Equals && p.expected.includes("Colon")) {
    if (p.rule === "inputStmt") return "an input's type follows a `:`: `input x : f32[batch, 784]`";
    if (p.rule === "rule") return "a strategy rule is `PATTERN : key = value`, e.g. `logits : sample = 4`";
    return "use `:` here";
  }
  // `logits = sample = 4`: read as the setting `logits = sample`, then a stray `=`.
  if (type === T.Equals && p.rule === "strategyDecl") return "a strategy rule is `PATTERN : key = value`, e.g. `logits : sample = 4`; a strategy-wide setting is `name = value`";
  const at = indexOfToken(tokens, tok);
  if (type === T.Colon && (NAMED_VALUE_RULES.has(p.rule) || (p.rule === "unary" && atCallArguments(p, tokens, at)))) return "named values use `=`, not `:`: `out = 4`";
  const next = tokens[at + 1]?.tokenType;
  const usedAsName = p.expected.includes("Identifier") || next === T.Equals || next === T.Comma || next === T.Colon || next === T.LParen;
  if (T.KEYWORDS.includes(type) && usedAsName) return `\`${tok.image}\` is a reserved word and cannot be used as a name`;
  if (p.kind === "redundant") {
    const close = type === T.Identifier ? didYouMean(tok.image, ["model", "block", "mesh", "strategy"]) : undefined;
    return close ?? "the top level holds only `model`, `block`, `mesh` and `strategy` declarations";
  }
  const prev = at > 0 ? tokens[at - 1] : undefined;
  if (p.rule === "rule" && PATTERN_PIECES.has(type) && prev && PATTERN_PIECES.has(prev.tokenType)) {
    return "write a pattern without spaces (`layer*.attn`) and separate patterns with `,`";
  }
  const closesList = p.expected.includes("RParen") || p.expected.includes("RBracket");
  if (closesList && EXPR_START.includes(type.name) && prev && prev.tokenType !== T.Comma) return "separate the items of a list with `,`";
  if (p.rule === "assignStmt" && prev?.tokenType === T.Identifier && type === T.Identifier) {
    return didYouMean(prev.image, ["input", "repeat", "return"]);
  }
  return undefined;
}

/** Position of a token in the (offset-sorted) token list, by binary search; -1 if absent. */
function indexOfToken(tokens: IToken[], tok: IToken): number {
  let lo = 0;
  let hi = tokens.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const o = tokens[mid].startOffset;
    if (o === tok.startOffset) return mid;
    if (o < tok.startOffset) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * True when an error in a `unary` is about a call's argument list rather than inside one
 * argument (the call's arguments are read in its `unary`): its `)` missing, or no argument
 * where one starts (after the call's `(` or a `,`).
 */
function atCallArguments(p: SyntaxErrorPayload, tokens: IToken[], at: number): boolean {
  if (!inCallArguments(tokens, at)) return false;
  const prev = at > 0 ? tokens[at - 1].tokenType : undefined;
  return p.kind === "mismatch" || prev === T.LParen || prev === T.Comma;
}

/** True when the innermost bracket open before token `at` is a call's `(` (a name before it). */
function inCallArguments(tokens: IToken[], at: number): boolean {
  let depth = 0;
  for (let i = at - 1; i >= 0; i--) {
    const name = tokens[i].tokenType.name;
    if (name === "RParen" || name === "RBracket" || name === "RBrace") depth++;
    else if (name in OPENERS) {
      if (depth === 0) return name === "LParen" && i > 0 && tokens[i - 1].tokenType === T.Identifier;
      depth--;
    }
  }
  return false;
}

/** The innermost `{`, `(` or `[` left open at the end of the tokens. */
function unclosedOpener(tokens: IToken[]): IToken | undefined {
  const stack: IToken[] = [];
  for (const t of tokens) {
    const name = t.tokenType.name;
    if (name in OPENERS) stack.push(t);
    else if (stack.length > 0 && OPENERS[stack[stack.length - 1].tokenType.name] === name) stack.pop();
  }
  return stack[stack.length - 1];
}

function endPosition(text: string): { line: number; column: number } {
  const lines = text.split(/\r\n?|\n/);
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}
