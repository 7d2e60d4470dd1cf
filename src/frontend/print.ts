// The canonical text of a program (`par fmt`): 2-space indent, one statement per line,
// `a = b` spacing, minimal parentheses, one blank line between declarations, comments kept;
// an assignment longer than MAX_LINE puts its call's arguments one per line.
// Contract (property-tested): parse(format(p)) equals p up to spans, and format is idempotent.

import type { IToken } from "chevrotain";
import * as T from "../../grammar/tokens.js";
import type * as A from "./ast.js";

const INDENT = "  ";
/** Longer assignments of a call with several arguments are wrapped, one argument per line. */
export const MAX_LINE = 100;

export function format(program: A.Program): string {
  const blocks = program.items.map((item) => commented(item, topItem(item), ""));
  if (program.endComments?.length) blocks.push(program.endComments.map((c) => `#${c}`).join("\n"));
  return blocks.length === 0 ? "" : blocks.join("\n\n") + "\n";
}

/** Puts an item's leading comments above its lines and its trailing comment after the last. */
function commented(node: A.Commented, lines: string, indent: string): string {
  const lead = (node.leadingComments ?? []).map((c) => `${indent}#${c}\n`).join("");
  const trail = node.trailingComment !== undefined ? `  #${node.trailingComment}` : "";
  return lead + lines + trail;
}

function topItem(item: A.TopItem): string {
  switch (item.kind) {
    case "model":
    case "block": {
      const params = item.params.length > 0 ? `(${item.params.map(param).join(", ")})` : "";
      return `${item.kind} ${item.name}${params} ${body(item.body.map((s) => stmt(s, INDENT)), "")}`;
    }
    case "mesh":
      return `mesh ${item.name} ${body(item.body.map((m) => meshItem(m, INDENT)), "")}`;
    case "strategy":
      return `strategy ${item.name} for ${item.model} on ${item.mesh} ${body(strategyItems(item), "")}`;
  }
}

function body(lines: string[], indent: string): string {
  return lines.length === 0 ? `{\n${indent}}` : `{\n${lines.join("\n")}\n${indent}}`;
}

function param(p: A.Param): string {
  return p.default ? `${p.name} = ${expr(p.default)}` : p.name;
}

// ------------------------------------------------------------------ statements

function stmt(s: A.Stmt, indent: string): string {
  return commented(s, indent + stmtText(s, indent), indent);
}

function stmtText(s: A.Stmt, indent: string): string {
  const inner = (b: A.Stmt[]): string => body(b.map((x) => stmt(x, indent + INDENT)), indent);
  switch (s.kind) {
    case "input":
      return `input ${s.name} : ${s.type.dtype}[${s.type.dims.map((d) => (d.name !== undefined ? `${d.name}: ${expr(d.size)}` : expr(d.size))).join(", ")}]`;
    case "assign": {
      const lhs = `${s.targets.map((t) => t.name).join(", ")} = `;
      const flat = lhs + expr(s.value);
      const v = s.value;
      if (indent.length + flat.length <= MAX_LINE || v.kind !== "call" || v.args.length + v.named.length < 2) return flat;
      const args = [...v.args.map((x) => expr(x)), ...v.named.map(namedArg)];
      return `${lhs}${v.callee}(\n${args.map((a) => indent + INDENT + a).join(",\n")}\n${indent})`;
    }
    case "repeat":
      return `repeat ${expr(s.count)}${s.label !== undefined ? ` as ${s.label}` : ""} ${inner(s.body)}`;
    case "for":
      return `for ${s.variable} in ${expr(s.range)} ${inner(s.body)}`;
    case "return":
      return `return ${s.values.map((v) => expr(v)).join(", ")}`;
  }
}

// ------------------------------------------------------------------ meshes

function meshItem(m: A.MeshItem, indent: string): string {
  return commented(m, indent + meshItemText(m, indent), indent);
}

function meshItemText(m: A.MeshItem, indent: string): string {
  switch (m.kind) {
    case "device": {
      const single = m.count.kind === "int" && m.count.value === 1;
      return `device ${m.deviceKind}${attrs(m.attrs)}${single ? "" : ` x ${expr(m.count)}`}`;
    }
    case "link":
      return `link ${m.name}${attrs(m.attrs)}`;
    case "group":
      return `${m.label} x ${expr(m.count)} ${body(m.body.map((x) => meshItem(x, indent + INDENT)), indent)}`;
  }
}

function attrs(named: A.NamedArg[]): string {
  return named.length === 0 ? "" : `(${named.map(namedArg).join(", ")})`;
}

function namedArg(a: A.NamedArg): string {
  return `${a.name} = ${expr(a.value)}`;
}

// ------------------------------------------------------------------ strategies

/** Rules, strategy-wide settings and the pipeline, in source order. */
function strategyItems(s: A.StrategyDecl): string[] {
  const items: { offset: number; text: string }[] = [
    ...s.rules.map((r) => ({ offset: r.span.offset, text: commented(r, INDENT + rule(r), INDENT) })),
    ...s.settings.map((x) => ({ offset: x.span.offset, text: commented(x, INDENT + x.settings.map(setting).join(", "), INDENT) })),
    ...s.pipelines.map((p) => ({ offset: p.span.offset, text: commented(p, INDENT + pipeline(p), INDENT) })),
  ];
  return items.sort((a, b) => a.offset - b.offset).map((x) => x.text);
}

function rule(r: A.StrategyRule): string {
  return `${r.patterns.map((p) => pattern(p.text)).join(", ")} : ${r.settings.map(setting).join(", ")}`;
}

function pipeline(p: A.PipelineDecl): string {
  const head = `pipeline(${p.settings.map(namedArg).join(", ")})`;
  if (p.stages === undefined) return head;
  const inner = INDENT + INDENT;
  return `${head} ${body(p.stages.map((st) => commented(st, inner + stage(st), inner)), INDENT)}`;
}

function stage(st: A.StageDecl): string {
  const bounds = st.last ? `${pattern(st.first.text)} .. ${pattern(st.last.text)}` : pattern(st.first.text);
  return st.settings.length > 0 ? `${bounds} : ${st.settings.map(setting).join(", ")}` : bounds;
}

/** Setting values take no bare binary operators (see the grammar's `settingValue`). */
function setting(a: A.NamedArg): string {
  const v = a.value;
  const text = v.kind === "range" ? `${expr(v.start, PREC.unary)}..${expr(v.end, PREC.unary)}` : expr(v, PREC.unary);
  return `${a.name} = ${text}`;
}

/** Bare when the text lexes back as glob pieces only (`layer*.attn`), quoted otherwise. */
function pattern(text: string): string {
  const lexed = T.parLexer.tokenize(text);
  const pieces = new Set([T.Identifier, T.IntLiteral, T.FloatLiteral, T.Star, T.Question, T.Dot]);
  const bare =
    text.length > 0 &&
    lexed.errors.length === 0 &&
    Object.values(lexed.groups).every((g) => g.length === 0) &&
    lexed.tokens.every((t: IToken) => pieces.has(t.tokenType)) &&
    lexed.tokens.map((t) => t.image).join("") === text;
  return bare ? text : quote(text);
}

// ------------------------------------------------------------------ expressions

/** Binding strength; a child binding looser than its context gets parentheses. */
const PREC = { range: 1, additive: 2, multiplicative: 3, unary: 4, atom: 5 } as const;

function binaryPrec(op: A.Binary["op"]): number {
  return op === "+" || op === "-" ? PREC.additive : PREC.multiplicative;
}

export function expr(e: A.Expr, context = 0): string {
  const [text, prec] = exprText(e);
  return prec < context ? `(${text})` : text;
}

function exprText(e: A.Expr): [string, number] {
  switch (e.kind) {
    case "int":
      return [String(e.value), e.value < 0 ? PREC.unary : PREC.atom];
    case "float":
      return [e.text, PREC.atom];
    case "string":
      return [quote(e.value), PREC.atom];
    case "bool":
      return [String(e.value), PREC.atom];
    case "ident":
      return [e.name, PREC.atom];
    case "quantity":
      return [`${e.text} ${e.unit}`, PREC.atom];
    case "unary":
      return [`-${expr(e.operand, PREC.unary)}`, PREC.unary];
    case "binary": {
      const p = binaryPrec(e.op);
      // Left-associative: an equal-strength right operand needs parentheses.
      return [`${expr(e.left, p)} ${e.op} ${expr(e.right, p + 1)}`, p];
    }
    case "range":
      return [`${expr(e.start, PREC.additive)}..${expr(e.end, PREC.additive)}`, PREC.range];
    case "list":
      return [`[${e.elements.map((x) => expr(x)).join(", ")}]`, PREC.atom];
    case "call":
      return [`${e.callee}(${[...e.args.map((x) => expr(x)), ...e.named.map(namedArg)].join(", ")})`, PREC.atom];
  }
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
