// Memory feasibility: a zoo model that does not fit on one device of its mesh gets a
// strategy that fits; a mesh too small for any strategy gets PAR7001.
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { Mesh } from "../../src/core/mesh.js";
import { assembleMesh } from "../../src/core/mesh-assemble.js";
import { peakMemory } from "../../src/cost/memory.js";
import { loadProgram } from "../../src/frontend/load.js";
import type { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { searchStrategy } from "../../src/search/search.js";
import { device } from "../sim/fixtures.js";

function rnnlm(): Graph {
  const d = new Diagnostics();
  const checked = loadProgram("models/rnnlm.par", { sources: new Map(), diagnostics: d }, { overrides: { batch: 64 } });
  expect(d.errors).toEqual([]);
  return [...checked!.models.values()][0];
}

function mesh(devices: number, memoryBytes: number): Mesh {
  const spec = { ...device("small", 9e12, 7e11), memoryBytes };
  return assembleMesh(`small${devices}`, { label: "node", link: { name: "nvlink", bandwidth: 20e9, latency: 2e-6 }, items: [{ device: spec, count: devices }] });
}

function whole(g: Graph, m: Mesh): Strategy {
  return { name: "one", model: g.name, mesh: m.name, ops: Object.fromEntries([...g.ops.values()].map((o) => [o.name, { degrees: o.sig.space.map(() => 1), devices: [0] }])) };
}

describe("memory-aware search", () => {
  it("finds a feasible strategy for a model that does not fit on one device", () => {
    const g = rnnlm();
    const probe = mesh(4, 1e15);
    const single = peakMemory(g, whole(g, probe), probe).peakBytes[0];
    const m = mesh(4, Math.floor(single * 0.45));
    expect(peakMemory(g, whole(g, m), m).overCapacity.length).toBeGreaterThan(0);
    const r = searchStrategy(g, m, { budget: { iterations: 1500 }, seed: 1 });
    expect(r.feasible).toBe(true);
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(r.best.memory.overCapacity).toEqual([]);
    expect(peakMemory(g, r.best.strategy, m).overCapacity).toEqual([]);
  });

  it("reports PAR7001 when no strategy fits", () => {
    const g = rnnlm();
    const m = mesh(2, 1024 * 1024);
    const r = searchStrategy(g, m, { budget: { iterations: 300 }, seed: 1 });
    expect(r.feasible).toBe(false);
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.code)).toEqual(["PAR7001"]);
    expect(r.diagnostics.filter((d) => d.severity === "warning").map((d) => d.code)).toContain("PAR7005");
    expect(r.diagnostics.find((d) => d.code === "PAR7001")!.message).toMatch(/no feasible strategy/);
  });
});
