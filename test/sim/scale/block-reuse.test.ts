// Repeated layers simulated once: a stage of n identical blocks timed from its one- and
// two-block copies matches the op-by-op simulation of the whole stage.
import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../../src/core/builtin-meshes.js";
import { ScaleCostModel } from "../../../src/cost/scale-costs.js";
import { megatronStrategy, type MegatronConfig } from "../../../src/ir/megatron.js";
import { planStages } from "../../../src/ir/stage-plan.js";
import { stageBlocks } from "../../../src/sim/scale/block-reuse.js";
import { timeStage, timeStageOpByOp } from "../../../src/sim/scale/stage-timing.js";
import { tinyGpt } from "./gpt-fixture.js";

describe("repeated blocks simulated once", () => {
  const graph = tinyGpt({ layers: 8, hidden: 128, batch: 64 });
  const mesh = builtinMesh("a100x64")!;
  const costs = new ScaleCostModel(mesh, { optimizer: "adam" });
  const configs: MegatronConfig[] = [
    { tensor: 1, pipeline: 1, data: 1, microbatchSize: 8, precision: "bf16" },
    { tensor: 4, pipeline: 2, data: 2, microbatchSize: 4, precision: "bf16", rest: "sequence" },
    { tensor: 2, pipeline: 2, data: 1, microbatchSize: 8, recompute: "full" },
    { tensor: 8, pipeline: 1, data: 1, microbatchSize: 16, recompute: "selective", precision: "bf16" },
  ];
  for (const c of configs) {
    it(`${JSON.stringify(c)}: forward, backward, recomputation and gradient readiness match the full simulation`, () => {
      const plan = planStages(graph, mesh, megatronStrategy(graph, mesh, c));
      for (const stage of plan.stages) {
        expect(stageBlocks(stage)?.count).toBeGreaterThanOrEqual(3);
        const fast = timeStage(stage, costs);
        const full = timeStageOpByOp(stage, costs);
        expect(fast.forward).toBeCloseTo(full.forward, 9);
        expect(fast.backward).toBeCloseTo(full.backward, 9);
        expect(fast.recompute).toBeCloseTo(full.recompute, 9);
        expect(fast.perStepBackward).toBeCloseTo(full.perStepBackward, 9);
        for (const [i, r] of full.gradReady) expect(fast.gradReady.get(i), `op ${stage.ops[i].name}`).toBeCloseTo(r, 6);
      }
    });
  }
});
