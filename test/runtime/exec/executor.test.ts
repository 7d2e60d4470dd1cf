import { describe, expect, it } from "vitest";
import { lower } from "../../../src/codegen/lower.js";
import { initBackend } from "../../../src/runtime/backend.js";
import { DATASET_BATCHES, synthesize } from "../../../src/runtime/exec/data.js";
import { DeviceExecutor } from "../../../src/runtime/exec/executor.js";
import { MemoryHub } from "../../../src/runtime/exec/memory-comm.js";
import { clusterMesh, mlp, singleDevice } from "../../sim/fixtures.js";

describe("DeviceExecutor feeds", () => {
  it("load each step the batch synthesize gives for it (the cached shard of the cycled dataset)", async () => {
    const { tf } = await initBackend("cpu");
    const graph = mlp(8, 16, 1);
    const plan = lower(graph, singleDevice(graph), clusterMesh(1, 1), { seed: 3, optimizer: { kind: "sgd", learningRate: 0.1 } });
    const seen: Float32Array[] = [];
    const exec = new DeviceExecutor(plan, 0, tf, new MemoryHub().comm(0), {
      after(_i, ins) {
        if (ins.kind === "feed" && ins.buf.startsWith("v:x")) seen.push(Float32Array.from(exec.buffer(ins.buf)));
      },
    });
    const x = plan.tensors.find((t) => t.id === "x")!;
    const full = { lo: [0, 0], hi: [...x.shape] };
    for (let step = 0; step < 2 * DATASET_BATCHES + 1; step++) {
      await exec.step(step);
      expect(seen[step]).toEqual(synthesize(x, undefined, plan.seed, step, full));
    }
    expect(seen[0]).toEqual(seen[DATASET_BATCHES]);
    expect(seen[0]).not.toEqual(seen[1]);
  });
});
