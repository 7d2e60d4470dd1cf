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

/** An input domain: any real, positive (x² + 0.5), inside (−0.9, 0.9), or above 1 (x² + 1.5). */
type Domain = boolean | "unit" | "above1";

const unary = (op: string, attrs: Attrs = {}, domain: Domain = false): OpCase =>
  make(op, "unary", (g) => {
    let h = hidden(g, [4, 5]);
    // log, sqrt, rsqrt: a positive input, x² + 0.5.
    if (domain === true) h = one(g, "pos", "scale_shift", [one(g, "sq", "square", [h])], { shift: 0.5 });
    // asin, acos, atanh: 0.9·tanh(x).
    if (domain === "unit") h = one(g, "unit", "scale_shift", [one(g, "th", "tanh", [h])], { scale: 0.9 });
    // acosh: x² + 1.5.
    if (domain === "above1") h = one(g, "ge1", "scale_shift", [one(g, "sq", "square", [h])], { shift: 1.5 });
    return add(g, "op", op, [h], attrs);
  });

/** x[shape] through a 1×1 convolution (channel-first, so the op's input carries a gradient). */
function convHidden(g: Graph, shape: number[], out = shape[1]): string {
  g.addInput("x", tt(shape));
  const n = shape.length - 2;
  return one(g, "pre", `conv${n}d`, ["x"], { out, kernel: [1] });
}

/** Integer operands of a binary op: a ∈ {−3, …, 1} from token ids minus a cast parameter, b ∈ {2, 3}. */
function intOperands(g: Graph): [string, string] {
  g.addInput("ids", tt([4, 5], "i32"));
  const b = one(g, "b", "cast", [one(g, "bf", "scale_shift", [one(g, "bp", "param", [], { shape: [5], init: "uniform", scale: 0.4 })], { shift: 2.5 })], { to: "int" });
  return [one(g, "a", "sub", ["ids", b]), b];
}

/** An integer op's result back in floats, times a float tensor so that a loss sees it. */
function asFloat(g: Graph, t: string, shape: number[]): string[] {
  const h = hidden(g, shape);
  return add(g, "use", "mul", [h, one(g, "tofloat", "cast", [t], { to: "float" })]);
}

/** A comparison or logical result selecting between a float tensor and a parameter. */
function select(g: Graph, cond: string, a: string, shape: number[]): string[] {
  return add(g, "sel", "where", [cond, a, one(g, "alt", "param", [], { shape, init: "uniform", scale: 0.5 })]);
}

const compare = (op: string): OpCase =>
  make(op, "select", (g) => {
    const a = hidden(g, [4, 5]);
    const b = one(g, "b", "param", [], { shape: [5], init: "uniform", scale: 0.5 });
    return select(g, one(g, "op", op, [a, b]), a, [4, 5]);
  });

const logical = (op: string): OpCase =>
  make(op, "select", (g) => {
    const a = hidden(g, [4, 5]);
    const p = one(g, "gt", "greater", [a, one(g, "zero", "param", [], { shape: [1], init: "zeros" })]);
    const q = one(g, "lt", "less", [a, one(g, "b", "param", [], { shape: [5], init: "uniform", scale: 0.5 })]);
    return select(g, op === "logical_not" ? one(g, "op", op, [p]) : one(g, "op", op, [p, q]), a, [4, 5]);
  });

const integerBinary = (op: string): OpCase =>
  make(op, "integers", (g) => {
    const [a, b] = intOperands(g);
    return asFloat(g, one(g, "op", op, [a, b]), [4, 5]);
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
    ...newOpCases(),
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

/** The ops of issue 19 (ONNX coverage): activations, logic, indexing, windows, recurrences. */
function newOpCases(): OpCase[] {
  return [
    unary("hard_sigmoid", { alpha: 0.3, beta: 0.4 }),
    unary("hard_swish"),
    unary("elu", { alpha: 0.7 }),
    unary("selu"),
    unary("celu", { alpha: 0.6 }),
    unary("softplus"),
    unary("softsign"),
    unary("mish"),
    unary("thresholded_relu", { alpha: 0.1 }),
    unary("shrink", { bias: 0.1, lambd: 0.2 }),
    unary("reciprocal", {}, true),
    unary("sin"),
    unary("cos"),
    unary("tan", {}, "unit"),
    unary("asin", {}, "unit"),
    unary("acos", {}, "unit"),
    unary("atan"),
    unary("sinh"),
    unary("cosh"),
    unary("asinh"),
    unary("acosh", {}, "above1"),
    unary("atanh", {}, "unit"),
    unary("floor"),
    unary("ceil"),
    unary("round"),
    unary("sign"),
    binary("mod", [5], "broadcast", { shiftB: 2 }),
    binary("fmod", [4, 5], "same", { shiftB: 2 }),
    integerBinary("div"),
    integerBinary("mod"),
    integerBinary("fmod"),
    make("trilu", "upper-k1", (g) => add(g, "op", "trilu", [hidden(g, [2, 4, 5])], { upper: true, k: 1 })),
    make("trilu", "lower-k-1", (g) => add(g, "op", "trilu", [hidden(g, [3, 4])], { upper: false, k: -1 })),
    compare("equal"),
    compare("less"),
    compare("less_equal"),
    compare("greater"),
    compare("greater_equal"),
    logical("logical_and"),
    logical("logical_or"),
    logical("logical_xor"),
    logical("logical_not"),
    make("is_nan", "select", (g) => {
      const a = hidden(g, [4, 5]);
      return select(g, one(g, "op", "is_nan", [a]), a, [4, 5]);
    }),
    make("is_inf", "select", (g) => {
      const a = hidden(g, [4, 5]);
      return select(g, one(g, "op", "is_inf", [a], { detect_negative: false }), a, [4, 5]);
    }),
    make("where", "broadcast", (g) => {
      const a = hidden(g, [4, 5]);
      const cond = one(g, "c", "greater", [a, one(g, "t", "param", [], { shape: [5], init: "uniform", scale: 0.5 })]);
      return add(g, "op", "where", [cond, a, one(g, "y", "param", [], { shape: [1, 5], init: "uniform", scale: 0.5 })]);
    }),
    make("cast", "float-int-float", (g) => {
      const a = hidden(g, [4, 5]);
      const passed = one(g, "op", "cast", [a], { to: "float" });
      const truncated = one(g, "i", "cast", [one(g, "big", "scale_shift", [a], { scale: 3 })], { to: "int" });
      const bools = one(g, "b", "cast", [truncated], { to: "bool" });
      return [one(g, "m", "mul", [passed, one(g, "f", "cast", [one(g, "s", "add", [truncated, bools])], { to: "float" })])];
    }),
    make("constant", "float-and-int", (g) => {
      const a = hidden(g, [4, 5]);
      const k = one(g, "k", "constant", [], { shape: [4, 5] });
      const ix = one(g, "ix", "constant", [], { shape: [3], dtype: "int" });
      return [one(g, "op", "add", [a, k]), one(g, "t", "take", [a, ix], { axis: 1 })];
    }),
    make("prelu", "channels", (g) => add(g, "op", "prelu", [convHidden(g, [2, 3, 4, 4])], { shape: [3, 1, 1] })),
    make("prelu", "shared", (g) => add(g, "op", "prelu", [hidden(g, [4, 5])], { shape: [1] })),
    make("conv1d", "strided-padded", (g) => add(g, "op", "conv1d", [convHidden(g, [2, 3, 9])], { out: 4, kernel: [3], stride: [2], padding: [1], padding_end: [2] })),
    make("conv1d", "depthwise-dilated", (g) => add(g, "op", "conv1d", [convHidden(g, [2, 4, 8])], { out: 4, kernel: [3], dilation: [2], padding: [2], groups: 4 })),
    make("conv1d", "depthwise-wide", (g) => add(g, "op", "conv1d", [convHidden(g, [2, 4, 6])], { out: 2, kernel: [2], groups: 2 })),
    make("conv3d", "padded", (g) => add(g, "op", "conv3d", [convHidden(g, [1, 2, 4, 4, 4])], { out: 3, kernel: [3], padding: [1] })),
    make("conv3d", "strided-grouped", (g) => add(g, "op", "conv3d", [convHidden(g, [1, 4, 5, 4, 4])], { out: 4, kernel: [2, 3, 3], stride: [2, 1, 1], groups: 2, bias: false })),
    make("conv_transpose1d", "window-grouped", (g) => add(g, "op", "conv_transpose1d", [convHidden(g, [2, 4, 6])], { out: 2, kernel: [3], padding: [1], groups: 2 })),
    make("conv_transpose2d", "block", (g) => add(g, "op", "conv_transpose2d", [convHidden(g, [2, 3, 3, 3])], { out: 2, kernel: [2], stride: [2] })),
    make("conv_transpose2d", "window-dilated", (g) => add(g, "op", "conv_transpose2d", [convHidden(g, [1, 2, 4, 4])], { out: 3, kernel: [3], dilation: [2], padding: [1], padding_end: [2] })),
    make("conv_transpose2d", "whole-output-padding", (g) => add(g, "op", "conv_transpose2d", [convHidden(g, [2, 2, 3, 4])], { out: 3, kernel: [3], stride: [2], padding: [1], output_padding: [1] })),
    make("conv_transpose3d", "block", (g) => add(g, "op", "conv_transpose3d", [convHidden(g, [1, 2, 2, 3, 2])], { out: 2, kernel: [2, 2, 1], stride: [2, 2, 1] })),
    make("pool1d", "max-ceil", (g) => add(g, "op", "pool1d", [convHidden(g, [2, 3, 8])], { mode: "max", kernel: [3], stride: [2], ceil_mode: true })),
    make("pool1d", "avg-exclude-pad", (g) => add(g, "op", "pool1d", [convHidden(g, [2, 3, 7])], { mode: "avg", kernel: [3], stride: [2], padding: [1], ceil_mode: true, count_include_pad: false })),
    make("pool2d", "max-dilated", (g) => add(g, "op", "pool2d", [convHidden(g, [1, 2, 7, 7])], { mode: "max", kernel: [2], stride: [1], dilation: [2] })),
    make("pool2d", "avg-end-pad", (g) => add(g, "op", "pool2d", [convHidden(g, [2, 2, 5, 6])], { mode: "avg", kernel: [2, 3], stride: [2], padding: [0, 1], padding_end: [1, 1], count_include_pad: false })),
    make("pool3d", "max-padded", (g) => add(g, "op", "pool3d", [convHidden(g, [1, 2, 4, 5, 4])], { mode: "max", kernel: [2, 3, 3], stride: [2, 2, 1], padding: [1] })),
    make("pool3d", "avg-ceil", (g) => add(g, "op", "pool3d", [convHidden(g, [1, 2, 5, 4, 4])], { mode: "avg", kernel: [2], ceil_mode: true })),
    make("group_norm", "two-groups", (g) => add(g, "op", "group_norm", [convHidden(g, [2, 4, 3, 3])], { groups: 2 })),
    make("group_norm", "instance", (g) => add(g, "op", "group_norm", [convHidden(g, [2, 3, 5])], { groups: 3 })),
    make("resize", "nearest-up", (g) => add(g, "op", "resize", [convHidden(g, [1, 2, 3, 4])], { size: [6, 8], mode: "nearest", coordinate: "asymmetric", nearest_mode: "floor" })),
    make("resize", "linear-down", (g) => add(g, "op", "resize", [convHidden(g, [1, 2, 8, 6])], { size: [4, 3], mode: "linear" })),
    make("resize", "linear-align-whole", (g) => add(g, "op", "resize", [convHidden(g, [2, 2, 3])], { size: [5], mode: "linear", coordinate: "align_corners" })),
    make("resize", "linear-up-3d", (g) => add(g, "op", "resize", [convHidden(g, [1, 2, 2, 3, 2])], { size: [4, 6, 2], mode: "linear", coordinate: "pytorch_half_pixel" })),
    make("tile", "rows-cols", (g) => add(g, "op", "tile", [hidden(g, [2, 3])], { repeats: [3, 2] })),
    make("depth_to_space", "dcr", (g) => add(g, "op", "depth_to_space", [convHidden(g, [1, 8, 2, 3])], { blocksize: 2 })),
    make("depth_to_space", "crd", (g) => add(g, "op", "depth_to_space", [convHidden(g, [2, 8, 2, 2])], { blocksize: 2, mode: "CRD" })),
    make("space_to_depth", "b2", (g) => add(g, "op", "space_to_depth", [convHidden(g, [1, 2, 4, 6])], { blocksize: 2 })),
    make("reduce_min", "ties", (g) => add(g, "op", "reduce_min", [one(g, "r", "relu", [hidden(g, [3, 4, 5])])], { axes: [1] })),
    make("reduce_prod", "keepdims", (g) => add(g, "op", "reduce_prod", [hidden(g, [3, 4, 5])], { axes: [2], keepdims: true })),
    make("reduce_log_sum_exp", "two-axes", (g) => add(g, "op", "reduce_log_sum_exp", [hidden(g, [3, 4, 5])], { axes: [0, 2] })),
    make("cumsum", "exclusive-reverse", (g) => add(g, "op", "cumsum", [hidden(g, [3, 5])], { axis: 1, exclusive: true, reverse: true })),
    make("cumsum", "integers", (g) => {
      g.addInput("ids", tt([4, 5], "i32"));
      return asFloat(g, one(g, "op", "cumsum", ["ids"], { axis: 0 }), [4, 5]);
    }),
    make("einsum", "batched-contraction", (g) => add(g, "op", "einsum", [hidden(g, [2, 3, 4]), one(g, "w", "param", [], { shape: [2, 5, 4] })], { equation: "bij,bkj->bik" })),
    make("einsum", "implicit-three", (g) => {
      const h = hidden(g, [3, 4]);
      return add(g, "op", "einsum", [h, one(g, "w", "param", [], { shape: [4, 5] }), one(g, "v", "param", [], { shape: [5, 2] })], { equation: "ij,jk,kl" });
    }),
    make("einsum", "ellipsis-broadcast", (g) => add(g, "op", "einsum", [hidden(g, [2, 3, 4]), one(g, "w", "param", [], { shape: [1, 4] })], { equation: "...j,...j->..." })),
    make("take", "negative-indices", (g) => {
      g.addInput("ids", tt([3], "i32"));
      g.addInput("ids2", tt([3], "i32"));
      return add(g, "op", "take", [hidden(g, [4, 5]), one(g, "ix", "sub", ["ids", "ids2"])], { axis: 1 });
    }),
    make("take_along_axis", "shorter", (g) => {
      g.addInput("ids", tt([3, 3], "i32"));
      return add(g, "op", "take_along_axis", [hidden(g, [4, 5]), "ids"], { axis: 1 });
    }),
    make("scatter_nd", "rows", (g) => {
      g.addInput("ids", tt([2, 1], "i32"));
      return add(g, "op", "scatter_nd", [hidden(g, [4, 5]), "ids", one(g, "u", "param", [], { shape: [2, 5] })]);
    }),
    make("scatter_nd", "add-elements", (g) => {
      g.addInput("ids", tt([3, 2], "i32"));
      return add(g, "op", "scatter_nd", [hidden(g, [3, 4]), "ids", one(g, "u", "param", [], { shape: [3] })], { reduction: "add" });
    }),
    make("one_hot", "middle-axis", (g) => {
      g.addInput("ids", tt([4, 3], "i32"));
      const hot = one(g, "op", "one_hot", ["ids"], { depth: 5, axis: 1, on: 2, off: -1 });
      return [one(g, "use", "mul", [hidden(g, [4, 5, 3]), hot])];
    }),
    make("arg_max", "gathered", (g) => {
      const h = hidden(g, [4, 5]);
      return add(g, "pick", "take_along_axis", [h, one(g, "op", "arg_max", [h], { axis: 1 })], { axis: 1 });
    }),
    make("arg_min", "last-ties", (g) => {
      const h = one(g, "r", "relu", [hidden(g, [4, 5])]);
      return add(g, "pick", "take_along_axis", [h, one(g, "op", "arg_min", [h], { axis: 1, select_last_index: true })], { axis: 1 });
    }),
    make("lstm", "reverse-state", (g) => {
      const h0 = one(g, "h0", "param", [], { shape: [2, 3] });
      const c0 = one(g, "c0", "param", [], { shape: [2, 3] });
      return add(g, "op", "lstm", [hidden(g, [2, 4, 3]), h0, c0], { hidden: 3, reverse: true, return_state: true });
    }),
    make("gru", "sequences", (g) => add(g, "op", "gru", [hidden(g, [2, 3, 4])], { hidden: 5 })),
    make("gru", "onnx-reset-reverse-state", (g) => {
      const h0 = one(g, "h0", "param", [], { shape: [2, 3] });
      return add(g, "op", "gru", [hidden(g, [2, 4, 3]), h0], { hidden: 3, linear_before_reset: false, reverse: true, return_state: true, return_sequences: false });
    }),
    make("rnn", "tanh", (g) => add(g, "op", "rnn", [hidden(g, [2, 3, 4])], { hidden: 4 })),
    make("rnn", "relu-state", (g) => {
      const h0 = one(g, "h0", "param", [], { shape: [3, 2] });
      return add(g, "op", "rnn", [hidden(g, [3, 3, 2]), h0], { hidden: 2, nonlinearity: "relu", return_state: true });
    }),
  ];
}
