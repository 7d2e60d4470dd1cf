// Every zoo model checks cleanly and reports the exact parameter count of its reference
// implementation (torchvision / Hugging Face), or of its closed-form formula.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Diagnostics, formatDiagnostic } from "../../src/core/diagnostics.js";
import { buildGraph, check } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import type { Graph } from "../../src/ir/graph.js";

const MODELS = join(import.meta.dirname, "..", "..", "models");

function load(file: string, overrides: Record<string, number> = {}): Graph {
  const text = readFileSync(join(MODELS, file), "utf8");
  const d = new Diagnostics();
  const program = parse(text, file, d);
  const name = file.replace(/\.par$/, "");
  const graph = program ? buildGraph(program, name, overrides, d) : undefined;
  const errors = d.errors.map((x) => formatDiagnostic(x, text));
  expect(errors).toEqual([]);
  expect(graph).toBeDefined();
  return graph!;
}

describe("model zoo: exact parameter counts of the reference implementations", () => {
  const exact: [string, number][] = [
    ["alexnet.par", 61_100_840],
    ["vgg16.par", 138_357_544],
    ["resnet50.par", 25_557_032],
    ["resnet101.par", 44_549_160],
    ["inception_v3.par", 23_834_568],
    ["bert_base.par", 109_482_240],
    ["gpt2_small.par", 124_439_808],
  ];
  for (const [file, count] of exact) {
    it(`${file}: ${count.toLocaleString("en-US")}`, () => {
      expect(load(file).parameterCount()).toBe(count);
    });
  }
});

describe("model zoo: closed-form parameter counts", () => {
  const lstm = (input: number, h: number) => 4 * h * (input + h) + 8 * h;

  it("mlp: 784h + h + layers(h² + h) + h·classes + classes", () => {
    for (const [hidden, layers, classes] of [[1024, 2, 10], [32, 3, 7], [5, 0, 2]]) {
      const g = load("mlp.par", { hidden, layers, classes, batch: 4 });
      expect(g.parameterCount()).toBe(784 * hidden + hidden + layers * (hidden * hidden + hidden) + hidden * classes + classes);
    }
  });

  it("rnntc: V·E + lstm(E, H) + (L−1)·lstm(H, H) + H·C + C", () => {
    for (const [vocab, embed, hidden, layers, classes] of [[20000, 1024, 1024, 4, 2], [50, 8, 6, 2, 3]]) {
      const g = load("rnntc.par", { vocab, embed, hidden, layers, classes, batch: 2, seq: 3 });
      expect(g.parameterCount()).toBe(vocab * embed + lstm(embed, hidden) + (layers - 1) * lstm(hidden, hidden) + hidden * classes + classes);
    }
  });

  it("rnnlm: V·E + lstm(E, H) + (L−1)·lstm(H, H) + H·V + V", () => {
    for (const [vocab, embed, hidden, layers] of [[20000, 1024, 1024, 2], [40, 6, 5, 3]]) {
      const g = load("rnnlm.par", { vocab, embed, hidden, layers, batch: 2, seq: 3 });
      expect(g.parameterCount()).toBe(vocab * embed + lstm(embed, hidden) + (layers - 1) * lstm(hidden, hidden) + hidden * vocab + vocab);
    }
  });

  it("nmt: 2·V·H + 4·lstm(H, H) + 2H·H + H + H·V + V", () => {
    for (const [vocab, hidden] of [[20000, 1024], [30, 4]]) {
      const g = load("nmt.par", { vocab, hidden, batch: 2, seq: 4 });
      expect(g.parameterCount()).toBe(2 * vocab * hidden + 4 * lstm(hidden, hidden) + 2 * hidden * hidden + hidden + hidden * vocab + vocab);
    }
  });

  it("dlrm: bottom MLP + 26 tables + top MLP over (dim + 27²) features", () => {
    for (const [rows, dim] of [[100000, 64], [10, 4]]) {
      const g = load("dlrm.par", { rows, dim, batch: 2 });
      const bottom = 13 * 512 + 512 + 512 * 256 + 256 + 256 * dim + dim;
      const top = (dim + 27 * 27) * 512 + 512 + 512 * 256 + 256 + 256 + 1;
      expect(g.parameterCount()).toBe(bottom + 26 * rows * dim + top);
    }
  });
});

describe("model zoo: every file checks cleanly", () => {
  for (const file of readdirSync(MODELS).filter((f) => f.endsWith(".par"))) {
    it(file, () => {
      const text = readFileSync(join(MODELS, file), "utf8");
      const d = new Diagnostics();
      const program = parse(text, file, d);
      expect(program).toBeDefined();
      const checked = check(program!, d);
      expect(d.items.map((x) => formatDiagnostic(x, text))).toEqual([]);
      expect(checked.models.size).toBeGreaterThan(0);
    });
  }
});
