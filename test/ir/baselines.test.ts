import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { Mesh } from "../../src/core/mesh.js";
import { BASELINE_KINDS, balancedStages, baseline, largestDivisorAtMost, meshNodes } from "../../src/ir/baselines.js";
import { Graph } from "../../src/ir/graph.js";
import { strategyFromJsonText, strategyJsonText } from "../../src/ir/strategy-json.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import { assertProperty } from "../support/property.js";
import { add, arbGraph, f32, i32, mlp, residualMlp, testMesh } from "./fixtures.js";

function cnn(): Graph {
  const g = new Graph("cnn", { batch: 8 });
  g.addInput("x", f32(8, 3, 8, 8));
  g.addInput("labels", i32(8));
  let t = add(g, "conv1", "conv2d", ["x"], { out: 4, kernel: [3], padding: [1] });
  t = add(g, "relu1", "relu", [t]);
  t = add(g, "pool1", "pool2d", [t], { mode: "max", kernel: [2] });
  t = add(g, "flat", "flatten", [t]);
  t = add(g, "fc1", "linear", [t], { out: 16 });
  t = add(g, "relu2", "relu", [t]);
  t = add(g, "fc2", "linear", [t], { out: 10 });
  add(g, "loss", "softmax_cross_entropy", [t, "labels"]);
  return g;
}

/** A 3-layer LSTM language model: lstm → lstm → lstm → linear → loss. */
function rnn(): Graph {
  const g = new Graph("rnnlm", { batch: 4 });
  g.addInput("x", f32(4, 5, 6));
  g.addInput("labels", i32(4, 5));
  let t = "x";
  for (let i = 0; i < 3; i++) t = add(g, `lstm${i}`, "lstm", [t], { hidden: 6 });
  t = add(g, "proj", "linear", [t], { out: 7 });
  add(g, "loss", "softmax_cross_entropy", [t, "labels"]);
  return g;
}

/** One transformer block: attention + residual, MLP (linear → gelu → linear) + residual. */
function transformer(): Graph {
  const g = new Graph("tblock", { batch: 4 });
  g.addInput("x", f32(4, 6, 8));
  g.addInput("labels", i32(4, 6));
  const a = add(g, "attn", "attention", ["x"], { heads: 4 });
  const r1 = add(g, "res1", "add", ["x", a]);
  const h = add(g, "mlp.fc1", "linear", [r1], { out: 16 });
  const act = add(g, "mlp.act", "gelu", [h]);
  const o = add(g, "mlp.fc2", "linear", [act], { out: 8 });
  const r2 = add(g, "res2", "add", [r1, o]);
  add(g, "loss", "softmax_cross_entropy", [r2, "labels"]);
  return g;
}

const MESHES: Mesh[] = [testMesh(1, 1), testMesh(1, 4, "flat4", true), testMesh(2, 2), testMesh(2, 4), testMesh(4, 2), testMesh(3, 3)];
const GRAPHS: [string, () => Graph][] = [["mlp", () => mlp()], ["resmlp", () => residualMlp(3)], ["cnn", cnn], ["rnn", rnn], ["transformer", transformer]];

function valid(g: Graph, mesh: Mesh, kind: (typeof BASELINE_KINDS)[number]): void {
  const s = baseline(kind, g, mesh);
  const d = new Diagnostics();
  const ok = validateStrategy(g, mesh, s, d);
  expect(d.items, `${kind} on ${g.name} / ${mesh.name}`).toEqual([]);
  expect(ok).toBe(true);
  expect(s).toMatchObject({ name: kind, model: g.name, mesh: mesh.name });
}

describe("baselines", () => {
  for (const [name, make] of GRAPHS) {
    it(`every baseline validates on ${name} for every test mesh, deterministically`, () => {
      for (const mesh of MESHES) {
        for (const kind of BASELINE_KINDS) {
          valid(make(), mesh, kind);
          expect(baseline(kind, make(), mesh)).toEqual(baseline(kind, make(), mesh));
        }
      }
    });
  }

  it("property: every baseline validates on random graphs and meshes", () => {
    assertProperty(
      fc.property(arbGraph, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), (g, nodes, per) => {
        for (const kind of BASELINE_KINDS) valid(g, testMesh(nodes, per), kind);
      }),
      60,
    );
  });

  // Hand-checked on the tiny MLP x[8, 6] → fc1(4) → relu → fc2(3) → loss, 2 nodes × 2 devices.
  const m22 = testMesh(2, 2);

  it("dp: sample split over all devices", () => {
    expect(baseline("dp", mlp(), m22).ops).toEqual({
      fc1: { degrees: [4, 1, 1], devices: [0, 1, 2, 3] },
      relu1: { degrees: [4, 1], devices: [0, 1, 2, 3] },
      fc2: { degrees: [4, 1, 1], devices: [0, 1, 2, 3] },
      loss: { degrees: [4], devices: [0, 1, 2, 3] },
    });
    // batch 6 on 4 devices: the largest divisor that fits is 3
    expect(baseline("dp", mlp(6), m22).ops.fc1).toEqual({ degrees: [3, 1, 1], devices: [0, 1, 2] });
  });

  it("mp: ops whole, contiguous stages balanced by FLOPs", () => {
    // FLOPs (fwd + bwd): fc1 1152, relu1 64, fc2 576, loss 192.
    expect(baseline("mp", mlp(), m22).ops).toEqual({
      fc1: { degrees: [1, 1, 1], devices: [0] },
      relu1: { degrees: [1, 1], devices: [1] },
      fc2: { degrees: [1, 1, 1], devices: [2] },
      loss: { degrees: [1], devices: [3] },
    });
    // Two stages: {fc1} | {relu1, fc2, loss} (max 1152) beats {fc1, relu1} | {fc2, loss} (1216).
    const two = baseline("mp", mlp(), testMesh(1, 2)).ops;
    expect(["fc1", "relu1", "fc2", "loss"].map((n) => two[n].devices[0])).toEqual([0, 1, 1, 1]);
  });

  it("expert: fully connected layers channel-split in a node, sample across nodes; the rest data parallel", () => {
    expect(baseline("expert", mlp(), m22).ops).toEqual({
      fc1: { degrees: [2, 2, 1], devices: [0, 1, 2, 3] },
      relu1: { degrees: [4, 1], devices: [0, 1, 2, 3] },
      fc2: { degrees: [2, 1, 1], devices: [0, 2] }, // 3 classes: no even split over 2
      loss: { degrees: [4], devices: [0, 1, 2, 3] },
    });
    const c = baseline("expert", cnn(), m22).ops;
    expect(c.conv1).toEqual({ degrees: [4, 1, 1, 1, 1], devices: [0, 1, 2, 3] });
    expect(c.pool1.degrees[0]).toBe(4);
  });

  it("expert: LSTM layers placed layer by layer on the devices of a node, sample across nodes", () => {
    const s = baseline("expert", rnn(), m22).ops;
    // 3 equal LSTM layers over 2 device slots: [0], [1, 2] or [0, 1], [2]; each layer's two
    // tasks (one per node) sit in the same slot of both nodes.
    const slots = ["lstm0", "lstm1", "lstm2"].map((n) => s[n].devices);
    expect(slots[0]).toEqual([0, 2]);
    expect(slots[2]).toEqual([1, 3]);
    for (const n of ["lstm0", "lstm1", "lstm2"]) expect(s[n].degrees).toEqual([2, 1, 1]);
    expect(s.proj.degrees).toEqual([2, 1, 1, 1]); // 7 outputs: no even channel split over 2
  });

  it("megatron: column- then row-parallel linear pair within a node, data parallel across nodes", () => {
    expect(baseline("megatron", mlp(), m22).ops).toEqual({
      fc1: { degrees: [2, 2, 1], devices: [0, 1, 2, 3] },
      relu1: { degrees: [2, 2], devices: [0, 1, 2, 3] },
      fc2: { degrees: [2, 1, 2], devices: [0, 1, 2, 3] },
      loss: { degrees: [2], devices: [0, 2] },
    });
    const t = baseline("megatron", transformer(), testMesh(2, 4)).ops;
    expect(t.attn).toEqual({ degrees: [2, 1, 4], devices: [0, 1, 2, 3, 4, 5, 6, 7] }); // heads split 4 ways
    expect(t["mlp.fc1"].degrees).toEqual([2, 1, 4, 1]); // column: channel
    expect(t["mlp.act"].degrees).toEqual([2, 1, 4]);
    expect(t["mlp.fc2"].degrees).toEqual([2, 1, 1, 4]); // row: in_channel
    expect(t.res1).toEqual({ degrees: [2, 1, 1], devices: [0, 4] });
  });

  it("baselines survive the JSON round trip", () => {
    for (const kind of BASELINE_KINDS) {
      const s = baseline(kind, transformer(), testMesh(2, 2));
      const d = new Diagnostics();
      expect(strategyFromJsonText(transformer(), strategyJsonText(transformer(), s), "b.json", d)).toEqual(s);
    }
  });

  it("helpers: nodes, divisors, balanced stages", () => {
    expect(meshNodes(testMesh(2, 3))).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(meshNodes(testMesh(1, 3, "flat", true))).toEqual([[0, 1, 2]]);
    expect(largestDivisorAtMost(12, 5)).toBe(4);
    expect(largestDivisorAtMost(7, 4)).toBe(1);
    expect(balancedStages([1, 1, 1, 1], 2)).toEqual([0, 0, 1, 1]);
    expect(balancedStages([5, 1, 1, 1, 1, 1], 2)).toEqual([0, 1, 1, 1, 1, 1]);
    expect(balancedStages([1, 2, 3], 5)).toEqual([0, 1, 2]);
    expect(balancedStages([], 3)).toEqual([]);
  });

  it("property: balanced stages are contiguous, non-empty, and optimal (vs brute force)", () => {
    assertProperty(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 7 }), fc.integer({ min: 1, max: 4 }), (w, k) => {
        const st = balancedStages(w, k);
        const kk = Math.min(k, w.length);
        expect(st[0]).toBe(0);
        for (let i = 1; i < st.length; i++) expect(st[i] - st[i - 1]).toBeGreaterThanOrEqual(0);
        for (let i = 1; i < st.length; i++) expect(st[i] - st[i - 1]).toBeLessThanOrEqual(1);
        expect(st[st.length - 1]).toBe(kk - 1);
        const max = (s: number[]) => Math.max(...Array.from({ length: kk }, (_, j) => w.reduce((a, x, i) => a + (s[i] === j ? x : 0), 0)));
        // brute force over all cut positions
        let best = Infinity;
        const rec = (start: number, j: number, s: number[]) => {
          if (j === kk - 1) {
            best = Math.min(best, max([...s, ...Array(w.length - start).fill(j)]));
            return;
          }
          for (let end = start + 1; end <= w.length - (kk - 1 - j); end++) rec(end, j + 1, [...s, ...Array(end - start).fill(j)]);
        };
        rec(0, 0, []);
        expect(max(st)).toBe(best);
      }),
      200,
    );
  });
});
