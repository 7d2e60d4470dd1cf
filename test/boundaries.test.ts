// Layering rules from docs/architecture.md, checked by scanning imports: an explicit table
// of which src/ folder may import which (a new back-edge or cycle fails here), plus the
// finer rules: ops use tfjs only through the injected `tf`; only the engines touch tfjs.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "..", "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

interface Import {
  file: string;
  target: string;
  typeOnly: boolean;
}

function imports(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const out: Import[] = [];
  for (const m of text.matchAll(/^\s*import\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)) {
    out.push({ file: relative(SRC, file), target: m[2], typeOnly: Boolean(m[1]) });
  }
  for (const m of text.matchAll(/(?<!typeof )import\(\s*"([^"]+)"\s*\)/g)) out.push({ file: relative(SRC, file), target: m[1], typeOnly: false });
  return out;
}

function area(path: string): string {
  return home(path);
}

/** The src/ area an import resolves to, or undefined for packages and node built-ins. */
function targetArea(imp: Import): string | undefined {
  if (!imp.target.startsWith(".")) return undefined;
  const resolved = relative(SRC, join(SRC, imp.file, "..", imp.target));
  return resolved.startsWith("..") ? "outside" : area(resolved);
}

const ALL = files(SRC).flatMap(imports);

/**
 * Which src/ folders (or top-level modules) each may import, besides itself. The order
 * is the pipeline's: core ← ops ← ir ← frontend/cost/sim/search/layout/codegen/plan ←
 * runtime ← pipeline ← index/cli. `outside` is grammar/ (the chevrotain parser).
 */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  ops: ["core"],
  ir: ["core", "ops"],
  plan: ["core", "ops"],
  layout: ["core", "ops", "ir"],
  frontend: ["core", "ops", "ir", "outside"],
  cost: ["core", "ops", "ir", "layout"],
  sim: ["core", "ops", "ir", "layout"],
  search: ["core", "ops", "ir", "layout", "cost", "sim"],
  codegen: ["core", "ops", "ir", "layout", "plan"],
  runtime: ["core", "ops", "plan"],
  engines: ["core", "ops", "plan"],
  pipeline: ["core", "ops", "ir", "layout", "plan", "frontend", "cost", "sim", "search", "codegen", "runtime", "engines"],
  index: ["core", "ops", "ir", "layout", "plan", "frontend", "cost", "sim", "search", "codegen", "runtime", "engines", "pipeline"],
  codes: ["core", "ops", "ir", "layout", "plan", "frontend", "cost", "sim", "search", "codegen", "runtime", "engines", "cli", "report"],
  // `par report`'s page: beside cli, built from the pipeline's stages and their results.
  report: ["core", "ops", "ir", "layout", "plan", "frontend", "cost", "sim", "search", "codegen", "pipeline"],
  cli: ["core", "ops", "ir", "layout", "plan", "frontend", "cost", "sim", "search", "codegen", "runtime", "engines", "pipeline", "report"],
};

/** A file's folder under src/, or its module name for a top-level file (pipeline.ts → pipeline). */
function home(path: string): string {
  const parts = path.split("/");
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.(ts|js)$/, "");
}

describe("module boundaries", () => {
  it("every src/ folder is in the allowed-dependency table", () => {
    const homes = new Set(files(SRC).map((f) => home(relative(SRC, f))));
    expect([...homes].filter((h) => !(h in ALLOWED))).toEqual([]);
  });

  it("folders import only what the table allows (no back-edges, so no cycles)", () => {
    const bad = ALL.filter((i) => {
      const to = targetArea(i);
      const from = home(i.file);
      return to !== undefined && to !== from && !(ALLOWED[from] ?? []).includes(to);
    }).map((i) => `${i.file} → ${i.target}`);
    expect(bad).toEqual([]);
  });

  it("the table itself is acyclic", () => {
    const state = new Map<string, "open" | "done">();
    const visit = (n: string, path: string[]): void => {
      if (state.get(n) === "done") return;
      if (state.get(n) === "open") throw new Error(`cycle: ${[...path, n].join(" → ")}`);
      state.set(n, "open");
      for (const m of ALLOWED[n] ?? []) visit(m, [...path, n]);
      state.set(n, "done");
    };
    for (const n of Object.keys(ALLOWED)) visit(n, []);
  });

  it("core imports nothing of ours", () => {
    const bad = ALL.filter((i) => area(i.file) === "core" && targetArea(i) && targetArea(i) !== "core");
    expect(bad).toEqual([]);
  });

  it("ops import only core (and ops)", () => {
    const bad = ALL.filter((i) => area(i.file) === "ops" && targetArea(i) && !["core", "ops"].includes(targetArea(i)!));
    expect(bad).toEqual([]);
  });

  it("sim never imports search", () => {
    const bad = ALL.filter((i) => area(i.file) === "sim" && targetArea(i) === "search");
    expect(bad).toEqual([]);
  });

  it("the runtime never imports ir, search or cost", () => {
    const bad = ALL.filter((i) => area(i.file) === "runtime" && ["ir", "search", "cost"].includes(targetArea(i) ?? ""));
    expect(bad).toEqual([]);
  });

  it("the plan package imports only core and op signatures", () => {
    const bad = ALL.filter((i) => area(i.file) === "plan" && targetArea(i) && !["core", "ops", "plan"].includes(targetArea(i)!));
    expect(bad).toEqual([]);
  });

  it("ops use tfjs only through the injected tf (type imports only)", () => {
    const bad = ALL.filter((i) => area(i.file) === "ops" && i.target.startsWith("@tensorflow/") && !i.typeOnly);
    expect(bad).toEqual([]);
  });

  it("nothing outside runtime and cli imports tfjs at run time", () => {
    const bad = ALL.filter((i) => i.target.startsWith("@tensorflow/") && !i.typeOnly && !["runtime", "engines", "cli"].includes(area(i.file)));
    expect(bad).toEqual([]);
  });
});
