// Strategies without the large-scale fields lower to exactly the plans they always did:
// the SHA-256 of every plan text of a fixed set (zoo models × baselines × two meshes,
// random graphs × random strategies, each with sgd and adam) is compared with digests
// recorded before the pipeline/replica/ZeRO lowering existed. A change in lowering that
// moves a single byte of such a plan fails here; if the change is intended, regenerate the
// file with PAR_WRITE_GOLDEN=1 and say why in the commit.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { lower } from "../../src/codegen/lower.js";
import { buildGraph } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import { baseline, BASELINE_KINDS } from "../../src/ir/baselines.js";
import type { Graph } from "../../src/ir/graph.js";
import { planText } from "../../src/plan/io.js";
import type { OptimizerConfig } from "../../src/plan/plan.js";
import { testMesh } from "../ir/fixtures.js";
import { meshOf } from "../runtime/graphs.js";
import { randomCase, type Family } from "../runtime/random-cases.js";

const GOLDEN = join(import.meta.dirname, "..", "fixtures", "v1-plan-digests.txt");
const MODELS = join(import.meta.dirname, "..", "..", "models");
const OPTIMIZERS: OptimizerConfig[] = [
  { kind: "sgd", learningRate: 0.01 },
  { kind: "adam", learningRate: 0.001 },
];
const ZOO: [string, Record<string, number>][] = [
  ["mlp", { batch: 4, hidden: 8, layers: 2, classes: 5 }],
  ["alexnet", { batch: 2, size: 63, classes: 5, shrink: 16 }],
  ["rnntc", { batch: 4, seq: 3, vocab: 11, embed: 4, hidden: 4, classes: 2 }],
  ["nmt", { batch: 4, seq: 4, vocab: 11, hidden: 4, chunks: 2 }],
  ["bert_base", { batch: 4, seq: 4, vocab: 13, hidden: 8, heads: 2, ffn: 16, layers: 2, positions: 8 }],
  ["gpt2_small", { batch: 4, seq: 4, vocab: 13, hidden: 8, heads: 2, layers: 2, positions: 8 }],
  ["dlrm", { batch: 4, rows: 5, dim: 4 }],
];
const MESHES = [testMesh(2, 2, "zoo2x2"), testMesh(1, 3, "flat3", true)];
const FAMILIES: Family[] = ["mlp", "seq", "conv"];
const RANDOM_CASES = 150;

function zooGraph(model: string, overrides: Record<string, number>): Graph {
  const text = readFileSync(join(MODELS, `${model}.par`), "utf8");
  const d = new Diagnostics();
  const program = parse(text, `${model}.par`, d);
  const graph = program ? buildGraph(program, model, overrides, d) : undefined;
  if (!graph) throw new Error(`${model}: ${d.items.map((x) => x.message).join("; ")}`);
  return graph;
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** name → digest of every plan of the fixed set, in a fixed order. */
function digests(): [string, string][] {
  const out: [string, string][] = [];
  for (const [model, overrides] of ZOO) {
    const graph = zooGraph(model, overrides);
    for (const mesh of MESHES) {
      for (const kind of BASELINE_KINDS) {
        const s = baseline(kind, graph, mesh);
        for (const optimizer of OPTIMIZERS) {
          out.push([`${model}/${mesh.name}/${kind}/${optimizer.kind}`, digest(planText(lower(graph, { ...s, mesh: mesh.name }, mesh, { seed: 3, optimizer })))]);
        }
      }
    }
  }
  for (let i = 0; i < RANDOM_CASES; i++) {
    const family = FAMILIES[i % FAMILIES.length];
    const c = randomCase(1000 + i, family, 7000 + 13 * i, 1 + (i % 4));
    for (const optimizer of OPTIMIZERS) out.push([`random/${family}/${i}/${optimizer.kind}`, digest(planText(lower(c.graph, c.strategy, meshOf(c.devices), { seed: i, optimizer })))]);
  }
  return out;
}

describe("strategies without large-scale fields lower to the same plans as before", () => {
  it("digests of zoo and random plans match the recorded ones", () => {
    const now = digests();
    const text = now.map(([n, d]) => `${n} ${d}`).join("\n") + "\n";
    if (process.env.PAR_WRITE_GOLDEN === "1") writeFileSync(GOLDEN, text);
    const recorded = readFileSync(GOLDEN, "utf8");
    expect(text).toBe(recorded);
  }, 300_000);
});
