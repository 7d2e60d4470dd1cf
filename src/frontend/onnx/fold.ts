// Constant folding of ONNX shape computations. Exporters compute the targets of Reshape and
// Expand at run time (Shape → Gather → Unsqueeze → Concat → Reshape, for `x.view(b, -1)`);
// par needs them as numbers. Once input shapes are bound (model dims, --input, --batch),
// every shape in the graph is static, so `Shape(x)` is a constant and the whole chain
// folds. Folding is exact on int64 values (JS numbers, exact below 2^53) and float32
// arithmetic (Math.fround) on float constants, with a cap on the elements a folded value
// may have so that a hostile model cannot make the importer allocate without bound.

import { type OnnxAttr, type OnnxTensor, isFloatDType } from "./decode.js";
import { elementsOf, floatsOf, hasData, intsOf } from "./tensor-data.js";

export interface ConstValue {
  dtype: "float" | "int";
  shape: number[];
  data: number[];
  /** The initializers this value was computed from (a parameter initialised with it trains them). */
  sources?: string[];
}

export const MAX_FOLD_ELEMENTS = 1 << 20;

/** The ops `foldConst` evaluates when all their inputs are constant. */
export const FOLDABLE = new Set([
  "Constant", "ConstantOfShape", "Shape", "Size", "Gather", "Slice", "Concat", "Unsqueeze", "Squeeze", "Cast", "Range", "Reshape",
  "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Neg", "Equal", "Less", "Greater", "Where", "Identity", "Expand", "Transpose", "Floor", "Ceil", "Abs", "Min", "Max", "Not", "Flatten", "Tile",
  "Mod", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Sin", "Cos", "Exp", "Log", "Reciprocal", "Sign", "Round", "Trilu", "ScatterND", "CumSum",
  "ReduceSum", "ReduceProd", "ReduceMax", "ReduceMin",
]);

export class FoldError extends Error {
  constructor(
    readonly code: "PAR6016" | "PAR6017" | "PAR6019",
    message: string,
  ) {
    super(message);
  }
}

export function volumeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A tensor's data as a constant, or undefined when its data is external and missing. */
export function constOfTensor(t: OnnxTensor): ConstValue | undefined {
  if (!hasData(t)) return undefined;
  const n = elementsOf(t);
  if (n > MAX_FOLD_ELEMENTS) throw new FoldError("PAR6019", `constant \`${t.name}\` has ${n} elements, more than ${MAX_FOLD_ELEMENTS} to fold`);
  if (isFloatDType(t.dataType)) return { dtype: "float", shape: [...t.dims], data: Array.from(floatsOf(t)), sources: [t.name] };
  return { dtype: "int", shape: [...t.dims], data: intsOf(t), sources: [t.name] };
}

function make(dtype: "float" | "int", shape: number[], data: number[]): ConstValue {
  if (data.length > MAX_FOLD_ELEMENTS) throw new FoldError("PAR6019", `a folded constant would have ${data.length} elements, more than ${MAX_FOLD_ELEMENTS}`);
  return { dtype, shape, data };
}

function checkSize(shape: number[]): void {
  const n = volumeOf(shape);
  if (!(n <= MAX_FOLD_ELEMENTS)) throw new FoldError("PAR6019", `a folded constant would have ${n} elements, more than ${MAX_FOLD_ELEMENTS}`);
}

const strides = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};

/** A possibly negative ONNX axis as an index in [0, rank). */
export const normAxis = (a: number, rank: number): number => (a < 0 ? a + rank : a);

/** NumPy broadcast of two shapes, or undefined. */
export function broadcast(a: readonly number[], b: readonly number[]): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(Math.max(x, y));
  }
  return out;
}

/** Broadcasts `v` to `shape`. */
function broadcastTo(v: ConstValue, shape: number[]): number[] {
  checkSize(shape);
  const n = volumeOf(shape);
  const off = shape.length - v.shape.length;
  const vs = strides(v.shape);
  const os = strides(shape);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let a = 0; a < v.shape.length; a++) {
      const idx = Math.floor(i / os[a + off]) % shape[a + off];
      src += (v.shape[a] === 1 ? 0 : idx) * vs[a];
    }
    out[i] = v.data[src];
  }
  return out;
}

function binary(a: ConstValue, b: ConstValue, f: (x: number, y: number) => number, outType?: "int"): ConstValue {
  const shape = broadcast(a.shape, b.shape);
  if (!shape) throw new FoldError("PAR6017", `cannot broadcast constants [${a.shape.join(", ")}] and [${b.shape.join(", ")}]`);
  const x = broadcastTo(a, shape);
  const y = broadcastTo(b, shape);
  const dtype = outType ?? a.dtype;
  const round = dtype === "float" ? Math.fround : (v: number) => v;
  return make(dtype, shape, x.map((v, i) => round(f(v, y[i]))));
}

function intDiv(x: number, y: number): number {
  if (y === 0) throw new FoldError("PAR6017", "integer division by zero while folding constants");
  return Math.trunc(x / y);
}

/** Elements of `v` along `axis` at indices `idx` (Gather semantics for a 1-D index list). */
function take(v: ConstValue, axis: number, idx: number[], idxShape: number[]): ConstValue {
  const outer = volumeOf(v.shape.slice(0, axis));
  const inner = volumeOf(v.shape.slice(axis + 1));
  const n = v.shape[axis];
  const shape = [...v.shape.slice(0, axis), ...idxShape, ...v.shape.slice(axis + 1)];
  checkSize(shape);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of idx) {
      const i = raw < 0 ? raw + n : raw;
      if (i < 0 || i >= n) throw new FoldError("PAR6017", `Gather index ${raw} out of range for an axis of ${n}`);
      for (let k = 0; k < inner; k++) out.push(v.data[(o * n + i) * inner + k]);
    }
  }
  return make(v.dtype, shape, out);
}

/** Python-style clamped slice bounds for one axis (ONNX Slice semantics, step ≠ 0). */
export function sliceBounds(dim: number, start: number, end: number, step: number): { start: number; end: number; count: number } {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, -1), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  const count = step > 0 ? Math.max(0, Math.ceil((e - s) / step)) : Math.max(0, Math.ceil((s - e) / -step));
  return { start: s, end: e, count };
}

function sliceConst(v: ConstValue, starts: number[], ends: number[], axes: number[], steps: number[]): ConstValue {
  const rank = v.shape.length;
  const ranges = v.shape.map((d) => ({ start: 0, step: 1, count: d }));
  axes.forEach((a0, k) => {
    const a = normAxis(a0, rank);
    const step = steps[k] ?? 1;
    if (step === 0) throw new FoldError("PAR6017", "Slice step 0");
    const b = sliceBounds(v.shape[a], starts[k], ends[k], step);
    ranges[a] = { start: b.start, step, count: b.count };
  });
  const shape = ranges.map((r) => r.count);
  checkSize(shape);
  const vs = strides(v.shape);
  const os = strides(shape);
  const n = volumeOf(shape);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let a = 0; a < rank; a++) src += (ranges[a].start + (Math.floor(i / os[a]) % shape[a]) * ranges[a].step) * vs[a];
    out[i] = v.data[src];
  }
  return make(v.dtype, shape, out);
}

/** A Reshape target with ONNX's 0 (copy) and -1 (infer) resolved against `input`. */
export function resolveReshape(input: readonly number[], target: readonly number[], allowZero: boolean): number[] | string {
  const out = target.map((t, i) => (t === 0 && !allowZero ? input[i] : t));
  if (out.some((d) => d === undefined)) return "a 0 in the target copies an axis the input lacks";
  const minus = out.filter((d) => d === -1).length;
  if (minus > 1) return "more than one -1";
  const total = volumeOf(input);
  const known = volumeOf(out.filter((d) => d !== -1));
  if (minus === 1) {
    if (known === 0 || total % known !== 0) return `cannot infer -1: ${total} elements into [${target.join(", ")}]`;
    return out.map((d) => (d === -1 ? total / known : d));
  }
  if (known !== total) return `${total} elements cannot take shape [${out.join(", ")}]`;
  return out;
}

function ints(a: OnnxAttr | undefined): number[] | undefined {
  return a?.ints ?? (a?.i !== undefined ? [a.i] : undefined);
}

/**
 * Evaluates one node on constant inputs (`inputs[i]` undefined = an optional input left
 * out). For `Shape` and `Size`, `inputShape` is the (static) shape of the input tensor,
 * which need not be constant itself. Throws FoldError with a coded message.
 */
export function foldConst(opType: string, attrs: Map<string, OnnxAttr>, inputs: (ConstValue | undefined)[], opset: number, inputShape?: number[]): ConstValue[] {
  const [a, b] = inputs;
  const need = (v: ConstValue | undefined, what: string): ConstValue => {
    if (!v) throw new FoldError("PAR6017", `${opType} needs its ${what} input`);
    return v;
  };
  switch (opType) {
    case "Constant": {
      const at = attrs.get("value");
      if (at?.t) {
        const c = constOfTensor(at.t);
        if (!c) throw new FoldError("PAR6017", "Constant with external data");
        delete c.sources;
        return [c];
      }
      const fv = attrs.get("value_float");
      if (fv?.f !== undefined) return [make("float", [], [fv.f])];
      const fs = attrs.get("value_floats");
      if (fs?.floats) return [make("float", [fs.floats.length], fs.floats.map(Math.fround))];
      const iv = attrs.get("value_int");
      if (iv?.i !== undefined) return [make("int", [], [iv.i])];
      const is = attrs.get("value_ints");
      if (is?.ints) return [make("int", [is.ints.length], is.ints)];
      throw new FoldError("PAR6016", "Constant without a tensor, float or int value (sparse and string constants are not supported)");
    }
    case "Shape": {
      if (!inputShape) throw new FoldError("PAR6017", "Shape of a tensor whose shape is not static");
      const r = inputShape.length;
      const s = attrs.get("start")?.i ?? 0;
      const e = attrs.get("end")?.i ?? r;
      const b0 = sliceBounds(r, s, e, 1);
      return [make("int", [b0.count], inputShape.slice(b0.start, b0.start + b0.count))];
    }
    case "Size":
      if (!inputShape) throw new FoldError("PAR6017", "Size of a tensor whose shape is not static");
      return [make("int", [], [volumeOf(inputShape)])];
    case "ConstantOfShape": {
      const shape = need(a, "shape").data;
      checkSize(shape);
      const t = attrs.get("value")?.t;
      const fill = t ? constOfTensor(t) : undefined;
      const dtype = fill?.dtype ?? (t && !isFloatDType(t.dataType) ? "int" : "float");
      return [make(dtype, [...shape], new Array<number>(volumeOf(shape)).fill(fill?.data[0] ?? 0))];
    }
    case "Identity":
      return [need(a, "data")];
    case "Cast": {
      const to = attrs.get("to")?.i ?? 1;
      const v = need(a, "data");
      if (isFloatDType(to)) return [make("float", v.shape, v.data.map(Math.fround))];
      return [make("int", v.shape, v.data.map((x) => (to === 9 ? (x !== 0 ? 1 : 0) : Math.trunc(x))))];
    }
    case "Gather": {
      const v = need(a, "data");
      const idx = need(b, "indices");
      const axis = normAxis(attrs.get("axis")?.i ?? 0, v.shape.length);
      return [take(v, axis, idx.data, idx.shape)];
    }
    case "Slice": {
      const v = need(a, "data");
      let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
      if (opset < 10) {
        starts = ints(attrs.get("starts")) ?? [];
        ends = ints(attrs.get("ends")) ?? [];
        axes = ints(attrs.get("axes"));
      } else {
        starts = need(a && inputs[1], "starts").data;
        ends = need(inputs[2], "ends").data;
        axes = inputs[3]?.data;
        steps = inputs[4]?.data;
      }
      return [sliceConst(v, starts, ends, axes ?? starts.map((_, i) => i), steps ?? starts.map(() => 1))];
    }
    case "Concat": {
      const vs = inputs.map((v) => need(v, "data"));
      const rank = vs[0].shape.length;
      const axis = normAxis(attrs.get("axis")?.i ?? 0, rank);
      const outer = volumeOf(vs[0].shape.slice(0, axis));
      const shape = [...vs[0].shape];
      shape[axis] = vs.reduce((s, v) => s + v.shape[axis], 0);
      checkSize(shape);
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const v of vs) {
          const chunk = volumeOf(v.shape.slice(axis));
          for (let k = 0; k < chunk; k++) out.push(v.data[o * chunk + k]);
        }
      }
      return [make(vs.some((v) => v.dtype === "float") ? "float" : "int", shape, out)];
    }
    case "Unsqueeze": {
      const v = need(a, "data");
      const axes = (opset >= 13 ? need(b, "axes").data : ints(attrs.get("axes")) ?? []).map((x) => normAxis(x, v.shape.length + ((opset >= 13 ? b!.data.length : attrs.get("axes")?.ints?.length) ?? 0)));
      const shape = [...v.shape];
      for (const ax of [...axes].sort((x, y) => x - y)) shape.splice(ax, 0, 1);
      return [make(v.dtype, shape, v.data)];
    }
    case "Squeeze": {
      const v = need(a, "data");
      const given = opset >= 13 ? b?.data : ints(attrs.get("axes"));
      const axes = given ? given.map((x) => normAxis(x, v.shape.length)) : v.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
      return [make(v.dtype, v.shape.filter((_, i) => !axes.includes(i)), v.data)];
    }
    case "Flatten": {
      const v = need(a, "data");
      const axis = normAxis(attrs.get("axis")?.i ?? 1, v.shape.length);
      return [make(v.dtype, [volumeOf(v.shape.slice(0, axis)), volumeOf(v.shape.slice(axis))], v.data)];
    }
    case "Reshape": {
      const v = need(a, "data");
      const target = resolveReshape(v.shape, need(b, "shape").data, (attrs.get("allowzero")?.i ?? 0) === 1);
      if (typeof target === "string") throw new FoldError("PAR6017", `Reshape: ${target}`);
      return [make(v.dtype, target, v.data)];
    }
    case "Expand": {
      const v = need(a, "data");
      const shape = broadcast(v.shape, need(b, "shape").data);
      if (!shape) throw new FoldError("PAR6017", "Expand to a shape that does not broadcast");
      return [make(v.dtype, shape, broadcastTo(v, shape))];
    }
    case "Tile": {
      const v = need(a, "data");
      const reps = need(b, "repeats").data;
      const shape = v.shape.map((d, i) => d * reps[i]);
      checkSize(shape);
      const vs = strides(v.shape);
      const os = strides(shape);
      const out = new Array<number>(volumeOf(shape));
      for (let i = 0; i < out.length; i++) {
        let src = 0;
        for (let ax = 0; ax < shape.length; ax++) src += ((Math.floor(i / os[ax]) % shape[ax]) % v.shape[ax]) * vs[ax];
        out[i] = v.data[src];
      }
      return [make(v.dtype, shape, out)];
    }
    case "Transpose": {
      const v = need(a, "data");
      const r = v.shape.length;
      const perm = ints(attrs.get("perm")) ?? v.shape.map((_, i) => r - 1 - i);
      return [transposeConst(v, perm)];
    }
    case "Range": {
      const [s, l, d] = [need(a, "start").data[0], need(b, "limit").data[0], need(inputs[2], "delta").data[0]];
      if (d === 0) throw new FoldError("PAR6017", "Range with delta 0");
      const n = Math.max(0, Math.ceil((l - s) / d));
      if (n > MAX_FOLD_ELEMENTS) throw new FoldError("PAR6019", `Range of ${n} elements, more than ${MAX_FOLD_ELEMENTS}`);
      return [make(a!.dtype, [n], Array.from({ length: n }, (_, i) => s + i * d))];
    }
    case "Add": return [binary(need(a, "A"), need(b, "B"), (x, y) => x + y)];
    case "Sub": return [binary(need(a, "A"), need(b, "B"), (x, y) => x - y)];
    case "Mul": return [binary(need(a, "A"), need(b, "B"), (x, y) => x * y)];
    case "Div": return [binary(need(a, "A"), need(b, "B"), a!.dtype === "int" ? intDiv : (x, y) => x / y)];
    case "Pow": return [binary(need(a, "X"), need(b, "Y"), (x, y) => x ** y)];
    case "Min": return [inputs.map((v) => need(v, "data")).reduce((x, y) => binary(x, y, Math.min))];
    case "Max": return [inputs.map((v) => need(v, "data")).reduce((x, y) => binary(x, y, Math.max))];
    case "Equal": return [binary(need(a, "A"), need(b, "B"), (x, y) => (x === y ? 1 : 0), "int")];
    case "Less": return [binary(need(a, "A"), need(b, "B"), (x, y) => (x < y ? 1 : 0), "int")];
    case "Greater": return [binary(need(a, "A"), need(b, "B"), (x, y) => (x > y ? 1 : 0), "int")];
    case "Not": { const v = need(a, "X"); return [make("int", v.shape, v.data.map((x) => (x ? 0 : 1)))]; }
    case "Where": {
      const c = need(a, "condition");
      const x = need(b, "X");
      const y = need(inputs[2], "Y");
      const shape = broadcast(broadcast(c.shape, x.shape) ?? [], y.shape);
      if (!shape) throw new FoldError("PAR6017", "Where operands do not broadcast");
      const cc = broadcastTo(c, shape);
      const xx = broadcastTo(x, shape);
      const yy = broadcastTo(y, shape);
      return [make(x.dtype, shape, cc.map((v, i) => (v ? xx[i] : yy[i])))];
    }
    case "Sqrt": { const v = need(a, "X"); return [make(v.dtype, v.shape, v.data.map((x) => Math.fround(Math.sqrt(x))))]; }
    case "Neg": { const v = need(a, "X"); return [make(v.dtype, v.shape, v.data.map((x) => -x))]; }
    case "Abs": { const v = need(a, "X"); return [make(v.dtype, v.shape, v.data.map(Math.abs))]; }
    case "Floor": { const v = need(a, "X"); return [make(v.dtype, v.shape, v.data.map(Math.floor))]; }
    case "Mod": {
      const fmod = (attrs.get("fmod")?.i ?? 0) === 1;
      // fmod: C's remainder (the dividend's sign); otherwise Python's % (the divisor's sign).
      return [binary(need(a, "A"), need(b, "B"), (x, y) => {
        if (y === 0 && a!.dtype === "int") throw new FoldError("PAR6017", "integer Mod by zero while folding constants");
        return fmod ? x % y : x - y * Math.floor(x / y);
      })];
    }
    case "LessOrEqual": return [binary(need(a, "A"), need(b, "B"), (x, y) => (x <= y ? 1 : 0), "int")];
    case "GreaterOrEqual": return [binary(need(a, "A"), need(b, "B"), (x, y) => (x >= y ? 1 : 0), "int")];
    case "And": return [binary(need(a, "A"), need(b, "B"), (x, y) => (x && y ? 1 : 0), "int")];
    case "Or": return [binary(need(a, "A"), need(b, "B"), (x, y) => (x || y ? 1 : 0), "int")];
    case "Xor": return [binary(need(a, "A"), need(b, "B"), (x, y) => (!x !== !y ? 1 : 0), "int")];
    case "Sin": return [mapFloat(need(a, "X"), Math.sin)];
    case "Cos": return [mapFloat(need(a, "X"), Math.cos)];
    case "Exp": return [mapFloat(need(a, "X"), Math.exp)];
    case "Log": return [mapFloat(need(a, "X"), Math.log)];
    case "Reciprocal": return [mapFloat(need(a, "X"), (x) => 1 / x)];
    case "Sign": { const v = need(a, "X"); return [make(v.dtype, v.shape, v.data.map(Math.sign))]; }
    // Halves to even, as ONNX Round.
    case "Round": { const v = need(a, "X"); return [make(v.dtype, v.shape, v.data.map((x) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x))))]; }
    case "Trilu": return [trilu(need(a, "input"), b ? b.data[0] : 0, (attrs.get("upper")?.i ?? 1) === 1)];
    case "ScatterND": {
      const reduction = attrs.get("reduction")?.s ?? "none";
      if (!Object.hasOwn(SCATTER_COMBINE, reduction)) throw new FoldError("PAR6016", `ScatterND with reduction ${JSON.stringify(reduction)} (ONNX has ${Object.keys(SCATTER_COMBINE).join(", ")})`);
      return [scatterND(need(a, "data"), need(b, "indices"), need(inputs[2], "updates"), SCATTER_COMBINE[reduction])];
    }
    case "CumSum": {
      const v = need(a, "x");
      const axis = normAxis(need(b, "axis").data[0], v.shape.length);
      return [cumsum(v, axis, (attrs.get("exclusive")?.i ?? 0) === 1, (attrs.get("reverse")?.i ?? 0) === 1)];
    }
    case "ReduceSum": case "ReduceProd": case "ReduceMax": case "ReduceMin": {
      const v = need(a, "data");
      // ReduceSum takes its axes as an input since opset 13, the others since 18.
      const given = opType === "ReduceSum" && opset >= 13 ? b?.data : ints(attrs.get("axes"));
      if ((!given || given.length === 0) && (attrs.get("noop_with_empty_axes")?.i ?? 0) === 1) return [v];
      const axes = given && given.length ? given.map((x) => normAxis(x, v.shape.length)) : v.shape.map((_, i) => i);
      const keep = (attrs.get("keepdims")?.i ?? 1) === 1;
      const f = opType === "ReduceSum" ? (x: number, y: number) => x + y : opType === "ReduceProd" ? (x: number, y: number) => x * y : opType === "ReduceMax" ? Math.max : Math.min;
      return [reduceConst(v, axes, keep, f)];
    }
    case "Ceil": { const v = need(a, "X"); return [make(v.dtype, v.shape, v.data.map(Math.ceil))]; }
    default:
      throw new FoldError("PAR6017", `${opType} is not constant-folded`);
  }
}

/** An elementwise function of a float constant, rounded to float32 (integers stay exact). */
function mapFloat(v: ConstValue, f: (x: number) => number): ConstValue {
  return make("float", v.shape, v.data.map((x) => Math.fround(f(x))));
}

/** Row-major (outer, axis, inner) sizes of `shape` around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [volumeOf(shape.slice(0, axis)), shape[axis], volumeOf(shape.slice(axis + 1))];
}

/** ONNX Trilu: keeps the upper (column − row ≥ k) or lower (column − row ≤ k) triangle of the last two axes. */
function trilu(v: ConstValue, k: number, upper: boolean): ConstValue {
  const r = v.shape.length;
  if (r < 2) throw new FoldError("PAR6017", `Trilu of a rank-${r} constant (it needs rank ≥ 2)`);
  const [rows, cols] = [v.shape[r - 2], v.shape[r - 1]];
  return make(v.dtype, v.shape, v.data.map((x, idx) => {
    const j = idx % cols;
    const i = Math.floor(idx / cols) % rows;
    return (upper ? j - i >= k : j - i <= k) ? x : 0;
  }));
}

/** ONNX ScatterND: data with the slices that `indices` (last axis: a prefix of data's axes) name replaced by, or combined with, `updates`. */
/** ScatterND's reductions (none, add, mul; max and min from opset 18): an update combined with the value it lands on. */
const SCATTER_COMBINE: Readonly<Record<string, (x: number, y: number) => number>> = {
  none: (_x, y) => y,
  add: (x, y) => x + y,
  mul: (x, y) => x * y,
  max: (x, y) => Math.max(x, y),
  min: (x, y) => Math.min(x, y),
};

function scatterND(data: ConstValue, indices: ConstValue, updates: ConstValue, combine: (x: number, y: number) => number): ConstValue {
  const q = indices.shape[indices.shape.length - 1];
  const slice = volumeOf(data.shape.slice(q));
  const count = volumeOf(indices.shape.slice(0, -1));
  if (updates.data.length !== count * slice) throw new FoldError("PAR6017", `ScatterND updates of shape [${updates.shape.join(", ")}] do not fit ${count} slices of ${slice}`);
  const st = strides(data.shape);
  const out = [...data.data];
  for (let n = 0; n < count; n++) {
    let off = 0;
    for (let a = 0; a < q; a++) {
      const raw = indices.data[n * q + a];
      const idx = raw < 0 ? raw + data.shape[a] : raw;
      if (idx < 0 || idx >= data.shape[a]) throw new FoldError("PAR6017", `ScatterND index ${raw} out of range for an axis of ${data.shape[a]}`);
      off += idx * st[a];
    }
    for (let k = 0; k < slice; k++) out[off + k] = combine(out[off + k], updates.data[n * slice + k]);
  }
  return make(data.dtype, data.shape, data.dtype === "float" ? out.map(Math.fround) : out);
}

/** ONNX CumSum along `axis`, optionally exclusive (the element itself left out) and reversed. */
function cumsum(v: ConstValue, axis: number, exclusive: boolean, reverse: boolean): ConstValue {
  const [outer, n, inner] = around(v.shape, axis);
  const out = new Array<number>(v.data.length);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < inner; k++) {
      let acc = 0;
      for (let t = 0; t < n; t++) {
        const i = reverse ? n - 1 - t : t;
        const at = (o * n + i) * inner + k;
        if (exclusive) {
          out[at] = acc;
          acc += v.data[at];
        } else {
          acc += v.data[at];
          out[at] = acc;
        }
      }
    }
  }
  return make(v.dtype, v.shape, v.dtype === "float" ? out.map(Math.fround) : out);
}

/** A reduction of a constant over `axes` (sorted, distinct) with `f`, keeping them as size 1 when `keep`. */
function reduceConst(v: ConstValue, axes: number[], keep: boolean, f: (x: number, y: number) => number): ConstValue {
  const kept = v.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const ks = strides(kept);
  const vs = strides(v.shape);
  const out: (number | undefined)[] = new Array(volumeOf(kept)).fill(undefined);
  for (let i = 0; i < v.data.length; i++) {
    let dst = 0;
    for (let a = 0; a < v.shape.length; a++) if (!axes.includes(a)) dst += (Math.floor(i / vs[a]) % v.shape[a]) * ks[a];
    out[dst] = out[dst] === undefined ? v.data[i] : f(out[dst]!, v.data[i]);
  }
  const shape = keep ? kept : v.shape.filter((_, i) => !axes.includes(i));
  const data = out.map((x) => x ?? 0);
  return make(v.dtype, shape, v.dtype === "float" ? data.map(Math.fround) : data);
}

export function transposeConst(v: ConstValue, perm: number[]): ConstValue {
  const shape = perm.map((p) => v.shape[p]);
  const vs = strides(v.shape);
  const os = strides(shape);
  const n = v.data.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let ax = 0; ax < shape.length; ax++) src += (Math.floor(i / os[ax]) % shape[ax]) * vs[perm[ax]];
    out[i] = v.data[src];
  }
  return { dtype: v.dtype, shape, data: out };
}
