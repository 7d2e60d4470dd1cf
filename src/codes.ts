// Every diagnostic code par can report, gathered from the tables that live beside the
// code raising them. `par explain`-style tooling and the code-coverage test read this.
import { CLI_CODES } from "./cli/codes.js";
import { CODEGEN_CODES } from "./plan/codes.js";
import { COST_CODES } from "./cost/codes.js";
import type { CodeInfo, CodeTable } from "./core/codes.js";
import { CHECK_CODES } from "./frontend/check-codes.js";
import { IMPORT_CODES } from "./frontend/import-codes.js";
import { LLM_CODES } from "./frontend/llm/codes.js";
import { MESH_CODES } from "./frontend/mesh-codes.js";
import { STRATEGY_CHECK_CODES } from "./frontend/strategy-codes.js";
import { SYNTAX_CODES } from "./frontend/syntax-codes.js";
import { SCALE_CODES } from "./ir/scale-codes.js";
import { STRATEGY_CODES } from "./ir/strategy-codes.js";
import { OP_CODES } from "./ops/codes.js";
import { RUNTIME_CODES } from "./runtime/codes.js";
import { WORKER_CODES } from "./runtime/workers/codes.js";
import { SEARCH_CODES } from "./search/codes.js";
import { REPORT_CODES } from "./report/codes.js";
import { TORCH_CODES } from "./engines/torch/codes.js";

/** Each area's table, by the area's name (for docs and duplicate detection). */
export const CODE_TABLES: Record<string, CodeTable> = {
  syntax: SYNTAX_CODES,
  check: CHECK_CODES,
  ops: OP_CODES,
  mesh: MESH_CODES,
  "strategy references": STRATEGY_CHECK_CODES,
  strategy: STRATEGY_CODES,
  cli: CLI_CODES,
  codegen: CODEGEN_CODES,
  runtime: RUNTIME_CODES,
  workers: WORKER_CODES,
  import: IMPORT_CODES,
  "llm import": LLM_CODES,
  search: SEARCH_CODES,
  cost: COST_CODES,
  "simulation at scale": SCALE_CODES,
  "torch engine": TORCH_CODES,
  report: REPORT_CODES,
};

export function allCodes(): Map<string, CodeInfo & { area: string }> {
  const out = new Map<string, CodeInfo & { area: string }>();
  for (const [area, table] of Object.entries(CODE_TABLES)) {
    for (const [code, info] of Object.entries(table)) out.set(code, { ...info, area });
  }
  return out;
}
