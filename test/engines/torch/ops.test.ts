// Every op's torch kernel computes what its TypeScript kernel computes, forward and
// backward, whole and sharded: each op's case graph (op-cases.ts) is lowered for one
// device, under a random strategy on 3 devices, and with every splittable dim of the op
// under test split in two (uneven splits, halos, partial sums, head blocks, replicas);
// the torch engine's losses, last weight gradients and updated weights match the tfjs
// runtime's on the same plan.
import { afterAll, beforeAll, expect, it } from "vitest";
import { opNames } from "../../../src/ops/registry.js";
import { TorchServer } from "../../../src/engines/torch/server.js";
import { checkSchedule } from "../../../src/plan/schedule.js";
import type { Graph } from "../../../src/ir/graph.js";
import type { Strategy } from "../../../src/ir/strategy.js";
import { plans } from "../../runtime/graphs.js";
import { describeCase, randomStrategy } from "../../runtime/random-cases.js";
import { opCases } from "./op-cases.js";
import { crossEngine, describeTorch, tfjsRun, TORCH, Worst } from "./support.js";

const DEVICES = 3;
const STEPS = 2;
const CASES = opCases();
const worst = new Worst();

/** A random strategy, except that every op of kind `op` splits each splittable dim in two. */
function stressStrategy(g: Graph, op: string, seed: number): Strategy {
  const s = randomStrategy(g, seed, DEVICES);
  for (const o of g.topoOrder()) {
    if (o.op !== op) continue;
    const degrees = o.sig.space.map((d): number => (d.splittable !== false && d.size >= 2 ? 2 : 1));
    const tasks = degrees.reduce((a, b) => a * b, 1);
    s.ops[o.name] = { degrees, devices: Array.from({ length: tasks }, (_, i) => (i + seed) % DEVICES) };
  }
  return s;
}

it("every registered op appears in an op case", () => {
  const covered = new Set(CASES.flatMap((c) => c.graph.topoOrder().map((o) => o.op)));
  expect(opNames().filter((n) => !covered.has(n))).toEqual([]);
});

describeTorch("torch kernels against the tfjs kernels, whole and sharded", () => {
  let server: TorchServer;
  beforeAll(async () => {
    server = await TorchServer.start(DEVICES, { python: TORCH! });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    console.log(worst.report("torch vs tfjs per op"));
  });

  CASES.forEach((c, index) => {
    it(`${c.op} (${c.label})`, async () => {
      const strategy = randomStrategy(c.graph, 1000 + index, DEVICES);
      const stress = stressStrategy(c.graph, c.op, 2000 + index);
      const optimizer = { kind: "momentum" as const, learningRate: 0.05 };
      const { plan, single } = plans(c.graph, strategy, DEVICES, optimizer, 11 + index);
      const stressed = plans(c.graph, stress, DEVICES, optimizer, 11 + index).plan;
      expect(checkSchedule(plan)).toBeUndefined();
      expect(checkSchedule(stressed)).toBeUndefined();
      for (const [what, p, s] of [["single device", single, strategy], ["random strategy", plan, strategy], ["every dim of the op split", stressed, stress]] as const) {
        const torch = await server.run(p, { steps: STEPS, dumpWeights: true });
        const tfjs = await tfjsRun(p, STEPS);
        const r = crossEngine(p, torch, tfjs, STEPS);
        worst.add(r);
        if (!r.ok) throw new Error(`${what}: ${describeCase({ graph: c.graph, strategy: s, devices: DEVICES })}\n${JSON.stringify(r, null, 1)}`);
      }
    }, 60_000);
  });
});
