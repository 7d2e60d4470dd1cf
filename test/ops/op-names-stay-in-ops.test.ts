// Op names stay in src/ops: code elsewhere asks an op what it is (OpEntry.roles,
// InputSpec.role and .classes, OpEntry.expansion; docs/ops.md) instead of comparing its
// name, so that adding an operator touches its own file and its tests only.
//
// The scan reads src/ outside src/ops with the TypeScript compiler (types, not just text,
// so that `spec.kind === "param"`, a buffer kind that happens to share a word with the
// `param` op, is told apart from an op kind) and reports:
//   - a comparison (===, !==, ==, !=) of an op name with a value that may hold one: a
//     string literal naming a registered op (or a value typed as op-name literals only)
//     against anything typed `string` (or any, or op-name literals);
//   - `case "<op>":` in a switch over such a value;
//   - an array literal (bare or inside `new Set([...])`) whose elements are all op names.
// Building nodes with an op name (`b.op(name, "relu", ...)`, `{ op: "relu" }`) is allowed.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { opNames } from "../../src/ops/registry.js";

const ROOT = join(import.meta.dirname, "..", "..");

interface Finding {
  file: string;
  line: number;
  text: string;
}

/**
 * Known violations, each with why it is left.
 * The test fails when one no longer occurs, so the list only shrinks.
 */
const KNOWN: readonly { file: string; text: string; why: string }[] = [];

/** True when `t` is a string-literal type (or a union of them) naming registered ops only. */
function isOpLiteralType(t: ts.Type, ops: ReadonlySet<string>): boolean {
  const parts = t.isUnion() ? t.types : [t];
  const literals = parts.filter((p) => !(p.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
  return literals.length > 0 && literals.every((p) => p.isStringLiteral() && ops.has(p.value));
}

/** True when a value of type `t` may be an op name: plain `string`, any/unknown, or op-name literals. */
function mayHoldOpName(t: ts.Type, ops: ReadonlySet<string>): boolean {
  const parts = t.isUnion() ? t.types : [t];
  if (parts.some((p) => p.flags & (ts.TypeFlags.String | ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.TemplateLiteral))) return true;
  return isOpLiteralType(t, ops);
}

function isOpNameLiteral(e: ts.Expression, ops: ReadonlySet<string>): boolean {
  return (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) && ops.has(e.text);
}

const EQUALITY = new Set([ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken]);

/** Every op-name comparison, case label and op-name list in `files` of `program`. */
function scan(program: ts.Program, files: ReadonlySet<string>, ops: ReadonlySet<string>): Finding[] {
  const checker = program.getTypeChecker();
  const out: Finding[] = [];
  // `["param"]` where the context wants buffer kinds ("param" | "grad" | ...) is not an op list.
  const typedAsOtherWords = (a: ts.ArrayLiteralExpression): boolean => {
    const wanted = checker.getContextualType(a);
    const element = wanted && checker.isArrayLikeType(wanted) ? checker.getIndexTypeOfType(wanted, ts.IndexKind.Number) : undefined;
    if (!element) return false;
    const parts = element.isUnion() ? element.types : [element];
    return parts.length > 0 && parts.every((p) => p.isStringLiteral()) && parts.some((p) => p.isStringLiteral() && !ops.has(p.value));
  };
  const names = (e: ts.Expression): boolean => isOpNameLiteral(e, ops) || isOpLiteralType(checker.getTypeAtLocation(e), ops);
  for (const sf of program.getSourceFiles()) {
    if (!files.has(sf.fileName)) continue;
    const report = (node: ts.Node) => {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      out.push({ file: relative(ROOT, sf.fileName), line: line + 1, text: node.getText(sf) });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isBinaryExpression(node) && EQUALITY.has(node.operatorToken.kind)) {
        const { left, right } = node;
        const holds = (e: ts.Expression) => mayHoldOpName(checker.getTypeAtLocation(e), ops);
        if ((names(right) && holds(left)) || (names(left) && holds(right))) report(node);
      } else if (ts.isSwitchStatement(node) && mayHoldOpName(checker.getTypeAtLocation(node.expression), ops)) {
        for (const clause of node.caseBlock.clauses) if (ts.isCaseClause(clause) && isOpNameLiteral(clause.expression, ops)) report(clause.expression.parent);
      } else if (ts.isArrayLiteralExpression(node) && node.elements.length > 0 && node.elements.every((e) => isOpNameLiteral(e, ops)) && !typedAsOtherWords(node)) {
        report(node);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** A program over the given root files with the project's compiler options. */
function programOf(rootNames: string[], options: ts.CompilerOptions): ts.Program {
  return ts.createProgram(rootNames, { ...options, noEmit: true });
}

function projectOptions(): { options: ts.CompilerOptions; fileNames: string[] } {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n")); } });
  if (!parsed) throw new Error("cannot read tsconfig.json");
  return { options: parsed.options, fileNames: parsed.fileNames };
}

const OPS = new Set(opNames());

describe("op names stay in src/ops", () => {
  it("the registry names the ops the scan looks for", () => {
    expect(OPS.size).toBeGreaterThan(50);
    expect(OPS.has("relu") && OPS.has("softmax_cross_entropy") && OPS.has("param")).toBe(true);
  });

  it("the scan reports comparisons, case labels and op-name lists, and not look-alike enums", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-op-names-"));
    try {
      const file = join(dir, "plant.ts");
      writeFileSync(
        file,
        [
          "declare const o: { op: string; kind: \"value\" | \"param\" };",
          "export const a = o.op === \"relu\";", // flagged: a comparison with an op name
          "export const b = \"mse\" !== o.op;", // flagged
          "export function c(): number { switch (o.op) { case \"linear\": return 1; default: return 0; } }", // flagged
          "export const d = new Set([\"lstm\", \"gather\"]);", // flagged: a list of op names
          "export const e = o.kind === \"param\";", // not flagged: a buffer kind, not an op name
          "export const f = { op: \"relu\" };", // not flagged: building a node
          "type Loss = \"mse\" | \"softmax_cross_entropy\"; declare const l: Loss;",
          "export const g = l === \"mse\";", // flagged: a type of op names
        ].join("\n"),
      );
      const { options } = projectOptions();
      const found = scan(programOf([file], options), new Set([file]), OPS).map((f) => f.line);
      expect(found).toEqual([2, 3, 4, 5, 9]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("no file in src/ outside src/ops compares an op name (OpEntry properties instead)", () => {
    const { options, fileNames } = projectOptions();
    const src = fileNames.filter((f) => {
      const rel = relative(ROOT, f);
      return rel.startsWith("src/") && !rel.startsWith("src/ops/");
    });
    const findings = scan(programOf(src, options), new Set(src), OPS);
    const known = (f: Finding) => KNOWN.some((k) => k.file === f.file && f.text.includes(k.text));
    expect(findings.filter((f) => !known(f)).map((f) => `${f.file}:${f.line}: ${f.text}`)).toEqual([]);
    const stale = KNOWN.filter((k) => !findings.some((f) => f.file === k.file && f.text.includes(k.text)));
    expect(stale.map((k) => `${k.file}: \`${k.text}\` no longer occurs: remove it from KNOWN`)).toEqual([]);
  });
});
