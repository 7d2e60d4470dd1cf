import { describe, expect, it } from "vitest";
import { builtinMeshNames } from "../../src/core/builtin-meshes.js";
import { cli } from "./cli-helpers.js";

describe("par meshes", () => {
  it("lists every built-in mesh with devices, peaks, memory and links", async () => {
    const { code, out, err } = await cli("meshes");
    expect(code).toBe(0);
    expect(err).toBe("");
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+DEVICES\s+KIND\s+PEAK f32\s+PEAK f16\s+MEMORY\s+LEVELS$/);
    expect(lines).toHaveLength(1 + builtinMeshNames().length);
    const p100 = lines.find((l) => l.startsWith("p100x16"))!;
    expect(p100).toMatch(/p100x16\s+16\s+P100\s+170 TFLOP\/s\s+339 TFLOP\/s\s+256 GiB\s+cluster of 4 \(infiniband 12.5 GB\/s, 5 us\) > node of 4 \(nvlink 20 GB\/s, 2 us\)/);
    expect(lines.find((l) => l.startsWith("h100x64"))).toContain("node of 8 (nvlink 450 GB/s, 2 us)");
  });

  it("details one mesh with the route to the farthest device", async () => {
    const { code, out } = await cli("meshes", "p100x16");
    expect(code).toBe(0);
    expect(out).toContain("mesh p100x16: 16 devices");
    expect(out).toContain("16 × P100: f32 10.6 TFLOP/s, f16 21.2 TFLOP/s; 16 GiB at 732 GB/s; launch 5 us");
    expect(out).toContain("  1: 4 × node of 4 members, nvlink 20 GB/s, 2 us");
    expect(out).toContain("route 0 → 15: nvlink (node 0) → infiniband (cluster) → nvlink (node 3); bottleneck 12.5 GB/s, latency 9 us");
  });

  it("--json gives summaries and the farthest route", async () => {
    const list = JSON.parse((await cli("meshes", "--json")).out);
    expect(list.meshes.map((m: { name: string }) => m.name)).toEqual(builtinMeshNames());
    const { code, out } = await cli("meshes", "h100x64", "--json");
    expect(code).toBe(0);
    const m = JSON.parse(out).mesh;
    expect(m.devices).toBe(64);
    expect(m.deviceSpecs[0].kind).toBe("H100");
    expect(m.farthestRoute).toMatchObject({ from: 0, to: 63, bandwidth: 50e9 });
    expect(m.farthestRoute.hops.map((h: { link: { name: string } }) => h.link.name)).toEqual(["nvlink", "infiniband", "nvlink"]);
  });

  it("local describes this machine's measured cpus", async () => {
    const { code, out } = await cli("meshes", "local");
    expect(code).toBe(0);
    expect(out).toMatch(/× cpu: f32 [\d.]+ [GMT]FLOP\/s/);
    expect(out).toContain("measured on this machine");
  });

  it("an unknown mesh is a usage error with a hint", async () => {
    const { code, err } = await cli("meshes", "p100x61");
    expect(code).toBe(2);
    expect(err).toContain("no built-in mesh `p100x61`");
    expect(err).toContain("hint: did you mean `p100x16`?");
    expect((await cli("meshes", "a", "b")).code).toBe(2);
  });
});
