import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import type { DeviceSpec, LinkSpec, Mesh } from "../../src/core/mesh.js";
import { assembleMesh } from "../../src/core/mesh-assemble.js";
import { commonGroupLevel, devicesUnder, groupAt, route, routeTable } from "../../src/core/routes.js";

const us = 1e-6;
const dev: DeviceSpec = { kind: "x", peakFlops: { f32: 1e12 }, memoryBytes: 1e9, memoryBandwidth: 1e11, launchOverhead: 0, source: "test" };
const A: LinkSpec = { name: "a", bandwidth: 100e9, latency: 1 * us };
const B: LinkSpec = { name: "b", bandwidth: 50e9, latency: 2 * us };
const C: LinkSpec = { name: "c", bandwidth: 10e9, latency: 10 * us };

/** rack x 2 { node x 2 { device x 2; link a } link b } link c: devices 0..7 depth-first. */
function threeLevel(): Mesh {
  const node = { label: "node", link: A, items: [{ device: dev, count: 2 }] };
  const rack = { label: "rack", link: B, items: [{ group: node, count: 2 }] };
  return assembleMesh("three", { label: "mesh", link: C, items: [{ group: rack, count: 2 }] });
}

const names = (m: Mesh, a: number, b: number) => route(m, a, b).hops.map((h) => `${h.link.name}[${h.group.join(".")}]`);

describe("routes on p100x16", () => {
  const m = builtinMesh("p100x16")!;

  it("inside a node: one NVLink hop", () => {
    expect(names(m, 0, 3)).toEqual(["nvlink[0]"]);
    expect(route(m, 0, 3)).toMatchObject({ bandwidth: 20e9, latency: 2 * us });
  });

  it("across nodes: nvlink up, infiniband, nvlink down", () => {
    expect(names(m, 1, 14)).toEqual(["nvlink[0]", "infiniband[]", "nvlink[3]"]);
    const r = route(m, 1, 14);
    expect(r.bandwidth).toBe(12.5e9);
    expect(r.latency).toBeCloseTo(9 * us, 15);
  });

  it("a device to itself: no hops, infinite bandwidth, no latency", () => {
    expect(route(m, 5, 5)).toEqual({ hops: [], bandwidth: Infinity, latency: 0 });
  });

  it("rejects devices outside the mesh", () => {
    expect(() => route(m, 0, 16)).toThrow(RangeError);
    expect(() => routeTable(m).get(-1, 0)).toThrow(RangeError);
  });
});

describe("routes on a 3-level mesh", () => {
  const m = threeLevel();

  it("numbers devices depth-first", () => {
    expect(m.devices.map((d) => d.path.join("."))).toEqual(["0.0", "0.0", "0.1", "0.1", "1.0", "1.0", "1.1", "1.1"]);
  });

  it("same node, same rack, different racks", () => {
    expect(names(m, 0, 1)).toEqual(["a[0.0]"]);
    expect(names(m, 0, 3)).toEqual(["a[0.0]", "b[0]", "a[0.1]"]);
    expect(route(m, 0, 3)).toMatchObject({ bandwidth: 50e9 });
    expect(route(m, 0, 3).latency).toBeCloseTo(4 * us, 15);
    expect(names(m, 0, 7)).toEqual(["a[0.0]", "b[0]", "c[]", "b[1]", "a[1.1]"]);
    expect(route(m, 0, 7).bandwidth).toBe(10e9);
    expect(route(m, 0, 7).latency).toBeCloseTo(16 * us, 15);
    expect(names(m, 7, 0)).toEqual(["a[1.1]", "b[1]", "c[]", "b[0]", "a[0.0]"]);
  });

  it("commonGroupLevel and devicesUnder", () => {
    expect(commonGroupLevel(m, 0, 1)).toBe(2);
    expect(commonGroupLevel(m, 0, 3)).toBe(1);
    expect(commonGroupLevel(m, 0, 7)).toBe(0);
    expect(devicesUnder(m, [])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(devicesUnder(m, [1])).toEqual([4, 5, 6, 7]);
    expect(devicesUnder(m, [1, 0])).toEqual([4, 5]);
    expect(() => devicesUnder(m, [2])).toThrow(RangeError);
    expect(groupAt(m, [0, 1])?.label).toBe("node");
  });

  it("the route table agrees with route() for every pair and returns shared objects", () => {
    const t = routeTable(m);
    for (let a = 0; a < 8; a++) {
      for (let b = 0; b < 8; b++) {
        const r = route(m, a, b);
        expect(t.get(a, b)).toEqual(r);
        expect(t.bandwidth(a, b)).toBe(r.bandwidth);
        expect(t.latency(a, b)).toBe(r.latency);
        expect(t.get(a, b)).toBe(t.get(a, b));
      }
    }
    expect(Object.isFrozen(t.get(0, 7))).toBe(true);
  });
});

describe("meshes with devices beside groups", () => {
  // host device 0 at the root, then a node of 2 devices: the root link joins the host and the node.
  const m = assembleMesh("mixed", {
    label: "mesh",
    link: C,
    items: [{ device: dev, count: 1 }, { group: { label: "node", link: A, items: [{ device: dev, count: 2 }] }, count: 1 }],
  });
  it("a root device reaches a node device over the root link then the node link", () => {
    expect(m.devices.map((d) => d.path)).toEqual([[], [0], [0]]);
    expect(names(m, 0, 2)).toEqual(["c[]", "a[0]"]);
    expect(names(m, 1, 2)).toEqual(["a[0]"]);
    expect(commonGroupLevel(m, 0, 2)).toBe(0);
    expect(routeTable(m).get(2, 0)).toEqual(route(m, 2, 0));
  });

  it("a single-member group without a link adds no hop", () => {
    const solo = { label: "node", items: [{ device: dev, count: 1 }] };
    const s = assembleMesh("solo", { label: "mesh", link: B, items: [{ group: solo, count: 3 }] });
    expect(names(s, 0, 2)).toEqual(["b[]"]);
  });
});

describe("routeTable scale", () => {
  it("h100x64: 64 devices in 8 groups, lookups cover all 4096 pairs fast", () => {
    const m = builtinMesh("h100x64")!;
    const t = routeTable(m);
    let sum = 0;
    const t0 = performance.now();
    for (let rep = 0; rep < 100; rep++) for (let a = 0; a < 64; a++) for (let b = 0; b < 64; b++) sum += t.latency(a, b);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(sum).toBeGreaterThan(0);
    expect(t.get(0, 63).bandwidth).toBe(50e9);
    expect(t.get(0, 7).bandwidth).toBe(450e9);
  });

  it("many single-device groups fill lazily and still agree with route()", () => {
    const solo = { label: "node", items: [{ device: dev, count: 1 }] };
    const m = assembleMesh("wide", { label: "mesh", link: B, items: [{ group: solo, count: 1100 }] });
    const t = routeTable(m);
    expect(t.get(3, 1099)).toEqual(route(m, 3, 1099));
    expect(t.get(3, 1099)).toBe(t.get(3, 1099));
  });
});
