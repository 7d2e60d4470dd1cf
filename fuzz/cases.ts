// Fuzz cases: a family of input (a mutated model, random bytes, a mutated plan, a random
// strategy, ...), the files it writes into the case's own folder, and the `par` command
// line that reads them. Each case is a pure function of (corpus, seed, index).

import type { Corpus, ParSeed } from "./corpus.js";
import { mutateBytes, randomBytes } from "./mutate-bytes.js";
import { mutateJson } from "./mutate-json.js";
import { EXTREME_NUMBERS, mutatePar, nearMiss } from "./mutate-text.js";
import { Rng } from "./rng.js";

export interface FuzzCase {
  index: number;
  /** What kind of input it is ("par-mutant", "onnx-bytes", "plan-json", ...). */
  family: string;
  /** The command line after `par`, relative to the case's folder. */
  argv: string[];
  files: { name: string; data: string | Uint8Array }[];
  /** Output files the command was told to write: present after exit 0, absent otherwise. */
  outputs: string[];
}

type Maker = (c: Corpus, rng: Rng, index: number) => Omit<FuzzCase, "index">;

const MESHES = ["local", "p100x16", "k80x64", "v100x8"];
const BASELINES = ["dp", "mp", "expert", "megatron"];

/** Commands that only read a .par file's front end (parse, check, print): cheap on any model. */
function frontEnd(rng: Rng, file: string): { argv: string[]; outputs: string[] } {
  return rng.weighted<{ argv: string[]; outputs: string[] }>([
    [5, { argv: ["check", file], outputs: [] }],
    [1, { argv: ["check", file, "--json"], outputs: [] }],
    [2, { argv: ["fmt", file], outputs: [] }],
    [1, { argv: ["fmt", "--check", file], outputs: [] }],
    [1, { argv: ["fmt", "--write", file], outputs: [] }],
    [1, { argv: ["graph", file], outputs: [] }],
    [1, { argv: ["graph", file, "--dot", "--out", "g.dot"], outputs: ["g.dot"] }],
  ]);
}

/** Commands down the road (simulate, search, compile, strategy baseline) on a small model. */
function downTheRoad(rng: Rng, file: string, small: string[]): { argv: string[]; outputs: string[] } {
  const mesh = rng.pick(MESHES);
  const strategy = rng.pick(BASELINES);
  return rng.weighted<{ argv: string[]; outputs: string[] }>([
    [4, { argv: ["simulate", file, ...small, "--mesh", mesh, "--strategy", strategy], outputs: [] }],
    [1, { argv: ["simulate", file, ...small, "--strategy", strategy, "--json", "--trace", "t.json"], outputs: ["t.json"] }],
    [2, { argv: ["search", file, ...small, "--mesh", mesh, "--budget", String(1 + rng.int(40)), "--out", "s.json"], outputs: ["s.json"] }],
    [3, { argv: ["compile", file, ...small, "--strategy", strategy, "--out", "p.json"], outputs: ["p.json"] }],
    [1, { argv: ["compile", file, ...small, "--search", "--budget", String(1 + rng.int(20)), "--out", "p.json"], outputs: ["p.json"] }],
    [1, { argv: ["strategy", "baseline", strategy, file, ...small, "--mesh", mesh], outputs: [] }],
  ]);
}

const parMutant: Maker = (c, rng) => {
  const seed: ParSeed = rng.pick(c.par);
  const text = mutatePar(seed.text, rng);
  const file = rng.chance(0.1) ? "model" : "m.par";
  const cmd = seed.small && rng.chance(0.45) ? downTheRoad(rng, file, seed.small) : frontEnd(rng, file);
  return { family: "par-mutant", files: [{ name: file, data: text }], ...cmd };
};

const generatedProgram: Maker = (c, rng) => {
  const text = rng.chance(0.5) ? rng.pick(c.programs) : mutatePar(rng.pick(c.programs), rng, 2);
  return { family: "generated-program", files: [{ name: "g.par", data: text }], ...frontEnd(rng, "g.par") };
};

const randomModel: Maker = (c, rng) => {
  const { text } = c.randomModel(rng);
  const mutated = rng.chance(0.5) ? mutatePar(text, rng, 2) : text;
  const cmd = rng.chance(0.5) ? frontEnd(rng, "r.par") : downTheRoad(rng, "r.par", []);
  return { family: "random-model", files: [{ name: "r.par", data: mutated }], ...cmd };
};

const randomBytesCase: Maker = (c, rng) => {
  const name = rng.pick(["x.par", "x.onnx", "x.json", "model.json", "x", "x.bin"]);
  const source = rng.chance(0.5) ? randomBytes(rng, rng.int(2048)) : mutateBytes(new TextEncoder().encode(rng.pick(c.par).text), rng);
  const argv = rng.weighted<string[]>([
    [4, ["check", name]],
    [1, ["fmt", name]],
    [1, ["graph", name]],
    [1, ["import", name, "--batch", "2"]],
    [1, ["simulate", name]],
    [1, ["verify", name, "--steps", "1"]],
  ]);
  return { family: "bytes", files: [{ name, data: source }], argv, outputs: [] };
};

const onnxMutant: Maker = (c, rng) => {
  const seed = rng.pick(c.onnx);
  const bytes = rng.chance(0.9) ? mutateBytes(seed.bytes, rng) : seed.bytes;
  const name = rng.chance(0.9) ? "m.onnx" : "m";
  const batch = String(rng.pick([1, 2, 3, 8]));
  const cmd = rng.weighted<{ argv: string[]; outputs: string[] }>([
    [4, { argv: ["check", name, "--batch", batch], outputs: [] }],
    [2, { argv: ["import", name, "--batch", batch, "--out", "i.par"], outputs: ["i.par"] }],
    [1, { argv: ["import", name, "--json"], outputs: [] }],
    [2, { argv: ["simulate", name, "--batch", batch, "--strategy", rng.pick(BASELINES)], outputs: [] }],
    [1, { argv: ["compile", name, "--batch", batch, "--strategy", "dp", "--out", "p.json"], outputs: ["p.json"] }],
    [1, { argv: ["graph", name, "--batch", batch], outputs: [] }],
  ]);
  return { family: "onnx-bytes", files: [{ name, data: bytes }], ...cmd };
};

const kerasMutant: Maker = (c, rng) => {
  const seed = rng.pick(c.keras);
  const mutateShard = seed.shards.length > 0 && rng.chance(0.3);
  const json = mutateShard ? seed.json : mutateJson(seed.json, rng);
  const shards = seed.shards.map((s) => ({ name: s.name, data: mutateShard ? mutateBytes(s.bytes, rng) : s.bytes }));
  const batch = String(rng.pick([1, 2, 8]));
  const argv = rng.weighted<string[]>([
    [4, ["check", "model.json", "--batch", batch]],
    [2, ["import", "model.json", "--batch", batch]],
    [2, ["simulate", "model.json", "--batch", batch]],
    [1, ["compile", "model.json", "--batch", batch, "--strategy", "dp", "--out", "p.json"]],
  ]);
  return { family: "keras-json", files: [{ name: "model.json", data: json }, ...shards], argv, outputs: argv.includes("--out") ? ["p.json"] : [] };
};

const planMutant: Maker = (c, rng) => {
  const plan = rng.pick(c.plans());
  // Mostly mutated; now and then as compiled (then the run itself is fuzzed: steps, timeouts).
  const text = rng.chance(0.93) ? mutateJson(plan, rng, 2) : plan;
  const cmd = rng.weighted<{ argv: string[]; outputs: string[] }>([
    [5, { argv: ["verify", "plan.json", "--steps", "1", "--backend", "cpu"], outputs: [] }],
    [1, { argv: ["run", "plan.json", "--steps", "1", "--timeout", "10", "--backend", "cpu"], outputs: [] }],
    [1, { argv: ["run", "plan.json", "--steps", "1", "--timeout", "10", "--backend", "cpu", "--trace", "t.json"], outputs: ["t.json"] }],
    [2, { argv: ["check", "plan.json"], outputs: [] }],
  ]);
  return { family: "plan-json", files: [{ name: "plan.json", data: text }], ...cmd };
};

const strategyCase: Maker = (c, rng) => {
  const mlp = c.par.find((p) => p.name === "mlp.par")!;
  const devices = rng.pick([2, 16]);
  const base = rng.chance(0.5) ? c.randomStrategyText(rng, devices) : rng.pick(c.strategies);
  const text = rng.chance(0.6) ? mutateJson(base, rng, 2) : base;
  const mesh = devices === 2 ? "local" : "p100x16";
  const small = mlp.small!;
  const cmd = rng.weighted<{ argv: string[]; outputs: string[] }>([
    [3, { argv: ["simulate", "mlp.par", ...small, "--strategy", "s.json", ...(rng.chance(0.5) ? ["--mesh", mesh] : [])], outputs: [] }],
    [2, { argv: ["strategy", "import", "s.json", "--model-file", "mlp.par", ...small], outputs: [] }],
    [2, { argv: ["compile", "mlp.par", ...small, "--strategy", "s.json", "--mesh", mesh, "--out", "p.json"], outputs: ["p.json"] }],
    [1, { argv: ["diff", "s.json", "s.json", "--model-file", "mlp.par", ...small, "--mesh", mesh], outputs: [] }],
  ]);
  return { family: "strategy-json", files: [{ name: "mlp.par", data: mlp.text }, { name: "s.json", data: text }], ...cmd };
};

const costMutant: Maker = (c, rng) => {
  const mlp = c.par.find((p) => p.name === "mlp.par")!;
  const table = rng.chance(0.85) ? mutateJson(c.costTable(), rng, 2) : c.costTable();
  return {
    family: "cost-json",
    files: [{ name: "mlp.par", data: mlp.text }, { name: "costs.json", data: table }],
    argv: ["simulate", "mlp.par", ...mlp.small!, "--mesh", "local", "--costs", "costs.json"],
    outputs: [],
  };
};

/** Flags with extreme, malformed or near-miss values, and output paths that cannot be written. */
const flagCase: Maker = (c, rng) => {
  const mlp = c.par.find((p) => p.name === "mlp.par")!;
  const value = () => rng.pick([...EXTREME_NUMBERS, "", "x", "1s", "0ms", "-5", "1e3", "10m", "abc=1", "batch=", "=4", "hidden=-3", "batch=99999999999"]);
  const flag = rng.weighted<string[]>([
    [2, ["--budget", value()]],
    [2, ["--set", rng.chance(0.5) ? `batch=${value()}` : value()]],
    [1, ["--seed", value()]],
    [1, ["--mesh", nearMiss(rng.pick(MESHES), rng)]],
    [1, ["--strategy", nearMiss(rng.pick(BASELINES), rng)]],
    [1, ["--optimizer", rng.pick(["adam", "momentum", "sgd", "rmsprop", ""])]],
    [1, ["--steps", value()]],
    [1, ["--batch", value()]],
    [1, ["--input", `x=${value()}`]],
    [1, ["--model", nearMiss("mlp", rng)]],
    [1, [`--${nearMiss("budget", rng)}`, "3"]],
  ]);
  const out = rng.pick(["p.json", "dir", "missing/p.json", "mlp.par", ".", "dir/", "p.json/x"]);
  const argv = rng.weighted<string[]>([
    [3, ["simulate", "mlp.par", ...mlp.small!, ...flag]],
    [2, ["search", "mlp.par", ...mlp.small!, "--mesh", "local", "--budget", "5", ...flag]],
    [2, ["compile", "mlp.par", ...mlp.small!, "--strategy", "dp", "--out", out, ...flag]],
    [1, ["check", "mlp.par", ...flag]],
    [1, ["graph", "mlp.par", "--out", out]],
    [1, ["search", "mlp.par", ...mlp.small!, "--budget", "5", "--out", out, "--trace", out]],
  ]);
  // Only a fresh name is an output the oracle may expect; the others are refusals.
  const outputs = argv.includes("--out") && out === "p.json" ? ["p.json"] : [];
  return { family: "flags", files: [{ name: "mlp.par", data: mlp.text }, { name: "dir/keep", data: "" }], argv, outputs };
};

const meshFile: Maker = (c, rng) => {
  const hybrid = c.par.find((p) => p.name === "hybrid.par")!;
  const mlp = c.par.find((p) => p.name === "mlp.par")!;
  const meshText = hybrid.text.slice(hybrid.text.indexOf("# FlexFlow's P100 cluster"), hybrid.text.indexOf("strategy hybrid"));
  const text = mutatePar(meshText, rng, 3);
  return {
    family: "mesh-par",
    files: [{ name: "mlp.par", data: mlp.text }, { name: "mesh.par", data: text }],
    argv: ["simulate", "mlp.par", ...mlp.small!, "--mesh", "mesh.par", "--strategy", rng.pick(BASELINES)],
    outputs: [],
  };
};

/** The families and their weights (what a run of N cases is made of). */
export const FAMILIES: readonly (readonly [number, Maker])[] = [
  [26, parMutant],
  [8, generatedProgram],
  [8, randomModel],
  [8, randomBytesCase],
  [10, onnxMutant],
  [6, kerasMutant],
  [9, planMutant],
  [10, strategyCase],
  [3, costMutant],
  [8, flagCase],
  [4, meshFile],
];

/** Case `index` of the run with `seed`. */
export function makeCase(corpus: Corpus, seed: number, index: number): FuzzCase {
  const rng = new Rng(seed).fork(index);
  const maker = rng.weighted(FAMILIES);
  return { index, ...maker(corpus, rng, index) };
}
