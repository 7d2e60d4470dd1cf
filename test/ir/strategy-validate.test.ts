import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import { addFake, f32, mlp, testMesh } from "./fixtures.js";

/** A valid strategy for mlp(8, 6, 4, 3) on 4 devices: fc1 channel-split, the rest sample-split. */
function good(): Strategy {
  return {
    name: "s",
    model: "mlp",
    mesh: "test1x4",
    ops: {
      fc1: { degrees: [2, 2, 1], devices: [0, 1, 2, 3] },
      relu1: { degrees: [4, 1], devices: [0, 1, 2, 3] },
      fc2: { degrees: [1, 3, 1], devices: [3, 2, 1] },
      loss: { degrees: [1], devices: [0] },
    },
  };
}

function run(s: Strategy, graph = mlp(), mesh = testMesh(1, 4)) {
  const d = new Diagnostics();
  const ok = validateStrategy(graph, mesh, s, d);
  return { ok, d, codes: d.items.map((x) => x.code) };
}

describe("validateStrategy", () => {
  it("accepts a valid strategy, uneven splits included", () => {
    const s = good();
    s.ops.relu1 = { degrees: [3, 1], devices: [0, 1, 2] }; // 8 samples into 3, 3, 2
    const r = run(s);
    expect(r.d.items).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it("PAR3150: reports every missing op in one diagnostic", () => {
    const s = good();
    delete s.ops.relu1;
    delete s.ops.loss;
    const r = run(s);
    expect(r.ok).toBe(false);
    expect(r.codes).toEqual(["PAR3150"]);
    expect(r.d.items[0].message).toContain("`relu1`, `loss`");
  });

  it("PAR3151: an unknown op, with a did-you-mean", () => {
    const s = good();
    s.ops.fc3 = { degrees: [1, 1, 1], devices: [0] };
    const r = run(s);
    expect(r.codes).toEqual(["PAR3151"]);
    expect(r.d.items[0].hint).toMatch(/did you mean `fc[12]`/);
  });

  it("PAR3152: degrees must be positive integers", () => {
    const s = good();
    s.ops.relu1 = { degrees: [0, 1], devices: [] };
    s.ops.loss = { degrees: [1.5], devices: [0] };
    const r = run(s);
    expect(r.codes).toEqual(["PAR3152", "PAR3152"]);
    expect(r.d.items[0].message).toContain("`relu1`");
    expect(r.d.items[0].message).toContain("`sample`");
  });

  it("PAR3153: one degree per parallel dim", () => {
    const s = good();
    s.ops.fc1 = { degrees: [2, 2], devices: [0, 1, 2, 3] };
    const r = run(s);
    expect(r.codes).toEqual(["PAR3153"]);
    expect(r.d.items[0].expected).toContain("sample, channel, in_channel");
  });

  it("PAR3154: one device per task", () => {
    const s = good();
    s.ops.fc1 = { degrees: [2, 2, 1], devices: [0, 1, 2] };
    const r = run(s);
    expect(r.codes).toEqual(["PAR3154"]);
    expect(r.d.items[0].message).toContain("3 devices for 4 tasks");
  });

  it("PAR3155: a degree above the dim size is an error, naming op and dim", () => {
    const s = good();
    s.ops.fc2 = { degrees: [1, 4, 1], devices: [0, 1, 2, 3] }; // channel has 3 classes
    const r = run(s);
    expect(r.codes).toEqual(["PAR3155"]);
    expect(r.d.items[0].message).toBe("op `fc2`: degree 4 of dim `channel` exceeds its size 3");
  });

  it("PAR3156: an unsplittable dim keeps degree 1", () => {
    const g = new Graph("seq");
    g.addInput("x", f32(4, 5, 8));
    addFake(g, "rnn", "lstm", ["x"], [
      { name: "sample", cls: "sample", size: 4 },
      { name: "length", cls: "attribute", size: 5, splittable: false },
    ], f32(4, 5, 8));
    const s: Strategy = { name: "s", model: "seq", mesh: "test1x4", ops: { rnn: { degrees: [1, 2], devices: [0, 1] } } };
    const r = run(s, g);
    expect(r.codes).toEqual(["PAR3156"]);
    expect(r.d.items[0].message).toContain("`length` cannot be split");
  });

  it("PAR3157: devices must lie within the mesh", () => {
    const s = good();
    s.ops.fc2 = { degrees: [1, 3, 1], devices: [0, 4, -1] };
    const r = run(s);
    expect(r.codes).toEqual(["PAR3157"]);
    expect(r.d.items[0].message).toContain("4, -1");
  });

  it("PAR3158/PAR3159: a different model or mesh name is a warning only", () => {
    const s = { ...good(), model: "other", mesh: "elsewhere" };
    const r = run(s);
    expect(r.codes).toEqual(["PAR3158", "PAR3159"]);
    expect(r.d.items.every((x) => x.severity === "warning")).toBe(true);
    expect(r.ok).toBe(true);
  });
});

describe("STRATEGY_CODES", () => {
  it("stays in PAR3150–PAR3199 and every code is exercised by a test (test/ir, or test/frontend for the .par strategy reader)", async () => {
    const { STRATEGY_CODES } = await import("../../src/ir/strategy-codes.js");
    const { readdirSync, readFileSync } = await import("node:fs");
    const dirs = [new URL("./", import.meta.url), new URL("../frontend/", import.meta.url)];
    const tests = dirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith(".test.ts")).map((f) => readFileSync(new URL(f, dir), "utf8"))).join("\n");
    for (const code of Object.keys(STRATEGY_CODES)) {
      const n = Number(code.slice(3));
      expect(n >= 3150 && n <= 3199, code).toBe(true);
      expect(tests.includes(`"${code}"`), `${code} is not asserted in any test`).toBe(true);
    }
  });
});
