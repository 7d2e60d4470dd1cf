// The example strategies in strategies/: each is a baseline of a zoo model on a built-in
// mesh, so each must validate and equal what the generator makes today (a golden test).
// Regenerate after an intended change with: PAR_WRITE_STRATEGIES=1 npx vitest run test/ir/strategy-examples.test.ts
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { buildGraph } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import { baseline, type BaselineKind } from "../../src/ir/baselines.js";
import type { Graph } from "../../src/ir/graph.js";
import { strategyFromJsonText, strategyJsonText, writeStrategyFile } from "../../src/ir/strategy-json.js";
import { resolveStrategyDecl, strategyToPar } from "../../src/frontend/strategy-par.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import type { StrategyDecl } from "../../src/frontend/ast.js";

const EXAMPLES: { model: string; kind: BaselineKind; mesh: string }[] = [
  { model: "mlp", kind: "dp", mesh: "p100x16" },
  { model: "mlp", kind: "mp", mesh: "p100x16" },
  { model: "mlp", kind: "expert", mesh: "p100x16" },
  { model: "mlp", kind: "megatron", mesh: "p100x16" },
];

function zooGraph(model: string): Graph {
  const file = `models/${model}.par`;
  const d = new Diagnostics();
  const program = parse(readFileSync(new URL(`../../${file}`, import.meta.url), "utf8"), file, d);
  const g = program && buildGraph(program, model, {}, d);
  if (!g || d.hasErrors()) throw new Error(`${file}: ${d.items.map((x) => `${x.code} ${x.message}`).join("; ")}`);
  return g;
}

describe("example strategies in strategies/", () => {
  for (const ex of EXAMPLES) {
    const file = `strategies/${ex.model}-${ex.kind}-${ex.mesh}.json`;
    it(`${file} is the ${ex.kind} baseline, validates, and round-trips through .par`, () => {
      const g = zooGraph(ex.model);
      const mesh = builtinMesh(ex.mesh)!;
      const s = baseline(ex.kind, g, mesh);
      const url = new URL(`../../${file}`, import.meta.url);
      if (process.env.PAR_WRITE_STRATEGIES === "1") writeStrategyFile(url.pathname, g, s);
      const text = readFileSync(url, "utf8");
      expect(text).toBe(strategyJsonText(g, s));
      const d = new Diagnostics();
      const read = strategyFromJsonText(g, text, file, d)!;
      expect(validateStrategy(g, mesh, read, d)).toBe(true);
      expect(d.items).toEqual([]);
      const par = strategyToPar(g, read);
      const program = parse(par, "s.par", d);
      const decl = program?.items.find((i): i is StrategyDecl => i.kind === "strategy");
      expect(resolveStrategyDecl(decl!, g, mesh, "s.par", d)).toEqual(read);
      expect(d.items).toEqual([]);
    });
  }
});
