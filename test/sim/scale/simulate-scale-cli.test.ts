// `par simulate` of a strategy with replicas, a pipeline, ZeRO, recomputation or 16-bit
// precision runs the hierarchical simulator (docs/scale.md).
import { describe, expect, it } from "vitest";
import { cli } from "../../cli/cli-helpers.js";

const ROW_39B = ["--set", "layers=48", "--set", "hidden=8192", "--set", "heads=64", "--set", "batch=1536"];

describe("par simulate at scale", () => {
  it("simulates Megatron's 39B configuration on 512 A100s: step time, bubble, memory per device", async () => {
    const { code, out, err } = await cli("simulate", "models/gpt3.par", "--strategy", "strategies/megatron-gpt3-39B.json", "--optimizer", "adam", ...ROW_39B);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toMatch(/^gpt3 \/ megatron-gpt3-39B on a100x512 \(512 of 512 devices; hierarchical simulation/);
    expect(out).toMatch(/32 replica\(s\) × 2 pipeline group\(s\); 12 micro-batch\(es\), 1f1b; zero 0; bf16/);
    expect(out).toMatch(/pipeline bubble\s+\d/);
    expect(out).toMatch(/peak memory\s+\S+ \S+ of 80/);
  });
  it("--json carries the step, the pipeline and per-device memory", async () => {
    const { code, out } = await cli("simulate", "models/gpt3.par", "--strategy", "strategies/megatron-gpt3-39B.json", "--optimizer", "adam", "--json", ...ROW_39B);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j.devicesUsed).toBe(512);
    expect(j.iterationTimeMs).toBeGreaterThan(0);
    expect(j.pipeline).toMatchObject({ groups: 2, microbatches: 12, schedule: "1f1b" });
    expect(j.stages).toHaveLength(2);
    expect(j.memory).toHaveLength(16);
    expect(j.peakMemoryBytes).toBeLessThan(80e9);
  });
});
