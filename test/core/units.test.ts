import { describe, expect, it } from "vitest";
import { formatBandwidth, formatBytes, formatFlops, formatSeconds, parseQuantity, unitDimension, unitsOf } from "../../src/core/units.js";

function value(v: number, unit: string, dim: Parameters<typeof parseQuantity>[2]): number {
  const r = parseQuantity(v, unit, dim);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe("parseQuantity", () => {
  it("decimal byte rates are powers of 1000", () => {
    expect(value(20, "GB/s", "bandwidth")).toBe(20e9);
    expect(value(3.35, "TB/s", "bandwidth")).toBeCloseTo(3.35e12, 0);
    expect(value(5, "MB/s", "bandwidth")).toBe(5e6);
    expect(value(7, "KB/s", "bandwidth")).toBe(7000);
    expect(value(9, "B/s", "bandwidth")).toBe(9);
  });

  it("binary byte rates are powers of 1024", () => {
    expect(value(1, "KiB/s", "bandwidth")).toBe(1024);
    expect(value(2, "MiB/s", "bandwidth")).toBe(2 * 1024 ** 2);
    expect(value(1, "GiB/s", "bandwidth")).toBe(1024 ** 3);
  });

  it("bit rates divide by 8", () => {
    expect(value(100, "Gb/s", "bandwidth")).toBe(12.5e9);
    expect(value(56, "Gb/s", "bandwidth")).toBe(7e9);
    expect(value(8, "Mb/s", "bandwidth")).toBe(1e6);
    expect(value(8, "Kb/s", "bandwidth")).toBe(1000);
    expect(value(1.6, "Tb/s", "bandwidth")).toBeCloseTo(200e9, 0);
  });

  it("memory sizes, decimal and binary", () => {
    expect(value(16, "GB", "bytes")).toBe(16e9);
    expect(value(80, "GiB", "bytes")).toBe(80 * 1024 ** 3);
    expect(value(512, "B", "bytes")).toBe(512);
    expect(value(1, "KB", "bytes")).toBe(1000);
    expect(value(1, "MiB", "bytes")).toBe(1024 ** 2);
    expect(value(2, "TB", "bytes")).toBe(2e12);
    expect(value(1, "TiB", "bytes")).toBe(1024 ** 4);
  });

  it("times", () => {
    expect(value(2, "us", "time")).toBe(2e-6);
    expect(value(5, "us", "time")).toBe(5e-6);
    expect(value(5, "ns", "time")).toBeCloseTo(5e-9, 18);
    expect(value(3, "ms", "time")).toBeCloseTo(3e-3, 12);
    expect(value(1.5, "s", "time")).toBe(1.5);
  });

  it("compute rates, with or without the slash", () => {
    expect(value(15.7, "TFLOP/s", "flops")).toBeCloseTo(15.7e12, 0);
    expect(value(15.7, "TFLOPS", "flops")).toBeCloseTo(15.7e12, 0);
    expect(value(50, "GFLOP/s", "flops")).toBe(50e9);
    expect(value(50, "GFLOPS", "flops")).toBe(50e9);
    expect(value(1, "PFLOP/s", "flops")).toBe(1e15);
    expect(value(10, "FLOP/s", "flops")).toBe(10);
  });

  it("rejects a unit of another dimension, saying which", () => {
    const r = parseQuantity(20, "GB/s", "time");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem).toBe("wrong-dimension");
    expect(r.message).toContain("is a bandwidth, not a time");
    expect(r.hint).toContain("us");
    const m = parseQuantity(16, "GB", "bandwidth");
    expect(!m.ok && m.problem).toBe("wrong-dimension");
  });

  it("rejects an unknown unit with a did-you-mean of the expected dimension", () => {
    const r = parseQuantity(20, "GB/sec", "bandwidth");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem).toBe("unknown-unit");
    expect(r.hint).toBe("did you mean `GB/s`?");
    expect(r.expected).toContain("GB/s");
    const t = parseQuantity(2, "usec", "time");
    expect(!t.ok && t.hint).toBe("did you mean `us`?");
    const gbps = parseQuantity(2, "Gbps", "bandwidth");
    expect(!gbps.ok && gbps.hint).toBe("did you mean `Gb/s`?");
    const none = parseQuantity(2, "furlongs", "time");
    expect(!none.ok && none.hint).toBeUndefined();
  });

  it("units are case-sensitive: Gb/s is bits, GB/s bytes", () => {
    expect(value(1, "Gb/s", "bandwidth")).not.toBe(value(1, "GB/s", "bandwidth"));
    expect(parseQuantity(1, "gb/s", "bandwidth").ok).toBe(false);
  });

  it("unitDimension and unitsOf agree", () => {
    for (const d of ["bandwidth", "bytes", "time", "flops"] as const) for (const u of unitsOf(d)) expect(unitDimension(u)).toBe(d);
    expect(unitDimension("parsecs")).toBeUndefined();
    expect(unitDimension("toString")).toBeUndefined();
  });
});

describe("formatters", () => {
  it("formatBytes uses binary units", () => {
    expect(formatBytes(16 * 1024 ** 3)).toBe("16 GiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(100)).toBe("100 B");
    expect(formatBytes(0)).toBe("0 B");
  });
  it("formatBandwidth uses decimal units", () => {
    expect(formatBandwidth(12.5e9)).toBe("12.5 GB/s");
    expect(formatBandwidth(3.35e12)).toBe("3.35 TB/s");
    expect(formatBandwidth(450e9)).toBe("450 GB/s");
    expect(formatBandwidth(Infinity)).toBe("∞ B/s");
  });
  it("formatSeconds", () => {
    expect(formatSeconds(2e-6)).toBe("2 us");
    expect(formatSeconds(9e-6)).toBe("9 us");
    expect(formatSeconds(1.5e-3)).toBe("1.5 ms");
    expect(formatSeconds(3)).toBe("3 s");
    expect(formatSeconds(5e-9)).toBe("5 ns");
    expect(formatSeconds(0)).toBe("0 s");
  });
  it("formatFlops", () => {
    expect(formatFlops(15.7e12)).toBe("15.7 TFLOP/s");
    expect(formatFlops(989e12)).toBe("989 TFLOP/s");
    expect(formatFlops(2.5e15)).toBe("2.5 PFLOP/s");
    expect(formatFlops(24.4e9)).toBe("24.4 GFLOP/s");
  });
});
