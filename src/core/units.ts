// Physical quantities in meshes: bandwidth, memory, time and compute rates. Everything is
// stored in SI base units (bytes/s, bytes, seconds, FLOP/s) so no later stage ever has to
// ask which unit a number is in. Decimal prefixes are powers of 1000 (datasheets use them:
// 1 GB/s = 1e9 bytes/s), binary ones (KiB, MiB, ...) powers of 1024, and bit rates
// (Gb/s, as network links are sold) divide by 8.

import { didYouMean } from "./diagnostics.js";

export type Dimension = "bandwidth" | "bytes" | "time" | "flops";

interface UnitInfo {
  dimension: Dimension;
  /** Multiplier to the SI base unit. */
  factor: number;
  /** Divisor instead, for units below the base: 5 / 1e6 is exactly 5e-6, 5 * 1e-6 is not. */
  divisor?: number;
}

const K = 1e3, M = 1e6, G = 1e9, T = 1e12, P = 1e15;
const KI = 1024, MI = 1024 ** 2, GI = 1024 ** 3, TI = 1024 ** 4;

const UNITS: Readonly<Record<string, UnitInfo>> = {
  // bandwidth: bytes per second
  "B/s": { dimension: "bandwidth", factor: 1 },
  "KB/s": { dimension: "bandwidth", factor: K },
  "MB/s": { dimension: "bandwidth", factor: M },
  "GB/s": { dimension: "bandwidth", factor: G },
  "TB/s": { dimension: "bandwidth", factor: T },
  "KiB/s": { dimension: "bandwidth", factor: KI },
  "MiB/s": { dimension: "bandwidth", factor: MI },
  "GiB/s": { dimension: "bandwidth", factor: GI },
  "TiB/s": { dimension: "bandwidth", factor: TI },
  // bandwidth: bits per second (network links)
  "b/s": { dimension: "bandwidth", factor: 1 / 8 },
  "Kb/s": { dimension: "bandwidth", factor: K / 8 },
  "Mb/s": { dimension: "bandwidth", factor: M / 8 },
  "Gb/s": { dimension: "bandwidth", factor: G / 8 },
  "Tb/s": { dimension: "bandwidth", factor: T / 8 },
  // memory
  B: { dimension: "bytes", factor: 1 },
  KB: { dimension: "bytes", factor: K },
  MB: { dimension: "bytes", factor: M },
  GB: { dimension: "bytes", factor: G },
  TB: { dimension: "bytes", factor: T },
  KiB: { dimension: "bytes", factor: KI },
  MiB: { dimension: "bytes", factor: MI },
  GiB: { dimension: "bytes", factor: GI },
  TiB: { dimension: "bytes", factor: TI },
  // time
  ns: { dimension: "time", factor: 1, divisor: 1e9 },
  us: { dimension: "time", factor: 1, divisor: 1e6 },
  "µs": { dimension: "time", factor: 1, divisor: 1e6 },
  ms: { dimension: "time", factor: 1, divisor: 1e3 },
  s: { dimension: "time", factor: 1 },
  // compute rates; "TFLOPS" is how many datasheets spell "TFLOP/s"
  "FLOP/s": { dimension: "flops", factor: 1 },
  "MFLOP/s": { dimension: "flops", factor: M },
  "GFLOP/s": { dimension: "flops", factor: G },
  "TFLOP/s": { dimension: "flops", factor: T },
  "PFLOP/s": { dimension: "flops", factor: P },
  FLOPS: { dimension: "flops", factor: 1 },
  MFLOPS: { dimension: "flops", factor: M },
  GFLOPS: { dimension: "flops", factor: G },
  TFLOPS: { dimension: "flops", factor: T },
  PFLOPS: { dimension: "flops", factor: P },
};

/** Spellings people write that are not units here; only used to suggest the real one. */
const SPELLINGS: Readonly<Record<string, string>> = {
  sec: "s", secs: "s", msec: "ms", usec: "us", μs: "us", nsec: "ns",
  Bps: "B/s", KBps: "KB/s", MBps: "MB/s", GBps: "GB/s", TBps: "TB/s",
  bps: "b/s", Kbps: "Kb/s", Mbps: "Mb/s", Gbps: "Gb/s", Tbps: "Tb/s",
  FLOPs: "FLOP/s", GFLOPs: "GFLOP/s", TFLOPs: "TFLOP/s", PFLOPs: "PFLOP/s",
};

const DIMENSION_WORDS: Record<Dimension, string> = {
  bandwidth: "a bandwidth (e.g. 20 GB/s, 100 Gb/s)",
  bytes: "a memory size (e.g. 16 GB, 80 GiB)",
  time: "a time (e.g. 2 us, 5 ms)",
  flops: "a compute rate (e.g. 15.7 TFLOP/s)",
};

/** Units of one dimension, as accepted (for help texts and hints). */
export function unitsOf(dimension: Dimension): string[] {
  return Object.keys(UNITS).filter((u) => UNITS[u].dimension === dimension);
}

/** The dimension a unit measures, or undefined for an unknown unit. */
export function unitDimension(unit: string): Dimension | undefined {
  return Object.hasOwn(UNITS, unit) ? UNITS[unit].dimension : undefined;
}

export type QuantityResult =
  | { ok: true; value: number }
  | { ok: false; problem: "unknown-unit" | "wrong-dimension"; message: string; expected: string; hint?: string };

/** Converts `value unit` to the SI base unit of `expected`, or says why it cannot. */
export function parseQuantity(value: number, unit: string, expected: Dimension): QuantityResult {
  const info = Object.hasOwn(UNITS, unit) ? UNITS[unit] : undefined;
  if (!info) {
    // Prefer a unit of the right dimension: "Gbs" for a bandwidth should suggest Gb/s.
    const hint = Object.hasOwn(SPELLINGS, unit)
      ? `did you mean \`${SPELLINGS[unit]}\`?`
      : (didYouMean(unit, unitsOf(expected)) ?? didYouMean(unit, Object.keys(UNITS)));
    const fail: QuantityResult = { ok: false, problem: "unknown-unit", message: `unknown unit \`${unit}\``, expected: `${DIMENSION_WORDS[expected]}; units: ${unitsOf(expected).join(", ")}` };
    if (hint) fail.hint = hint;
    return fail;
  }
  if (info.dimension !== expected) {
    return {
      ok: false,
      problem: "wrong-dimension",
      message: `\`${value} ${unit}\` is ${NOUNS[info.dimension]}, not ${NOUNS[expected]}`,
      expected: DIMENSION_WORDS[expected],
      hint: `use one of ${unitsOf(expected).slice(0, 6).join(", ")}`,
    };
  }
  return { ok: true, value: info.divisor ? value / info.divisor : value * info.factor };
}

const NOUNS: Record<Dimension, string> = { bandwidth: "a bandwidth", bytes: "a memory size", time: "a time", flops: "a compute rate" };

// ---------------------------------------------------------------- formatting for people

/** `n` with at most 3 significant digits after scaling, trailing zeros dropped. */
function num(n: number): string {
  if (n === 0) return "0";
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return String(Number(n.toFixed(digits)));
}

function scaled(n: number, steps: readonly [number, string][]): string {
  if (!Number.isFinite(n)) return `${n > 0 ? "∞" : "-∞"} ${steps[0][1]}`;
  for (let i = steps.length - 1; i >= 0; i--) {
    if (Math.abs(n) >= steps[i][0]) return `${num(n / steps[i][0])} ${steps[i][1]}`;
  }
  return `${num(n / steps[0][0])} ${steps[0][1]}`;
}

/** Memory sizes in binary units (device memories are powers of two): `16 GiB`. */
export function formatBytes(bytes: number): string {
  return scaled(bytes, [[1, "B"], [KI, "KiB"], [MI, "MiB"], [GI, "GiB"], [TI, "TiB"]]);
}

/** Bandwidths in decimal units, as datasheets state them: `12.5 GB/s`. */
export function formatBandwidth(bytesPerSecond: number): string {
  return scaled(bytesPerSecond, [[1, "B/s"], [K, "KB/s"], [M, "MB/s"], [G, "GB/s"], [T, "TB/s"]]);
}

/** Times from nanoseconds to seconds: `2 us`, `1.5 ms`. */
export function formatSeconds(seconds: number): string {
  if (seconds === 0) return "0 s";
  return scaled(seconds, [[1e-9, "ns"], [1e-6, "us"], [1e-3, "ms"], [1, "s"]]);
}

/** Compute rates: `15.7 TFLOP/s`. */
export function formatFlops(flopsPerSecond: number): string {
  return scaled(flopsPerSecond, [[1, "FLOP/s"], [M, "MFLOP/s"], [G, "GFLOP/s"], [T, "TFLOP/s"], [P, "PFLOP/s"]]);
}
