import { it } from "vitest";
import { createContext, load } from "../../../src/pipeline.js";
import { builtinMesh } from "../../../src/core/builtin-meshes.js";
import { searchAtScale } from "../../../src/search/scale/scale-search.js";
import { PTDP_ROWS, rowOverrides } from "../../../src/ir/ptdp-rows.js";
it("scratch", () => {
  for (const row of [PTDP_ROWS[5], PTDP_ROWS[0]]) {
    const ctx = createContext();
    const m = load("models/gpt3.par", ctx, { overrides: rowOverrides(row) });
    const mesh = builtinMesh(`a100x${row.gpus}`)!;
    const t0 = Date.now();
    const r = searchAtScale(m.graph, mesh, { budget: { seconds: 30 }, optimizer: "adam" });
    const show = (x: any) => x ? `${x.name} ${x.evaluation.stepTime.toFixed(3)}s ${(x.evaluation.memory.peak/1e9).toFixed(1)}GB ${x.feasible}` : "-";
    console.log(row.name, "secs", r.seconds.toFixed(1), "its", r.iterations, "space", r.spaceSize, "sims", r.stageSimulations, "best", show(r.best), "| dp", show(r.baselines.dataParallel), "| z3", show(r.baselines.zero3), "| mg", show(r.baselines.megatron), r.diagnostics.map(d=>d.code));
  }
}, 600000);
