import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { lookupDevice } from "../../src/core/catalog.js";
import { route } from "../../src/core/routes.js";
import type { DeviceDecl, Expr, GroupDecl, LinkDecl, MeshDecl, MeshItem, NamedArg, Span } from "../../src/frontend/ast.js";
import { MESH_CODES } from "../../src/frontend/mesh-codes.js";
import { buildMesh, MAX_MESH_DEVICES } from "../../src/frontend/mesh-build.js";
import { parse } from "../../src/frontend/parse.js";

// Hand-built ASTs: each node sits on its own line so diagnostics can be checked by line.
let line = 0;
const sp = (): Span => ({ line: ++line, column: 3, offset: line * 100, endOffset: line * 100 + 7 });
const int = (value: number): Expr => ({ kind: "int", value, span: sp() });
const q = (value: number, unit: string): Expr => ({ kind: "quantity", value, text: String(value), unit, span: sp() });
const arg = (name: string, value: Expr): NamedArg => ({ name, value, span: sp() });
const device = (deviceKind: string, count: Expr = int(1), attrs: NamedArg[] = []): DeviceDecl => ({ kind: "device", deviceKind, attrs, count, span: sp() });
const link = (name: string, bandwidth: Expr | null = q(20, "GB/s"), latency: Expr | null = q(2, "us")): LinkDecl => ({
  kind: "link",
  name,
  attrs: [...(bandwidth ? [arg("bandwidth", bandwidth)] : []), ...(latency ? [arg("latency", latency)] : [])],
  span: sp(),
});
const group = (label: string, count: Expr, body: MeshItem[]): GroupDecl => ({ kind: "group", label, count, body, span: sp() });
const mesh = (name: string, body: MeshItem[]): MeshDecl => ({ kind: "mesh", name, nameSpan: sp(), body, span: sp() });

function build(decl: MeshDecl) {
  const d = new Diagnostics();
  const m = buildMesh(decl, "m.par", d);
  return { m, d, codes: d.items.map((x) => x.code) };
}

const p100x16 = () =>
  mesh("p100x16", [group("node", int(4), [device("P100", int(4)), link("nvlink")]), link("infiniband", q(100, "Gb/s"), q(5, "us"))]);

describe("buildMesh: valid meshes", () => {
  it("p100x16 from its declaration", () => {
    const { m, d } = build(p100x16());
    expect(d.items).toEqual([]);
    expect(m!.name).toBe("p100x16");
    expect(m!.devices).toHaveLength(16);
    expect(m!.devices[5].path).toEqual([1]);
    expect(m!.devices[5].spec.kind).toBe("P100");
    expect(m!.root.link).toEqual({ name: "infiniband", bandwidth: 12.5e9, latency: 5e-6 });
    expect(m!.root.children[3]).toMatchObject({ label: "node", index: 3, devices: [12, 13, 14, 15], link: { name: "nvlink", bandwidth: 20e9, latency: 2e-6 } });
    expect(route(m!, 0, 15).hops.map((h) => h.link.name)).toEqual(["nvlink", "infiniband", "nvlink"]);
  });

  it("a custom device with all its figures", () => {
    const dev = device("mygpu", int(2), [arg("flops", q(10, "TFLOP/s")), arg("memory", q(16, "GB")), arg("bandwidth", q(900, "GB/s")), arg("launch", q(7, "us"))]);
    const { m, d } = build(mesh("custom", [dev, link("pcie", q(16, "GB/s"), q(5, "us"))]));
    expect(d.items).toEqual([]);
    expect(m!.devices[1].spec).toMatchObject({
      kind: "mygpu",
      peakFlops: { f32: 10e12, f16: 10e12, bf16: 10e12 },
      memoryBytes: 16e9,
      memoryBandwidth: 900e9,
      launchOverhead: 7e-6,
    });
    expect(m!.devices[1].spec.source).toMatch(/custom device declared at m\.par:\d+/);
  });

  it("catalog devices ignore case and take overrides", () => {
    const dev = device("v100", int(2), [arg("memory", q(16, "GiB")), arg("f16_flops", q(100, "TFLOPS"))]);
    const { m, d } = build(mesh("v", [dev, link("nvlink")]));
    expect(d.items).toEqual([]);
    const spec = m!.devices[0].spec;
    expect(spec.kind).toBe("V100");
    expect(spec.memoryBytes).toBe(16 * 1024 ** 3);
    expect(spec.peakFlops).toEqual({ f32: 15.7e12, f16: 100e12 });
    expect(spec.source).toMatch(/overridden at m\.par:\d+: memory, f16_flops/);
    // the catalog itself is untouched
    expect(lookupDevice("V100").ok && lookupDevice("V100")).toMatchObject({ spec: { memoryBytes: 32 * 1024 ** 3 } });
  });

  it("numbers devices depth-first in declaration order, mixing devices and groups", () => {
    const decl = mesh("mixed", [
      device("cpu", int(1)),
      group("rack", int(2), [group("node", { kind: "binary", op: "//", left: int(5), right: int(2), span: sp() }, [device("H100", int(2)), link("nvlink")]), link("eth")]),
      device("K80", { kind: "binary", op: "+", left: int(1), right: int(1), span: sp() }),
      link("pcie"),
    ]);
    const { m, d } = build(decl);
    expect(d.items).toEqual([]);
    expect(m!.devices.map((x) => `${x.spec.kind}@${x.path.join(".")}`)).toEqual([
      "cpu@",
      "H100@0.0", "H100@0.0", "H100@0.1", "H100@0.1",
      "H100@1.0", "H100@1.0", "H100@1.1", "H100@1.1",
      "K80@", "K80@",
    ]);
    expect(m!.root.devices).toEqual([0, 9, 10]);
    expect(route(m!, 0, 8).hops.map((h) => h.link.name)).toEqual(["pcie", "eth", "nvlink"]);
  });

  it("a one-device mesh needs no link; latency may be a bare 0", () => {
    expect(build(mesh("one", [device("cpu")])).m!.devices).toHaveLength(1);
    const { m, d } = build(mesh("z", [device("cpu", int(2)), link("l", q(1, "GB/s"), int(0))]));
    expect(d.items).toEqual([]);
    expect(m!.root.link!.latency).toBe(0);
  });
});

describe("buildMesh: diagnostics", () => {
  it("PAR3001 unknown device kind, with did-you-mean and position", () => {
    const dev = device("P10O", int(4));
    const { m, d } = build(mesh("x", [dev, link("l")]));
    expect(m).toBeUndefined();
    expect(d.items[0]).toMatchObject({ code: "PAR3001", hint: "did you mean `P100`?", pos: { file: "m.par", line: dev.span.line, column: 3, offset: dev.span.offset, length: 7 } });
    expect(d.items[0].expected).toContain("H100");
    expect(build(mesh("x", [device("gaudi")])).d.items[0].hint).toMatch(/declare it: `device gaudi\(flops = /);
  });

  it("a catalog kind with `-` is written with `_` in .par (A100_80GB), any case", () => {
    for (const kind of ["A100_80GB", "a100_80gb", "A100-80GB"]) {
      const { m, d } = build(mesh("x", [device(kind, int(8)), link("l")]));
      expect(d.items).toEqual([]);
      expect(m!.devices.map((x) => x.spec.kind)).toEqual(Array(8).fill("A100-80GB"));
    }
    const { d } = build(mesh("x", [device("A100_80G")]));
    expect(d.items[0]).toMatchObject({ code: "PAR3001", hint: "did you mean `A100_80GB`?" });
    expect(d.items[0].expected).toContain("A100_40GB");
  });

  it("PAR3002 unknown unit and PAR3003 wrong dimension", () => {
    const { d } = build(mesh("x", [device("cpu", int(2)), link("l", q(20, "GB/sec"), q(20, "GB/s"))]));
    expect(d.items.map((x) => x.code)).toEqual(["PAR3002", "PAR3003"]);
    expect(d.items[0].hint).toBe("did you mean `GB/s`?");
    expect(d.items[1].message).toContain("is a bandwidth, not a time");
    expect(d.items[1].message).toContain("latency");
  });

  it("PAR3004 an attribute without a unit", () => {
    const { codes, d } = build(mesh("x", [device("g", int(1), [arg("flops", int(10)), arg("memory", q(1, "GB")), arg("bandwidth", q(1, "GB/s"))])]));
    expect(codes).toEqual(["PAR3004"]);
    expect(d.items[0].hint).toBe("e.g. `flops = 10 TFLOP/s`");
  });

  it("PAR3005 a custom device missing required figures (one diagnostic each)", () => {
    const { codes, d } = build(mesh("x", [device("mygpu", int(1), [arg("flops", q(1, "TFLOP/s"))])]));
    expect(codes).toEqual(["PAR3005", "PAR3005"]);
    expect(d.items.map((x) => x.message)).toEqual(["custom device `mygpu` needs `memory`", "custom device `mygpu` needs `bandwidth`"]);
    // close to a catalog kind: the hint suggests it
    const near = build(mesh("x", [device("H10", int(1), [arg("memory", q(1, "GB"))])]));
    expect(near.d.items[0].hint).toBe("did you mean `H100` (a catalog kind)?");
  });

  it("PAR3006 unknown device attribute, PAR3007 duplicate attribute", () => {
    const { codes, d } = build(mesh("x", [device("P100", int(1), [arg("memroy", q(1, "GB")), arg("memory", q(1, "GB")), arg("memory", q(2, "GB"))])]));
    expect(codes).toEqual(["PAR3006", "PAR3007"]);
    expect(d.items[0].hint).toBe("did you mean `memory`?");
  });

  it("PAR3008 link missing an attribute, PAR3009 unknown link attribute", () => {
    expect(build(mesh("x", [device("cpu", int(2)), link("l", q(1, "GB/s"), null)])).codes).toEqual(["PAR3008"]);
    const l: LinkDecl = { kind: "link", name: "l", attrs: [arg("bandwith", q(1, "GB/s")), arg("latency", q(1, "us"))], span: sp() };
    const { codes, d } = build(mesh("x", [device("cpu", int(2)), l]));
    expect(codes).toEqual(["PAR3009", "PAR3008"]);
    expect(d.items[0].hint).toBe("did you mean `bandwidth`?");
  });

  it("PAR3010 two links at one level", () => {
    const second = link("ib");
    const { codes, d } = build(mesh("x", [device("cpu", int(2)), link("eth"), second]));
    expect(codes).toEqual(["PAR3010"]);
    expect(d.items[0].pos!.line).toBe(second.span.line);
  });

  it("PAR3011 a group with several members and no link, in a group and at the root", () => {
    const g = group("node", int(2), [device("P100", int(4))]);
    const { codes, d } = build(mesh("x", [g]));
    expect(codes).toEqual(["PAR3011", "PAR3011"]);
    expect(d.items[0]).toMatchObject({ message: "group `node` has 4 members but no link joining them", pos: { line: g.span.line } });
    expect(d.items[0].hint).toContain("link NAME(bandwidth = 20 GB/s, latency = 2 us)");
    expect(d.items[1].message).toBe("mesh x has 2 members but no link joining them");
  });

  it("PAR3012 non-positive or non-integer counts", () => {
    expect(build(mesh("x", [device("cpu", int(0))])).codes).toEqual(["PAR3012"]);
    const neg: Expr = { kind: "unary", op: "-", operand: int(2), span: sp() };
    expect(build(mesh("x", [device("cpu", neg)])).codes).toEqual(["PAR3012"]);
    expect(build(mesh("x", [device("cpu", { kind: "float", value: 2.5, text: "2.5", span: sp() })])).codes).toEqual(["PAR3012"]);
    expect(build(mesh("x", [group("node", int(-1), [device("cpu")])])).codes).toEqual(["PAR3012"]);
  });

  it("PAR3013 counts that are not constant integer expressions", () => {
    const r = build(mesh("x", [device("cpu", { kind: "ident", name: "n", span: sp() })]));
    expect(r.codes).toEqual(["PAR3013"]);
    expect(r.d.items[0].hint).toBe("meshes take no parameters; write the number");
    expect(build(mesh("x", [device("cpu", { kind: "binary", op: "/", left: int(5), right: int(2), span: sp() })])).codes).toEqual(["PAR3013"]);
    expect(build(mesh("x", [device("cpu", { kind: "binary", op: "%", left: int(5), right: int(0), span: sp() })])).codes).toEqual(["PAR3013"]);
    expect(build(mesh("x", [device("cpu", q(2, "GB"))])).codes).toEqual(["PAR3013"]);
  });

  it("PAR3014 a mesh with no devices", () => {
    const decl = mesh("x", [link("l")]);
    const { m, d } = build(decl);
    expect(m).toBeUndefined();
    expect(d.items[0]).toMatchObject({ code: "PAR3014", pos: { line: decl.nameSpan.line } });
    expect(build(mesh("empty", [])).codes).toEqual(["PAR3014"]);
  });

  it("PAR3015 a group with no devices", () => {
    expect(build(mesh("x", [group("node", int(2), [link("l")]), device("cpu"), link("r")])).codes).toEqual(["PAR3015"]);
  });

  it("PAR3016 too many devices, per count and in total, before any device is made", () => {
    expect(build(mesh("x", [device("cpu", int(MAX_MESH_DEVICES + 1)), link("l")])).codes).toEqual(["PAR3016"]);
    const huge = group("rack", int(1000), [group("node", int(1000), [device("cpu", int(1000)), link("a")]), link("b")]);
    const t0 = performance.now();
    const { m, codes, d } = build(mesh("x", [huge, link("c")]));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(m).toBeUndefined();
    expect(codes).toEqual(["PAR3016"]);
    expect(d.items[0].message).toContain("1000000000 devices");
    const overflow: Expr = { kind: "binary", op: "*", left: int(2 ** 40), right: int(2 ** 40), span: sp() };
    expect(build(mesh("x", [device("cpu", overflow)])).codes).toEqual(["PAR3016"]);
  });

  it("PAR3017 quantities out of range", () => {
    const { codes, d } = build(mesh("x", [device("cpu", int(2)), link("l", q(0, "GB/s"), q(1, "us"))]));
    expect(codes).toEqual(["PAR3017"]);
    expect(d.items[0].message).toBe("`bandwidth = 0 GB/s` is out of range");
    expect(build(mesh("x", [device("P100", int(1), [arg("memory", q(0, "GB"))])])).codes).toEqual(["PAR3017"]);
  });

  it("every mesh code is in the table and the table has nothing unused", () => {
    // The codes this suite expects, one test each above.
    const exercised = ["PAR3001", "PAR3002", "PAR3003", "PAR3004", "PAR3005", "PAR3006", "PAR3007", "PAR3008", "PAR3009", "PAR3010", "PAR3011", "PAR3012", "PAR3013", "PAR3014", "PAR3015", "PAR3016", "PAR3017"];
    expect(Object.keys(MESH_CODES).sort()).toEqual(exercised);
    for (const c of Object.keys(MESH_CODES)) expect(Number(c.slice(3))).toBeGreaterThanOrEqual(3001);
    for (const c of Object.keys(MESH_CODES)) expect(Number(c.slice(3))).toBeLessThanOrEqual(3049);
  });
});

describe("buildMesh on parsed .par text", () => {
  const text = `mesh p100x16 {
  node x 4 {
    device P100 x 4
    link nvlink(bandwidth = 20 GB/s, latency = 2 us)
  }
  link infiniband(bandwidth = 100 Gb/s, latency = 5 us)
}
mesh bad {
  device P100 x 2
  link pcie(bandwidth = 16 GB/s, latency = 20 GB/s)
}
`;
  it("builds the documented example and points at the bad quantity", () => {
    const d = new Diagnostics();
    const program = parse(text, "ex.par", d);
    expect(d.items).toEqual([]);
    const decls = program!.items.filter((i): i is MeshDecl => i.kind === "mesh");
    const good = buildMesh(decls[0], "ex.par", d);
    expect(good!.devices).toHaveLength(16);
    expect(route(good!, 0, 4)).toMatchObject({ bandwidth: 12.5e9 });
    expect(buildMesh(decls[1], "ex.par", d)).toBeUndefined();
    expect(d.items).toHaveLength(1);
    expect(d.items[0]).toMatchObject({ code: "PAR3003", pos: { file: "ex.par", line: 10, column: 44 } });
  });
});
