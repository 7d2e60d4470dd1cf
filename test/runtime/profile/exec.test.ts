import { describe, expect, it } from "vitest";
import { lower } from "../../../src/codegen/lower.js";
import { initBackend } from "../../../src/runtime/backend.js";
import { profileByExecution } from "../../../src/runtime/profile/exec.js";
import { clusterMesh, dataParallel, mlp } from "../../sim/fixtures.js";

describe("profileByExecution", () => {
  const graph = mlp(8, 16, 2);
  const plan = lower(graph, dataParallel(graph, 2), clusterMesh(1, 2), { seed: 1, optimizer: { kind: "sgd", learningRate: 0.1 } });

  it("times every distinct task's forward and backward per phase, in plan order, entering each phase first", async () => {
    const { tf } = await initBackend("cpu");
    const entered: string[] = [];
    const { tasks: profile, updates } = await profileByExecution(plan, tf, ["warmup", "alone", "loaded", "alone"], (p) => entered.push(p));
    expect(entered).toEqual(["warmup", "alone", "loaded", "alone"]);
    // Every weight shard size's update, ascending (fc0/fc1 weights 16×16, head 10×16, biases 16 and 10).
    expect(updates.map((u) => u.floats)).toEqual([10, 16, 160, 256]);
    for (const u of updates) {
      expect(u.optimizer).toBe("sgd");
      expect(u.ms).toBeGreaterThan(0);
    }
    // fc0 and fc1 have equal keys (same op kind, input shapes, attrs and extent): one row.
    expect(profile.map((p) => p.task.opName)).toEqual(["fc0", "relu0", "head", "loss"]);
    for (const p of profile) {
      expect(p.forward.alone).toBeGreaterThan(0);
      expect(p.forward.loaded).toBeGreaterThan(0);
      expect(p.backward.alone).toBeGreaterThan(0);
      expect(p.task.extent).toEqual(p.task.opName === "loss" ? [4] : p.task.opName === "head" ? [4, 10, 16] : p.task.opName === "relu0" ? [4, 16] : [4, 16, 16]);
    }
  });

  it("a phase without steps costs 0 (not NaN), so the table stays valid", async () => {
    const { tf } = await initBackend("cpu");
    const { tasks: profile } = await profileByExecution(plan, tf, ["warmup", "alone"]);
    for (const p of profile) {
      expect(p.forward.loaded).toBe(0);
      expect(p.backward.loaded).toBe(0);
    }
  });
});
