import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { makeRng } from "../../src/search/rng.js";
import { alignedCounts, configKey, divisors, SearchSpace } from "../../src/search/space.js";
import { clusterMesh, smallMlp } from "./helpers.js";

describe("search space", () => {
  it("aligned counts follow the mesh hierarchy", () => {
    expect(alignedCounts(builtinMesh("p100x16")!)).toEqual([1, 2, 4, 8, 16]);
    expect(alignedCounts(builtinMesh("k80x64")!)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    // 2 nodes of 3: 2 devices would straddle a node boundary at offset 2.
    expect(alignedCounts(clusterMesh(2, 3))).toEqual([1, 3, 6]);
    expect(divisors(12)).toEqual([1, 2, 3, 4, 6, 12]);
  });

  it("degrees divide dim sizes, task counts are aligned, unsplittable dims stay 1", () => {
    const g = smallMlp(64, 256, 1);
    const mesh = builtinMesh("p100x16")!;
    const space = new SearchSpace(g, mesh);
    for (const op of g.ops.values()) {
      for (const dv of space.degreeVectors(op)) {
        const n = dv.reduce((a, b) => a * b, 1);
        expect([1, 2, 4, 8, 16]).toContain(n);
        dv.forEach((d, i) => {
          expect(op.sig.space[i].size % d).toBe(0);
          if (op.sig.space[i].splittable === false) expect(d).toBe(1);
        });
      }
    }
  });

  it("placements are aligned contiguous blocks, and configs are unique and valid", () => {
    const g = smallMlp(64, 256, 1);
    const mesh = builtinMesh("p100x16")!;
    const space = new SearchSpace(g, mesh);
    expect(space.placements(4)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]);
    expect(space.placements(8)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]]);
    const fc = g.op("fc0");
    const all = space.enumerateConfigs(fc);
    expect(new Set(all.map(configKey)).size).toBe(all.length);
    expect(space.configCount(fc)).toBe(all.length);
    const r = makeRng(3);
    for (let i = 0; i < 50; i++) {
      const c = space.randomConfig(fc, r);
      expect(all.some((x) => configKey(x) === configKey(c))).toBe(true);
    }
  });

  it("seed placements join the space; neighbours stay valid and include the producer's devices", () => {
    const g = smallMlp(64, 256, 1);
    const mesh = builtinMesh("p100x16")!;
    const strided = { name: "s", model: g.name, mesh: mesh.name, ops: Object.fromEntries([...g.ops.values()].map((o) => [o.name, { degrees: o.sig.space.map((_, i) => (i === 0 ? 4 : 1)), devices: [0, 4, 8, 12] }])) };
    const space = new SearchSpace(g, mesh, { seeds: [strided] });
    expect(space.placements(4)).toContainEqual([0, 4, 8, 12]);
    const relu = g.op("relu0");
    const cfg = { degrees: relu.sig.space.map((_, i) => (i === 0 ? 4 : 1)), devices: [4, 5, 6, 7] };
    const ns = space.neighbours(relu, cfg, strided);
    expect(ns.some((c) => c.devices.join() === "0,4,8,12")).toBe(true);
    for (const c of ns) {
      const d = new Diagnostics();
      const s = { ...strided, ops: { ...strided.ops, relu0: c } };
      expect(validateStrategy(g, mesh, s, d)).toBe(true);
    }
  });
});
