// The ONNX op table (src/frontend/onnx/handlers, op-table.ts) and docs/import.md cannot
// drift: the doc's operator table is exactly the one the importer makes (every opset-17
// default-domain op, supported or not; PAR_WRITE_DOCS=1 rewrites it), and the doc's
// constant-folding list names exactly the op types fold.ts evaluates.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { OnnxOpSpec } from "../../../src/frontend/onnx/context.js";
import { FOLDABLE } from "../../../src/frontend/onnx/fold.js";
import { ONNX_HANDLERS, ONNX_OPS, mergeHandlerTables } from "../../../src/frontend/onnx/handlers/index.js";
import { onnxOpTable, onnxOpTableMarkdown } from "../../../src/frontend/onnx/op-table.js";
import OPSET17 from "../../../src/frontend/onnx/opset17-ops.json" with { type: "json" };
import { pythonCandidates } from "../../../src/engines/torch/python.js";

const DOC_URL = new URL("../../../docs/import.md", import.meta.url);
const DOC = readFileSync(DOC_URL, "utf8");
const BEGIN = "<!-- onnx-op-table:begin -->\n";
const END = "<!-- onnx-op-table:end -->";

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

/** The op types listed after "(`fold.ts`):" in the "Constant folding" section. */
function documentedFoldableOps(): Set<string> {
  const text = section("Constant folding").replace(/\s+/g, " ");
  const list = /\(`fold\.ts`\): ([^.]*)\./.exec(text)?.[1] ?? "";
  return new Set(opTypesIn(list));
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe("the ONNX op table and docs/import.md", () => {
  it("the doc's operator table is the generated one", () => {
    const start = DOC.indexOf(BEGIN);
    const end = DOC.indexOf(END);
    expect(start, "docs/import.md lacks the op-table markers").toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const want = onnxOpTableMarkdown();
    if (process.env.PAR_WRITE_DOCS) writeFileSync(DOC_URL, DOC.slice(0, start + BEGIN.length) + want + DOC.slice(end));
    expect(DOC.slice(start + BEGIN.length, end)).toBe(want);
  });

  it("the doc's constant-folding list names exactly the op types fold.ts evaluates", () => {
    expect(sorted(documentedFoldableOps())).toEqual(sorted(FOLDABLE));
  });
});

describe("onnxOpTable", () => {
  const rows = onnxOpTable();
  const byOp = new Map(rows.map((r) => [r.op, r]));

  it("lists every opset-17 default-domain op once, then every other mapped op type", () => {
    expect(rows.length).toBe(new Set(rows.map((r) => r.op)).size);
    expect(rows.slice(0, OPSET17.ops.length).map((r) => r.op)).toEqual(OPSET17.ops.map((o) => o.name));
    expect(sorted(ONNX_OPS.keys()).filter((op) => !byOp.has(op))).toEqual([]);
  });

  it("says how each op type imports: mapped (with what it becomes), folded only, or PAR6010", () => {
    for (const r of rows) {
      if (ONNX_HANDLERS.has(r.op)) {
        expect(r.support, r.op).toBe("mapped");
        expect(r.par.startsWith(ONNX_OPS.get(r.op)!.par), r.op).toBe(true);
      } else if (FOLDABLE.has(r.op)) {
        expect(r.support, r.op).toBe("folded");
        expect(r.par).toContain("PAR6017");
      } else {
        expect(r.support, r.op).toBe("unsupported");
        expect(r.par).toContain("PAR6010");
      }
    }
    // Spot checks of issue 19's list and of what stays unsupported.
    expect(byOp.get("Trilu")?.support).toBe("mapped");
    expect(byOp.get("ConstantOfShape")?.support).toBe("folded");
    expect(byOp.get("Loop")?.support).toBe("unsupported");
    expect(byOp.get("Gelu")?.since).toBeUndefined();
  });

  it("every mapped op type says what it becomes in one line of markdown", () => {
    for (const [op, spec] of ONNX_OPS) {
      expect(spec.par.trim().length, op).toBeGreaterThan(0);
      expect(spec.par, op).not.toContain("\n");
    }
  });
});

/** The first Python that imports onnx (CI installs python3-onnx), or undefined. */
function onnxPython(): string | undefined {
  return pythonCandidates().find((py) => spawnSync(py, ["-c", "import onnx"], { encoding: "utf8" }).status === 0);
}

const PYTHON_ONNX = onnxPython();

describe.skipIf(PYTHON_ONNX === undefined)("opset17-ops.json", () => {
  it("is what scripts/onnx-opset17.py reads from the installed onnx's schemas", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-opset17-"));
    try {
      const out = join(dir, "ops.json");
      const r = spawnSync(PYTHON_ONNX!, [new URL("../../../scripts/onnx-opset17.py", import.meta.url).pathname, out], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      // The provenance names the onnx version; the operator list must not differ.
      expect((JSON.parse(readFileSync(out, "utf8")) as typeof OPSET17).ops).toEqual(OPSET17.ops);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
