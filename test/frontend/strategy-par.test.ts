import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { Mesh } from "../../src/core/mesh.js";
import type { StrategyDecl } from "../../src/frontend/ast.js";
import { parse } from "../../src/frontend/parse.js";
import { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { formatDevices, matchOps, resolveStrategyDecl, strategyToPar } from "../../src/frontend/strategy-par.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import { assertProperty } from "../support/property.js";
import { add, addFake, arbGraph, f32, mlp, residualMlp, testMesh } from "../ir/fixtures.js";
import { randomScaleStrategy, randomStrategy, scaleTestMesh } from "../ir/random-strategy.js";

function decl(text: string): StrategyDecl {
  const d = new Diagnostics();
  const program = parse(text, "s.par", d);
  if (!program || d.hasErrors()) throw new Error(`parse: ${d.items.map((x) => `${x.code} ${x.message}`).join("; ")}`);
  const s = program.items.find((i): i is StrategyDecl => i.kind === "strategy");
  if (!s) throw new Error("no strategy in the text");
  return s;
}

function resolve(body: string, graph: Graph = mlp(), mesh: Mesh = testMesh(1, 4)) {
  const d = new Diagnostics();
  const s = resolveStrategyDecl(decl(`strategy s for ${graph.name} on ${mesh.name} {\n${body}\n}`), graph, mesh, "s.par", d);
  return { s, d, codes: d.items.map((x) => x.code), messages: d.items.map((x) => x.message) };
}

/** strategyToPar → parse → resolve, with no diagnostics expected. */
function roundTrip(graph: Graph, s: Strategy, mesh: Mesh): Strategy {
  const text = strategyToPar(graph, s);
  const d = new Diagnostics();
  const back = resolveStrategyDecl(decl(text), graph, mesh, "s.par", d);
  expect(d.items, text).toEqual([]);
  return back;
}

describe(".par strategies: resolving", () => {
  it("globs: `*` spans dots, `?` is one character, patterns are anchored", () => {
    const g = residualMlp(2);
    expect(matchOps(g, ["layer*.fc?"]).map((o) => o.name)).toEqual(["layer0.fc1", "layer0.fc2", "layer1.fc1", "layer1.fc2"]);
    expect(matchOps(g, ["*fc1"]).map((o) => o.name)).toEqual(["layer0.fc1", "layer1.fc1"]);
    expect(matchOps(g, ["layer?"]).map((o) => o.name)).toEqual([]);
    expect(matchOps(g, ["layer*s"]).map((o) => o.name)).toEqual(["layer0.res", "layer1.res"]);
    expect(matchOps(g, ["l*s"]).map((o) => o.name)).toEqual(["layer0.res", "layer1.res", "loss"]);
  });

  it("later rules override only the keys they set; unset dims are 1; default devices 0..n-1", () => {
    const r = resolve(`
  * : sample = 4
  fc1 : channel = 2, sample = 2, devices = [3, 2, 1, 0]
  fc2 : channel = 3, sample = 1`);
    expect(r.d.items).toEqual([]);
    expect(r.s.ops).toEqual({
      fc1: { degrees: [2, 2, 1], devices: [3, 2, 1, 0] },
      relu1: { degrees: [4, 1], devices: [0, 1, 2, 3] },
      fc2: { degrees: [1, 3, 1], devices: [0, 1, 2] },
      loss: { degrees: [4], devices: [0, 1, 2, 3] },
    });
  });

  it("a key applies only to the matched ops that have the dim (`* : channel = 2` skips the loss)", () => {
    const r = resolve(`* : channel = 2, devices = 0..1`);
    expect(r.codes).toEqual(["PAR3154"]); // the loss has one task but two devices
    const ok = resolve(`* : channel = 2\nloss : devices = 3`);
    expect(ok.d.items).toEqual([]);
    expect(ok.s.ops.loss).toEqual({ degrees: [1], devices: [3] });
    expect(ok.s.ops.relu1).toEqual({ degrees: [1, 2], devices: [0, 1] });
  });

  it("ops no rule matches run whole on device 0", () => {
    const r = resolve(`fc1 : sample = 2`);
    expect(r.s.ops.relu1).toEqual({ degrees: [1, 1], devices: [0] });
  });

  it("devices: an index, an inclusive range, a list of both; degrees may use model parameters", () => {
    const r = resolve(`
  fc1 : sample = (batch / 4), devices = [3, 0..0]
  relu1 : sample = 4, devices = 0..3
  fc2 : devices = 2`);
    expect(r.d.items).toEqual([]);
    expect(r.s.ops.fc1).toEqual({ degrees: [2, 1, 1], devices: [3, 0] });
    expect(r.s.ops.relu1.devices).toEqual([0, 1, 2, 3]);
    expect(r.s.ops.fc2.devices).toEqual([2]);
  });

  it("PAR3170: a pattern that matches nothing, with a did-you-mean", () => {
    const r = resolve(`fc3 : sample = 2`);
    expect(r.codes).toEqual(["PAR3170"]);
    expect(r.d.items[0].hint).toMatch(/did you mean `fc[12]`/);
    expect(r.d.items[0].pos).toMatchObject({ file: "s.par", line: 2, column: 1 });
  });

  it("PAR3171: a key no matched op has", () => {
    const r = resolve(`fc* : sampel = 2`);
    expect(r.codes).toEqual(["PAR3171"]);
    expect(r.d.items[0].hint).toBe("did you mean `sample`?");
    expect(resolve(`loss : channel = 2`).codes).toEqual(["PAR3171"]);
  });

  it("PAR3172: a degree that is not an integer expression", () => {
    expect(resolve(`fc1 : sample = 0..1`).codes).toEqual(["PAR3172"]);
    expect(resolve(`fc1 : sample = [2]`).codes).toEqual(["PAR3172"]);
    expect(resolve(`fc1 : sample = 2.5`).codes).toEqual(["PAR3172"]);
  });

  it("PAR3173: malformed devices", () => {
    expect(resolve(`fc1 : devices = 3..1`).codes).toEqual(["PAR3173"]);
    expect(resolve(`fc1 : devices = "gpu0"`).codes).toEqual(["PAR3173"]);
    expect(resolve(`fc1 : sample = 2, devices = [[0], 1]`).codes).toEqual(["PAR3173"]);
    expect(resolve(`fc1 : devices = []`).codes).toEqual(["PAR3173"]);
  });

  it("PAR3174: a key set twice in one rule", () => {
    const r = resolve(`fc1 : sample = 2, sample = 4`);
    expect(r.codes).toEqual(["PAR3174"]);
    expect(r.s.ops.fc1.degrees).toEqual([2, 1, 1]);
  });

  it("config errors point at the setting and group the ops one setting breaks", () => {
    const big = resolve(`* : sample = 16`);
    expect(big.codes).toEqual(["PAR3155", "PAR3157"]);
    expect(big.messages[0]).toBe("op `fc1`: degree 16 of dim `sample` exceeds its size 8 (the same for 3 more ops: `relu1`, `fc2`, `loss`)");
    expect(big.d.items[0].pos).toMatchObject({ line: 2, column: 5 });
    expect(big.d.items[1].hint).toMatch(/with no `devices`/);
    expect(resolve(`fc1 : sample = 0`).codes).toEqual(["PAR3152"]);
    expect(resolve(`fc1 : sample = 2, devices = 0..2`).codes).toEqual(["PAR3154"]);
    expect(resolve(`fc1 : devices = 9`).codes).toEqual(["PAR3157"]);
    const g = new Graph("seq");
    g.addInput("x", f32(4, 5, 8));
    addFake(g, "rnn", "lstm", ["x"], [
      { name: "sample", cls: "sample", size: 4 },
      { name: "length", cls: "attribute", size: 5, splittable: false },
    ], f32(4, 5, 8));
    expect(resolve(`rnn : length = 2`, g).codes).toEqual(["PAR3156"]);
  });
});

describe(".par strategies: printing", () => {
  it("prints data parallelism as one `*` rule", () => {
    const g = mlp();
    const s: Strategy = { name: "dp", model: "mlp", mesh: "test1x4", ops: {} };
    for (const o of g.ops.values()) s.ops[o.name] = { degrees: o.sig.space.map((d) => (d.name === "sample" ? 4 : 1)), devices: [0, 1, 2, 3] };
    expect(strategyToPar(g, s)).toBe("strategy dp for mlp on test1x4 {\n  * : sample = 4\n}\n");
    expect(roundTrip(g, s, testMesh(1, 4))).toEqual(s);
  });

  it("groups identical configs, generalises numbered names when exact, uses a `*` base when shorter (overrides set only what differs)", () => {
    const g = residualMlp(3);
    const s: Strategy = { name: "tp", model: "resmlp", mesh: "test1x4", ops: {} };
    for (const o of g.topoOrder()) {
      const degrees: number[] = o.sig.space.map((d) => (d.name === "sample" ? 2 : 1));
      if (o.name.endsWith("fc1")) degrees[1] = 2;
      s.ops[o.name] = { degrees, devices: Array.from({ length: degrees.reduce((a, b) => a * b) }, (_, i) => 3 - i) };
    }
    s.ops["layer2.fc2"] = { degrees: [1, 1, 1], devices: [0] };
    const text = strategyToPar(g, s);
    expect(text).toBe(`strategy tp for resmlp on test1x4 {
  * : sample = 2, devices = [3, 2]
  layer*.fc1 : channel = 2, devices = [3, 2, 1, 0]
  layer2.fc2 : sample = 1, devices = 0
}
`);
    expect(roundTrip(g, s, testMesh(1, 4))).toEqual(s);
  });

  it("quotes op names that are not glob pieces and sanitises the header", () => {
    const g = new Graph("my-model");
    g.addInput("x", f32(4, 3));
    add(g, "input", "relu", ["x"]);
    add(g, "2a", "relu", ["x"]);
    const s: Strategy = { name: "a b", model: "my-model", mesh: "mesh", ops: { input: { degrees: [2, 1], devices: [1, 0] }, "2a": { degrees: [1, 1], devices: [1] } } };
    const text = strategyToPar(g, s);
    expect(text).toBe(`strategy a_b for my_model on mesh_ {\n  "input" : sample = 2, devices = [1, 0]\n  "2a" : devices = 1\n}\n`);
    const d = new Diagnostics();
    expect(resolveStrategyDecl(decl(text), g, testMesh(1, 2), "s.par", d).ops).toEqual(s.ops);
    expect(d.items).toEqual([]);
  });

  it("formats device lists with ranges", () => {
    expect(formatDevices([0])).toBe("0");
    expect(formatDevices([0, 1, 2, 3])).toBe("0..3");
    expect(formatDevices([4, 5, 0, 1])).toBe("[4..5, 0..1]");
    expect(formatDevices([3, 2, 2, 7])).toBe("[3, 2, 2, 7]");
  });

  it("property: Strategy → .par → parse → resolve is the identity (half of the strategies with replicas, pipelines, ZeRO, recomputation, precision)", () => {
    assertProperty(
      fc.property(arbGraph, fc.integer({ min: 1, max: 8 }), fc.integer(), fc.boolean(), (g, devices, seed, scale) => {
        const mesh = scale ? scaleTestMesh(devices) : testMesh(1, devices);
        const s = { ...(scale ? randomScaleStrategy(g, devices, seed) : randomStrategy(g, devices, seed)), mesh: mesh.name };
        const d = new Diagnostics();
        expect(validateStrategy(g, mesh, s, d)).toBe(true);
        expect(d.items).toEqual([]);
        const back = roundTrip(g, s, mesh);
        expect(back).toEqual(s);
        expect(strategyToPar(g, back)).toBe(strategyToPar(g, s));
      }),
      200,
    );
  });
});
