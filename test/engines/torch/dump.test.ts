// readDump: the torch engine's per-rank dumps (python/par_torch/rank.py dump_buffers)
// stitched into whole weights and gradients, on hand-written dumps (no torch needed).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { lower } from "../../../src/codegen/lower.js";
import type { Mesh } from "../../../src/core/mesh.js";
import { regionVolume } from "../../../src/core/region.js";
import { readDump } from "../../../src/engines/torch/dump.js";
import { dataParallel } from "../../../src/ir/baselines.js";
import { testMesh } from "../../ir/fixtures.js";
import { maskedMlp } from "../../runtime/graphs.js";

it("stitches each param and the gradients of the trainable ones; a frozen param's gradient shards (never summed) are not reported", () => {
  const g = maskedMlp();
  const pair = testMesh(1, 2, "pair", true) as Mesh;
  const plan = lower(g, dataParallel(g, pair), pair, { seed: 3, optimizer: { kind: "sgd", learningRate: 0.1 } });
  const dir = mkdtempSync(join(tmpdir(), "par-dump-"));
  try {
    // Every buffer holds 10·(rank + 1) (+1 for a gradient): replicas' weights agree, as after a real step.
    plan.programs.forEach((p, rank) => {
      const entries: object[] = [];
      const values: number[] = [];
      for (const b of p.buffers) {
        if (b.kind !== "param" && b.kind !== "param_grad") continue;
        const n = regionVolume(b.region);
        entries.push({ tensor: b.tensor, kind: b.kind, region: b.region, offset: values.length, count: n });
        for (let i = 0; i < n; i++) values.push(b.kind === "param" ? 7 : 10 * (rank + 1) + 1);
      }
      writeFileSync(join(dir, `rank${rank}.json`), JSON.stringify({ rank, device: p.device, entries }));
      writeFileSync(join(dir, `rank${rank}.bin`), new Uint8Array(new Float32Array(values).buffer));
    });
    // Each rank dumped its own partial gradient of the frozen mask.
    expect(plan.programs.map((p) => p.buffers.filter((b) => b.kind === "param_grad" && b.tensor === "mask.bias").length)).toEqual([1, 1]);
    const r = readDump(plan, dir);
    expect([...r.params.keys()]).toEqual(["fc1.weight", "fc1.bias", "mask.bias", "fc2.weight", "fc2.bias"]);
    expect([...r.grads.keys()]).toEqual(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    expect([...r.params.get("mask.bias")!]).toEqual([7, 7, 7, 7, 7]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
