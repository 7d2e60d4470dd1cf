// THE central property: any valid strategy, lowered and executed on several devices,
// computes what the single-device model computes (losses, weight gradients, updated
// weights), for random graphs from the op library and random degrees and placements.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSchedule } from "../../src/plan/schedule.js";
import { verifyPlan } from "../../src/runtime/exec/verify.js";
import type { TF } from "../../src/ops/contract.js";
import { assertProperty } from "../support/property.js";
import { useBackend } from "../support/tf.js";
import { plans } from "./graphs.js";
import { describeCase, randomCase, type Family } from "./random-cases.js";

const FAMILIES: Family[] = ["mlp", "seq", "conv"];

/** The largest relative error seen (reported, to keep the documented tolerance honest). */
let worst = 0;
let worstAbs = 0;
let cases = 0;
afterAll(() => {
  console.log(`strategies property: ${cases} cases, worst absolute error ${worstAbs.toExponential(2)}, worst relative error above the 1e-6 floor ${worst.toExponential(2)}`);
});

const caseArb = fc.record({
  graphSeed: fc.integer({ min: 1, max: 1_000_000 }),
  family: fc.constantFrom(...FAMILIES),
  strategySeed: fc.integer({ min: 1, max: 1_000_000 }),
  devices: fc.integer({ min: 1, max: 4 }),
});

async function check(tf: TF, a: { graphSeed: number; family: Family; strategySeed: number; devices: number }, steps: number): Promise<void> {
  const c = randomCase(a.graphSeed, a.family, a.strategySeed, a.devices);
  const { plan, single } = plans(c.graph, c.strategy, c.devices, { kind: "sgd", learningRate: 0.05 }, a.graphSeed);
  const schedule = checkSchedule(plan);
  if (schedule) throw new Error(`${describeCase(c)}\nschedule: ${schedule}`);
  const r = await verifyPlan(plan, single, tf, { steps });
  worst = Math.max(worst, r.maxRelError);
  worstAbs = Math.max(worstAbs, r.maxAbsError);
  cases++;
  if (!r.ok) throw new Error(`${describeCase(c)}\n${JSON.stringify(r, null, 1)}`);
}

describe("any strategy computes the single-device result (cpu)", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  it("random graphs × random strategies verify", async () => {
    await assertProperty(fc.asyncProperty(caseArb, (a) => check(tf, a, 2)), Number(process.env.PAR_RUNS ?? 100));
  }, 120_000);
});

describe("any strategy computes the single-device result (wasm)", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("wasm");
  });

  it("random graphs × random strategies verify", async () => {
    await assertProperty(fc.asyncProperty(caseArb, (a) => check(tf, a, 1)), Number(process.env.PAR_RUNS_WASM ?? 12));
    expect(true).toBe(true);
  }, 120_000);
});
