// Random small ONNX graphs (random supported ops, shapes, attributes and weights; see
// random-graph.ts) compute the same in par's forward pass as in ONNX Runtime: every
// output within 1e-4 relative to its largest magnitude. Fixed seed in CI (PAR_SEED to
// replay); fast-check prints the seed and the shrunk recipe on failure.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { forwardOf } from "../../../src/pipeline.js";
import { prepareForward } from "../../../src/frontend/forward-inputs.js";
import { compareArrays } from "../../../src/cli/commands/forward.js";
import { fromImported } from "../../../src/frontend/load-model.js";
import { importOnnx } from "../../../src/frontend/onnx/import.js";
import type { TF } from "../../../src/ops/contract.js";
import { ortRun } from "../../support/ort.js";
import { assertProperty } from "../../support/property.js";
import { useBackend } from "../../support/tf.js";
import { buildRandomModel, recipeArb } from "./random-graph.js";

const RUNS = 300;

describe("random ONNX graphs: par forward = ONNX Runtime (property)", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  it(`${RUNS} graphs agree within 1e-4`, async () => {
    await assertProperty(
      fc.asyncProperty(recipeArb, async (recipe) => {
        const m = buildRandomModel(recipe);
        const d = new Diagnostics();
        const given = Object.entries(m.inputs).map(([name, array]) => ({ name, source: `${name}.npy`, array }));
        const prepared = prepareForward((bind) => {
          const imported = importOnnx(m.bytes, "random.onnx", { bind }, d);
          return imported && fromImported(imported, "onnx");
        }, given, d);
        expect(d.errors.map((e) => `${e.code} ${e.message}`), m.ops.join(" → ")).toEqual([]);
        const ours = await forwardOf(prepared!, tf);
        const theirs = await ortRun(m.bytes, m.inputs);
        for (const o of ours) {
          const ref = theirs.get(o.name)!;
          expect(o.shape, `${o.name} of ${m.ops.join(" → ")}`).toEqual(ref.dims);
          const e = compareArrays(o.data, ref.data);
          expect(e.maxRelError, `${o.name} of ${m.ops.join(" → ")}: max abs error ${e.maxAbsError}`).toBeLessThanOrEqual(1e-4);
        }
      }),
      RUNS,
    );
  }, 600_000);
});
