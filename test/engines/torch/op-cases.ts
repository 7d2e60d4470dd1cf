// One small training graph per op of the registry (some ops have two, for their attribute
// variants): the op reads tensors that carry gradients (from `linear` or `param`), and every
// float output it makes gets an mse head, so forward values, input gradients and weight
// gradients all reach the losses. A test checks that every registered op appears in a case.
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { Graph } from "../../../src/ir/graph.js";
import type { Attrs } from "../../../src/ops/contract.js";
import { getOp } from "../../../src/ops/registry.js";
import { tt } from "../../runtime/graphs.js";

export interface OpCase {
  op: string;
  label: string;
  graph: Graph;
}

/** Adds op `kind` named `name`; returns all its outputs. */
function add(g: Graph, name: string, kind: string, inputs: string[], attrs: Attrs = {}): string[] {
  const entry = getOp(kind);
  if (!entry) throw new Error(`no op ${kind}`);
  const full: Attrs = {};
  for (const a of entry.attrs) if (a.default !== undefined) full[a.name] = a.default;
  Object.assign(full, attrs);
  const diagnostics = new Diagnostics();
  const sig = entry.infer(inputs.map((t) => g.tensor(t).type), full, { opName: name, diagnostics });
  if (!sig) throw new Error(`infer ${name}: ${diagnostics.items.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return g.addOp({ name, op: kind, attrs: full, inputs, sig }).outputs;
}

const one = (g: Graph, name: string, kind: string, inputs: string[], attrs: Attrs = {}): string => add(g, name, kind, inputs, attrs)[0];

/** An mse head on every given float tensor. */
function heads(g: Graph, outs: string[]): void {
  outs.forEach((t, i) => {
    const type = g.tensor(t).type;
    if (type.dtype !== "f32") return;
    g.addInput(`target${i}`, tt([...type.shape]));
    add(g, `loss${i}`, "mse", [t, `target${i}`]);
  });
}

/** x[shape] through a linear layer of width `out` (so the op's input carries a gradient). */
function hidden(g: Graph, shape: number[], out = shape[shape.length - 1]): string {
  g.addInput("x", tt(shape));
  return one(g, "pre", "linear", ["x"], { out });
}

type Build = (g: Graph) => string[];

function make(op: string, label: string, build: Build): OpCase {
  const g = new Graph(`${op}-${label}`);
  heads(g, build(g));
  return { op, label, graph: g };
}

const unary = (op: string, attrs: Attrs = {}, positive = false): OpCase =>
  make(op, "unary", (g) => {
    let h = hidden(g, [4, 5]);
    // log, sqrt, rsqrt: a positive input, x² + 0.5.
    if (positive) h = one(g, "pos", "scale_shift", [one(g, "sq", "square", [h])], { shift: 0.5 });
    return add(g, "op", op, [h], attrs);
  });

const binary = (op: string, bShape: number[], label: string, opts: { positiveA?: boolean; shiftB?: number; zerosB?: boolean; reluA?: boolean } = {}): OpCase =>
  make(op, label, (g) => {
    let a = hidden(g, [4, 5]);
    if (opts.positiveA) a = one(g, "expa", "exp", [a]);
    if (opts.reluA) a = one(g, "relua", "relu", [a]);
    let b = one(g, "b", "param", [], { shape: bShape, init: opts.zerosB ? "zeros" : "uniform", scale: 0.5 });
    if (opts.shiftB !== undefined) b = one(g, "bs", "scale_shift", [b], { shift: opts.shiftB });
    return add(g, "op", op, [a, b]);
  });

export function opCases(): OpCase[] {
  return [
    make("linear", "bias", (g) => add(g, "op", "linear", [hidden(g, [4, 6])], { out: 5 })),
    make("linear", "3d-nobias", (g) => add(g, "op", "linear", [hidden(g, [2, 3, 4])], { out: 5, bias: false })),
    make("matmul", "param-b", (g) => add(g, "op", "matmul", [hidden(g, [4, 5]), one(g, "w", "param", [], { shape: [5, 3] })])),
    make("matmul", "batched-transpose", (g) => add(g, "op", "matmul", [hidden(g, [2, 3, 4]), one(g, "w", "param", [], { shape: [5, 4] })], { transpose_b: true })),
    make("batch_matmul", "plain", (g) => add(g, "op", "batch_matmul", [hidden(g, [2, 3, 4]), one(g, "w", "param", [], { shape: [2, 4, 5] })])),
    make("batch_matmul", "transpose-broadcast", (g) => add(g, "op", "batch_matmul", [hidden(g, [2, 3, 4]), one(g, "w", "param", [], { shape: [1, 5, 4] })], { transpose_b: true })),
    make("conv2d", "pad", (g) => {
      g.addInput("x", tt([2, 3, 6, 6]));
      return add(g, "op", "conv2d", ["x"], { out: 4, kernel: [3], padding: [1] });
    }),
    make("conv2d", "strided-dilated-chain", (g) => {
      g.addInput("x", tt([2, 2, 7, 7]));
      const h = one(g, "c1", "conv2d", ["x"], { out: 4, kernel: [3], padding: [1] });
      return add(g, "op", "conv2d", [h], { out: 3, kernel: [3, 2], stride: [2, 1], dilation: [2, 1], padding: [2, 1] });
    }),
    make("conv2d", "depthwise", (g) => {
      g.addInput("x", tt([2, 4, 5, 5]));
      const h = one(g, "c1", "conv2d", ["x"], { out: 4, kernel: [1] });
      return add(g, "op", "conv2d", [h], { out: 4, kernel: [3], padding: [1], groups: 4 });
    }),
    make("conv2d", "grouped", (g) => {
      g.addInput("x", tt([2, 4, 5, 5]));
      const h = one(g, "c1", "conv2d", ["x"], { out: 4, kernel: [1] });
      return add(g, "op", "conv2d", [h], { out: 6, kernel: [2], groups: 2, bias: false });
    }),
    make("pool2d", "max-ties", (g) => {
      g.addInput("x", tt([2, 3, 6, 6]));
      const h = one(g, "r", "relu", [one(g, "c", "conv2d", ["x"], { out: 3, kernel: [1] })]);
      return add(g, "op", "pool2d", [h], { mode: "max", kernel: [2] });
    }),
    make("pool2d", "avg-padded", (g) => {
      g.addInput("x", tt([2, 3, 7, 7]));
      const h = one(g, "c", "conv2d", ["x"], { out: 3, kernel: [1] });
      return add(g, "op", "pool2d", [h], { mode: "avg", kernel: [3], stride: [2], padding: [1] });
    }),
    make("pool2d", "max-padded", (g) => {
      g.addInput("x", tt([1, 2, 5, 5]));
      const h = one(g, "c", "conv2d", ["x"], { out: 2, kernel: [1] });
      return add(g, "op", "pool2d", [h], { mode: "max", kernel: [3], stride: [2], padding: [1] });
    }),
    make("global_pool", "nchw", (g) => {
      g.addInput("x", tt([2, 3, 4, 4]));
      return add(g, "op", "global_pool", [one(g, "c", "conv2d", ["x"], { out: 3, kernel: [1] })]);
    }),
    make("batchnorm", "composite", (g) => {
      g.addInput("x", tt([4, 3, 2, 2]));
      return add(g, "op", "batchnorm", [one(g, "c", "conv2d", ["x"], { out: 3, kernel: [1] })]);
    }),
    make("batchnorm_apply", "expanded", (g) => {
      // moments → central_moment → batchnorm_apply: batchnorm as the graph builder expands it.
      g.addInput("x", tt([4, 3, 5]));
      const h = one(g, "h", "scale", ["x"], { shape: [3, 1] });
      const mean = one(g, "mean", "moments", [h]);
      const variance = one(g, "var", "central_moment", [h, mean]);
      return add(g, "op", "batchnorm_apply", [h, mean, variance], { eps: 1e-3 });
    }),
    make("layernorm", "last", (g) => add(g, "op", "layernorm", [hidden(g, [3, 4, 6])])),
    make("layernorm", "two-axes", (g) => add(g, "op", "layernorm", [hidden(g, [3, 4, 6])], { axes: 2 })),
    make("embedding", "ids", (g) => {
      g.addInput("ids", tt([4, 3], "i32"));
      return add(g, "op", "embedding", ["ids"], { vocab: 7, dim: 5 });
    }),
    unary("relu"),
    unary("gelu"),
    unary("tanh"),
    unary("sigmoid"),
    unary("exp"),
    unary("log", {}, true),
    unary("sqrt", {}, true),
    unary("rsqrt", {}, true),
    unary("neg"),
    unary("abs"),
    unary("square"),
    unary("leaky_relu", { alpha: 0.2 }),
    unary("clip", { min: -0.3, max: 0.4 }),
    unary("erf"),
    unary("identity"),
    binary("add", [5], "broadcast"),
    binary("sub", [4, 5], "same"),
    binary("mul", [1, 5], "broadcast"),
    binary("div", [5], "broadcast", { shiftB: 2 }),
    binary("pow", [5], "broadcast", { positiveA: true }),
    binary("maximum", [5], "ties", { reluA: true, zerosB: true }),
    binary("minimum", [4, 5], "ties", { reluA: true, zerosB: true }),
    make("softmax_cross_entropy", "labels", (g) => {
      const logits = one(g, "op", "linear", [hidden(g, [6, 4])], { out: 3 });
      g.addInput("labels", tt([6], "i32"));
      add(g, "ce", "softmax_cross_entropy", [logits, "labels"]);
      return [];
    }),
    make("mse", "3d", (g) => [hidden(g, [2, 3, 4])]),
    make("reshape", "merge", (g) => add(g, "op", "reshape", [hidden(g, [2, 3, 4])], { shape: [6, 4] })),
    make("reshape", "split-lead", (g) => add(g, "op", "reshape", [hidden(g, [6, 4])], { shape: [2, 3, 4] })),
    make("flatten", "axis1", (g) => add(g, "op", "flatten", [hidden(g, [2, 3, 4])])),
    make("transpose", "perm", (g) => add(g, "op", "transpose", [hidden(g, [2, 3, 4])], { perm: [0, 2, 1] })),
    make("concat", "two", (g) => {
      const h = hidden(g, [4, 5]);
      return add(g, "op", "concat", [h, one(g, "other", "linear", [h], { out: 3 })], { axis: 1 });
    }),
    make("split", "sizes", (g) => add(g, "op", "split", [hidden(g, [4, 6])], { axis: 1, sizes: [2, 4] })),
    make("slice", "stepped", (g) => add(g, "op", "slice", [hidden(g, [4, 7])], { axis: 1, start: 1, end: 7, step: 2 })),
    make("slice", "axis0", (g) => add(g, "op", "slice", [hidden(g, [6, 3])], { axis: 0, start: -4, end: 6 })),
    make("squeeze", "axis", (g) => add(g, "op", "squeeze", [one(g, "r", "reshape", [hidden(g, [3, 4])], { shape: [3, 1, 4] })], { axes: [1] })),
    make("unsqueeze", "axis", (g) => add(g, "op", "unsqueeze", [hidden(g, [3, 4])], { axes: [1] })),
    make("expand", "rows", (g) => add(g, "op", "expand", [hidden(g, [3, 1])], { shape: [2, 3, 4] })),
    make("broadcast_to", "cols", (g) => add(g, "op", "broadcast_to", [hidden(g, [3, 1])], { shape: [3, 4] })),
    make("pad", "cols", (g) => add(g, "op", "pad", [hidden(g, [3, 4])], { pads: [0, 1, 0, 2] })),
    make("softmax", "last", (g) => add(g, "op", "softmax", [hidden(g, [3, 5])])),
    make("log_softmax", "first", (g) => add(g, "op", "log_softmax", [hidden(g, [3, 5])], { axis: 0 })),
    make("reduce_sum", "axis1", (g) => add(g, "op", "reduce_sum", [hidden(g, [3, 4, 5])], { axes: [1] })),
    make("reduce_mean", "keepdims", (g) => add(g, "op", "reduce_mean", [hidden(g, [3, 4, 5])], { axes: [0, 2], keepdims: true })),
    make("reduce_max", "ties", (g) => add(g, "op", "reduce_max", [one(g, "r", "relu", [hidden(g, [3, 6])])], { axes: [1] })),
    make("dropout", "p03", (g) => add(g, "op", "dropout", [hidden(g, [4, 6])], { p: 0.3, seed: 5 })),
    make("lstm", "sequences", (g) => add(g, "op", "lstm", [hidden(g, [2, 3, 4])], { hidden: 5 })),
    make("lstm", "last", (g) => add(g, "op", "lstm", [hidden(g, [2, 3, 4])], { hidden: 3, return_sequences: false })),
    make("attention", "causal", (g) => add(g, "op", "attention", [hidden(g, [2, 4, 6])], { heads: 2, causal: true })),
    make("attention", "plain-nobias", (g) => add(g, "op", "attention", [hidden(g, [2, 3, 6])], { heads: 3, bias: false })),
    // The LLaMA decoder pieces (src/ops/transformer.ts).
    make("rms_norm", "last", (g) => add(g, "op", "rms_norm", [hidden(g, [3, 4, 6])], { eps: 1e-5 })),
    make("rms_norm", "two-axes", (g) => add(g, "op", "rms_norm", [hidden(g, [3, 4, 6])], { axes: 2 })),
    make("rotary", "two-heads", (g) => add(g, "op", "rotary", [hidden(g, [2, 5, 8])], { head_dim: 4, theta: 100 })),
    make("sdpa", "gqa-causal", (g) => {
      g.addInput("x", tt([2, 4, 6]));
      const q = one(g, "q", "linear", ["x"], { out: 8 });
      const k = one(g, "k", "linear", ["x"], { out: 4 });
      const v = one(g, "v", "linear", ["x"], { out: 4 });
      return add(g, "op", "sdpa", [q, k, v], { heads: 4, kv_heads: 2, causal: true });
    }),
    make("sdpa", "mha-scaled", (g) => {
      g.addInput("x", tt([2, 3, 6]));
      const [q, k, v] = ["q", "k", "v"].map((n) => one(g, n, "linear", ["x"], { out: 6 }));
      return add(g, "op", "sdpa", [q, k, v], { heads: 3, scale: 0.7 });
    }),
    unary("silu"),
    make("bias_add", "vector", (g) => add(g, "op", "bias_add", [hidden(g, [3, 4])], { shape: [4] })),
    make("scale", "row", (g) => add(g, "op", "scale", [hidden(g, [3, 4])], { shape: [1, 4] })),
    make("scale_shift", "consts", (g) => add(g, "op", "scale_shift", [hidden(g, [3, 4])], { scale: 2, shift: -1 })),
    make("param", "alone", (g) => add(g, "op", "param", [], { shape: [3, 4], init: "normal", scale: 0.5 })),
    make("gather", "tied", (g) => {
      g.addInput("ids", tt([3, 2], "i32"));
      return add(g, "op", "gather", [one(g, "w", "param", [], { shape: [2, 4] }), "ids"]);
    }),
    make("lstm_chunk", "state", (g) => {
      const h = 3;
      const x = hidden(g, [2, 3, 2]);
      const p = (name: string, shape: number[]) => one(g, name, "param", [], { shape });
      const w = [p("w_ih", [4 * h, 2]), p("w_hh", [4 * h, h]), p("b_ih", [4 * h]), p("b_hh", [4 * h])];
      const h0 = one(g, "h0", "param", [], { shape: [2, h] });
      const c0 = one(g, "c0", "param", [], { shape: [2, h] });
      return add(g, "op", "lstm_chunk", [x, ...w, h0, c0]);
    }),
  ];
}
