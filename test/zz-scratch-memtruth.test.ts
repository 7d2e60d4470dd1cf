import { writeFileSync } from "node:fs";
import { it } from "vitest";
import { localMeshOf } from "../src/core/builtin-meshes.js";
import { lower } from "../src/codegen/lower.js";
import { dataParallel, modelParallel } from "../src/ir/baselines.js";
import { planMemory, tfjsMemoryRuntime, torchMemoryRuntime } from "../src/plan/memory.js";
import { loadGraph, SGD } from "../bench/runtime-models.js";
import { MODELS } from "../bench/memory.js";

const M = 1 << 20;
it("prints", () => {
  const mesh = localMeshOf(2);
  const out: string[] = [];
  for (const m of MODELS) {
    const g = loadGraph(m);
    for (const [sn, mk] of [["dp", dataParallel], ["mp", modelParallel]] as const) {
      const plan = lower(g, { ...mk(g, mesh), mesh: mesh.name }, mesh, { seed: 1, optimizer: SGD });
      const w = planMemory(plan, tfjsMemoryRuntime("wasm"));
      const t = planMemory(plan, torchMemoryRuntime("cpu"));
      const wr = tfjsMemoryRuntime("wasm");
      const tr = torchMemoryRuntime("cpu");
      for (let d = 0; d < 2; d++) {
        out.push(`${m.label} ${sn} tfjs wasm device ${d} wasm heap\t${w[d].heap!.bytes / M}`);
        out.push(`${m.label} ${sn} tfjs wasm device ${d} memory\t${w[d].total / M}`);
        out.push(`${m.label} ${sn} tfjs wasm device ${d} memory (plan part)\t${(w[d].total - wr.overheadBytes - 16 * M) / M}`);
        out.push(`${m.label} ${sn} torch cpu device ${d} memory\t${t[d].total / M}`);
        out.push(`${m.label} ${sn} torch cpu device ${d} memory (plan part)\t${(t[d].total - tr.overheadBytes) / M}`);
      }
    }
  }
  writeFileSync("/tmp/memtruth/pred.tsv", out.join("\n") + "\n");
});
