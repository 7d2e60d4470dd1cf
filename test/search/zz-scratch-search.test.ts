import { test } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { parse } from "../../src/frontend/parse.js";
import { check } from "../../src/frontend/check.js";
import { readFileSync } from "node:fs";
function loadProgram(path: string, ctx: { diagnostics: Diagnostics }, o: any) { const p = parse(readFileSync(path, "utf8"), path, ctx.diagnostics); return p && check(p, ctx.diagnostics, o); }
import { baseline } from "../../src/ir/baselines.js";
import { CostModel } from "../../src/cost/compute.js";
import { DeltaSimulator } from "../../src/sim/simulate.js";
import { peakMemory } from "../../src/cost/memory.js";

test("scratch", () => {
  for (const f of ["alexnet", "inception_v3", "resnet101", "rnntc", "rnnlm", "nmt"]) {
    const d = new Diagnostics();
    const t0 = performance.now();
    const c = loadProgram(`models/${f}.par`, { sources: new Map(), diagnostics: d }, { overrides: f === "alexnet" ? {} : { batch: 64 } });
    if (!c || d.hasErrors()) { console.log(f, "FAIL", d.items.slice(0, 3)); continue; }
    const g = [...c.models.values()][0];
    const t1 = performance.now();
    for (const m of ["p100x16", "k80x64"]) {
      const mesh = builtinMesh(m)!;
      const costs = new CostModel(g, mesh);
      const line: string[] = [];
      for (const k of ["dp", "mp", "expert", "megatron"] as const) {
        const s = baseline(k, g, mesh);
        const ds = new DeltaSimulator(g, mesh, s, costs);
        const mem = peakMemory(g, s, mesh);
        line.push(`${k}=${(ds.iterationTime() * 1e3).toFixed(2)}ms${mem.overCapacity.length ? "!" : ""}`);
      }
      const s = baseline("dp", g, mesh);
      const ds = new DeltaSimulator(g, mesh, s, costs);
      ds.iterationTime();
      const ops = [...g.ops.values()];
      const t2 = performance.now();
      let n = 0;
      for (let i = 0; i < 300; i++) {
        const o = ops[i % ops.length];
        const cfg = s.ops[o.name];
        ds.setConfig(o.name, { degrees: o.sig.space.map(() => 1), devices: [i % mesh.devices.length] });
        ds.iterationTime();
        ds.setConfig(o.name, cfg);
        ds.iterationTime();
        n += 2;
      }
      const t3 = performance.now();
      console.log(f, m, "ops", g.ops.size, "load", (t1 - t0).toFixed(0), line.join(" "), "delta/s", (n / (t3 - t2) * 1000).toFixed(0));
    }
  }
});
