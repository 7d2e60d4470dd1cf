import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { localMeshOf, builtinMesh, builtinMeshNames, describeMesh } from "../../src/core/builtin-meshes.js";
import { CPU_MEASUREMENT } from "../../src/core/catalog.js";
import { collectivesInLine } from "../../src/core/mesh.js";
import { route } from "../../src/core/routes.js";

describe("built-in meshes", () => {
  it("are listed by name and unknown names give undefined", () => {
    expect(builtinMeshNames()).toEqual(["local", "p100x16", "k80x64", "v100x8", "a100x8", "h100x8", "h100x64", "a100x64", "a100x128", "a100x256", "a100x512", "a100x1024", "a100x2048", "a100x3072", "a100x4096", "h100x1024"]);
    expect(builtinMesh("p100x17")).toBeUndefined();
    expect(builtinMesh("toString")).toBeUndefined();
    for (const n of builtinMeshNames()) expect(builtinMesh(n)!.source).toBeTruthy();
  });

  it("device counts and kinds", () => {
    const expected: Record<string, [number, string]> = {
      p100x16: [16, "P100"], k80x64: [64, "K80"], v100x8: [8, "V100"], a100x8: [8, "A100-80GB"], h100x8: [8, "H100"], h100x64: [64, "H100"],
    };
    for (const [name, [n, kind]] of Object.entries(expected)) {
      const m = builtinMesh(name)!;
      expect(m.name).toBe(name);
      expect(m.devices.length).toBe(n);
      expect(m.devices.every((d, i) => d.index === i && d.spec.kind === kind)).toBe(true);
    }
  });

  it("DGX clusters: 8 GPUs per node over NVLink, one InfiniBand rail per GPU; any whole number of nodes", () => {
    for (const [name, n, kind, nvlink, ib] of [["a100x1024", 1024, "A100-80GB", 300e9, 25e9], ["a100x3072", 3072, "A100-80GB", 300e9, 25e9], ["h100x1024", 1024, "H100", 450e9, 50e9], ["a100x2520", 2520, "A100-80GB", 300e9, 25e9]] as const) {
      const m = builtinMesh(name)!;
      expect(m.devices.length).toBe(n);
      expect(m.devices.every((d) => d.spec.kind === kind)).toBe(true);
      expect(m.root.children).toHaveLength(n / 8);
      expect(m.root.children[0].devices).toHaveLength(8);
      expect(route(m, 0, 7).bandwidth).toBe(nvlink);
      expect(route(m, 0, 8).bandwidth).toBe(ib);
    }
    expect(builtinMesh("a100x12")).toBeUndefined();
    expect(builtinMesh("a100x0")).toBeUndefined();
  });

  it("local: one measured cpu per core over the measured shm link", () => {
    const m = builtinMesh("local")!;
    expect(m.devices.length).toBe(availableParallelism());
    expect(m.devices[0].spec.kind).toBe("cpu");
    expect(m.root.link).toEqual({ name: "shm", bandwidth: CPU_MEASUREMENT.shm.bandwidth, latency: CPU_MEASUREMENT.shm.latency, hostCopies: true });
    // The devices' own threads copy: all-reduces run in line (docs/simulator.md).
    expect(collectivesInLine(m)).toBe(true);
    expect(collectivesInLine(builtinMesh("p100x16")!)).toBe(false);
  });

  it("localMeshOf: the local mesh with a chosen device count", () => {
    const m = localMeshOf(3);
    expect(m.devices.length).toBe(3);
    expect(m.name).toBe("local");
    expect(m.root.link?.hostCopies).toBe(true);
  });

  it("p100x16 links: NVLink 20 GB/s 2 us in a node, 100 Gb/s InfiniBand 5 us between", () => {
    const m = builtinMesh("p100x16")!;
    expect(m.root.children.map((c) => c.devices)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]);
    expect(m.root.children[2].link).toEqual({ name: "nvlink", bandwidth: 20e9, latency: 2e-6 });
    expect(m.root.link).toEqual({ name: "infiniband", bandwidth: 12.5e9, latency: 5e-6 });
  });

  it("k80x64 and h100x64 inter-node links", () => {
    expect(builtinMesh("k80x64")!.root.link!.bandwidth).toBe(7e9);
    expect(builtinMesh("k80x64")!.root.children[0].link!.bandwidth).toBe(12e9);
    expect(route(builtinMesh("h100x64")!, 0, 8).bandwidth).toBe(50e9);
    expect(builtinMesh("a100x8")!.root.link!.bandwidth).toBe(300e9);
    expect(builtinMesh("v100x8")!.root.link!.bandwidth).toBe(25e9);
  });

  it("each call builds a fresh copy", () => {
    const a = builtinMesh("h100x8")!;
    a.devices[0].spec.memoryBytes = 1;
    a.root.link!.bandwidth = 1;
    expect(builtinMesh("h100x8")!.devices[0].spec.memoryBytes).toBe(80 * 1024 ** 3);
    expect(builtinMesh("h100x8")!.root.link!.bandwidth).toBe(450e9);
    // devices of one mesh do not share a spec object either
    expect(a.devices[1].spec.memoryBytes).toBe(80 * 1024 ** 3);
  });
});

describe("describeMesh", () => {
  it("summarises p100x16", () => {
    const s = describeMesh(builtinMesh("p100x16")!);
    expect(s.devices).toBe(16);
    expect(s.kinds).toEqual([{ kind: "P100", count: 16 }]);
    expect(s.levels).toEqual([
      { depth: 0, labels: ["cluster"], groups: 1, members: [4], links: [{ name: "infiniband", bandwidth: 12.5e9, latency: 5e-6 }] },
      { depth: 1, labels: ["node"], groups: 4, members: [4], links: [{ name: "nvlink", bandwidth: 20e9, latency: 2e-6 }] },
    ]);
    expect(s.peakFlops.f32).toBeCloseTo(16 * 10.6e12, 0);
    expect(s.peakFlops.f16).toBeCloseTo(16 * 21.2e12, 0);
    expect(s.memoryBytes).toBe(16 * 16 * 1024 ** 3);
    expect(s.source).toMatch(/FlexFlow/);
  });

  it("summarises a one-level box", () => {
    const s = describeMesh(builtinMesh("h100x8")!);
    expect(s.levels).toHaveLength(1);
    expect(s.levels[0]).toMatchObject({ labels: ["node"], groups: 1, members: [8] });
    expect(s.peakFlops.bf16).toBeCloseTo(8 * 989e12, 0);
  });
});
