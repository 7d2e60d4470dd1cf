import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics, type Diagnostic } from "../../src/core/diagnostics.js";
import type { AssignStmt, Call, Expr, ForStmt, InputStmt, MeshDecl, ModelDecl, Program, RepeatStmt, ReturnStmt, StrategyDecl } from "../../src/frontend/ast.js";
import { stripSpans } from "../../src/frontend/ast-equal.js";
import { parse, reportParserFailure } from "../../src/frontend/parse.js";
import { SYNTAX_CODES } from "../../src/frontend/syntax-codes.js";
import { assertProperty } from "../support/property.js";
import { validProgramArb } from "../support/program-gen.js";

function ok(text: string): Program {
  const d = new Diagnostics();
  const p = parse(text, "t.par", d);
  expect(d.items).toEqual([]);
  expect(p).toBeDefined();
  return p as Program;
}

function errors(text: string): { program: Program | undefined; items: Diagnostic[] } {
  const d = new Diagnostics();
  const program = parse(text, "t.par", d);
  return { program, items: d.items };
}

/** The first diagnostic with `code`, asserting its position. */
function expectAt(text: string, code: string, line: number, column: number): Diagnostic {
  const { items } = errors(text);
  const d = items.find((x) => x.code === code);
  expect(d, `${code} in ${JSON.stringify(items.map((x) => `${x.code} ${x.pos?.line}:${x.pos?.column} ${x.message}`))}`).toBeDefined();
  expect(d?.pos).toMatchObject({ file: "t.par", line, column });
  return d as Diagnostic;
}

function body(text: string): ModelDecl["body"] {
  return (ok(`model m {\n${text}\n}`).items[0] as ModelDecl).body;
}

function value(text: string): Expr {
  return stripSpans((body(`v = ${text}`)[0] as AssignStmt).value);
}

describe("parse: declarations", () => {
  it("reads a model with params, inputs and named dims", () => {
    const m = ok("model mlp(batch = 64, hidden) {\n  input x : f32[batch, 784, tokens: batch * 2]\n}").items[0] as ModelDecl;
    expect(m.kind).toBe("model");
    expect(m.name).toBe("mlp");
    expect(m.nameSpan).toMatchObject({ line: 1, column: 7 });
    expect(stripSpans(m.params)).toEqual([{ name: "batch", default: { kind: "int", value: 64 } }, { name: "hidden" }]);
    const input = m.body[0] as InputStmt;
    expect(input.span).toMatchObject({ line: 2, column: 3 });
    expect(stripSpans(input.type)).toEqual({
      dtype: "f32",
      dims: [
        { size: { kind: "ident", name: "batch" } },
        { size: { kind: "int", value: 784 } },
        { name: "tokens", size: { kind: "binary", op: "*", left: { kind: "ident", name: "batch" }, right: { kind: "int", value: 2 } } },
      ],
    });
  });

  it("accepts a model without a parameter list and every dtype", () => {
    const m = ok("model m { input a : f16[1] input b : bf16[1]; input c : i32[1] input d : i64[] input e : bool[2] }").items[0] as ModelDecl;
    expect(m.params).toEqual([]);
    expect(m.body.map((s) => (s as InputStmt).type.dtype)).toEqual(["f16", "bf16", "i32", "i64", "bool"]);
  });

  it("reads blocks with return of several values and multi-target assignment", () => {
    const p = ok("block pair(x, width = 16) {\n  a, b = split(x, parts = 2, axis = 1)\n  return a, relu(b)\n}");
    const b = p.items[0];
    expect(b.kind).toBe("block");
    const stmts = (b as ModelDecl).body;
    expect((stmts[0] as AssignStmt).targets.map((t) => t.name)).toEqual(["a", "b"]);
    const ret = stmts[1] as ReturnStmt;
    expect(ret.kind).toBe("return");
    expect(stripSpans(ret.values)).toEqual([
      { kind: "ident", name: "a" },
      { kind: "call", callee: "relu", args: [{ kind: "ident", name: "b" }], named: [] },
    ]);
  });

  it("reads repeat (with and without a label) and for loops", () => {
    const [r1, r2, f] = body("repeat 2 { h = relu(h) }\nrepeat n * 2 as blk { h = relu(h) }\nfor i in 0..depth - 1 { h = f(h, k = i) }");
    expect((r1 as RepeatStmt).label).toBeUndefined();
    expect(stripSpans((r1 as RepeatStmt).count)).toEqual({ kind: "int", value: 2 });
    expect((r2 as RepeatStmt).label).toBe("blk");
    expect((r2 as RepeatStmt).body).toHaveLength(1);
    const loop = f as ForStmt;
    expect(loop.variable).toBe("i");
    expect(stripSpans(loop.range)).toEqual({
      kind: "range",
      start: { kind: "int", value: 0 },
      end: { kind: "binary", op: "-", left: { kind: "ident", name: "depth" }, right: { kind: "int", value: 1 } },
    });
  });

  it("reads a mesh: nested groups, catalog and custom devices, links with quantities", () => {
    const mesh = ok(`mesh p {
  node x 4 {
    device P100 x 4
    device mygpu(flops = 10 TFLOP/s, memory = 16 GB, bandwidth = 900 GB/s) x 2
    device cpu
    link nvlink(bandwidth = 20 GB/s, latency = 2 us)
  }
  link infiniband(bandwidth = 100 Gb/s, latency = 5 us)
}`).items[0] as MeshDecl;
    const [group, link] = stripSpans(mesh.body);
    expect(group).toMatchObject({ kind: "group", label: "node", count: { kind: "int", value: 4 } });
    expect(link).toEqual({
      kind: "link",
      name: "infiniband",
      attrs: [
        { name: "bandwidth", value: { kind: "quantity", value: 100, text: "100", unit: "Gb/s" } },
        { name: "latency", value: { kind: "quantity", value: 5, text: "5", unit: "us" } },
      ],
    });
    const items = group.kind === "group" ? group.body : [];
    expect(items.map((i) => i.kind)).toEqual(["device", "device", "device", "link"]);
    expect(items[0]).toEqual({ kind: "device", deviceKind: "P100", attrs: [], count: { kind: "int", value: 4 } });
    expect(items[1]).toMatchObject({ deviceKind: "mygpu", count: { kind: "int", value: 2 } });
    expect(items[1].kind === "device" && items[1].attrs.map((a) => a.value)).toEqual([
      { kind: "quantity", value: 10, text: "10", unit: "TFLOP/s" },
      { kind: "quantity", value: 16, text: "16", unit: "GB" },
      { kind: "quantity", value: 900, text: "900", unit: "GB/s" },
    ]);
    expect(items[2]).toEqual({ kind: "device", deviceKind: "cpu", attrs: [], count: { kind: "int", value: 1 } });
  });

  it("reads a group labelled `x` after a device on the previous line", () => {
    const mesh = ok("mesh m {\n  device P100\n  x x 2 { device V100 }\n}").items[0] as MeshDecl;
    expect(mesh.body.map((i) => i.kind)).toEqual(["device", "group"]);
  });

  it("reads strategies: globs, quoted names, ranges, lists", () => {
    const s = ok(`strategy hybrid for mlp on p100x16 {
  *      : sample = 16
  logits : sample = 4, channel = 4, devices = 0..15
  layer*.attn.qkv, "h_2", l?.0 : channel = 2, devices = [0, 2, 4..7]
}`).items[0] as StrategyDecl;
    expect([s.name, s.model, s.mesh]).toEqual(["hybrid", "mlp", "p100x16"]);
    expect(s.modelSpan).toMatchObject({ line: 1, column: 21 });
    expect(s.rules.map((r) => r.patterns.map((p) => p.text))).toEqual([["*"], ["logits"], ["layer*.attn.qkv", "h_2", "l?.0"]]);
    expect(stripSpans(s.rules[1].settings[2])).toEqual({ name: "devices", value: { kind: "range", start: { kind: "int", value: 0 }, end: { kind: "int", value: 15 } } });
    expect(stripSpans(s.rules[2].settings[1].value)).toEqual({
      kind: "list",
      elements: [
        { kind: "int", value: 0 },
        { kind: "int", value: 2 },
        { kind: "range", start: { kind: "int", value: 4 }, end: { kind: "int", value: 7 } },
      ],
    });
  });

  it("reads a glob rule on the line after a numeric setting (not a multiplication)", () => {
    const s = ok("strategy s for m on p {\n  a : sample = 4\n  * : sample = 2\n}").items[0] as StrategyDecl;
    expect(s.rules).toHaveLength(2);
  });

  it("keeps declarations in source order and allows `;` separators", () => {
    const p = ok("mesh a { device g }; model b { h = x; y = h; }; strategy c for b on a { * : s = 1; }");
    expect(p.items.map((i) => i.kind)).toEqual(["mesh", "model", "strategy"]);
  });

  it("parses an empty file to an empty program", () => {
    expect(ok("").items).toEqual([]);
    expect(ok("\uFEFF  \n# only a comment\n").endComments).toEqual([" only a comment"]);
  });
});

describe("parse: expressions", () => {
  it("gives * / // % precedence over + -, all left-associative", () => {
    expect(value("1 + 2 * 3 - 4")).toEqual({
      kind: "binary",
      op: "-",
      left: { kind: "binary", op: "+", left: { kind: "int", value: 1 }, right: { kind: "binary", op: "*", left: { kind: "int", value: 2 }, right: { kind: "int", value: 3 } } },
      right: { kind: "int", value: 4 },
    });
    expect(value("a // b % c")).toEqual({
      kind: "binary",
      op: "%",
      left: { kind: "binary", op: "//", left: { kind: "ident", name: "a" }, right: { kind: "ident", name: "b" } },
      right: { kind: "ident", name: "c" },
    });
    expect(value("(a + b) / 2")).toMatchObject({ op: "/", left: { op: "+" } });
  });

  it("reads unary minus, literals and ranges", () => {
    expect(value("--x")).toEqual({ kind: "unary", op: "-", operand: { kind: "unary", op: "-", operand: { kind: "ident", name: "x" } } });
    expect(value("-2 * 3")).toMatchObject({ kind: "binary", left: { kind: "unary" } });
    expect(value("1_000")).toEqual({ kind: "int", value: 1000 });
    expect(value("2.5e3")).toEqual({ kind: "float", value: 2500, text: "2.5e3" });
    expect(value("1e-5")).toEqual({ kind: "float", value: 1e-5, text: "1e-5" });
    expect(value('"a \\"b\\" \\\\ c"')).toEqual({ kind: "string", value: 'a "b" \\ c' });
    expect(value("true")).toEqual({ kind: "bool", value: true });
    expect(value("false")).toEqual({ kind: "bool", value: false });
    expect(value("a + 1..b * 2")).toMatchObject({ kind: "range", start: { op: "+" }, end: { op: "*" } });
    expect(value("[]")).toEqual({ kind: "list", elements: [] });
  });

  it("reads nested calls with positional args then attributes", () => {
    const call = value("relu(linear(x, out = hidden, bias = false))") as Call;
    expect(call).toEqual({
      kind: "call",
      callee: "relu",
      args: [
        {
          kind: "call",
          callee: "linear",
          args: [{ kind: "ident", name: "x" }],
          named: [
            { name: "out", value: { kind: "ident", name: "hidden" } },
            { name: "bias", value: { kind: "bool", value: false } },
          ],
        },
      ],
      named: [],
    });
    const raw = (body("h = relu(linear(x, out = 4))")[0] as AssignStmt).value as Call;
    expect(raw.calleeSpan).toMatchObject({ line: 2, column: 5, offset: 14, endOffset: 18 });
    expect(raw.span).toMatchObject({ line: 2, column: 5, endOffset: 38 });
  });

  it("reads quantities only with the unit on the number's line; `a / b` with spaces is division", () => {
    expect(value("20 GB/s")).toEqual({ kind: "quantity", value: 20, text: "20", unit: "GB/s" });
    expect(value("1.5 GiB")).toEqual({ kind: "quantity", value: 1.5, text: "1.5", unit: "GiB" });
    expect(value("4 GB / s")).toMatchObject({ kind: "binary", op: "/", left: { kind: "quantity", unit: "GB" }, right: { kind: "ident", name: "s" } });
    const stmts = body("n = 64\ny = relu(n)");
    expect(stmts).toHaveLength(2);
    expect(stripSpans((stmts[0] as AssignStmt).value)).toEqual({ kind: "int", value: 64 });
  });
});

describe("parse: diagnostics", () => {
  it("every PAR1xxx code is documented", () => {
    for (const code of ["PAR1001", "PAR1002", "PAR1003", "PAR1004", "PAR1005", "PAR1006", "PAR1007", "PAR1008", "PAR1009", "PAR1010", "PAR1011"]) {
      expect(SYNTAX_CODES[code]?.title).toBeTruthy();
    }
    expect(Object.keys(SYNTAX_CODES)).toHaveLength(11);
  });

  it("PAR1001 unexpected character, with a hint for single quotes", () => {
    const d = expectAt("model m { h = x @ y }", "PAR1001", 1, 17);
    expect(d.message).toContain("`@`");
    expect(d.pos).toMatchObject({ offset: 16, length: 1 });
    expect(expectAt("model m {\n  h = f(x, tag = 'a')\n}", "PAR1001", 2, 18).hint).toContain("double quotes");
  });

  it("PAR1002 unterminated string", () => {
    const d = expectAt('model m {\n  h = f(x, tag = "abc)\n}', "PAR1002", 2, 18);
    expect(d.pos?.length).toBe(5);
  });

  it("PAR1003 names what was found and what was expected, with hints", () => {
    const colon = expectAt("model m {\n  input x = f32[4]\n}", "PAR1003", 2, 11);
    expect(colon.message).toBe("found `=`, expected `:`");
    expect(colon.hint).toContain("input x : f32");
    const attr = expectAt("model m {\n  h = linear(x, out: 4)\n}", "PAR1003", 2, 20);
    expect(attr.hint).toContain("`=`");
    // The same slip in a nested call or as the first argument; not in parentheses or inside an argument.
    expect(expectAt("model m {\n  h = a + f(g(x), out : 4)\n}", "PAR1003", 2, 23).hint).toContain("`=`");
    expect(expectAt("model m {\n  h = f(: 4)\n}", "PAR1003", 2, 9).hint).toContain("`=`");
    expect(expectAt("model m {\n  h = (x : 4)\n}", "PAR1003", 2, 10).hint).toBeUndefined();
    expect(expectAt("model m {\n  h = f(x, out = :)\n}", "PAR1003", 2, 18).hint).toBeUndefined();
    // `logits = sample` reads as a strategy-wide setting; the second `=` is the mistake.
    const rule = expectAt("strategy s for m on p {\n  logits = sample = 4\n}", "PAR1003", 2, 19);
    expect(rule.hint).toContain("PATTERN : key = value");
    const spaced = expectAt("strategy s for m on p {\n  layer *.attn : c = 2\n}", "PAR1003", 2, 9);
    expect(spaced.hint).toContain("without spaces");
    const reserved = expectAt("model m {\n  link = relu(x)\n}", "PAR1003", 2, 3);
    expect(reserved.hint).toContain("reserved word");
    const top = expectAt("modl m {}\n", "PAR1003", 1, 1);
    expect(top.message).toBe("found `modl` at the top level, expected a declaration");
    expect(top.hint).toBe("did you mean `model`?");
    const expr = expectAt("model m {\n  h = \n}", "PAR1003", 3, 1);
    expect(expr.expected).toBe("an expression");
    const eof = expectAt("model m", "PAR1003", 1, 8);
    expect(eof.message).toBe("found end of file, expected `{`");
    const group = expectAt("mesh m {\n  node y 4 { device g }\n}", "PAR1003", 2, 8);
    expect(group.expected).toBe("`x`");
    expect(expectAt("model m {\n  input x : f32[4 5]\n}", "PAR1003", 2, 19).hint).toBe("separate the items of a list with `,`");
    const loop = expectAt("model m {\n  for i in 4 { h = x }\n}", "PAR1003", 2, 12);
    expect(loop.expected).toContain("range");
  });

  it("counts lines the same way for \\n, \\r\\n and a lone \\r", () => {
    for (const nl of ["\n", "\r\n", "\r"]) {
      expectAt(`model m {${nl}  input x = f32[4]${nl}}`, "PAR1003", 2, 11);
      expectAt(`model m {${nl}  input x : f33[4]${nl}}`, "PAR1006", 2, 13);
      const m = ok(`model m {${nl}  h = x  # c${nl}  y = h${nl}}`).items[0] as ModelDecl;
      expect(m.body[1].span).toMatchObject({ line: 3, column: 3 });
      expect(m.body[0].trailingComment).toBe(" c");
      expect(m.body[1].leadingComments).toBeUndefined();
    }
  });

  it("PAR1004 unclosed brace at end of file points at the opening brace", () => {
    const d = expectAt("model m(b = 4) {\n  h = relu(x)\n", "PAR1004", 1, 16);
    expect(d.message).toContain("`}`");
    expect(expectAt("model m {\n  h = relu(linear(x, out = 4)\n", "PAR1004", 2, 11).expected).toBe("`)`");
  });

  it("PAR1005 malformed numbers, each with its hint", () => {
    expect(expectAt("mesh m {\n  link l(bandwidth = 16GB)\n}", "PAR1005", 2, 22).hint).toBe("put a space between a number and its unit: `16 GB`");
    expect(expectAt("mesh m {\n  device A100-80GB x 8\n}", "PAR1005", 2, 15).hint).toBe("a device kind with `-` is written with `_` in .par: `A100_80GB`");
    expect(expectAt("model m { h = f(x, n = 1__0) }", "PAR1005", 1, 24).hint).toContain("between digits");
    expect(expectAt("model m { h = f(x, n = 2e) }", "PAR1005", 1, 24).hint).toContain("exponent");
    expect(expectAt("model m { h = 99999999999999999999 }", "PAR1005", 1, 15).message).toContain("too large");
    // One typo, one error: the bad number stands in for a number, so nothing cascades.
    expect(errors("model m { h = f(x, n = 1__0) }").items).toHaveLength(1);
  });

  it("PAR1006 unknown dtype with a suggestion", () => {
    const d = expectAt("model m {\n  input x : f33[4]\n}", "PAR1006", 2, 13);
    expect(d.hint).toBe("did you mean `f32`?");
  });

  it("PAR1007 positional after named argument", () => {
    const d = expectAt("model m { h = linear(out = 4, x) }", "PAR1007", 1, 31);
    expect(d.hint).toContain("linear(x, out = 4)");
  });

  it("PAR1008 unknown escape", () => {
    expect(expectAt('model m { h = f(x, s = "a\\nb") }', "PAR1008", 1, 26).message).toContain("\\n");
  });

  it("PAR1009 deep nesting is reported, not thrown", () => {
    const deep = `model m { h = ${"(".repeat(30000)}x${")".repeat(30000)} }`;
    const { program, items } = errors(deep);
    expect(program).toBeUndefined();
    expect(items.map((d) => d.code)).toEqual(["PAR1009"]);
    // The shared parser still works afterwards.
    ok("model m { h = x }");
  });

  it("PAR1011 stops a hopeless file after 100 errors, quickly", () => {
    const junk = ["h = = )", "model {", "} }", "x y z", "a = (b", "mesh m { node q 2 {", "input x = f32[", "* : a = 1"];
    const text = Array.from({ length: 5000 }, (_, i) => junk[(i * 7) % junk.length]).join("\n");
    const t0 = performance.now();
    const { items } = errors(text);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(items.filter((d) => d.code === "PAR1011")).toHaveLength(1);
    expect(items.length).toBeLessThanOrEqual(102);
    expect(items.find((d) => d.code === "PAR1011")?.pos?.line).toBeGreaterThan(1);
    ok("model m { h = x }");
  });

  it("PAR1010 an unexpected failure is reported as a bug, not thrown", () => {
    const d = new Diagnostics();
    reportParserFailure(new TypeError("boom"), "t.par", d);
    expect(d.items[0]).toMatchObject({ code: "PAR1010", pos: { file: "t.par", line: 1, column: 1 } });
    expect(d.items[0].message).toContain("boom");
  });

  it("recovers: two separate mistakes give two errors and later declarations survive", () => {
    const text = "model a {\n  input x = f32[4]\n  h = relu(x)\n}\nmodel b {\n  h = linear(x, out: 4)\n}\nmesh m { device g }\n";
    const { program, items } = errors(text);
    expect(items.map((d) => `${d.code}@${d.pos?.line}`)).toEqual(["PAR1003@2", "PAR1003@6"]);
    expect(program?.items.map((i) => i.kind)).toContain("mesh");
    expect((program?.items[0] as ModelDecl).body.map((s) => s.kind)).toContain("assign");
  });

  it("recovers after a stray top-level token", () => {
    const { program, items } = errors("} model a { h = x }\nbogus\nmesh m { device g }");
    expect(items.map((d) => d.code)).toEqual(["PAR1003", "PAR1003"]);
    expect(program?.items.map((i) => i.kind)).toEqual(["model", "mesh"]);
  });

  it("never throws on edited programs; every diagnostic is a PAR1xxx code at a position in the text", () => {
    const edit = fc.tuple(validProgramArb, fc.nat(), fc.nat(12), fc.constantFrom("", "@", "{", "}", "(", ")", "=", ":", '"', "1_", "..", ",", "*", "#", "\n"));
    assertProperty(
      fc.property(edit, ([src, at, cut, insert]) => {
        const i = src.length === 0 ? 0 : at % src.length;
        const text = src.slice(0, i) + insert + src.slice(i + cut);
        const { items } = errors(text);
        const lines = text.split(/\r\n|\r|\n/);
        for (const d of items) {
          expect(SYNTAX_CODES[d.code], d.code).toBeDefined();
          expect(d.pos?.line).toBeGreaterThanOrEqual(1);
          expect(d.pos?.line).toBeLessThanOrEqual(lines.length);
          expect(d.pos?.column).toBeLessThanOrEqual((lines[(d.pos?.line ?? 1) - 1] ?? "").length + 1);
          expect(d.pos?.offset ?? 0).toBeLessThanOrEqual(text.length);
        }
      }),
      200,
    );
  });

  it("returns undefined when errors leave nothing usable", () => {
    const { program, items } = errors("@@@");
    expect(program).toBeUndefined();
    expect(items[0].code).toBe("PAR1001");
  });
});

describe("parse: comments", () => {
  it("attaches full-line comments to the next item and same-line comments to the item they end", () => {
    const p = ok(`# about the model
# second line
model m {  # after the brace
  h = relu(x)  # trailing
  # before y
  y = h
}  # after the model
mesh q {
  device g  # the device
}
# the end
`);
    const m = p.items[0] as ModelDecl;
    expect(m.leadingComments).toEqual([" about the model", " second line"]);
    expect(m.trailingComment).toBe(" after the model");
    expect(m.body[0].leadingComments).toEqual([" after the brace"]);
    expect(m.body[0].trailingComment).toBe(" trailing");
    expect(m.body[1].leadingComments).toEqual([" before y"]);
    expect((p.items[1] as MeshDecl).body[0].trailingComment).toBe(" the device");
    expect(p.endComments).toEqual([" the end"]);
  });

  it("attaches comments in strategies to rules", () => {
    const s = ok("strategy s for m on p {\n  # data parallel\n  * : sample = 8  # everywhere\n}").items[0] as StrategyDecl;
    expect(s.rules[0].leadingComments).toEqual([" data parallel"]);
    expect(s.rules[0].trailingComment).toBe(" everywhere");
  });
});
