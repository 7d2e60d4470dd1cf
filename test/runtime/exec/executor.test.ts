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

describe("DeviceExecutor releases", () => {
  it("a released buffer holds nothing until its next write; reading it first is PAR5017", async () => {
    const { tf } = await initBackend("cpu");
    const graph = mlp(8, 16, 1);
    const plan = lower(graph, singleDevice(graph), clusterMesh(1, 1), { seed: 3, optimizer: { kind: "sgd", learningRate: 0.1 } });
    const ins = plan.programs[0].instructions;
    const feed = ins.findIndex((i) => i.kind === "feed");
    const buf = (ins[feed] as Extract<(typeof ins)[0], { kind: "feed" }>).buf;
    // Released right after its feed: the next reader finds it empty.
    ins.splice(feed + 1, 0, { kind: "release", buf });
    const exec = new DeviceExecutor(plan, 0, tf, new MemoryHub().comm(0), {
      after(i) {
        if (i === feed + 1) expect(exec.isReleased(buf)).toBe(true);
      },
    });
    await expect(exec.step(0)).rejects.toThrow(/PAR5017.*after its release/);
    // Released before the feed instead: the feed allocates it again and the step runs.
    ins.splice(feed + 1, 1);
    ins.splice(feed, 0, { kind: "release", buf });
    const ok = new DeviceExecutor(plan, 0, tf, new MemoryHub().comm(0));
    expect(Number.isFinite((await ok.step(0)).loss)).toBe(true);
    expect(ok.isReleased(buf)).toBe(false);
  });
});
