// The central property for large-scale strategies: random graphs under random replicas,
// pipelines (2–4 stages, 2–8 micro-batches, GPipe, 1F1B and interleaved 1F1B), ZeRO
// stages 0–3 and recomputation, lowered and executed, compute what the single-device model
// computes (losses, weight gradients, updated weights). The cross-engine half (the torch
// engine on the same plans) is in test/engines/torch/cross-engine.property.test.ts.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSchedule } from "../../src/plan/schedule.js";
import { validatePlan } from "../../src/plan/io.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { verifyPlan } from "../../src/runtime/exec/verify.js";
import type { TF } from "../../src/ops/contract.js";
import { assertProperty } from "../support/property.js";
import { useBackend } from "../support/tf.js";
import { plans } from "./graphs.js";
import { describeCase } from "./random-cases.js";
import { describeScale, randomScaleCase } from "./random-scale-cases.js";
import { optimizerFor, scaleCaseArb } from "./scale-arbitraries.js";

let worst = 0;
const seen = { cases: 0, pipelines: 0, interleaved: 0, groups: [0, 0, 0, 0, 0], microbatches: [0, 0, 0, 0, 0, 0, 0, 0, 0], zero: [0, 0, 0, 0], recompute: 0, replicas: 0 };
afterAll(() => {
  console.log(`scale strategies property: ${JSON.stringify(seen)}, worst relative error ${worst.toExponential(2)}`);
});

describe("any large-scale strategy computes the single-device result (cpu)", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  it("random graphs × random replicas, pipelines, ZeRO and recomputation verify", async () => {
    await assertProperty(
      fc.asyncProperty(scaleCaseArb, async (a) => {
        const c = randomScaleCase(a);
        const what = `${describeCase(c)}\n${describeScale(c.strategy)}`;
        const { plan, single } = plans(c.graph, c.strategy, c.devices, optimizerFor(a), a.graphSeed);
        const schedule = checkSchedule(plan);
        if (schedule) throw new Error(`${what}\nschedule: ${schedule}`);
        const d = new Diagnostics();
        if (!validatePlan(JSON.parse(JSON.stringify(plan)), "plan.json", d)) throw new Error(`${what}\ninvalid plan: ${d.items.map((x) => `${x.code} ${x.message}`).join("; ")}`);
        const r = await verifyPlan(plan, single, tf, { steps: 2, tolerance: 1e-3 });
        worst = Math.max(worst, r.maxRelError);
        seen.cases++;
        if (c.strategy.pipeline) seen.pipelines++;
        const p = c.strategy.pipeline;
        if (p?.schedule === "interleaved") seen.interleaved++;
        if (p) {
          seen.groups[p.stages.length / (p.virtualStages ?? 1)]++;
          seen.microbatches[p.microbatches]++;
        }
        seen.zero[c.strategy.zero ?? 0]++;
        if (c.strategy.recompute) seen.recompute++;
        if (c.strategy.replicas) seen.replicas++;
        if (!r.ok) throw new Error(`${what}\n${JSON.stringify(r, null, 1)}`);
      }),
      Number(process.env.PAR_RUNS_SCALE ?? 40),
    );
    expect(seen.pipelines).toBeGreaterThan(0);
  }, 300_000);
});
