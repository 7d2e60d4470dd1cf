// Integer expressions over model parameters and loop variables. Arithmetic is exact:
// `/` must divide evenly (a silent floor would hide a wrong layer size), `//` floors,
// `%` takes the sign of the divisor (as Python does, so `-1 % 4 == 3`), and any value
// beyond ±2^53 is an error rather than a silently rounded double.

import type { Diagnostics, SourcePos } from "../core/diagnostics.js";
import type { Expr, Span } from "./ast.js";
import { didYouMean } from "../core/diagnostics.js";

/** A source position for a node's span (length = the span's extent, at least 1). */
export function spanPos(file: string, span: Span): SourcePos {
  return { file, line: span.line, column: span.column, offset: span.offset, length: Math.max(1, span.endOffset - span.offset) };
}

/**
 * What a name denotes while evaluating an integer: its value, that it is a tensor, or
 * "poison" when its definition already failed (reported there; no follow-on error here).
 */
export type IntBinding = number | "tensor" | "poison" | undefined;

export interface EvalContext {
  file: string;
  diagnostics: Diagnostics;
  lookup(name: string): IntBinding;
  /** Names in scope, for "did you mean" hints (only consulted on an error). */
  names(): Iterable<string>;
}

export const MAX_SAFE = 2 ** 53;

/** Evaluates an integer expression; reports a coded diagnostic and returns undefined on error. */
export function evalInt(expr: Expr, ctx: EvalContext): number | undefined {
  switch (expr.kind) {
    case "int":
      return checkRange(expr.value, expr, ctx);
    case "ident": {
      const v = ctx.lookup(expr.name);
      if (v === "poison") return undefined;
      if (v === "tensor") {
        ctx.diagnostics.error("PAR2008", `\`${expr.name}\` is a tensor, but an integer is expected here`, { pos: spanPos(ctx.file, expr.span), expected: "an integer expression" });
        return undefined;
      }
      if (v === undefined) {
        ctx.diagnostics.error("PAR2001", `undefined name \`${expr.name}\``, { pos: spanPos(ctx.file, expr.span), expected: "a model parameter, block argument or loop variable", hint: didYouMean(expr.name, ctx.names()) });
        return undefined;
      }
      return v;
    }
    case "unary": {
      const v = evalInt(expr.operand, ctx);
      return v === undefined ? undefined : v === 0 ? 0 : -v;
    }
    case "binary": {
      const a = evalInt(expr.left, ctx);
      const b = evalInt(expr.right, ctx);
      if (a === undefined || b === undefined) return undefined;
      return binary(expr.op, a, b, expr, ctx);
    }
    case "call":
      ctx.diagnostics.error("PAR2008", `\`${expr.callee}(...)\` yields a tensor, but an integer is expected here`, { pos: spanPos(ctx.file, expr.span), expected: "an integer expression" });
      return undefined;
    default:
      ctx.diagnostics.error("PAR2023", `a ${describeKind(expr)} is not allowed in an integer expression`, { pos: spanPos(ctx.file, expr.span), expected: "an integer expression" });
      return undefined;
  }
}

function binary(op: "+" | "-" | "*" | "/" | "//" | "%", a: number, b: number, expr: Expr, ctx: EvalContext): number | undefined {
  if ((op === "/" || op === "//" || op === "%") && b === 0) {
    ctx.diagnostics.error("PAR2012", `${op === "%" ? "remainder" : "division"} by zero: ${a} ${op} 0`, { pos: spanPos(ctx.file, expr.span), expected: "a non-zero divisor" });
    return undefined;
  }
  switch (op) {
    case "+": return checkRange(a + b, expr, ctx);
    case "-": return checkRange(a - b, expr, ctx);
    case "*": return checkRange(a * b, expr, ctx);
    case "/": {
      if (a % b !== 0) {
        ctx.diagnostics.error("PAR2011", `${a} / ${b} is not an integer`, { pos: spanPos(ctx.file, expr.span), expected: "an exact division", hint: `write \`//\` for floor division (${Math.floor(a / b)})` });
        return undefined;
      }
      return a / b === 0 ? 0 : a / b;
    }
    case "//": {
      const q = Math.floor(a / b);
      return q === 0 ? 0 : q;
    }
    case "%": {
      const r = ((a % b) + b) % b;
      return r === 0 ? 0 : r;
    }
  }
}

function checkRange(v: number, expr: Expr, ctx: EvalContext): number | undefined {
  if (Number.isFinite(v) && Math.abs(v) <= MAX_SAFE) return v;
  ctx.diagnostics.error("PAR2013", `integer overflow: the value exceeds ±2^53`, { pos: spanPos(ctx.file, expr.span), expected: `a value between -${MAX_SAFE} and ${MAX_SAFE}` });
  return undefined;
}

function describeKind(expr: Expr): string {
  switch (expr.kind) {
    case "float": return `float (${expr.text})`;
    case "string": return "string";
    case "bool": return "bool";
    case "list": return "list";
    case "range": return "range";
    case "quantity": return `quantity (${expr.text})`;
    default: return expr.kind;
  }
}
