// The ONNX op table (src/frontend/onnx/handlers) and docs/import.md cannot drift: the doc
// lists exactly the op types that have handlers, and exactly the ones fold.ts evaluates.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { OnnxOpSpec } from "../../../src/frontend/onnx/context.js";
import { FOLDABLE } from "../../../src/frontend/onnx/fold.js";
import { ONNX_HANDLERS, mergeHandlerTables } from "../../../src/frontend/onnx/handlers/index.js";

const DOC = readFileSync(new URL("../../../docs/import.md", import.meta.url), "utf8");

function section(heading: string): string {
  const start = DOC.indexOf(`\n## ${heading}`);
  if (start < 0) return "";
  const end = DOC.indexOf("\n## ", start + 1);
  return end < 0 ? DOC.slice(start) : DOC.slice(start, end);
}

/** Capitalised words (ONNX op types) of a phrase, parenthesised details left out. */
function opTypesIn(phrase: string): string[] {
  let s = phrase;
  for (let prev = ""; prev !== s; ) [prev, s] = [s, s.replace(/\([^()]*\)/g, " ")];
  return s.split(/[\s,/]+/).filter((w) => /^[A-Z][A-Za-z0-9]*$/.test(w));
}

/** The op types named in the first column of the "ONNX operators" table. */
function documentedMappedOps(): Set<string> {
  const rows = section("ONNX operators")
    .split("\n")
    .filter((l) => l.startsWith("|") && !l.startsWith("|---") && !l.startsWith("| ONNX |"));
  return new Set(rows.flatMap((l) => opTypesIn(l.split("|")[1])));
}

/** The op types listed after "(`fold.ts`):" in the "Constant folding" section. */
function documentedFoldableOps(): Set<string> {
  const text = section("Constant folding").replace(/\s+/g, " ");
  const list = /\(`fold\.ts`\): ([^.]*)\./.exec(text)?.[1] ?? "";
  return new Set(opTypesIn(list));
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe("the ONNX op table and docs/import.md", () => {
  it("the doc's operator table names exactly the op types that have handlers", () => {
    const documented = documentedMappedOps();
    expect(documented.size).toBeGreaterThan(0);
    const undocumented = sorted(ONNX_HANDLERS.keys()).filter((op) => !documented.has(op));
    const unhandled = sorted(documented).filter((op) => !ONNX_HANDLERS.has(op));
    expect(undocumented, "ONNX ops with a handler but no row in docs/import.md").toEqual([]);
    expect(unhandled, "ONNX ops in docs/import.md without a handler").toEqual([]);
  });

  it("the doc's constant-folding list names exactly the op types fold.ts evaluates", () => {
    expect(sorted(documentedFoldableOps())).toEqual(sorted(FOLDABLE));
  });
});

describe("mergeHandlerTables", () => {
  const h: OnnxOpSpec = { map: () => true, par: "`relu`" };

  it("merges families into one table", () => {
    const merged = mergeHandlerTables({ a: { Relu: h }, b: { Tanh: h } });
    expect(sorted(merged.keys())).toEqual(["Relu", "Tanh"]);
  });

  it("rejects an op type claimed by two families, naming both", () => {
    expect(() => mergeHandlerTables({ a: { Relu: h }, b: { Relu: h } })).toThrow("ONNX op Relu has handlers in both a and b");
  });
});
