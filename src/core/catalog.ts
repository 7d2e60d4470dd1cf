// The device catalog: peak figures of the accelerators FlexFlow-style searches are usually
// run for, each with its datasheet, plus `cpu`, this machine as measured by
// bench/measure-cpu.ts. Figures are dense (no structured sparsity) peaks per device.
//
// Memory capacities are binary (HBM/GDDR stacks come in powers of two: a "16 GB" P100 has
// 16 GiB), bandwidths and FLOP/s decimal, as the datasheets state them.

import type { DeviceSpec } from "./mesh.js";
import { didYouMean } from "./diagnostics.js";
import measured from "./cpu-measured.json" with { type: "json" };
import type { CpuMeasurement } from "./measure-cpu.js";

const GiB = 1024 ** 3;
const T = 1e12;
const GBs = 1e9;

/**
 * Host-side CUDA kernel launch overhead. Published measurements put it at 3–10 us per
 * launch (e.g. NVIDIA's "CUDA Graphs" blog, 2019: "launch overheads of a few microseconds";
 * FlexFlow's simulator profiles kernels including it). We take 5 us for every GPU: the
 * spread between GPU generations is below the spread between host CPUs and drivers.
 */
export const GPU_LAUNCH_OVERHEAD = 5e-6;

/** The figures of this machine, measured and committed (see src/core/measure-cpu.ts). */
export const CPU_MEASUREMENT: CpuMeasurement = measured as CpuMeasurement;

const GPUS: DeviceSpec[] = [
  {
    // One GK210 die: the K80 board carries two, and a framework sees each as a device.
    kind: "K80",
    // Kepler has no fast fp16 math: f16 runs at the f32 rate.
    peakFlops: { f32: 8.73e12 / 2, f16: 8.73e12 / 2 },
    memoryBytes: 12 * GiB,
    memoryBandwidth: 480e9 / 2,
    launchOverhead: GPU_LAUNCH_OVERHEAD,
    source: "NVIDIA Tesla K80 datasheet (2014): board 8.73 TFLOP/s f32 at GPU Boost, 24 GB GDDR5, 480 GB/s, for 2 GK210 dies; halved per die",
  },
  {
    kind: "P100",
    peakFlops: { f32: 10.6 * T, f16: 21.2 * T },
    memoryBytes: 16 * GiB,
    memoryBandwidth: 732 * GBs,
    launchOverhead: GPU_LAUNCH_OVERHEAD,
    source: "NVIDIA Tesla P100 datasheet (SXM2/NVLink variant): 10.6 TFLOP/s f32, 21.2 TFLOP/s f16, 16 GB CoWoS HBM2, 732 GB/s",
  },
  {
    kind: "V100",
    // f16 is the Tensor Core peak (matmuls); V100 has no bf16.
    peakFlops: { f32: 15.7 * T, f16: 125 * T },
    memoryBytes: 32 * GiB,
    memoryBandwidth: 900 * GBs,
    launchOverhead: GPU_LAUNCH_OVERHEAD,
    source: "NVIDIA Tesla V100 datasheet (SXM2 32GB): 15.7 TFLOP/s f32, 125 TFLOP/s Tensor (f16), 32 GB HBM2, 900 GB/s",
  },
  {
    kind: "A100-40GB",
    peakFlops: { f32: 19.5 * T, f16: 312 * T, bf16: 312 * T },
    peakTf32Flops: 156 * T,
    memoryBytes: 40 * GiB,
    memoryBandwidth: 1555 * GBs,
    launchOverhead: GPU_LAUNCH_OVERHEAD,
    source: "NVIDIA A100 Tensor Core GPU datasheet (SXM 40GB): 19.5 TFLOP/s f32, 156 TF32, 312 f16/bf16 dense, 40 GB HBM2, 1,555 GB/s",
  },
  {
    kind: "A100-80GB",
    peakFlops: { f32: 19.5 * T, f16: 312 * T, bf16: 312 * T },
    peakTf32Flops: 156 * T,
    memoryBytes: 80 * GiB,
    memoryBandwidth: 2039 * GBs,
    launchOverhead: GPU_LAUNCH_OVERHEAD,
    source: "NVIDIA A100 Tensor Core GPU datasheet (SXM 80GB): 19.5 TFLOP/s f32, 156 TF32, 312 f16/bf16 dense, 80 GB HBM2e, 2,039 GB/s",
  },
  {
    kind: "H100",
    peakFlops: { f32: 67 * T, f16: 989 * T, bf16: 989 * T },
    peakTf32Flops: 494 * T,
    memoryBytes: 80 * GiB,
    memoryBandwidth: 3.35e12,
    launchOverhead: GPU_LAUNCH_OVERHEAD,
    source: "NVIDIA H100 Tensor Core GPU datasheet (SXM5): 67 TFLOP/s f32, 494 TF32, 989 f16/bf16 dense (1,979 with sparsity), 80 GB HBM3, 3.35 TB/s",
  },
];

/** One core of this machine running the tfjs wasm backend, as measured. */
function cpuSpec(m: CpuMeasurement): DeviceSpec {
  const f = m.matmul.flopsPerSecond;
  return {
    kind: "cpu",
    // wasm computes f16/bf16 in f32 (tfjs has no half-precision kernels there).
    peakFlops: { f32: f, f16: f, bf16: f },
    memoryBytes: m.memoryPerDeviceBytes,
    memoryBandwidth: m.copy.bytesPerSecond,
    launchOverhead: m.launchOverheadSeconds,
    source:
      `measured on this machine (${m.cpuModel}, ${m.cores} cores, node ${m.node}) on ${m.date.slice(0, 10)}, tfjs ${m.backend} backend; ` +
      `memory = total RAM / cores; ${m.provenance}`,
  };
}

const CATALOG: ReadonlyMap<string, DeviceSpec> = new Map([...GPUS, cpuSpec(CPU_MEASUREMENT)].map((d) => [d.kind, d]));

/** Catalog kinds, in catalog order (oldest GPU first, `cpu` last). */
export function catalogKinds(): string[] {
  return [...CATALOG.keys()];
}

export type DeviceLookup = { ok: true; spec: DeviceSpec } | { ok: false; hint?: string };

/**
 * A kind as `.par` can spell it: a `.par` name cannot hold `-`, so `A100_80GB` names
 * `A100-80GB`; case is ignored too (`p100` is `P100`).
 */
function kindKey(kind: string): string {
  return kind.toLowerCase().replace(/_/g, "-");
}

/** The kind written as a `.par` identifier (`A100-80GB` → `A100_80GB`). */
export function parKindName(kind: string): string {
  return kind.replace(/-/g, "_");
}

/** Finds a catalog device by kind, ignoring case and `_` for `-` (`a100_80gb` is `A100-80GB`); a copy, safe to modify. */
export function lookupDevice(kind: string): DeviceLookup {
  const wanted = kindKey(kind);
  for (const [name, spec] of CATALOG) {
    if (kindKey(name) === wanted) return { ok: true, spec: copySpec(spec) };
  }
  const hint = didYouMean(kind, [...CATALOG.keys()].map(parKindName));
  return hint ? { ok: false, hint } : { ok: false };
}

/** A deep copy, so that overrides in one mesh never leak into the catalog. */
export function copySpec(spec: DeviceSpec): DeviceSpec {
  return { ...spec, peakFlops: { ...spec.peakFlops } };
}
