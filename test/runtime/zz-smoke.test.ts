import { it, expect } from "vitest";
import { useBackend } from "../support/tf.js";
import { mlp, plans } from "./graphs.js";
import { verifyPlan } from "../../src/runtime/verify.js";

it("smoke", async () => {
  const tf = await useBackend("cpu");
  const g = mlp();
  const s = { name: "dp", model: "mlp", mesh: "cpu2", ops: {
    fc1: { degrees: [2, 1, 2], devices: [0, 1, 1, 0] },
    act: { degrees: [1, 2], devices: [1, 0] },
    fc2: { degrees: [2, 1, 1], devices: [0, 1] },
    loss: { degrees: [2], devices: [1, 0] },
  } };
  const { plan, single } = plans(g, s, 2);
  console.log(JSON.stringify(plan.programs.map(p => p.instructions.map(i => i.kind + ("tag" in i ? i.tag : "")).join(" ")), null, 1));
  const r = await verifyPlan(plan, single, tf, { steps: 3 });
  console.log(r);
  expect(r.ok).toBe(true);
});
