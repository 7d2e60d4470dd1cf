// CST → AST. The CST comes from a recovering parser, so any part may be missing after a
// syntax error: converters return undefined for incomplete pieces and their parents drop
// them (the parser has already reported the error; no cascades here). The few syntax
// rules the grammar leaves open (dtype names, `x` in groups, argument order, escapes,
// number ranges) are checked here with PAR1xxx codes.

import type { CstNode, IToken } from "chevrotain";
import { didYouMean, type Diagnostics } from "../core/diagnostics.js";
import type * as C from "../../grammar/cst.js";
import { isInvalid } from "../../grammar/tokens.js";
import type * as A from "./ast.js";
import { lineTable, type LineTable } from "./lines.js";

const DTYPES: readonly A.DType[] = ["f32", "f16", "bf16", "i32", "i64", "bool"];

interface Ctx {
  file: string;
  text: string;
  lines: LineTable;
  diagnostics: Diagnostics;
}

// ------------------------------------------------------------------ spans and tokens

function present(t: IToken | undefined): t is IToken {
  return t !== undefined && !t.isInsertedInRecovery && Number.isFinite(t.startOffset) && !isInvalid(t);
}

/** Tokens carry offsets only; their lines and columns come from the line table. */
function tokenSpan(ctx: Ctx, t: IToken): A.Span {
  return offsetSpan(ctx, t.startOffset, (t.endOffset ?? t.startOffset) + 1);
}

function isNode(x: IToken | CstNode): x is CstNode {
  return (x as CstNode).children !== undefined;
}

function offsetSpan(ctx: Ctx, offset: number, endOffset: number): A.Span {
  const lines = ctx.lines;
  const line = lines.lineIndex(offset);
  return { line: line + 1, column: offset - lines.starts[line] + 1, offset, endOffset };
}

function nodeSpan(ctx: Ctx, n: CstNode): A.Span | undefined {
  const l = n.location;
  if (!l || !Number.isFinite(l.startOffset) || l.endOffset === undefined || !Number.isFinite(l.endOffset)) return undefined;
  return offsetSpan(ctx, l.startOffset, l.endOffset + 1);
}

function startOf(x: IToken | CstNode): number {
  return (isNode(x) ? x.location?.startOffset : x.startOffset) ?? Infinity;
}

function join(a: A.Span, b: A.Span): A.Span {
  return { line: a.line, column: a.column, offset: a.offset, endOffset: b.endOffset };
}

function first(ts: IToken[] | undefined, i = 0): IToken | undefined {
  const t = ts?.[i];
  return present(t) ? t : undefined;
}

function byOffset<T extends { span: A.Span }>(xs: T[]): T[] {
  return xs.sort((a, b) => a.span.offset - b.span.offset);
}

function defined<T>(xs: (T | undefined)[]): T[] {
  return xs.filter((x): x is T => x !== undefined);
}

function error(ctx: Ctx, code: string, message: string, at: A.Span, extras: { expected?: string; hint?: string | undefined } = {}): void {
  ctx.diagnostics.error(code, message, {
    pos: { file: ctx.file, line: at.line, column: at.column, offset: at.offset, length: Math.max(1, at.endOffset - at.offset) },
    expected: extras.expected,
    hint: extras.hint,
  });
}

// ------------------------------------------------------------------ program

/** Builds the AST of one parser run; comments are attached afterwards (`attachComments`). */
export function cstToAst(cst: C.ProgramCstNode, text: string, file: string, diagnostics: Diagnostics): A.Program {
  const ctx: Ctx = { file, text, lines: lineTable(text), diagnostics };
  const ch = cst.children;
  const items: A.TopItem[] = byOffset(
    defined<A.TopItem>([
      ...(ch.modelDecl ?? []).map((n) => modelOrBlock(ctx, n, "model")),
      ...(ch.blockDecl ?? []).map((n) => modelOrBlock(ctx, n, "block")),
      ...(ch.meshDecl ?? []).map((n) => meshDecl(ctx, n)),
      ...(ch.strategyDecl ?? []).map((n) => strategyDecl(ctx, n)),
    ]),
  );
  return { span: { line: 1, column: 1, offset: 0, endOffset: text.length }, file, items };
}

function modelOrBlock(ctx: Ctx, n: C.ModelDeclCstNode | C.BlockDeclCstNode, kind: "model" | "block"): A.ModelDecl | A.BlockDecl | undefined {
  const name = first(n.children.Identifier);
  const span = nodeSpan(ctx, n);
  const body = n.children.body?.[0];
  if (!name || !span || !body) return undefined;
  const params = defined((n.children.paramList?.[0]?.children.param ?? []).map((p) => param(ctx, p)));
  return { kind, span, name: name.image, nameSpan: tokenSpan(ctx, name), params, body: statements(ctx, body) };
}

function param(ctx: Ctx, n: C.ParamCstNode): A.Param | undefined {
  const name = first(n.children.Identifier);
  const span = nodeSpan(ctx, n);
  if (!name || !span) return undefined;
  if (!n.children.Equals) return { span, name: name.image };
  const value = expr(ctx, n.children.expr?.[0]);
  return value ? { span, name: name.image, default: value } : undefined;
}

// ------------------------------------------------------------------ statements

function statements(ctx: Ctx, body: C.BodyCstNode): A.Stmt[] {
  const c = body.children;
  // Plain loops rather than spreads of mapped arrays: a model body can hold 10,000 statements.
  const out: A.Stmt[] = [];
  const kinds = [c.inputStmt, c.assignStmt, c.repeatStmt, c.forStmt, c.returnStmt];
  for (let k = 0; k < kinds.length; k++) {
    const nodes = kinds[k];
    if (nodes === undefined) continue;
    for (let i = 0; i < nodes.length; i++) {
      let st: A.Stmt | undefined;
      if (k === 0) st = inputStmt(ctx, nodes[i] as C.InputStmtCstNode);
      else if (k === 1) st = assignStmt(ctx, nodes[i] as C.AssignStmtCstNode);
      else if (k === 2) st = repeatStmt(ctx, nodes[i] as C.RepeatStmtCstNode);
      else if (k === 3) st = forStmt(ctx, nodes[i] as C.ForStmtCstNode);
      else st = returnStmt(ctx, nodes[i] as C.ReturnStmtCstNode);
      if (st !== undefined) out.push(st);
    }
  }
  return byOffset(out);
}

function inputStmt(ctx: Ctx, n: C.InputStmtCstNode): A.InputStmt | undefined {
  const name = first(n.children.Identifier);
  const span = nodeSpan(ctx, n);
  const t = n.children.typeExpr?.[0];
  const type = t && typeExpr(ctx, t);
  if (!name || !span || !type) return undefined;
  return { kind: "input", span, name: name.image, type };
}

function typeExpr(ctx: Ctx, n: C.TypeExprCstNode): A.TypeExpr | undefined {
  const dt = first(n.children.Identifier);
  const span = nodeSpan(ctx, n);
  if (!dt || !span || !first(n.children.RBracket)) return undefined;
  if (!DTYPES.includes(dt.image as A.DType)) {
    error(ctx, "PAR1006", `unknown dtype \`${dt.image}\``, tokenSpan(ctx, dt), {
      expected: DTYPES.map((d) => `\`${d}\``).join(", "),
      hint: didYouMean(dt.image, DTYPES),
    });
    return undefined;
  }
  const dims = (n.children.dimDecl ?? []).map((d) => dimDecl(ctx, d));
  if (dims.some((d) => d === undefined)) return undefined;
  return { span, dtype: dt.image as A.DType, dims: dims as A.DimDecl[] };
}

function dimDecl(ctx: Ctx, n: C.DimDeclCstNode): A.DimDecl | undefined {
  const span = nodeSpan(ctx, n);
  const size = expr(ctx, n.children.expr?.[0]);
  if (!span || !size) return undefined;
  const name = first(n.children.Identifier);
  return name ? { span, name: name.image, size } : { span, size };
}

function assignStmt(ctx: Ctx, n: C.AssignStmtCstNode): A.AssignStmt | undefined {
  const span = nodeSpan(ctx, n);
  const value = expr(ctx, n.children.expr?.[0]);
  // Not pushed: the AST keeps these arrays, and one grown by `push` reserves 16 slots.
  const ids = n.children.Identifier ?? [];
  const ident = (t: IToken): A.Ident => ({ kind: "ident", span: tokenSpan(ctx, t), name: t.image });
  const targets = ids.length === 1 ? (present(ids[0]) ? [ident(ids[0])] : []) : ids.filter(present).map(ident);
  if (!span || !value || targets.length === 0 || !first(n.children.Equals)) return undefined;
  return { kind: "assign", span, targets, value };
}

function repeatStmt(ctx: Ctx, n: C.RepeatStmtCstNode): A.RepeatStmt | undefined {
  const span = nodeSpan(ctx, n);
  const count = expr(ctx, n.children.expr?.[0]);
  const body = n.children.body?.[0];
  if (!span || !count || !body) return undefined;
  const stmt: A.RepeatStmt = { kind: "repeat", span, count, body: statements(ctx, body) };
  if (n.children.As) {
    const label = first(n.children.Identifier);
    if (!label) return undefined;
    stmt.label = label.image;
  }
  return stmt;
}

function forStmt(ctx: Ctx, n: C.ForStmtCstNode): A.ForStmt | undefined {
  const span = nodeSpan(ctx, n);
  const variable = first(n.children.Identifier);
  const range = expr(ctx, n.children.expr?.[0]);
  const body = n.children.body?.[0];
  if (!span || !variable || !range || !body) return undefined;
  if (range.kind !== "range") {
    error(ctx, "PAR1003", "found a single value, expected a range `a..b` after `in`", range.span, { expected: "a range such as `0..3`", hint: `write \`for ${variable.image} in 0..N { ... }\`` });
    return undefined;
  }
  return { kind: "for", span, variable: variable.image, range, body: statements(ctx, body) };
}

function returnStmt(ctx: Ctx, n: C.ReturnStmtCstNode): A.ReturnStmt | undefined {
  const span = nodeSpan(ctx, n);
  const values = (n.children.expr ?? []).map((e) => expr(ctx, e));
  if (!span || values.length === 0 || values.some((v) => v === undefined)) return undefined;
  return { kind: "return", span, values: values as A.Expr[] };
}

// ------------------------------------------------------------------ expressions

function expr(ctx: Ctx, n: C.ExprCstNode | undefined): A.Expr | undefined {
  if (!n) return undefined;
  const c = n.children;
  const rest = c.unary ?? [];
  const ops = c.BinaryOp ?? [];
  if (c.DotDot === undefined) {
    // Fast path: a single operand (most expressions).
    if (rest.length === 1 && ops.length === 0) return unary(ctx, rest[0]);
    return binary(ctx, rest, ops);
  }
  const dots = first(c.DotDot);
  if (!dots) return undefined;
  // A range: split the flat operand list at the `..`.
  const before = (x: CstNode | IToken): boolean => startOf(x) < dots.startOffset;
  const start = binary(ctx, rest.filter(before), ops.filter(before));
  const end = binary(
    ctx,
    rest.filter((x) => !before(x)),
    ops.filter((x) => !before(x)),
  );
  return start && end ? { kind: "range", span: join(start.span, end.span), start, end } : undefined;
}

const BINDING: Record<string, number> = { "+": 1, "-": 1, "*": 2, "/": 2, "//": 2, "%": 2 };

/**
 * The grammar reads `a op b op c` as a flat list; build the tree here: `* / // %` bind
 * tighter than `+ -`, and all are left-associative (operator precedence, one stack).
 */
function binary(ctx: Ctx, unaries: C.UnaryCstNode[], ops: IToken[]): A.Expr | undefined {
  const operands = unaries.map((u) => unary(ctx, u));
  if (operands.length === 0 || operands.some((o) => o === undefined) || ops.length !== operands.length - 1 || !ops.every(present)) return undefined;
  const values: A.Expr[] = [operands[0] as A.Expr];
  const pending: IToken[] = [];
  const reduce = (): void => {
    const right = values.pop() as A.Expr;
    const left = values.pop() as A.Expr;
    const op = pending.pop() as IToken;
    values.push({ kind: "binary", span: join(left.span, right.span), op: op.image as A.Binary["op"], left, right });
  };
  // The CST keeps operators apart from operands; both are in source order.
  for (let i = 0; i < ops.length; i++) {
    while (pending.length > 0 && BINDING[pending[pending.length - 1].image] >= BINDING[ops[i].image]) reduce();
    pending.push(ops[i]);
    values.push(operands[i + 1] as A.Expr);
  }
  while (pending.length > 0) reduce();
  return values[0];
}

function unary(ctx: Ctx, n: C.UnaryCstNode): A.Expr | undefined {
  let e = primary(ctx, n);
  const minuses = n.children.Minus;
  if (minuses === undefined) return e;
  if (!minuses.every(present)) return undefined;
  for (let i = minuses.length - 1; i >= 0 && e; i--) e = { kind: "unary", span: join(tokenSpan(ctx, minuses[i]), e.span), op: "-", operand: e };
  return e;
}

function primary(ctx: Ctx, n: C.UnaryCstNode): A.Expr | undefined {
  const c = n.children;
  if (c.IntLiteral || c.FloatLiteral) return number(ctx, n);
  // A name, or a call (its parentheses and arguments are in the same node).
  if (c.Identifier) return nameOrCall(ctx, n);
  if (c.LParen) return first(c.RParen) ? expr(ctx, c.expr?.[0]) : undefined;
  if (c.listExpr) {
    const span = nodeSpan(ctx, c.listExpr[0]);
    const elements = (c.listExpr[0].children.expr ?? []).map((e) => expr(ctx, e));
    if (!span || !first(c.listExpr[0].children.RBracket) || elements.some((e) => e === undefined)) return undefined;
    return { kind: "list", span, elements: elements as A.Expr[] };
  }
  const s = first(c.StringLiteral);
  if (s) {
    const value = unquote(ctx, s);
    return value === undefined ? undefined : { kind: "string", span: tokenSpan(ctx, s), value };
  }
  const t = first(c.True) ?? first(c.False);
  if (t) return { kind: "bool", span: tokenSpan(ctx, t), value: t.image === "true" };
  return undefined;
}

function number(ctx: Ctx, n: C.UnaryCstNode): A.Expr | undefined {
  const c = n.children;
  const int = first(c.IntLiteral);
  const num = int ?? first(c.FloatLiteral);
  if (!num) return undefined;
  const value = Number(num.image.replace(/_/g, ""));
  if (int && !Number.isSafeInteger(value)) {
    error(ctx, "PAR1005", `integer \`${num.image}\` is too large`, tokenSpan(ctx, num), { expected: `an integer up to ${Number.MAX_SAFE_INTEGER}` });
    return undefined;
  }
  if (!c.unit) return int ? { kind: "int", span: tokenSpan(ctx, num), value } : { kind: "float", span: tokenSpan(ctx, num), value, text: num.image };
  const u = c.unit[0].children;
  const unit = first(u.Identifier, 0);
  const per = first(u.Identifier, 1);
  if (!unit || (u.Slash && !per)) return undefined;
  const last = per ?? unit;
  return { kind: "quantity", span: join(tokenSpan(ctx, num), tokenSpan(ctx, last)), value, text: num.image, unit: per ? `${unit.image}/${per.image}` : unit.image };
}

function nameOrCall(ctx: Ctx, n: C.UnaryCstNode): A.Expr | undefined {
  const c = n.children;
  const name = first(c.Identifier);
  if (!name) return undefined;
  if (!c.LParen) return { kind: "ident", span: tokenSpan(ctx, name), name: name.image };
  const end = first(c.RParen);
  if (!end) return undefined;
  const args = c.expr ?? [];
  const named = c.namedArg ?? [];
  let firstNamed = Infinity;
  for (const a of named) firstNamed = Math.min(firstNamed, startOf(a));
  if (firstNamed !== Infinity) {
    for (const a of args) {
      const at = startOf(a) > firstNamed ? nodeSpan(ctx, a) : undefined;
      if (at) {
        error(ctx, "PAR1007", `positional argument after a named argument in the call to \`${name.image}\``, at, {
          expected: "positional arguments first, then `name = value` attributes",
          hint: `move it before the named arguments: \`${name.image}(x, out = 4)\``,
        });
      }
    }
  }
  // Every argument is converted (each may report its own error); mapped, not pushed, as the AST keeps the arrays.
  const posArgs = args.map((a) => expr(ctx, a));
  const namedArgs = named.map((a) => namedArg(ctx, a));
  if (posArgs.includes(undefined) || namedArgs.includes(undefined)) return undefined;
  const nameSpan = tokenSpan(ctx, name);
  return {
    kind: "call",
    span: { line: nameSpan.line, column: nameSpan.column, offset: nameSpan.offset, endOffset: (end.endOffset ?? end.startOffset) + 1 },
    callee: name.image,
    calleeSpan: nameSpan,
    args: posArgs as A.Expr[],
    named: namedArgs as A.NamedArg[],
  };
}

function namedArg(ctx: Ctx, n: C.NamedArgCstNode): A.NamedArg | undefined {
  const name = first(n.children.Identifier);
  const span = nodeSpan(ctx, n);
  const value = expr(ctx, n.children.expr?.[0]);
  return name && span && value ? { span, name: name.image, value } : undefined;
}

function namedArgs(ctx: Ctx, list: C.AttrListCstNode | undefined): A.NamedArg[] | undefined {
  if (!list) return [];
  if (!first(list.children.RParen)) return undefined;
  const args = (list.children.namedArg ?? []).map((a) => namedArg(ctx, a));
  return args.some((a) => a === undefined) ? undefined : (args as A.NamedArg[]);
}

/** The value of a string token: `\"` and `\\` are the only escapes. */
function unquote(ctx: Ctx, t: IToken): string | undefined {
  const body = t.image.slice(1, -1);
  let out = "";
  let ok = true;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = body[++i];
    if (next === '"' || next === "\\") {
      out += next;
      continue;
    }
    ok = false;
    const offset = t.startOffset + 1 + i - 1;
    error(ctx, "PAR1008", `unknown escape sequence \`\\${next}\` in a string`, offsetSpan(ctx, offset, offset + 2), {
      expected: '`\\"` or `\\\\`',
      hint: "strings allow only the escapes \\\" and \\\\",
    });
  }
  return ok ? out : undefined;
}

// ------------------------------------------------------------------ meshes

function meshDecl(ctx: Ctx, n: C.MeshDeclCstNode): A.MeshDecl | undefined {
  const name = first(n.children.Identifier);
  const span = nodeSpan(ctx, n);
  const body = n.children.meshBody?.[0];
  if (!name || !span || !body) return undefined;
  return { kind: "mesh", span, name: name.image, nameSpan: tokenSpan(ctx, name), body: meshItems(ctx, body) };
}

function meshItems(ctx: Ctx, n: C.MeshBodyCstNode): A.MeshItem[] {
  const c = n.children;
  return byOffset(
    defined<A.MeshItem>([
      ...(c.deviceDecl ?? []).map((d) => deviceDecl(ctx, d)),
      ...(c.linkDecl ?? []).map((d) => linkDecl(ctx, d)),
      ...(c.groupDecl ?? []).map((d) => groupDecl(ctx, d)),
    ]),
  );
}

function deviceDecl(ctx: Ctx, n: C.DeviceDeclCstNode): A.DeviceDecl | undefined {
  const span = nodeSpan(ctx, n);
  const kind = first(n.children.Identifier);
  const attrs = namedArgs(ctx, n.children.attrList?.[0]);
  if (!span || !kind || !attrs) return undefined;
  // Without `x N` the device is single; the implicit 1 points at the `device` keyword.
  const count: A.Expr | undefined = n.children.expr ? expr(ctx, n.children.expr[0]) : { kind: "int", span: tokenSpan(ctx, n.children.Device[0]), value: 1 };
  return count ? { kind: "device", span, deviceKind: kind.image, attrs, count } : undefined;
}

function linkDecl(ctx: Ctx, n: C.LinkDeclCstNode): A.LinkDecl | undefined {
  const span = nodeSpan(ctx, n);
  const name = first(n.children.Identifier);
  const attrs = namedArgs(ctx, n.children.attrList?.[0]);
  return span && name && attrs ? { kind: "link", span, name: name.image, attrs } : undefined;
}

function groupDecl(ctx: Ctx, n: C.GroupDeclCstNode): A.GroupDecl | undefined {
  const span = nodeSpan(ctx, n);
  const label = first(n.children.Identifier, 0);
  const times = first(n.children.Identifier, 1);
  const count = expr(ctx, n.children.expr?.[0]);
  const body = n.children.meshBody?.[0];
  if (!span || !label || !times || !count || !body) return undefined;
  if (times.image !== "x") {
    error(ctx, "PAR1003", `found \`${times.image}\`, expected \`x\` between the group label and its count`, tokenSpan(ctx, times), {
      expected: "`x`",
      hint: `a group is written \`${label.image} x COUNT { ... }\``,
    });
    return undefined;
  }
  return { kind: "group", span, label: label.image, count, body: meshItems(ctx, body) };
}

// ------------------------------------------------------------------ strategies

function strategyDecl(ctx: Ctx, n: C.StrategyDeclCstNode): A.StrategyDecl | undefined {
  const span = nodeSpan(ctx, n);
  const [name, model, mesh] = [0, 1, 2].map((i) => first(n.children.Identifier, i));
  if (!span || !name || !model || !mesh) return undefined;
  const rules = byOffset(defined((n.children.rule ?? []).map((r) => rule(ctx, r))));
  const settings = byOffset(defined((n.children.strategySettings ?? []).map((x) => strategySettings(ctx, x))));
  const pipelines = byOffset(defined((n.children.pipelineDecl ?? []).map((x) => pipelineDecl(ctx, x))));
  return {
    kind: "strategy",
    span,
    name: name.image,
    nameSpan: tokenSpan(ctx, name),
    model: model.image,
    modelSpan: tokenSpan(ctx, model),
    mesh: mesh.image,
    meshSpan: tokenSpan(ctx, mesh),
    rules,
    settings,
    pipelines,
  };
}

function strategySettings(ctx: Ctx, n: C.StrategySettingsCstNode): A.StrategySettings | undefined {
  const span = nodeSpan(ctx, n);
  const settings = (n.children.setting ?? []).map((a) => setting(ctx, a));
  if (!span || settings.length === 0 || settings.some((s) => !s)) return undefined;
  return { span, settings: settings as A.NamedArg[] };
}

function pipelineDecl(ctx: Ctx, n: C.PipelineDeclCstNode): A.PipelineDecl | undefined {
  const span = nodeSpan(ctx, n);
  const word = first(n.children.Identifier);
  const attrs = n.children.attrList?.[0];
  if (!span || !word || !attrs) return undefined;
  // The grammar reads any `name(...)` here; only `pipeline` is a strategy item.
  if (word.image !== "pipeline") {
    error(ctx, "PAR1003", `found \`${word.image}(\` in a strategy, expected a rule, a setting or \`pipeline(...)\``, tokenSpan(ctx, word), {
      expected: "`pipeline(...)`, `NAME = VALUE` or `PATTERN : KEY = VALUE`",
      hint: didYouMean(word.image, ["pipeline"]),
    });
    return undefined;
  }
  const settings = namedArgs(ctx, attrs);
  if (!settings) return undefined;
  const decl: A.PipelineDecl = { span, settings };
  if (n.children.LBrace) {
    const stages = (n.children.stageDecl ?? []).map((x) => stageDecl(ctx, x));
    if (stages.some((s) => !s)) return undefined;
    decl.stages = byOffset(stages as A.StageDecl[]);
  }
  return decl;
}

function stageDecl(ctx: Ctx, n: C.StageDeclCstNode): A.StageDecl | undefined {
  const span = nodeSpan(ctx, n);
  const [a, b] = n.children.pattern ?? [];
  const firstOp = a && pattern(ctx, a);
  if (!span || !firstOp) return undefined;
  const settings = (n.children.setting ?? []).map((x) => setting(ctx, x));
  if (settings.some((s) => !s)) return undefined;
  const decl: A.StageDecl = { span, first: firstOp, settings: settings as A.NamedArg[] };
  if (n.children.DotDot) {
    const lastOp = b && pattern(ctx, b);
    if (!lastOp) return undefined;
    decl.last = lastOp;
  }
  return decl;
}

function rule(ctx: Ctx, n: C.RuleCstNode): A.StrategyRule | undefined {
  const span = nodeSpan(ctx, n);
  const patterns = (n.children.pattern ?? []).map((p) => pattern(ctx, p));
  const settings = (n.children.setting ?? []).map((a) => setting(ctx, a));
  if (!span || patterns.length === 0 || settings.length === 0 || patterns.some((p) => !p) || settings.some((s) => !s)) return undefined;
  return { span, patterns: patterns as A.OpPattern[], settings: settings as A.NamedArg[] };
}

function setting(ctx: Ctx, n: C.SettingCstNode): A.NamedArg | undefined {
  const name = first(n.children.Identifier);
  const span = nodeSpan(ctx, n);
  const [a, b] = n.children.unary ?? [];
  const start = a && unary(ctx, a);
  let value: A.Expr | undefined = start;
  if (start && n.children.DotDot) {
    const end = b && unary(ctx, b);
    value = end ? { kind: "range", span: join(start.span, end.span), start, end } : undefined;
  }
  return name && span && value ? { span, name: name.image, value } : undefined;
}

function pattern(ctx: Ctx, n: C.PatternCstNode): A.OpPattern | undefined {
  const span = nodeSpan(ctx, n);
  if (!span) return undefined;
  const s = first(n.children.StringLiteral);
  if (s) {
    const text = unquote(ctx, s);
    return text === undefined ? undefined : { span, text };
  }
  const pieces = (n.children.patternPiece ?? []).map((p) => Object.values(p.children)[0]?.[0] as IToken | undefined);
  if (pieces.length === 0 || !pieces.every(present)) return undefined;
  return { span, text: (pieces as IToken[]).map((t) => t.image).join("") };
}

// ------------------------------------------------------------------ comments

type Target = A.Node & A.Commented;

/** Every node that can carry comments, in source order (parents before their children). */
function commentTargets(program: A.Program): Target[] {
  const out: Target[] = [];
  const stmts = (body: A.Stmt[]): void => {
    for (const s of body) {
      out.push(s);
      if (s.kind === "repeat" || s.kind === "for") stmts(s.body);
    }
  };
  const meshItems = (body: A.MeshItem[]): void => {
    for (const m of body) {
      out.push(m);
      if (m.kind === "group") meshItems(m.body);
    }
  };
  for (const item of program.items) {
    out.push(item);
    if (item.kind === "model" || item.kind === "block") stmts(item.body);
    else if (item.kind === "mesh") meshItems(item.body);
    else {
      out.push(...item.rules, ...item.settings);
      for (const p of item.pipelines) out.push(p, ...(p.stages ?? []));
    }
  }
  return out.sort((a, b) => a.span.offset - b.span.offset);
}

/**
 * A comment with code before it on its line trails the node that ends last on that line
 * before it; any other comment leads the next node that starts after it; comments after
 * the last node go to `Program.endComments`. A trailing-position comment with no node
 * ending on its line (e.g. after an opening `{`) leads the next node instead. `comments`
 * are in source order (as the lexer gives them).
 */
export function attachComments(program: A.Program, comments: IToken[], text: string): void {
  if (comments.length === 0) return;
  const byStart = commentTargets(program);
  const byEnd = [...byStart].sort((a, b) => a.span.endOffset - b.span.endOffset);
  const lines = lineTable(text);
  // Comments come in source order, so the targets ending before a comment and those starting
  // before it only grow from one comment to the next: two pointers, no search per comment.
  let ended = 0;
  let started = 0;
  for (const c of comments) {
    const body = c.image.slice(1).trimEnd();
    while (ended < byEnd.length && byEnd[ended].span.endOffset <= c.startOffset) ended++;
    while (started < byStart.length && byStart[started].span.offset <= c.startOffset) started++;
    if (codeBefore(text, c.startOffset)) {
      const t = ended > 0 ? byEnd[ended - 1] : undefined;
      if (t && t.trailingComment === undefined && lines.sameLine(t.span.endOffset - 1, c.startOffset)) {
        t.trailingComment = body;
        continue;
      }
    }
    const next = byStart[started];
    if (next) (next.leadingComments ??= []).push(body);
    else (program.endComments ??= []).push(body);
  }
}

/** True when something other than blanks precedes `offset` on its line. */
function codeBefore(text: string, offset: number): boolean {
  for (let i = offset - 1; i >= 0; i--) {
    const ch = text[i];
    if (ch === "\n" || ch === "\r") return false;
    if (ch !== " " && ch !== "\t" && ch !== "\f" && ch !== "\v" && ch !== "\uFEFF") return true;
  }
  return false;
}
