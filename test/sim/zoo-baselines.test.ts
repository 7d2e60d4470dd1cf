// Every baseline strategy of every zoo model validates and simulates on every built-in mesh.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtinMesh, builtinMeshNames } from "../../src/core/builtin-meshes.js";
import { Diagnostics, formatDiagnostic } from "../../src/core/diagnostics.js";
import { CostModel } from "../../src/cost/compute.js";
import { buildGraph } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import { baseline, BASELINE_KINDS } from "../../src/ir/baselines.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import { DeltaSimulator, simulateIterationTime } from "../../src/sim/simulate.js";

const MODELS = join(import.meta.dirname, "..", "..", "models");
const files = readdirSync(MODELS).filter((f) => f.endsWith(".par")).sort();

describe("zoo × baselines × built-in meshes", () => {
  for (const file of files) {
    it(file, () => {
      const text = readFileSync(join(MODELS, file), "utf8");
      const d = new Diagnostics();
      const program = parse(text, file, d)!;
      const graph = buildGraph(program, file.replace(/\.par$/, ""), {}, d)!;
      expect(d.errors.map((x) => formatDiagnostic(x, text))).toEqual([]);
      // The cluster meshes (hundreds to thousands of GPUs) are the hierarchical simulator's
      // (test/sim/scale/); the op-level simulation of every task copy covers up to 64.
      for (const meshName of builtinMeshNames().filter((n) => builtinMesh(n)!.devices.length <= 64)) {
        const mesh = builtinMesh(meshName)!;
        const costs = new CostModel(graph, mesh);
        for (const kind of BASELINE_KINDS) {
          const strategy = baseline(kind, graph, mesh);
          const vd = new Diagnostics();
          const where = `${file} ${kind} on ${meshName}`;
          expect(validateStrategy(graph, mesh, strategy, vd), `${where}: ${vd.items.map((x) => x.message).join("; ")}`).toBe(true);
          const t = simulateIterationTime(graph, mesh, strategy, costs);
          expect(Number.isFinite(t) && t > 0, `${where}: iteration time ${t}`).toBe(true);
          if (meshName === "p100x16") {
            // The key order is a linear extension of the task graph's dependencies.
            const ds = new DeltaSimulator(graph, mesh, strategy, costs);
            ds.builder.checkOrder();
            expect(ds.iterationTime(), where).toBe(t);
          }
        }
      }
    });
  }
});
