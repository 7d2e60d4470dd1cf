import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics, formatDiagnostic } from "../../src/core/diagnostics.js";
import type { Program } from "../../src/frontend/ast.js";
import { astEqual } from "../../src/frontend/ast-equal.js";
import { parse } from "../../src/frontend/parse.js";
import { format } from "../../src/frontend/print.js";
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
