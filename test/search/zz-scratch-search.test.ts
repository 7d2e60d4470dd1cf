import { test } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { parse } from "../../src/frontend/parse.js";
import { check } from "../../src/frontend/check.js";
import { readFileSync } from "node:fs";
import { searchStrategy } from "../../src/search/search.js";
function loadProgram(path: string, ctx: { diagnostics: Diagnostics }, o: any) { const p = parse(readFileSync(path, "utf8"), path, ctx.diagnostics); return p && check(p, ctx.diagnostics, o); }

test("scratch", () => {
  for (const f of (process.env.MODELS ?? "alexnet,rnntc,rnnlm,nmt").split(",")) {
    const d = new Diagnostics();
    const c = loadProgram(`models/${f}.par`, { diagnostics: d }, { overrides: f === "alexnet" ? {} : { batch: 64 } });
    if (!c || d.hasErrors()) { console.log(f, "FAIL"); continue; }
    const g = [...c.models.values()][0];
    for (const m of (process.env.MESHES ?? "p100x16").split(",")) {
      const mesh = builtinMesh(m)!;
      const budget = process.env.BUDGET?.endsWith("s") ? { seconds: Number(process.env.BUDGET.slice(0, -1)) } : { iterations: Number(process.env.BUDGET ?? 2000) };
      const r = searchStrategy(g, mesh, { budget, seed: 1 });
      const b = r.baselines;
      console.log(f, m, `best=${(r.best.iterationTime*1e3).toFixed(2)} dp=${(b.dataParallel.iterationTime*1e3).toFixed(2)} ex=${(b.expert.iterationTime*1e3).toFixed(2)} mp=${(b.modelParallel.iterationTime*1e3).toFixed(2)} it=${r.iterations} bestAt=${r.bestIteration} s=${r.seconds.toFixed(1)} acc=${r.acceptanceRate.toFixed(2)} start=${r.startSeed} stop=${r.stoppedBy} feas=${r.feasible}`);
    }
  }
});
