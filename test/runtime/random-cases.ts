// Random training graphs from the op library and random valid strategies for them, as
// pure functions of integer seeds (fast-check draws the seeds and prints them with the
// failing case, which `describeCase` spells out).
import { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { rng } from "../support/sharded.js";
import { addOp, tt } from "./graphs.js";

export type Family = "mlp" | "seq" | "conv";

export interface RandomCase {
  graph: Graph;
  strategy: Strategy;
  devices: number;
}

function helpers(seed: number) {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  return { r, int, pick };
}

function lastDim(g: Graph, t: string): number {
  const s = g.tensor(t).type.shape;
  return s[s.length - 1];
}

/** Ends the graph with a loss: softmax cross-entropy on a classifier head, or mse. */
function head(g: Graph, h: string, int: (lo: number, hi: number) => number, pick: <T>(xs: readonly T[]) => T): void {
  const lead = g.tensor(h).type.shape.slice(0, -1);
  if (pick(["sce", "mse"] as const) === "sce") {
    const logits = addOp(g, "head", "linear", [h], { out: int(2, 4) });
    g.addInput("labels", tt(lead, "i32"));
    addOp(g, "loss", "softmax_cross_entropy", [logits, "labels"]);
  } else {
    const d = int(1, 3);
    const pred = addOp(g, "head", "linear", [h], { out: d });
    g.addInput("target", tt([...lead, d]));
    addOp(g, "loss", "mse", [pred, "target"]);
  }
}

/** `batch` replaces the drawn batch size (the draws stay the same, so every other choice does too). */
export function randomGraph(seed: number, family: Family, batch?: number): Graph {
  const { int, pick } = helpers(seed);
  const g = new Graph(`${family}-${seed}`);
  let h = "x";
  let n = 0;
  const name = (p: string) => `${p}${n++}`;
  if (family === "mlp") {
    const n0 = int(2, 6);
    g.addInput("x", tt([batch ?? n0, int(2, 6)]));
    const blocks = int(1, 4);
    for (let b = 0; b < blocks; b++) {
      const kind = pick(["linear", "relu", "residual", "matmul", "softmax", "branch"] as const);
      const f = lastDim(g, h);
      if (kind === "linear") h = addOp(g, name("fc"), "linear", [h], { out: int(2, 6), bias: pick([true, false]) });
      else if (kind === "relu") h = addOp(g, name("relu"), "relu", [h]);
      else if (kind === "softmax") h = addOp(g, name("softmax"), "softmax", [h]);
      else if (kind === "residual") h = addOp(g, name("add"), "add", [h, addOp(g, name("fc"), "linear", [h], { out: f })]);
      else if (kind === "matmul") {
        const w = name("w");
        g.addInput(w, tt([f, int(2, 5)]));
        h = addOp(g, name("mm"), "matmul", [h, w]);
      } else {
        const o = int(2, 5);
        const a = addOp(g, name("fc"), "linear", [h], { out: o });
        const c = addOp(g, name("relu"), "relu", [addOp(g, name("fc"), "linear", [h], { out: o })]);
        h = addOp(g, name("add"), "add", [a, c]);
      }
    }
  } else if (family === "seq") {
    const heads = int(1, 2);
    const n0 = int(1, 3);
    g.addInput("x", tt([batch ?? n0, int(2, 4), heads * int(1, 3)]));
    const blocks = int(1, 2);
    for (let b = 0; b < blocks; b++) {
      const a = addOp(g, name("attn"), "attention", [h], { heads, causal: pick([true, false]), bias: pick([true, false]) });
      h = addOp(g, name("add"), "add", [h, a]);
      if (pick([true, false])) h = addOp(g, name("relu"), "relu", [addOp(g, name("fc"), "linear", [h], { out: lastDim(g, h) })]);
    }
  } else {
    const n0 = int(1, 3);
    g.addInput("x", tt([batch ?? n0, int(1, 3), int(4, 6), int(4, 6)]));
    h = addOp(g, name("conv"), "conv2d", [h], { out: int(1, 3), kernel: [3], padding: [pick([0, 1])], stride: [pick([1, 2])] });
    h = addOp(g, name("relu"), "relu", [h]);
    const s = g.tensor(h).type.shape;
    if (s[2] >= 2 && s[3] >= 2) h = addOp(g, name("pool"), "pool2d", [h], { mode: pick(["max", "avg"]), kernel: [2] });
    h = addOp(g, name("flat"), "flatten", [h]);
  }
  head(g, h, int, pick);
  return g;
}

/** Random degrees for every splittable dim (uneven splits included; at most `maxTasks` tasks per op) and random placements. */
export function randomStrategy(g: Graph, seed: number, devices: number, maxTasks = 6): Strategy {
  const { int } = helpers(seed);
  const ops: Strategy["ops"] = {};
  for (const o of g.topoOrder()) {
    let tasks = 1;
    const degrees = o.sig.space.map((d) => {
      if (d.splittable === false) return 1;
      const cap = Math.min(d.size, Math.floor(maxTasks / tasks), 3);
      const deg = cap <= 1 ? 1 : int(1, cap);
      tasks *= deg;
      return deg;
    });
    ops[o.name] = { degrees, devices: Array.from({ length: tasks }, () => int(0, devices - 1)) };
  }
  return { name: `random-${seed}`, model: g.name, mesh: `cpu${devices}`, ops };
}

export function randomCase(graphSeed: number, family: Family, strategySeed: number, devices: number): RandomCase {
  const graph = randomGraph(graphSeed, family);
  return { graph, strategy: randomStrategy(graph, strategySeed, devices), devices };
}

export function describeCase(c: RandomCase): string {
  const lines = c.graph.topoOrder().map((o) => {
    const s = c.strategy.ops[o.name];
    const inputs = o.inputs.map((t) => `${t}[${c.graph.tensor(t).type.shape.join(",")}]`).join(", ");
    return `  ${o.name} = ${o.op}(${inputs}) ${JSON.stringify(o.attrs)} degrees ${o.sig.space.map((d, i) => `${d.name}=${s.degrees[i]}`).join(" ")} devices [${s.devices.join(",")}]`;
  });
  return `${c.graph.name} on ${c.devices} devices:\n${lines.join("\n")}`;
}
