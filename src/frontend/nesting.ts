// How deep a .par text may nest, checked before anything recurses over it. The parser, the
// checker, the evaluator and the printer all recurse on nesting, so an adversarial file
// (10,000 `(`, or `- - - ... 1`) would overflow the stack. Two linear scans bound it: one
// over the tokens (brackets and braces, before the parser runs) and one over the AST
// (expression depth: each sign, operator, call, list or range adds a level). Both report
// PAR1009 at the place where the limit is crossed.

import type { IToken } from "chevrotain";
import type { Program, Span } from "./ast.js";

/** Levels of nesting par reads (docs/language.md); real models use about ten. */
export const MAX_NESTING = 100;

const OPEN = new Set(["LParen", "LBracket", "LBrace"]);
const CLOSE = new Set(["RParen", "RBracket", "RBrace"]);
/** Words that start a declaration and occur nowhere else: the parser's recovery unwinds there. */
const DECLARATION_KEYWORDS = new Set(["Model", "Block", "Mesh", "Strategy"]);

/**
 * The first `(`, `[` or `{` that opens level MAX_NESTING + 1 of one declaration, if any.
 * Brackets left open before a declaration keyword do not count on: a broken file with many
 * unclosed brackets is reported as syntax errors, not as nesting.
 */
export function firstTooDeepOpener(tokens: readonly IToken[], limit = MAX_NESTING): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    const name = t.tokenType.name;
    if (OPEN.has(name)) {
      if (++depth > limit) return t;
    } else if (CLOSE.has(name) && depth > 0) depth--;
    else if (DECLARATION_KEYWORDS.has(name)) depth = 0;
  }
  return undefined;
}

const EXPRESSION_KINDS = new Set(["int", "float", "string", "bool", "ident", "unary", "binary", "call", "list", "range", "quantity"]);

/**
 * The span of the first expression node nested deeper than `limit` expression levels, if any.
 * Iterative (an explicit stack), so that it cannot overflow itself.
 */
export function firstTooDeepExpression(program: Program, limit = MAX_NESTING): Span | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value: program.items, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth });
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    const node = value as Record<string, unknown>;
    const level = typeof node.kind === "string" && EXPRESSION_KINDS.has(node.kind) ? depth + 1 : depth;
    if (level > limit) return node.span as Span;
    for (const [key, child] of Object.entries(node)) {
      if (!key.endsWith("pan") && typeof child === "object" && child !== null) stack.push({ value: child, depth: level });
    }
  }
  return undefined;
}
