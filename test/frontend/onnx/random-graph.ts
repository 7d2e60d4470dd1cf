// Random small ONNX graphs for the ONNX Runtime oracle property: a recipe (a list of
// choices that fast-check draws and shrinks) is turned, deterministically, into a valid
// graph of supported ops with random shapes, attributes and weights. The builder tracks
// every tensor's shape, so each op is drawn only where it applies and its attributes are
// valid for ONNX (and in forms par imports: this is the supported set, not a fuzzer).
import fc from "fast-check";
import type { NpyArray } from "../../../src/frontend/npy.js";
import { encodeOnnx, floatAttr, floats, intAttr, ints, intsAttr, node, valueInfo } from "./build-onnx.js";

type Obj = Record<string, unknown>;

export interface Step {
  pick: number;
  a: number;
  b: number;
  c: number;
}

export interface Recipe {
  opset: 13 | 14 | 17;
  start: "matrix" | "sequence" | "image" | "tokens";
  steps: Step[];
  /** Also output an earlier tensor (a graph with two outputs). */
  second: boolean;
  seed: number;
}

export const recipeArb: fc.Arbitrary<Recipe> = fc.record({
  opset: fc.constantFrom<Recipe["opset"]>(13, 14, 17),
  start: fc.constantFrom<Recipe["start"]>("matrix", "sequence", "image", "tokens"),
  steps: fc.array(fc.record({ pick: fc.nat(1000), a: fc.nat(1000), b: fc.nat(1000), c: fc.nat(1000) }), { minLength: 1, maxLength: 6 }),
  second: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

interface T {
  name: string;
  shape: number[];
}

export interface RandomModel {
  bytes: Uint8Array;
  inputs: Record<string, NpyArray>;
  /** The op types used, for reports. */
  ops: string[];
}

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const vol = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Builds the graph a recipe describes. */
export function buildRandomModel(r: Recipe): RandomModel {
  const rand = rng(r.seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const nodes: Obj[] = [];
  const inits: Obj[] = [];
  const ops: string[] = [];
  let k = 0;
  const fresh = (p: string) => `${p}${k++}`;
  const weight = (dims: number[], lo = -0.5, hi = 0.5) => {
    const name = fresh("w");
    inits.push(floats(name, dims, Array.from({ length: vol(dims) }, () => uniform(lo, hi))));
    return name;
  };
  const intConst = (values: number[], dims = [values.length]) => {
    const name = fresh("k");
    inits.push(ints(name, values, dims));
    return name;
  };
  /** Adds a node; `extra` more outputs that nothing reads (a training batch norm's running statistics). */
  const emit = (op: string, inputs: string[], shape: number[], attrs: Obj[] = [], extra = 0): T => {
    const out = fresh("t");
    nodes.push(node(op, inputs, [out, ...Array.from({ length: extra }, () => fresh("unused"))], fresh(`${op.toLowerCase()}_`), attrs));
    ops.push(op);
    return { name: out, shape };
  };

  const batch = 2 + (r.seed % 2);
  const dim = (x: number, lo: number, hi: number) => lo + (x % (hi - lo + 1));
  const inputs: Record<string, NpyArray> = {};
  const inputInfos: Obj[] = [];
  let cur: T;
  const h = rng(r.seed ^ 0x5bd1e995);
  const sample = (shape: number[]): NpyArray => ({ dtype: "f4", shape, data: Float32Array.from({ length: vol(shape) }, () => 2 * h() - 1) });
  if (r.start === "tokens") {
    const [t, vocab, d] = [dim(r.seed, 2, 5), dim(r.seed >> 3, 3, 9), dim(r.seed >> 6, 2, 6)];
    inputs.ids = { dtype: "i8", shape: [batch, t], data: BigInt64Array.from({ length: batch * t }, () => BigInt(Math.floor(h() * vocab))) };
    inputInfos.push(valueInfo("ids", ["N", t], 7));
    cur = emit("Gather", [weight([vocab, d], -1, 1), "ids"], [batch, t, d]);
  } else {
    const shape = r.start === "matrix" ? [batch, dim(r.seed, 2, 6)] : r.start === "sequence" ? [batch, dim(r.seed, 2, 5), dim(r.seed >> 4, 2, 6)] : [batch, dim(r.seed, 1, 4), dim(r.seed >> 3, 3, 6), dim(r.seed >> 6, 3, 6)];
    inputs.x = sample(shape);
    inputInfos.push(valueInfo("x", ["N", ...shape.slice(1)]));
    cur = { name: "x", shape };
  }
  const pool: T[] = [cur];

  /** The ops applicable to `x`, each building from a step's choices. */
  const choices = (x: T, s: Step): (() => T)[] => {
    const rank = x.shape.length;
    const last = x.shape[rank - 1];
    const axis = 1 + (s.b % (rank - 1)); // a non-batch axis
    const list: (() => T)[] = [];
    for (const op of ["Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Erf"]) list.push(() => emit(op, [x.name], x.shape));
    list.push(() => emit("LeakyRelu", [x.name], x.shape, [floatAttr("alpha", 0.01 + (s.a % 30) / 100)]));
    list.push(() => emit(s.a % 2 ? "Softmax" : "LogSoftmax", [x.name], x.shape, [intAttr("axis", -1)]));
    list.push(() => emit("Clip", [x.name, weight([], -0.6, -0.1), weight([], 0.1, 0.6)], x.shape));
    // A constant operand: a scalar (scale_shift), or a row broadcast over the last axis (a parameter).
    for (const op of ["Add", "Sub", "Mul"]) {
      list.push(() => {
        const c = s.a % 2 ? weight([]) : weight([last]);
        return emit(op, s.c % 3 === 0 && op !== "Mul" ? [c, x.name] : [x.name, c], x.shape);
      });
    }
    list.push(() => emit("Div", [x.name, s.a % 2 ? weight([], 0.5, 2) : weight([last], 0.5, 2)], x.shape));
    list.push(() => emit("Pow", [x.name, weight([], 2, 2)], x.shape));
    const same = pool.filter((p) => p !== x && p.shape.join() === x.shape.join());
    if (same.length) {
      const y = same[s.a % same.length];
      for (const op of ["Add", "Sub", "Mul", "Max", "Min"]) list.push(() => emit(op, [x.name, y.name], x.shape));
      list.push(() => {
        const shape = [...x.shape];
        shape[axis] *= 2;
        return emit("Concat", [x.name, y.name], shape, [intAttr("axis", axis)]);
      });
    }
    list.push(() => {
      const m = 1 + (s.a % 6);
      const y = emit("MatMul", [x.name, weight([last, m])], [...x.shape.slice(0, -1), m]);
      return s.c % 2 ? emit("Add", [y.name, weight([m])], y.shape) : y;
    });
    if (rank === 2) {
      list.push(() => {
        const m = 1 + (s.a % 6);
        const transB = s.b % 2;
        return emit("Gemm", [x.name, weight(transB ? [m, last] : [last, m]), weight([m])], [x.shape[0], m], [intAttr("transB", transB)]);
      });
    }
    if (rank === 3) {
      // Attention-like: x · xᵀ over the last two axes.
      list.push(() => {
        const t = emit("Transpose", [x.name], [x.shape[0], x.shape[2], x.shape[1]], [intsAttr("perm", [0, 2, 1])]);
        return emit("MatMul", [x.name, t.name], [x.shape[0], x.shape[1], x.shape[1]]);
      });
    }
    list.push(() => {
      const rest = x.shape.slice(1).map((_, i) => i + 1);
      for (let i = rest.length - 1; i > 0; i--) {
        const j = (s.a + i * 7) % (i + 1);
        [rest[i], rest[j]] = [rest[j], rest[i]];
      }
      const perm = [0, ...rest];
      return emit("Transpose", [x.name], perm.map((p) => x.shape[p]), [intsAttr("perm", perm)]);
    });
    if (rank > 2) {
      list.push(() => emit("Reshape", [x.name, intConst([0, -1])], [x.shape[0], vol(x.shape.slice(1))]));
      list.push(() => emit("Flatten", [x.name], [x.shape[0], vol(x.shape.slice(1))], [intAttr("axis", 1)]));
    }
    list.push(() => {
      // Every tensor keeps its batch axis and one more: keepdims = 0 only above rank 2.
      const keep = rank > 2 ? s.a % 2 : 1;
      const shape = keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
      const op = ["ReduceMean", "ReduceSum", "ReduceMax"][s.c % 3];
      if (op === "ReduceSum") return emit(op, [x.name, intConst([axis])], shape, [intAttr("keepdims", keep)]);
      return emit(op, [x.name], shape, [intsAttr("axes", [axis]), intAttr("keepdims", keep)]);
    });
    if (x.shape[axis] >= 2) {
      list.push(() => {
        const n = x.shape[axis];
        const step = 1 + (s.c % 2);
        const start = s.a % (n - 1);
        const end = start + 1 + (s.c % (n - start));
        const shape = [...x.shape];
        shape[axis] = Math.ceil((end - start) / step);
        return emit("Slice", [x.name, intConst([start]), intConst([end]), intConst([axis]), intConst([step])], shape);
      });
    }
    if (rank < 4) list.push(() => emit("Unsqueeze", [x.name, intConst([1])], [x.shape[0], 1, ...x.shape.slice(1)]));
    if (r.opset >= 17) list.push(() => emit("LayerNormalization", [x.name, weight([last], 0.5, 1.5), weight([last])], x.shape, [intAttr("axis", -1), floatAttr("epsilon", 1e-5)]));
    if (rank === 4) {
      const [n, c, hh, ww] = x.shape;
      list.push(() => {
        const depthwise = s.c % 4 === 0 && c > 1;
        const out = depthwise ? c : 1 + (s.a % 4);
        const group = depthwise ? c : 1;
        const kh = 1 + (s.a % 3);
        const kw = 1 + (s.b % 3);
        const stride = 1 + (s.c % 2);
        const dil = 1 + ((s.a >> 2) % 2);
        const pads = [(s.b >> 1) % 2, (s.b >> 2) % 2, (s.b >> 3) % 2, (s.b >> 4) % 2];
        const oh = Math.floor((hh + pads[0] + pads[2] - dil * (kh - 1) - 1) / stride) + 1;
        const ow = Math.floor((ww + pads[1] + pads[3] - dil * (kw - 1) - 1) / stride) + 1;
        if (oh < 1 || ow < 1) return emit("Relu", [x.name], x.shape);
        const inputsConv = [x.name, weight([out, c / group, kh, kw])];
        if (s.a % 2) inputsConv.push(weight([out]));
        return emit("Conv", inputsConv, [n, out, oh, ow], [intsAttr("kernel_shape", [kh, kw]), intsAttr("strides", [stride, stride]), intsAttr("dilations", [dil, dil]), intsAttr("pads", pads), intAttr("group", group)]);
      });
      list.push(() => {
        const kernel = 2 + (s.a % 2);
        const stride = 1 + (s.b % 2);
        const pad = kernel === 3 ? s.c % 2 : 0;
        const oh = Math.floor((hh + 2 * pad - kernel) / stride) + 1;
        const ow = Math.floor((ww + 2 * pad - kernel) / stride) + 1;
        if (oh < 1 || ow < 1) return emit("Relu", [x.name], x.shape);
        const attrs = [intsAttr("kernel_shape", [kernel, kernel]), intsAttr("strides", [stride, stride]), intsAttr("pads", [pad, pad, pad, pad])];
        if (s.c % 3 === 0) return emit("AveragePool", [x.name], [n, c, oh, ow], [...attrs, intAttr("count_include_pad", 1)]);
        return emit("MaxPool", [x.name], [n, c, oh, ow], attrs);
      });
      list.push(() => emit("GlobalAveragePool", [x.name], [n, c, 1, 1]));
      if (r.opset >= 14) {
        list.push(() => emit("BatchNormalization", [x.name, weight([c], 0.5, 1.5), weight([c]), weight([c], 0, 0), weight([c], 1, 1)], x.shape, [intAttr("training_mode", 1), floatAttr("epsilon", 1e-5)], 2));
      }
    }
    return list;
  };

  for (const s of r.steps) {
    const list = choices(cur, s);
    cur = list[s.pick % list.length]();
    pool.push(cur);
  }
  const outputs = [cur.name];
  const earlier = pool.slice(1, -1);
  if (r.second && earlier.length) outputs.push(earlier[r.seed % earlier.length].name);
  const bytes = encodeOnnx({ nodes, inputs: inputInfos, initializers: inits, outputs, opset: r.opset });
  return { bytes, inputs, ops };
}
