// THE cross-engine property: random training graphs (MLP, attention and convolution
// families) under random strategies (every SOAP dim, reductions, uneven splits, random
// placements on 1–4 devices) give the same per-step losses, last weight gradients and
// updated weights on the torch engine as on the tfjs runtime. One server with 4 ranks runs
// every plan (a plan on fewer devices leaves ranks idle), so a case costs its steps, not
// four interpreter start-ups. fast-check prints the seed and the shrunk case on failure.
import fc from "fast-check";
import { afterAll, beforeAll, it } from "vitest";
import { TorchServer } from "../../../src/engines/torch/server.js";
import { checkSchedule } from "../../../src/plan/schedule.js";
import { assertProperty } from "../../support/property.js";
import { plans } from "../../runtime/graphs.js";
import { describeCase, randomCase, type Family } from "../../runtime/random-cases.js";
import { describeScale, randomScaleCase } from "../../runtime/random-scale-cases.js";
import { optimizerFor, scaleCaseArb } from "../../runtime/scale-arbitraries.js";
import { crossEngine, describeTorch, tfjsRun, TORCH, Worst } from "./support.js";

const FAMILIES: Family[] = ["mlp", "seq", "conv"];
const MAX_DEVICES = 4;
const STEPS = 2;
const RUNS = Number(process.env.PAR_RUNS_TORCH ?? 36);
const SCALE_RUNS = Number(process.env.PAR_RUNS_TORCH_SCALE ?? 16);
const worst = new Worst();

const caseArb = fc.record({
  graphSeed: fc.integer({ min: 1, max: 1_000_000 }),
  family: fc.constantFrom(...FAMILIES),
  strategySeed: fc.integer({ min: 1, max: 1_000_000 }),
  devices: fc.integer({ min: 1, max: MAX_DEVICES }),
  // Not Adam: it scales a gradient that is zero in theory (an attention key bias) and
  // rounding noise in practice up to a learning-rate-sized step whose sign is the noise's,
  // so its weights are compared in instructions.test.ts on models without such params.
  optimizer: fc.constantFrom("sgd" as const, "momentum" as const),
});

describeTorch("any strategy gives the same losses on torch and on tfjs", () => {
  let server: TorchServer;
  beforeAll(async () => {
    server = await TorchServer.start(MAX_DEVICES, { python: TORCH! });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    console.log(worst.report("cross-engine property"));
  });

  it(`${RUNS} random graphs × strategies on 1–${MAX_DEVICES} ranks`, async () => {
    await assertProperty(
      fc.asyncProperty(caseArb, async (a) => {
        const c = randomCase(a.graphSeed, a.family, a.strategySeed, a.devices);
        const optimizer = { kind: a.optimizer, learningRate: 0.05 };
        const { plan } = plans(c.graph, c.strategy, c.devices, optimizer, a.graphSeed);
        const schedule = checkSchedule(plan);
        if (schedule) throw new Error(`${describeCase(c)}\nschedule: ${schedule}`);
        const torch = await server.run(plan, { steps: STEPS, dumpWeights: true });
        const tfjs = await tfjsRun(plan, STEPS);
        const r = crossEngine(plan, torch, tfjs, STEPS);
        worst.add(r);
        if (!r.ok) throw new Error(`${describeCase(c)}\n${JSON.stringify(r, null, 1)}`);
      }),
      RUNS,
    );
  }, 600_000);

  // Large-scale strategies (test/runtime/scale-strategies.property.test.ts): replicas,
  // pipelines under every schedule, ZeRO 0–3 (the engine's reduce-scatters, all-gathers and
  // slices), recomputation and releases, on the same ranks.
  it(`${SCALE_RUNS} random graphs × large-scale strategies on 2–${MAX_DEVICES} ranks`, async () => {
    await assertProperty(
      fc.asyncProperty(scaleCaseArb, async (a) => {
        const c = randomScaleCase(a);
        const { plan } = plans(c.graph, c.strategy, c.devices, optimizerFor(a), a.graphSeed);
        const schedule = checkSchedule(plan);
        if (schedule) throw new Error(`${describeCase(c)}\n${describeScale(c.strategy)}\nschedule: ${schedule}`);
        const torch = await server.run(plan, { steps: STEPS, dumpWeights: true });
        const tfjs = await tfjsRun(plan, STEPS);
        const r = crossEngine(plan, torch, tfjs, STEPS);
        worst.add(r);
        if (!r.ok) throw new Error(`${describeCase(c)}\n${describeScale(c.strategy)}\n${JSON.stringify(r, null, 1)}`);
      }),
      SCALE_RUNS,
    );
  }, 600_000);
});
