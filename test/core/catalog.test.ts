import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CPU_MEASUREMENT, GPU_LAUNCH_OVERHEAD, catalogKinds, lookupDevice } from "../../src/core/catalog.js";
import type { DeviceSpec } from "../../src/core/mesh.js";
import { measureCpu } from "../../src/core/measure-cpu.js";
import { useBackend } from "../support/tf.js";

const GiB = 1024 ** 3;

function spec(kind: string): DeviceSpec {
  const r = lookupDevice(kind);
  if (!r.ok) throw new Error(`no ${kind}`);
  return r.spec;
}

describe("device catalog", () => {
  it("lists the datasheet GPUs and the measured cpu", () => {
    expect(catalogKinds()).toEqual(["K80", "P100", "V100", "A100-40GB", "A100-80GB", "H100", "cpu"]);
  });

  it("a K80 device is one GK210 die: half the board", () => {
    const k80 = spec("K80");
    expect(k80.peakFlops.f32).toBeCloseTo(4.365e12, 0);
    expect(k80.memoryBytes).toBe(12 * GiB);
    expect(k80.memoryBandwidth).toBe(240e9);
  });

  it("datasheet figures of the newer GPUs", () => {
    expect(spec("P100")).toMatchObject({ peakFlops: { f32: 10.6e12, f16: 21.2e12 }, memoryBytes: 16 * GiB, memoryBandwidth: 732e9 });
    expect(spec("V100")).toMatchObject({ peakFlops: { f32: 15.7e12, f16: 125e12 }, memoryBytes: 32 * GiB, memoryBandwidth: 900e9 });
    expect(spec("A100-40GB")).toMatchObject({ peakFlops: { f32: 19.5e12, f16: 312e12, bf16: 312e12 }, peakTf32Flops: 156e12, memoryBytes: 40 * GiB, memoryBandwidth: 1555e9 });
    expect(spec("A100-80GB")).toMatchObject({ memoryBytes: 80 * GiB, memoryBandwidth: 2039e9 });
    expect(spec("H100")).toMatchObject({ peakFlops: { f32: 67e12, f16: 989e12, bf16: 989e12 }, memoryBytes: 80 * GiB, memoryBandwidth: 3.35e12 });
    for (const k of catalogKinds().filter((k) => k !== "cpu")) {
      expect(spec(k).launchOverhead).toBe(GPU_LAUNCH_OVERHEAD);
      expect(spec(k).source).toMatch(/datasheet/);
    }
  });

  it("lookups ignore case and return copies", () => {
    const a = spec("p100");
    expect(a.kind).toBe("P100");
    a.memoryBytes = 1;
    a.peakFlops.f32 = 1;
    expect(spec("P100").memoryBytes).toBe(16 * GiB);
    expect(spec("P100").peakFlops.f32).toBe(10.6e12);
    expect(spec("a100-80gb").kind).toBe("A100-80GB");
  });

  it("an unknown kind gets a did-you-mean when one is close", () => {
    expect(lookupDevice("P10")).toEqual({ ok: false, hint: "did you mean `P100`?" });
    expect(lookupDevice("H10O")).toEqual({ ok: false, hint: "did you mean `H100`?" });
    expect(lookupDevice("TPUv4")).toEqual({ ok: false });
  });

  it("cpu carries the committed measurement of this machine", () => {
    const raw = JSON.parse(readFileSync(new URL("../../src/core/cpu-measured.json", import.meta.url), "utf8"));
    expect(raw.backend).toBe("wasm");
    expect(raw.provenance).toMatch(/measureCpu/);
    expect(Date.parse(raw.date)).toBeGreaterThan(Date.parse("2024-01-01"));
    const cpu = spec("cpu");
    expect(cpu.peakFlops.f32).toBe(raw.matmul.flopsPerSecond);
    expect(cpu.memoryBandwidth).toBe(raw.copy.bytesPerSecond);
    expect(cpu.launchOverhead).toBe(raw.launchOverheadSeconds);
    expect(cpu.memoryBytes).toBe(Math.floor(raw.totalMemoryBytes / raw.cores));
    expect(cpu.source).toMatch(/measured on this machine/);
    expect(CPU_MEASUREMENT.shm.bandwidth).toBeGreaterThan(0);
    expect(CPU_MEASUREMENT.shm.latency).toBeGreaterThan(0);
  });
});

describe("measureCpu", () => {
  it("times matmul, copy, launch and shared memory on wasm, with plausible magnitudes", async () => {
    const tf = await useBackend("wasm");
    const m = await measureCpu(tf as never, { matmulSize: 128, copyBytes: 1 << 20, shmBytes: 1 << 20, repeats: 2 });
    expect(m.backend).toBe("wasm");
    expect(m.matmul.size).toBe(128);
    // Any machine that runs Node does between 10 MFLOP/s and 10 TFLOP/s on one wasm thread.
    expect(m.matmul.flopsPerSecond).toBeGreaterThan(1e7);
    expect(m.matmul.flopsPerSecond).toBeLessThan(1e13);
    expect(m.copy.bytesPerSecond).toBeGreaterThan(1e7);
    expect(m.copy.bytesPerSecond).toBeLessThan(1e13);
    expect(m.launchOverheadSeconds).toBeGreaterThan(0);
    expect(m.launchOverheadSeconds).toBeLessThan(0.1);
    expect(m.shm.latency).toBeGreaterThan(0);
    expect(m.shm.latency).toBeLessThan(0.1);
    expect(m.shm.bandwidth).toBeGreaterThan(1e6);
    expect(m.memoryPerDeviceBytes).toBe(Math.floor(m.totalMemoryBytes / m.cores));
  });
});
