// docs/import.md's operator table, made from the importer itself: every operator of the ONNX
// default domain at opset 17 (opset17-ops.json, written by scripts/onnx-opset17.py from the
// onnx package's schemas) with what par makes of it: the handler table's line for op types
// that map to par ops, constant folding for those fold.ts evaluates only, and PAR6010 for
// the rest. Op types the importer maps beyond that list (Gelu, default domain from opset
// 20) follow. A test keeps the doc equal to this table.

import { FOLDABLE } from "./fold.js";
import { ONNX_OPS } from "./handlers/index.js";
import OPSET17 from "./opset17-ops.json" with { type: "json" };

/** How par handles one ONNX op type. */
export type OnnxOpSupport = "mapped" | "folded" | "unsupported";

export interface OnnxOpRow {
  op: string;
  /** The opset version of the op's definition in force at opset 17; undefined past 17. */
  since: number | undefined;
  support: OnnxOpSupport;
  /** What it becomes (markdown). */
  par: string;
}

const FOLDED_ONLY = "folded when its inputs are constants (`fold.ts`); on computed inputs PAR6017";
const UNSUPPORTED = "not supported: PAR6010";

function rowOf(op: string, since: number | undefined): OnnxOpRow {
  const spec = ONNX_OPS.get(op);
  if (spec) return { op, since, support: "mapped", par: FOLDABLE.has(op) ? `${spec.par}; folded on constants` : spec.par };
  if (FOLDABLE.has(op)) return { op, since, support: "folded", par: FOLDED_ONLY };
  return { op, since, support: "unsupported", par: UNSUPPORTED };
}

/** Every opset-17 default-domain op, then the mapped op types past that list, by name. */
export function onnxOpTable(): OnnxOpRow[] {
  const listed = new Set(OPSET17.ops.map((o) => o.name));
  const rows = OPSET17.ops.map((o) => rowOf(o.name, o.since));
  const beyond = [...ONNX_OPS.keys()].filter((op) => !listed.has(op)).sort();
  return [...rows, ...beyond.map((op) => rowOf(op, undefined))];
}

/** The table as markdown lines (a header, then one row per op type). */
export function onnxOpTableMarkdown(): string {
  const rows = onnxOpTable();
  const count = (s: OnnxOpSupport) => rows.filter((r) => r.support === s).length;
  const lines = [
    `${rows.length} operator types: ${count("mapped")} map to par ops, ${count("folded")} fold on constants only, ${count("unsupported")} are not supported.`,
    "",
    "| ONNX | since | par |",
    "|---|---|---|",
    ...rows.map((r) => `| ${r.op} | ${r.since ?? `past ${OPSET17.provenance.opset}`} | ${r.par.replace(/\|/g, "\\|")} |`),
  ];
  return lines.join("\n") + "\n";
}
