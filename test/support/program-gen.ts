// Random syntactically valid .par programs (source text), for round-trip tests of the
// printer and as seeds for malformed-input fuzzing. Layout varies on purpose (spacing,
// newlines, `;`, redundant parentheses, comments) so that `format` has work to do.
// Only syntax is guaranteed valid: names, arities and units are random, not checked.
import fc from "fast-check";

const RESERVED = new Set(["model", "block", "mesh", "strategy", "input", "repeat", "for", "in", "return", "as", "on", "device", "link", "true", "false"]);
const NAME_POOL = ["x", "h", "y", "batch", "hidden", "relu", "linear", "layer", "attn", "qkv", "node", "rack", "P100", "nvlink", "out", "axis", "_t", "w2", "f32"];
const DTYPES = ["f32", "f16", "bf16", "i32", "i64", "bool"];
const UNITS = ["GB/s", "Gb/s", "us", "ms", "GB", "GiB", "TFLOP/s", "B"];

/** An identifier that is not a reserved word. */
export const nameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NAME_POOL) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/).filter((s) => !RESERVED.has(s)) },
);

/** Whitespace between tokens; may contain newlines (they are insignificant). */
const gapArb = fc.constantFrom(" ", " ", " ", "  ", "\t", "\n  ", " \n");
/** A gap that stays on the line (a number and its unit, a trailing comment). */
const commentTextArb = fc.stringMatching(/^[ A-Za-z0-9_.,:;=*#"'()\[\]{}-]{0,16}$/);

const intArb: fc.Arbitrary<string> = fc.oneof(
  fc.nat(4096).map(String),
  fc.integer({ min: 1, max: 999 }).map((n) => `${n}_000`),
);
const floatArb = fc.constantFrom("0.1", "1e-5", "2.5e3", "3.0", "1E+2", "0.000_5");
const stringArb = fc.stringMatching(/^[ A-Za-z0-9_.*?"\\]{0,10}$/).map((s) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`);
const quantityArb = fc.tuple(fc.oneof(intArb, fc.constantFrom("0.5", "2.5")), fc.constantFrom(...UNITS)).map(([n, u]) => `${n} ${u}`);

const exprCache = new Map<number, fc.Arbitrary<string>>();

/** An expression of nesting depth at most `depth` (ranges only where an expression may be a range). */
export function exprArb(depth: number): fc.Arbitrary<string> {
  const cached = exprCache.get(depth);
  if (cached) return cached;
  const operand = operandArb(depth);
  const arb =
    depth <= 0
      ? operand
      : fc.oneof({ weight: 4, arbitrary: operand }, { weight: 1, arbitrary: fc.tuple(operandArb(depth - 1), operandArb(depth - 1)).map(([a, b]) => `${a}..${b}`) });
  exprCache.set(depth, arb);
  return arb;
}

const operandCache = new Map<number, fc.Arbitrary<string>>();

/** An expression that can be an operand of `+`, `*`, unary `-` (no bare range). */
function operandArb(depth: number): fc.Arbitrary<string> {
  const cached = operandCache.get(depth);
  if (cached) return cached;
  const leaves = fc.oneof(intArb, floatArb, stringArb, quantityArb, nameArb, fc.constantFrom("true", "false"));
  if (depth <= 0) {
    operandCache.set(depth, leaves);
    return leaves;
  }
  const sub = operandArb(depth - 1);
  const any = exprArb(depth - 1);
  const arb = fc.oneof(
    { weight: 3, arbitrary: leaves },
    { weight: 2, arbitrary: fc.tuple(sub, fc.constantFrom("+", "-", "*", "/", "//", "%"), sub).map(([a, op, b]) => `${a} ${op} ${b}`) },
    { weight: 1, arbitrary: sub.map((a) => `-${a}`) },
    { weight: 1, arbitrary: any.map((a) => `(${a})`) },
    { weight: 1, arbitrary: fc.array(any, { maxLength: 3 }).map((xs) => `[${xs.join(", ")}]`) },
    { weight: 2, arbitrary: callArb(any) },
  );
  operandCache.set(depth, arb);
  return arb;
}

function callArb(arg: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(nameArb, fc.array(arg, { maxLength: 2 }), fc.array(fc.tuple(nameArb, arg), { maxLength: 2 }), gapArb)
    .map(([f, pos, named, gap]) => `${f}(${[...pos, ...named.map(([k, v]) => `${k} =${gap}${v}`)].join(`,${gap}`)})`);
}

const attrsArb = fc.array(fc.tuple(nameArb, exprArb(1)), { maxLength: 3 }).map((xs) => xs.map(([k, v]) => `${k} = ${v}`).join(", "));

// ------------------------------------------------------------------ lines and comments

/** A construct's text plus optional comments around it: a line above, one at the end. */
function withComments(text: fc.Arbitrary<string>, indent: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.option(commentTextArb, { freq: 4 }), text, fc.option(commentTextArb, { freq: 4 }), fc.constantFrom("\n", "\n", ";\n", "\n\n"))
    .map(([lead, t, trail, end]) => `${lead !== null ? `${indent}#${lead}\n` : ""}${indent}${t}${trail !== null ? ` #${trail}\n` : end}`);
}

function bodyOf(items: string[]): string {
  return items.join("");
}

// ------------------------------------------------------------------ models and blocks

const dimArb = fc.oneof(exprArb(1), fc.tuple(nameArb, exprArb(1)).map(([n, e]) => `${n}: ${e}`));
const inputArb = fc
  .tuple(nameArb, fc.constantFrom(...DTYPES), fc.array(dimArb, { maxLength: 3 }), gapArb)
  .map(([n, dt, dims, gap]) => `input ${n}${gap}:${gap}${dt}[${dims.join(", ")}]`);
const assignArb = fc.oneof(
  fc.tuple(nameArb, exprArb(3), gapArb).map(([n, e, gap]) => `${n}${gap}=${gap}${e}`),
  fc.tuple(fc.array(nameArb, { minLength: 2, maxLength: 3 }), callArb(exprArb(1))).map(([ts, c]) => `${ts.join(", ")} = ${c}`),
);
const returnArb = fc.array(exprArb(2), { minLength: 1, maxLength: 2 }).map((xs) => `return ${xs.join(", ")}`);

function stmtsArb(depth: number, indent: string, inBlock: boolean): fc.Arbitrary<string> {
  const simple = [inputArb, assignArb, assignArb, ...(inBlock ? [returnArb] : [])];
  const inner = indent + "  ";
  const nested: fc.Arbitrary<string>[] =
    depth <= 0
      ? []
      : [
          fc
            .tuple(exprArb(1), fc.option(nameArb), stmtsArb(depth - 1, inner, inBlock))
            .map(([n, label, body]) => `repeat ${n}${label !== null ? ` as ${label}` : ""} {\n${body}${indent}}`),
          fc
            .tuple(nameArb, operandArb(1), operandArb(1), stmtsArb(depth - 1, inner, inBlock))
            .map(([v, a, b, body]) => `for ${v} in ${a}..${b} {\n${body}${indent}}`),
        ];
  const stmt = fc.oneof(...simple.map((arbitrary) => ({ weight: 3, arbitrary })), ...nested.map((arbitrary) => ({ weight: 1, arbitrary })));
  return fc.array(withComments(stmt, indent), { maxLength: 5 }).map(bodyOf);
}

const paramsArb = fc
  .array(fc.tuple(nameArb, fc.option(exprArb(1))), { maxLength: 3 })
  .map((ps) => ps.map(([n, d]) => (d !== null ? `${n} = ${d}` : n)).join(", "));

const modelArb = fc
  .tuple(fc.constantFrom("model", "block"), nameArb, fc.option(paramsArb), fc.boolean())
  .chain(([kw, name, params]) =>
    stmtsArb(2, "  ", kw === "block").map((body) => `${kw} ${name}${params !== null ? `(${params})` : ""} {\n${body}}`),
  );

// ------------------------------------------------------------------ meshes

const deviceArb = fc
  .tuple(nameArb, fc.option(attrsArb), fc.option(exprArb(1)))
  .map(([k, attrs, count]) => `device ${k}${attrs !== null ? `(${attrs})` : ""}${count !== null ? ` x ${count}` : ""}`);
const linkArb = fc.tuple(nameArb, fc.option(attrsArb)).map(([n, attrs]) => `link ${n}${attrs !== null ? `(${attrs})` : ""}`);

function meshItemsArb(depth: number, indent: string): fc.Arbitrary<string> {
  const group =
    depth <= 0
      ? []
      : [fc.tuple(nameArb, exprArb(1), meshItemsArb(depth - 1, indent + "  ")).map(([l, n, body]) => `${l} x ${n} {\n${body}${indent}}`)];
  return fc.array(withComments(fc.oneof(deviceArb, linkArb, ...group), indent), { maxLength: 4 }).map(bodyOf);
}

const meshArb = fc.tuple(nameArb, meshItemsArb(2, "  ")).map(([n, body]) => `mesh ${n} {\n${body}}`);

// ------------------------------------------------------------------ strategies

/** A glob piece sequence with no spaces; segments never glue a digit to a letter. */
const segmentArb = fc.oneof(
  nameArb,
  fc.constantFrom("*", "?", "0", "12"),
  fc.tuple(nameArb, fc.constantFrom("*", "?")).map(([n, g]) => n + g),
  fc.tuple(fc.constantFrom("*", "?"), nameArb).map(([g, n]) => g + n),
);
const globArb = fc.array(segmentArb, { minLength: 1, maxLength: 4 }).map((s) => s.join("."));
const patternArb = fc.oneof({ weight: 3, arbitrary: globArb }, { weight: 1, arbitrary: stringArb });
const settingValueArb = fc.oneof(
  intArb,
  fc.tuple(fc.nat(15), fc.nat(15)).map(([a, b]) => `${a}..${b}`),
  fc.array(fc.oneof(intArb, fc.tuple(fc.nat(7), fc.nat(7)).map(([a, b]) => `${a}..${b}`)), { maxLength: 4 }).map((xs) => `[${xs.join(", ")}]`),
  nameArb,
);
const ruleArb = fc
  .tuple(fc.array(patternArb, { minLength: 1, maxLength: 3 }), fc.array(fc.tuple(nameArb, settingValueArb), { minLength: 1, maxLength: 3 }), gapArb)
  .map(([ps, ss, gap]) => `${ps.join(`,${gap}`)}${gap}:${gap}${ss.map(([k, v]) => `${k} = ${v}`).join(", ")}`);
const settingsArb = fc.array(fc.tuple(nameArb, settingValueArb), { minLength: 1, maxLength: 3 }).map((ss) => ss.map(([k, v]) => `${k} = ${v}`).join(", "));
const stageArb = fc
  .tuple(patternArb, fc.option(patternArb), fc.option(settingsArb), gapArb)
  .map(([a, b, ss, gap]) => `${a}${b !== null ? `${gap}..${gap}${b}` : ""}${ss !== null ? ` :${gap}${ss}` : ""}`);
const pipelineArb = fc
  .tuple(fc.array(fc.tuple(nameArb, exprArb(1)), { maxLength: 3 }), fc.option(fc.array(withComments(stageArb, "    "), { maxLength: 3 })))
  .map(([named, stages]) => `pipeline(${named.map(([k, v]) => `${k} = ${v}`).join(", ")})${stages !== null ? ` {\n${stages.join("")}  }` : ""}`);
const strategyItemArb = fc.oneof({ weight: 4, arbitrary: ruleArb }, { weight: 1, arbitrary: settingsArb }, { weight: 1, arbitrary: pipelineArb });
const strategyArb = fc
  .tuple(nameArb, nameArb, nameArb, fc.array(withComments(strategyItemArb, "  "), { maxLength: 4 }))
  .map(([s, m, n, rules]) => `strategy ${s} for ${m} on ${n} {\n${rules.join("")}}`);

// ------------------------------------------------------------------ programs

/** Source text of a syntactically valid .par program. */
export const validProgramArb: fc.Arbitrary<string> = fc
  .array(withComments(fc.oneof(modelArb, meshArb, strategyArb), ""), { maxLength: 4 })
  .chain((items) => fc.option(commentTextArb).map((end) => items.join("\n") + (end !== null ? `#${end}\n` : "")));
