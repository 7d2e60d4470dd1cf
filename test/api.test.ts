// The library entry point (src/index.ts) as a user gets it: the built package imported by
// its name, "par" (Node's package self-reference through package.json's `exports`), and the
// embedding example of docs/api.md, which is a file this test runs so that it cannot rot.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensurePackageBuild } from "./runtime/ensure-build.js";

const ROOT = join(import.meta.dirname, "..");
const EXAMPLE = join(ROOT, "docs", "examples", "embed.mjs");

/** Runs `script` with node from the repository root; its stdout. */
function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("the par package", () => {
  beforeAll(() => ensurePackageBuild());

  it("exports map: the entry point and its types exist in the build, and the bin still runs", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; exports: Record<string, { types: string; default: string }>; bin: Record<string, string> };
    expect(pkg.name).toBe("par");
    expect(existsSync(join(ROOT, pkg.exports["."].default))).toBe(true);
    expect(existsSync(join(ROOT, pkg.exports["."].types))).toBe(true);
    expect(node([pkg.bin.par, "--version"])).toMatch(/^par \d+\.\d+\.\d+/);
  });

  it('import … from "par" gives the documented API, and a short search on a shipped model runs', () => {
    const script = [
      'import * as par from "par";',
      'const ctx = par.createContext();',
      'const m = par.load("models/mlp.par", ctx, { overrides: { batch: 8, hidden: 16, layers: 1 } });',
      'const r = par.search(m.graph, par.builtinMesh("p100x16"), ctx, { budget: par.readBudget("100") });',
      "console.log(JSON.stringify({ exports: Object.keys(par).sort(), feasible: r.feasible, iterations: r.iterations, diagnostics: ctx.diagnostics.items.length }));",
    ].join("\n");
    const out = JSON.parse(node(["--input-type=module", "-e", script])) as { exports: string[]; feasible: boolean; iterations: number; diagnostics: number };
    expect(out.exports).toEqual(expect.arrayContaining(["load", "search", "simulate", "compile", "execute", "verify", "autoParallelize", "builtinMesh", "builtinMeshNames", "graphToPar", "parse", "check", "ParError"]));
    expect(out).toMatchObject({ feasible: true, diagnostics: 0 });
    expect(out.iterations).toBeGreaterThan(0);
  });

  it("the report of a searched strategy, as par report draws it, through the package", () => {
    const script = [
      'import * as par from "par";',
      'const ctx = par.createContext();',
      'const m = par.load("models/mlp.par", ctx, { overrides: { batch: 8, hidden: 16, layers: 1 } });',
      'const mesh = par.builtinMesh("p100x16");',
      'const strategy = par.search(m.graph, mesh, ctx, { budget: par.readBudget("50") }).best.strategy;',
      'const data = par.buildReport({ graph: m.graph, source: { file: "models/mlp.par", kind: "model" }, mesh, strategy, searched: true, optimizer: "sgd" }, ctx);',
      'const html = par.reportHtml(data);',
      "console.log(JSON.stringify({ ops: data.graph.ops.length, time: data.iterationTime > 0, page: html.slice(0, 15).toLowerCase(), bytes: html.length > 10000 }));",
    ].join("\n");
    const out = JSON.parse(node(["--input-type=module", "-e", script])) as Record<string, unknown>;
    expect(out).toEqual({ ops: expect.any(Number), time: true, page: "<!doctype html>", bytes: true });
    expect(out.ops).toBeGreaterThan(0);
  });

  it("a malformed input through the package is a coded ParError, not a stack trace", () => {
    const script = 'import { readBudget, ParError } from "par"; try { readBudget("fast"); } catch (e) { console.log(e instanceof ParError, e.diagnostics[0].code); }';
    expect(node(["--input-type=module", "-e", script]).trim()).toBe("true PAR7002");
  });

  it("docs/api.md's embedding example runs and is the file, verbatim", () => {
    const out = node([EXAMPLE]);
    expect(out).toMatch(/^mlp on p100x16: \d+\.\d{3} ms \(data parallel \d+\.\d{3} ms\), plan for 16 devices\n$/);
    const doc = readFileSync(join(ROOT, "docs", "api.md"), "utf8");
    expect(doc).toContain(readFileSync(EXAMPLE, "utf8"));
  });
});
