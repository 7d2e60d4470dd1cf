// What the fuzzer mutates: the shipped models, meshes and strategies, the docs' example
// files (an ONNX model, a TensorFlow.js web_model), the test fixtures, programs from the
// printer's generator (test/support/program-gen.ts), random graphs from the runtime's
// property tests (test/runtime/random-cases.ts) printed as .par, and plans compiled from
// small models under random strategies (test/ir/random-strategy.ts).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { builtinMesh } from "../src/core/builtin-meshes.js";
import { graphToPar } from "../src/frontend/import-to-par.js";
import { baseline } from "../src/ir/baselines.js";
import type { Graph } from "../src/ir/graph.js";
import { strategyJsonText } from "../src/ir/strategy-json.js";
import { compile, createContext, load } from "../src/pipeline.js";
import { planText } from "../src/plan/io.js";
import { validProgramArb } from "../test/support/program-gen.js";
import { randomStrategy } from "../test/ir/random-strategy.js";
import { randomGraph, type Family } from "../test/runtime/random-cases.js";
import type { Rng } from "./rng.js";

/** The repository root: two folders up from dist/fuzz/, one from fuzz/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

export interface ParSeed {
  name: string;
  text: string;
  /** `--set` flags that make the model small enough for simulate/search/compile in milliseconds; undefined: too large, front end only. */
  small?: string[];
}

const sets = (kv: Record<string, number>) => Object.entries(kv).flatMap(([k, v]) => ["--set", `${k}=${v}`]);

/** Shrinking --set flags of the zoo, by model file. */
const SMALL: Record<string, string[]> = {
  "mlp.par": sets({ batch: 8, hidden: 16, layers: 1 }),
  "hybrid.par": sets({ batch: 16, hidden: 16 }),
  "tiny-cnn.par": sets({ batch: 4, size: 8 }),
  "rnntc.par": sets({ batch: 4, seq: 4, vocab: 50, embed: 8, hidden: 8, layers: 1 }),
  "rnnlm.par": sets({ batch: 4, seq: 4, vocab: 50, embed: 8, hidden: 8, layers: 1 }),
  "bert_base.par": sets({ batch: 2, seq: 8, vocab: 50, hidden: 16, layers: 1, heads: 2, ffn: 32, positions: 16 }),
  "gpt2_small.par": sets({ batch: 2, seq: 8, vocab: 50, hidden: 16, layers: 1, heads: 2, positions: 16 }),
  "dlrm.par": sets({ batch: 4, rows: 50, dim: 8 }),
  "alexnet.par": sets({ batch: 2, shrink: 32, classes: 4 }),
};

export interface FileSeed {
  name: string;
  bytes: Uint8Array;
}

export class Corpus {
  readonly root = repoRoot();
  readonly par: ParSeed[];
  readonly onnx: FileSeed[];
  /** A model.json and its shard. */
  readonly keras: { json: string; shards: FileSeed[] }[];
  readonly strategies: string[];
  readonly programs: string[];
  private plansCache: string[] | undefined;

  constructor(seed: number) {
    const r = this.root;
    const parFile = (path: string): ParSeed => {
      const name = path.split("/").pop()!;
      return { name, text: readFileSync(join(r, path), "utf8"), ...(SMALL[name] ? { small: SMALL[name] } : {}) };
    };
    this.par = [
      ...readdirSync(join(r, "models")).filter((f) => f.endsWith(".par")).sort().map((f) => parFile(`models/${f}`)),
      parFile("docs/examples/hybrid.par"),
      parFile("bench/tiny-cnn.par"),
    ];
    const onnxDir = join(r, "test", "fixtures", "onnx");
    this.onnx = [
      { name: "mlp.onnx", bytes: new Uint8Array(readFileSync(join(r, "docs", "examples", "mlp.onnx"))) },
      ...readdirSync(onnxDir).filter((f) => f.endsWith(".onnx")).sort().map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(onnxDir, f))) })),
    ];
    const web = join(r, "docs", "examples", "web_model");
    const kerasDir = join(r, "test", "fixtures", "keras");
    this.keras = [
      { json: readFileSync(join(web, "model.json"), "utf8"), shards: [{ name: "dense.weights.bin", bytes: new Uint8Array(readFileSync(join(web, "dense.weights.bin"))) }] },
      ...["functional.json", "seq_cnn.json"].map((f) => ({ json: readFileSync(join(kerasDir, f), "utf8"), shards: [] })),
    ];
    this.strategies = readdirSync(join(r, "strategies")).filter((f) => /^mlp-.*\.json$/.test(f)).sort().map((f) => readFileSync(join(r, "strategies", f), "utf8"));
    this.programs = fc.sample(validProgramArb, { seed, numRuns: 64 });
  }

  /** A random training graph of the runtime's property tests, printed as a .par model. */
  randomModel(rng: Rng): { text: string; graph: Graph } {
    const family = rng.pick<Family>(["mlp", "seq", "conv"]);
    const graph = randomGraph(rng.int(1 << 30), family);
    return { text: graphToPar(graph, "random"), graph };
  }

  /** The small mlp's checked graph (for strategies and plans). */
  smallGraph(): Graph {
    const ctx = createContext({ cwd: this.root });
    return load(join(this.root, "models", "mlp.par"), ctx, { overrides: { batch: 8, hidden: 16, layers: 1 } }).graph;
  }

  /** A random strategy of the small mlp for `devices` devices, as a strategy file. */
  randomStrategyText(rng: Rng, devices: number): string {
    const graph = this.smallGraph();
    return strategyJsonText(graph, randomStrategy(graph, devices, rng.int(1 << 30)));
  }

  /** Plans of the small mlp on the local mesh: data parallel, Megatron, and random strategies. */
  plans(): string[] {
    if (this.plansCache) return this.plansCache;
    const graph = this.smallGraph();
    const mesh = builtinMesh("local")!;
    const out: string[] = [];
    for (const kind of ["dp", "megatron", "mp"] as const) out.push(planText(compile(graph, mesh, baseline(kind, graph, mesh), createContext())));
    for (let s = 1; s <= 3; s++) {
      const strategy = randomStrategy(graph, mesh.devices.length, s);
      try {
        out.push(planText(compile(graph, mesh, { ...strategy, mesh: mesh.name }, createContext())));
      } catch {
        /* a random strategy the validator rejects makes no plan */
      }
    }
    this.plansCache = out;
    return out;
  }

  /** A measured-cost table the small mlp's dp tasks match. */
  costTable(): string {
    return JSON.stringify({
      format: "par-measured-costs",
      version: 1,
      device: "cpu",
      backend: "wasm",
      entries: [{ op: "linear", inputs: [[4, 784]], attrs: { out: 16 }, extent: [4, 16, 784], forwardMs: 0.1, backwardMs: 0.2 }],
      updates: [{ optimizer: "sgd", floats: 16, ms: 0.01 }],
    });
  }
}

/** Resolves a path of the repository (for seeds read at run time). */
export function inRepo(...parts: string[]): string {
  return resolve(repoRoot(), ...parts);
}
