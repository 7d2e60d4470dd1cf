import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics, formatDiagnostic } from "../../src/core/diagnostics.js";
import type { Program } from "../../src/frontend/ast.js";
import { astEqual, stripSpans } from "../../src/frontend/ast-equal.js";
import { parse } from "../../src/frontend/parse.js";
import { format, MAX_LINE } from "../../src/frontend/print.js";
import { assertProperty } from "../support/property.js";
import { validProgramArb } from "../support/program-gen.js";

function parseOk(text: string): Program {
  const d = new Diagnostics();
  const p = parse(text, "gen.par", d);
  if (d.items.length > 0 || !p) throw new Error(`unexpected diagnostics:\n${d.items.map((x) => formatDiagnostic(x, text)).join("\n")}\n--- source ---\n${text}`);
  return p;
}

/** Every comment text attached anywhere in the AST, in no particular order. */
function comments(x: unknown, out: string[] = []): string[] {
  if (Array.isArray(x)) for (const v of x) comments(v, out);
  else if (x && typeof x === "object") {
    for (const [k, v] of Object.entries(x)) {
      if (k === "leadingComments" || k === "endComments") out.push(...(v as string[]));
      else if (k === "trailingComment") out.push(v as string);
      else comments(v, out);
    }
  }
  return out;
}

const CANONICAL = `# the MLP of the paper
model mlp(batch = 64, hidden = 1024) {
  input x : f32[batch, tokens: 784]
  h = relu(linear(x, out = hidden))  # first layer
  repeat 2 as blk {
    h = relu(linear(h, out = (hidden + 1) * 2 - (3 - 1)))
  }
  for i in 0..1 {
    h = f(h, k = -i, s = "a \\"q\\"")
  }
  a, b = split(h, parts = 2, axis = 1)
}

block pair(x, width = 16) {
  return x, relu(x)
}

mesh p {
  node x 4 {
    device P100 x 4
    device gpu(memory = 16 GB)
    link nvlink(bandwidth = 20 GB/s, latency = 2 us)
  }
}

strategy s for mlp on p {
  * : sample = 16
  layer*.attn, "a b", "for" : channel = (2 * 2), devices = [0, 2..3]
}

# end
`;

describe("format: canonical layout", () => {
  it("leaves canonical text unchanged", () => {
    expect(format(parseOk(CANONICAL))).toBe(CANONICAL);
  });

  it("normalizes spacing, separators, parentheses and implicit counts", () => {
    const messy = "model m(a=1,b){input x:f32[a,n:a*2];h=relu( ((x)) ) ; y=a-(b-c)+(d*e)\n}\nmesh q{device g x 1 ; node x 2{device h}}";
    expect(format(parseOk(messy))).toBe(
      "model m(a = 1, b) {\n  input x : f32[a, n: a * 2]\n  h = relu(x)\n  y = a - (b - c) + d * e\n}\n\nmesh q {\n  device g\n  node x 2 {\n    device h\n  }\n}\n",
    );
  });

  it(`wraps an assignment longer than ${MAX_LINE} columns: its call's arguments one per line, round-tripping`, () => {
    const args = Array.from({ length: 8 }, (_, i) => `embedding(s${i}, vocab = rows, dim = dim)`);
    const text = `model m(rows = 10, dim = 4) {\n  f = concat(${args.join(", ")}, axis = 1)\n}\n`;
    const out = format(parseOk(text));
    expect(out).toBe(`model m(rows = 10, dim = 4) {\n  f = concat(\n${[...args, "axis = 1"].map((a) => `    ${a}`).join(",\n")}\n  )\n}\n`);
    expect(astEqual(parseOk(out), parseOk(text))).toBe(true);
    expect(format(parseOk(out))).toBe(out);
    // A short one stays on its line.
    expect(format(parseOk("model m {\n  y = concat(a, b, axis = 1)\n}\n"))).toBe("model m {\n  y = concat(a, b, axis = 1)\n}\n");
  });

  it("prints empty bodies and empty programs", () => {
    expect(format(parseOk("model m {}"))).toBe("model m {\n}\n");
    expect(format(parseOk(""))).toBe("");
  });
});

describe("format", () => {
  it("round-trips generated programs: same AST, idempotent, no comment lost", () => {
    assertProperty(
      fc.property(validProgramArb, (src) => {
        const p = parseOk(src);
        const text = format(p);
        const again = parseOk(text);
        expect(astEqual(again, p)).toBe(true);
        expect(format(again)).toBe(text);
        expect(comments(again).sort()).toEqual(comments(p).sort());
        const inSource = (src.match(/#[^\n]*/g) ?? []).length;
        expect(comments(p).length).toBe(inSource);
      }),
      150,
    );
  });
});

describe("astEqual / stripSpans", () => {
  it("ignores spans, *Span fields and comments, but not names or values", () => {
    const a = parseOk("# c\nmodel m(b = 4) {\n  h = relu(x)  # t\n}\n");
    const b = parseOk("model   m(b=4){h=relu(x)}");
    expect(astEqual(a, b)).toBe(true);
    expect(astEqual(a, parseOk("model m(b = 5) { h = relu(x) }"))).toBe(false);
    expect(astEqual(a, parseOk("model m(b = 4) { h = relu(y) }"))).toBe(false);
    expect(astEqual(a, parseOk("model m(b = 4) { h = relu(x) y = x }"))).toBe(false);
    expect(astEqual(parseOk("model m { h = f(1.0) }"), parseOk("model m { h = f(1.00) }"))).toBe(false);
    const stripped = stripSpans(a) as unknown as Record<string, unknown>;
    expect(JSON.stringify(stripped)).not.toMatch(/span|Span|Comment/);
    expect(stripped.file).toBe("gen.par");
  });
});
