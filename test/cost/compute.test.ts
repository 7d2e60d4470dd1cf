import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CostModel, DEFAULT_EFFICIENCY, loadMeasuredCosts, mappedVolume, parseMeasuredCosts, rooflineTime, taskBytes } from "../../src/cost/compute.js";
import { Graph } from "../../src/ir/graph.js";
import { ParError } from "../../src/core/diagnostics.js";
import { addOp, clusterMesh, device, f32 } from "../sim/fixtures.js";

function linearGraph(): Graph {
  const g = new Graph("g");
  g.addInput("x", f32(64, 784));
  addOp(g, "fc", "linear", ["x"], { out: 128 });
  addOp(g, "r", "relu", ["fc"]);
  return g;
}

describe("roofline", () => {
  it("is compute bound for a big matmul and memory bound for an elementwise op", () => {
    const spec = device("t", 1e12, 1e11);
    // 1e9 FLOPs, 1e6 bytes: 1e9 / (1e12 · 0.6) = 1.667 ms; memory 10 us; + 1 us launch.
    expect(rooflineTime(1e9, 1e6, spec, "f32")).toBeCloseTo(1e9 / (1e12 * DEFAULT_EFFICIENCY) + 1e-6, 15);
    // 1e6 FLOPs, 1e9 bytes: memory 10 ms.
    expect(rooflineTime(1e6, 1e9, spec, "f32", 1)).toBeCloseTo(1e9 / 1e11 + 1e-6, 15);
  });

  it("counts input, weight and output bytes of a task's box", () => {
    const g = linearGraph();
    const fc = g.op("fc");
    // Box [32 samples, 64 channels, all 784 in]: x 32·784, W 784·64, b 64, y 32·64, f32.
    const bytes = taskBytes(fc, [g.tensor("x").type], [32, 64, 784]);
    expect(bytes).toBe(4 * (32 * 784 + 784 * 64 + 64 + 32 * 64));
    expect(mappedVolume([{ kind: "window", dim: 0, stride: 2, dilation: 1, kernel: 3, padLo: 1, size: 32 }], [32], [4])).toBe(9);
  });

  it("CostModel: roofline per (op, extent, device kind); backward moves twice the bytes", () => {
    const g = linearGraph();
    const mesh = clusterMesh(1, 2);
    const cm = new CostModel(g, mesh, { efficiency: 0.5 });
    const fc = g.op("fc");
    const t = cm.compute(fc, [64, 128, 784], 0);
    const flops = 2 * 64 * 128 * 784;
    const bytes = 4 * (64 * 784 + 784 * 128 + 128 + 64 * 128);
    const spec = mesh.devices[0].spec;
    expect(t.forward).toBeCloseTo(Math.max(flops / (1e12 * 0.5), bytes / spec.memoryBandwidth) + 1e-6, 15);
    expect(t.backward).toBeCloseTo(Math.max((2 * flops) / (1e12 * 0.5), (2 * bytes) / spec.memoryBandwidth) + 1e-6, 15);
    expect(cm.compute(fc, [64, 128, 784], 1)).toBe(t); // cached per device kind
    expect(cm.compute(fc, [32, 128, 784], 0).forward).toBeLessThan(t.forward);
  });
});

describe("measured tables", () => {
  const table = {
    format: "par-measured-costs",
    version: 1,
    device: "test",
    backend: "wasm",
    entries: [{ op: "linear", inputs: [[64, 784]], attrs: { out: 128 }, extent: [64, 128, 784], forwardMs: 2, backwardMs: 5 }],
  };

  it("override the roofline for matching tasks (defaults filled in) and only those", () => {
    const g = linearGraph();
    const mesh = clusterMesh(1, 2);
    const dir = mkdtempSync(join(tmpdir(), "par-cost-"));
    const path = join(dir, "costs.json");
    writeFileSync(path, JSON.stringify(table));
    const cm = new CostModel(g, mesh, { measured: [loadMeasuredCosts(path)] });
    expect(cm.compute(g.op("fc"), [64, 128, 784], 0)).toEqual({ forward: 0.002, backward: 0.005 });
    expect(cm.compute(g.op("fc"), [32, 128, 784], 0).forward).toBeLessThan(0.001);
  });

  it("a table that cannot be used is a coded error: PAR7101 not JSON, PAR7102 not the format, PAR4001 missing", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-cost-"));
    const code = (path: string) => {
      try {
        loadMeasuredCosts(path, "costs.json");
      } catch (e) {
        expect(e).toBeInstanceOf(ParError);
        return (e as ParError).diagnostics[0].code;
      }
      return "none";
    };
    writeFileSync(join(dir, "bad.json"), "{ not json");
    expect(code(join(dir, "bad.json"))).toBe("PAR7101");
    writeFileSync(join(dir, "other.json"), JSON.stringify({ ...table, format: "par-plan" }));
    expect(code(join(dir, "other.json"))).toBe("PAR7102");
    expect(code(join(dir, "absent.json"))).toBe("PAR4001");
  });

  it("apply only to devices of the table's kind", () => {
    const g = linearGraph();
    const cm = new CostModel(g, clusterMesh(1, 2), { measured: [parseMeasuredCosts({ ...table, device: "V100" })] });
    expect(cm.compute(g.op("fc"), [64, 128, 784], 0).forward).not.toBe(0.002);
  });

  it("reject malformed documents with the offending field", () => {
    expect(() => parseMeasuredCosts({ ...table, format: "x" })).toThrow(/format/);
    expect(() => parseMeasuredCosts({ ...table, entries: [{ ...table.entries[0], forwardMs: -1 }] })).toThrow(/entries\[0\]\.forwardMs/);
    expect(() => parseMeasuredCosts({ ...table, entries: [{ ...table.entries[0], extent: "64" }] })).toThrow(/extent/);
    expect(() => parseMeasuredCosts({ ...table, loadedBy: 0 })).toThrow(/loadedBy/);
    expect(() => parseMeasuredCosts({ ...table, entries: [{ ...table.entries[0], loadedForwardMs: 3 }] })).toThrow(/both loadedForwardMs and loadedBackwardMs/);
    expect(() => parseMeasuredCosts({ ...table, entries: [{ ...table.entries[0], loadedForwardMs: -3, loadedBackwardMs: 1 }] })).toThrow(/loadedForwardMs must be/);
  });

  it("carry loaded (contention) figures where measured, and only there", () => {
    const g = linearGraph();
    const plain = new CostModel(g, clusterMesh(1, 2), { measured: [parseMeasuredCosts(table)] });
    expect(plain.hasLoadedCosts).toBe(false);
    expect(plain.computeLoaded(g.op("fc"), [64, 128, 784], 0)).toBeUndefined();
    const loaded = parseMeasuredCosts({ ...table, loadedBy: 1, entries: [{ ...table.entries[0], loadedForwardMs: 3, loadedBackwardMs: 8 }] });
    const cm = new CostModel(g, clusterMesh(1, 2), { measured: [loaded] });
    expect(cm.hasLoadedCosts).toBe(true);
    expect(cm.computeLoaded(g.op("fc"), [64, 128, 784], 1)).toEqual({ forward: 0.003, backward: 0.008 });
    expect(cm.compute(g.op("fc"), [64, 128, 784], 1)).toEqual({ forward: 0.002, backward: 0.005 });
    expect(cm.computeLoaded(g.op("fc"), [32, 128, 784], 1)).toBeUndefined();
  });

  it("charge measured optimizer updates: exact sizes, the fitted line between them, only for their optimizer and device kind", () => {
    const g = linearGraph();
    const updates = [
      { optimizer: "sgd", floats: 1000, ms: 0.3 },
      { optimizer: "sgd", floats: 3000, ms: 0.7 },
      { optimizer: "adam", floats: 1000, ms: 9 },
    ];
    const doc = parseMeasuredCosts({ ...table, updates });
    const cm = new CostModel(g, clusterMesh(1, 2), { measured: [doc], optimizer: "sgd" });
    expect(cm.update(4000, 0)).toBeCloseTo(0.0003, 12);
    expect(cm.update(12000, 0)).toBeCloseTo(0.0007, 12);
    // Between and beyond: 0.1 ms + 0.2 µs per element.
    expect(cm.update(8000, 0)).toBeCloseTo(0.0005, 12);
    expect(cm.update(20000, 0)).toBeCloseTo(0.0011, 12);
    const roofline = new CostModel(g, clusterMesh(1, 2), { optimizer: "sgd" });
    // Another optimizer's rows, or another device kind's table, leave the roofline.
    expect(new CostModel(g, clusterMesh(1, 2), { measured: [parseMeasuredCosts({ ...table, updates: [updates[2]] })], optimizer: "sgd" }).update(4000, 0)).toBe(roofline.update(4000, 0));
    expect(new CostModel(g, clusterMesh(1, 2), { measured: [parseMeasuredCosts({ ...table, device: "V100", updates })], optimizer: "sgd" }).update(4000, 0)).toBe(roofline.update(4000, 0));
    // A line that would go below zero for small shards goes through the origin instead.
    const steep = new CostModel(g, clusterMesh(1, 2), { measured: [parseMeasuredCosts({ ...table, updates: [{ optimizer: "sgd", floats: 1000, ms: 0.1 }, { optimizer: "sgd", floats: 2000, ms: 0.5 }] })] });
    expect(steep.update(400, 0)).toBeGreaterThan(0);
    expect(() => parseMeasuredCosts({ ...table, updates: [{ optimizer: "sgd", floats: 0, ms: 1 }] })).toThrow(/updates\[0\]\.floats/);
    expect(() => parseMeasuredCosts({ ...table, updates: [{ optimizer: "rmsprop", floats: 4, ms: 1 }] })).toThrow(/updates\[0\]\.optimizer/);
    expect(() => parseMeasuredCosts({ ...table, updates: [{ optimizer: "sgd", floats: 4, ms: -1 }] })).toThrow(/updates\[0\]\.ms/);
    expect(() => parseMeasuredCosts({ ...table, updates: {} })).toThrow(/"updates" must be an array/);
  });

  it("carry interference (slowdowns, delivery delays) per device kind, pooled over tables of that kind", () => {
    const g = linearGraph();
    const mesh = clusterMesh(1, 2);
    expect(new CostModel(g, mesh, { measured: [parseMeasuredCosts(table)] }).hasInterference).toBe(false);
    const cm = new CostModel(g, mesh, {
      measured: [
        parseMeasuredCosts({ ...table, slowdowns: [1, 1.5], deliveryMs: [0.25] }),
        parseMeasuredCosts({ ...table, slowdowns: [0.9], deliveryMs: [0, 2] }),
        parseMeasuredCosts({ ...table, device: "V100", slowdowns: [9] }),
      ],
    });
    expect(cm.hasInterference).toBe(true);
    expect(cm.slowdowns(1)).toEqual([1, 1.5, 0.9]);
    expect(cm.deliveryDelays(0, 1)).toEqual([0.25e-3, 0, 2e-3]);
    expect(new CostModel(g, mesh, { measured: [parseMeasuredCosts({ ...table, device: "V100", slowdowns: [9] })] }).hasInterference).toBe(false);
    expect(new CostModel(g, mesh, { measured: [parseMeasuredCosts({ ...table, deliveryMs: [1] })] }).hasInterference).toBe(true);
    expect(() => parseMeasuredCosts({ ...table, deliveryMs: [-1] })).toThrow(/deliveryMs\[0\] must be a number ≥ 0/);
    expect(() => parseMeasuredCosts({ ...table, deliveryMs: "x" })).toThrow(/"deliveryMs" must be an array/);
    expect(() => parseMeasuredCosts({ ...table, slowdowns: [1, 0] })).toThrow(/slowdowns\[1\] must be a number > 0/);
    expect(() => parseMeasuredCosts({ ...table, slowdowns: ["1"] })).toThrow(/slowdowns\[0\]/);
    expect(() => parseMeasuredCosts({ ...table, slowdowns: 1 })).toThrow(/"slowdowns" must be an array/);
  });
});
