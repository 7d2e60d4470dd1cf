import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { Expr, ModelDecl } from "../../src/frontend/ast.js";
import { evalInt, type IntBinding } from "../../src/frontend/eval.js";
import { parse } from "../../src/frontend/parse.js";
import { assertProperty } from "../support/property.js";

/** Parses `text` as an expression (a model parameter's default). */
function expr(text: string): Expr {
  const d = new Diagnostics();
  const p = parse(`model m(v = ${text}) {}`, "e.par", d);
  expect(d.items).toEqual([]);
  return (p!.items[0] as ModelDecl).params[0].default!;
}

function run(text: string, env: Record<string, IntBinding> = {}): { value: number | undefined; codes: string[]; d: Diagnostics } {
  const d = new Diagnostics();
  const value = evalInt(expr(text), { file: "e.par", diagnostics: d, lookup: (n) => env[n], names: () => Object.keys(env) });
  return { value, codes: d.items.map((x) => x.code), d };
}

describe("evalInt", () => {
  it("evaluates arithmetic with precedence over parameters", () => {
    expect(run("hidden * 4 + 1", { hidden: 256 }).value).toBe(1025);
    expect(run("(a - b) * 2", { a: 10, b: 3 }).value).toBe(14);
    expect(run("-a + 1", { a: 5 }).value).toBe(-4);
  });

  it("`/` divides exactly, `//` floors, `%` follows the divisor's sign", () => {
    expect(run("12 / 4").value).toBe(3);
    expect(run("7 // 2").value).toBe(3);
    expect(run("-7 // 2").value).toBe(-4);
    expect(run("-1 % 4").value).toBe(3);
    expect(run("7 % 3").value).toBe(1);
  });

  it("reports an inexact `/` with a hint to use `//`", () => {
    const r = run("hidden / 3", { hidden: 10 });
    expect(r.value).toBeUndefined();
    expect(r.codes).toEqual(["PAR2011"]);
    expect(r.d.items[0].hint).toContain("//");
    expect(r.d.items[0].pos).toMatchObject({ file: "e.par", line: 1, column: 13 });
  });

  it("reports division and remainder by zero", () => {
    expect(run("4 // (n - n)", { n: 2 }).codes).toEqual(["PAR2012"]);
    expect(run("4 % z", { z: 0 }).codes).toEqual(["PAR2012"]);
    expect(run("4 / 0").codes).toEqual(["PAR2012"]);
  });

  it("guards overflow beyond 2^53", () => {
    expect(run("big * big", { big: 2 ** 30 }).codes).toEqual(["PAR2013"]);
    expect(run("9007199254740991 * 2").codes).toEqual(["PAR2013"]);
  });

  it("reports undefined names with a did-you-mean hint", () => {
    const r = run("hiden * 2", { hidden: 4 });
    expect(r.codes).toEqual(["PAR2001"]);
    expect(r.d.items[0].hint).toBe("did you mean `hidden`?");
  });

  it("rejects tensors, calls, floats and strings in integer expressions", () => {
    expect(run("x + 1", { x: "tensor" }).codes).toEqual(["PAR2008"]);
    expect(run("relu(x) + 1", { x: "tensor" }).codes).toEqual(["PAR2008"]);
    expect(run("1.5 * 2").codes).toEqual(["PAR2023"]);
    expect(run('"a"').codes).toEqual(["PAR2023"]);
  });

  it("says nothing more about a name whose definition already failed", () => {
    expect(run("p + 1", { p: "poison" })).toMatchObject({ value: undefined, codes: [] });
  });

  it("agrees with exact integer arithmetic (BigInt) or reports", () => {
    const ops = ["+", "-", "*", "//", "%"] as const;
    assertProperty(
      fc.property(fc.integer({ min: -100000, max: 100000 }), fc.constantFrom(...ops), fc.integer({ min: -100000, max: 100000 }), (a, op, b) => {
        const r = run(`a ${op} b`, { a, b });
        const A = BigInt(a);
        const B = BigInt(b);
        if ((op === "//" || op === "%") && b === 0) return r.codes[0] === "PAR2012";
        const floorDiv = (x: bigint, y: bigint) => (x % y !== 0n && (x < 0n) !== (y < 0n) ? x / y - 1n : x / y);
        const want = op === "+" ? A + B : op === "-" ? A - B : op === "*" ? A * B : op === "//" ? floorDiv(A, B) : ((A % B) + B) % B;
        return r.codes.length === 0 && BigInt(r.value!) === want;
      }),
      300,
    );
  });
});
