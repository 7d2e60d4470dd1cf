// TensorFlow.js / Keras LayersModel (model.json, keras 2 style) → par Graph.
//
// Layout: Keras images are NHWC, par's conv/pool/batchnorm are NCHW (PyTorch). A 4-D
// model input is transposed to NCHW once, right after the input, and every tensor carries
// a layout flag; layers whose meaning depends on the axis order (Flatten, Reshape, Dense,
// LayerNormalization, Concatenate on a non-channel axis) first transpose an NCHW tensor
// back to NHWC, so that Flatten → Dense sees Keras's element order and the Keras Dense
// kernel applies unchanged. Weights come from the weightsManifest shards (float32,
// little-endian) and are transposed to par layouts: Dense kernel [in, out] as is; Conv2D
// [kh, kw, in, out] → [out, in, kh, kw]; DepthwiseConv2D [kh, kw, C, m] → conv2d with
// groups = C, weight [C·m, 1, kh, kw]; LSTM kernel [in, 4h] (gates i, f, c, o = torch's
// i, f, g, o) → weight_ih [4h, in], recurrent kernel [h, 4h] → weight_hh [4h, h], bias →
// bias_ih (bias_hh stays zero: Keras has one bias).

import type { Diagnostics } from "../../core/diagnostics.js";
import type { Attrs } from "../../ops/contract.js";
import { GraphBuilder, addTrainingLoss, identifierOf, type ImportOptions, type ImportedModel } from "../import-build.js";

type Json = Record<string, unknown>;

interface KLayer {
  name: string;
  className: string;
  config: Json;
  /** Inbound layer names (first call only). */
  inbound: { layer: string; index: number }[];
}

interface Tensor {
  id: string;
  /** True when the tensor is NCHW (a 4-D tensor that Keras sees as NHWC). */
  nchw: boolean;
}

/** Layer class names the importer maps (load-model.ts lists the others of a failed import). */
export const KERAS_LAYERS: ReadonlySet<string> = new Set([
  "InputLayer", "Dense", "Conv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Flatten", "Reshape",
  "Dropout", "BatchNormalization", "LayerNormalization", "Embedding", "LSTM", "Add", "Concatenate", "Activation", "Softmax", "ReLU",
]);

/**
 * Keras activation names and the par op each becomes (null: none, Keras's `linear`).
 * `channelsLast`: the op works on the last axis, so an NCHW tensor goes back to NHWC first.
 */
type ParActivation = { op: string; attrs: Attrs; channelsLast: boolean } | null;
const KERAS_ACTIVATIONS: ReadonlyMap<string, ParActivation> = new Map<string, ParActivation>([
  ["linear", null],
  ["relu", { op: "relu", attrs: {}, channelsLast: false }],
  ["sigmoid", { op: "sigmoid", attrs: {}, channelsLast: false }],
  ["tanh", { op: "tanh", attrs: {}, channelsLast: false }],
  ["gelu", { op: "gelu", attrs: {}, channelsLast: false }],
  ["softmax", { op: "softmax", attrs: { axis: -1 }, channelsLast: true }],
]);

class KerasError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Weights of the manifest, by weight name, as float32 values with their shapes. */
function readWeights(json: Json, readShard: ((path: string) => Uint8Array) | undefined): Map<string, { shape: number[]; data?: Float32Array }> {
  const out = new Map<string, { shape: number[]; data?: Float32Array }>();
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) return out;
  for (const group of manifest) {
    if (!isObj(group) || !Array.isArray(group.weights)) throw new KerasError("PAR6030", "weightsManifest entries need `paths` and `weights`");
    const specs = group.weights as Json[];
    let bytes: Uint8Array | undefined;
    if (readShard && Array.isArray(group.paths)) {
      const parts = (group.paths as string[]).map((p) => {
        try {
          return readShard(p);
        } catch (e) {
          throw new KerasError("PAR6032", `weight shard ${p} cannot be read: ${e instanceof Error ? e.message : String(e)}`);
        }
      });
      bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        bytes.set(p, o);
        o += p.length;
      }
    }
    let offset = 0;
    for (const s of specs) {
      if (!isObj(s) || !(s.shape === undefined || Array.isArray(s.shape))) throw new KerasError("PAR6032", `a weightsManifest weight needs a name and a shape list, got ${JSON.stringify(s)?.slice(0, 80)}`);
      const shape = (s.shape as number[]) ?? [];
      const n = shape.reduce((a, b) => a * b, 1);
      if (!shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 2 ** 31) || n > 2 ** 34) throw new KerasError("PAR6032", `weight ${String(s.name)} has an invalid shape [${shape.join(", ")}]`);
      if ((s.dtype ?? "float32") !== "float32") throw new KerasError("PAR6032", `weight ${String(s.name)} has dtype ${String(s.dtype)} (par reads float32 shards)`);
      const entry: { shape: number[]; data?: Float32Array } = { shape };
      if (bytes) {
        if (offset + 4 * n > bytes.length) throw new KerasError("PAR6032", `weight shard too short: ${String(s.name)} needs bytes ${offset}..${offset + 4 * n}, the shards hold ${bytes.length}`);
        const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 4 * n);
        const data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
        entry.data = data;
      }
      offset += 4 * n;
      out.set(String(s.name), entry);
    }
  }
  return out;
}

function layersOf(json: Json): { layers: KLayer[]; outputs: string[]; name: string } {
  const topo = isObj(json.modelTopology) ? json.modelTopology : json;
  const model = isObj(topo.model_config) ? topo.model_config : topo;
  if (!isObj(model) || typeof model.class_name !== "string" || !isObj(model.config)) throw new KerasError("PAR6030", "no modelTopology.model_config with class_name and config");
  const cfg = model.config;
  const rawLayers = Array.isArray(cfg) ? cfg : cfg.layers;
  if (!Array.isArray(rawLayers)) throw new KerasError("PAR6030", "model config has no `layers` list");
  const sequential = model.class_name === "Sequential";
  const layers: KLayer[] = [];
  for (const [i, l] of rawLayers.entries()) {
    if (!isObj(l) || typeof l.class_name !== "string" || !isObj(l.config)) throw new KerasError("PAR6030", `layer ${i} needs class_name and config`);
    const name = typeof l.config.name === "string" ? l.config.name : typeof l.name === "string" ? l.name : `layer_${i}`;
    let inbound: KLayer["inbound"] = [];
    if (!sequential && Array.isArray(l.inbound_nodes) && l.inbound_nodes.length > 0) {
      const first = l.inbound_nodes[0];
      if (!Array.isArray(first)) throw new KerasError("PAR6030", `layer ${name}: inbound_nodes must be lists`);
      inbound = first.map((e: unknown) => {
        if (!Array.isArray(e) || typeof e[0] !== "string") throw new KerasError("PAR6030", `layer ${name}: malformed inbound node`);
        return { layer: e[0], index: typeof e[2] === "number" ? e[2] : 0 };
      });
    } else if (sequential && layers.length > 0) {
      inbound = [{ layer: layers[layers.length - 1].name, index: 0 }];
    }
    layers.push({ name, className: l.class_name, config: l.config, inbound });
  }
  let outputs: string[];
  if (sequential) outputs = layers.length ? [layers[layers.length - 1].name] : [];
  else outputs = Array.isArray((cfg as Json).output_layers) ? ((cfg as Json).output_layers as unknown[][]).map((o) => String(o[0])) : layers.length ? [layers[layers.length - 1].name] : [];
  const name = typeof (cfg as Json).name === "string" ? ((cfg as Json).name as string) : "keras_model";
  return { layers, outputs, name };
}

/**
 * Imports a TensorFlow.js LayersModel model.json (parsed JSON or its text). `readShard`
 * returns the bytes of a weightsManifest path; without it the graph imports without values.
 */
export function importKeras(json: unknown, file: string, options: ImportOptions, d: Diagnostics, readShard?: (path: string) => Uint8Array): ImportedModel | undefined {
  try {
    const obj = typeof json === "string" ? (JSON.parse(json) as unknown) : json;
    if (!isObj(obj)) throw new KerasError("PAR6030", "model.json must be a JSON object");
    return importKerasModel(obj, file, options, d, readShard);
  } catch (e) {
    if (e instanceof KerasError) {
      d.error(e.code, `${file}: ${e.message}`, { hint: e.hint });
      return undefined;
    }
    if (e instanceof SyntaxError) {
      d.error("PAR6030", `${file}: not JSON: ${e.message}`, { expected: "a TensorFlow.js model.json" });
      return undefined;
    }
    throw e;
  }
}

function importKerasModel(json: Json, file: string, options: ImportOptions, d: Diagnostics, readShard?: (path: string) => Uint8Array): ImportedModel | undefined {
  const { layers, outputs, name } = layersOf(json);
  if (layers.length > 1_000_000) throw new KerasError("PAR6005", `${layers.length} layers, more than the limit`);
  const bad = new Map<string, string[]>();
  for (const l of layers) if (!KERAS_LAYERS.has(l.className)) bad.set(l.className, [...(bad.get(l.className) ?? []), l.name]);
  if (bad.size) {
    const list = [...bad.entries()].sort().map(([c, ns]) => `${c} (${ns.slice(0, 3).join(", ")}${ns.length > 3 ? `, +${ns.length - 3}` : ""})`).join("; ");
    d.error("PAR6010", `${file}: ${bad.size} unsupported Keras layer type${bad.size > 1 ? "s" : ""}: ${list}`, { hint: "see `docs/import.md` for the supported layers" });
    return undefined;
  }
  const names = new Set(layers.map((l) => l.name));
  for (const l of layers) for (const i of l.inbound) if (!names.has(i.layer)) throw new KerasError("PAR6031", `layer ${l.name} reads layer \`${i.layer}\`, which the model does not define`);
  const weights = readWeights(json, readShard);
  const b = new GraphBuilder(identifierOf(name, "keras_model"), d);
  const values = new Map<string, Tensor>();
  const byName = new Map(layers.map((l) => [l.name, l]));
  // Topological order by inbound edges (functional configs list layers in order, but do not
  // rely on it). Depth first with an explicit stack: a model may have a million layers.
  const order: KLayer[] = [];
  const state = new Map<string, number>();
  for (const root of layers) {
    if (state.get(root.name) === 2) continue;
    const stack: { l: KLayer; next: number }[] = [{ l: root, next: 0 }];
    state.set(root.name, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next < top.l.inbound.length) {
        const dep = byName.get(top.l.inbound[top.next++].layer)!;
        if (state.get(dep.name) === 1) throw new KerasError("PAR6012", `layers form a cycle through ${dep.name}`);
        if (state.get(dep.name) !== 2) {
          state.set(dep.name, 1);
          stack.push({ l: dep, next: 0 });
        }
        continue;
      }
      state.set(top.l.name, 2);
      order.push(top.l);
      stack.pop();
    }
  }
  // Sequential models without an InputLayer put batch_input_shape on the first layer.
  const isInput = (l: KLayer) => l.className === "InputLayer" || (l.inbound.length === 0 && (l.config.batch_input_shape ?? l.config.batchInputShape) !== undefined);
  const shapeOf = (l: KLayer): (number | null)[] | undefined => {
    const shape = (l.config.batch_input_shape ?? l.config.batchInputShape) as unknown;
    if (shape === undefined) return undefined;
    if (!Array.isArray(shape) || !shape.every((s) => s === null || (Number.isInteger(s) && s >= 1))) {
      throw new KerasError("PAR6030", `input ${l.name}: batch_input_shape must be a list of positive integers and nulls, got ${JSON.stringify(shape)?.slice(0, 80)}`);
    }
    if (shape.some((s) => s !== null && s > 2 ** 31)) throw new KerasError("PAR6006", `input ${l.name}: a dim of [${shape.join(", ")}] is above 2^31`);
    return shape as (number | null)[];
  };
  // Keras names the implicit input of a Sequential model "<first layer>_input".
  const inputNameOf = (l: KLayer) => (l.className === "InputLayer" ? l.name : `${l.name}_input`);
  const dtypeOf = (l: KLayer) => (l.config.dtype === "int32" || l.config.dtype === "int64" ? "i32" : "f32");
  if (options.bind) {
    const shapes = options.bind(order.filter(isInput).map((l) => ({ name: inputNameOf(l), dtype: dtypeOf(l), dims: shapeOf(l)?.map((s) => s ?? undefined) })));
    if (!shapes) return undefined;
    options = { ...options, inputs: shapes };
  }
  for (const l of order) {
    if (isInput(l)) {
      const shape = shapeOf(l);
      const inputName = inputNameOf(l);
      const given = options.inputs?.[inputName] ?? options.inputs?.[l.name];
      let dims: number[];
      if (given) dims = given;
      else if (!shape) throw new KerasError("PAR6014", `input ${l.name} has no batch_input_shape; give it with --input ${l.name}=...`);
      else {
        const unbound = shape.map((s, i) => (s === null && !(i === 0 && options.batch !== undefined) ? i : -1)).filter((i) => i >= 0);
        if (unbound.length) throw new KerasError("PAR6014", `input ${l.name} [${shape.map((s) => s ?? "?").join("x")}] has unknown dims at axis ${unbound.join(", ")}; bind the batch with --batch N or give --input ${l.name}=...`);
        dims = shape.map((s) => s ?? options.batch!);
      }
      const id = b.input(inputName, dtypeOf(l), dims);
      let t: Tensor = { id, nchw: false };
      if (dims.length === 4 && dtypeOf(l) === "f32") t = { id: must(b.op(`${l.name}_nchw`, "transpose", { perm: [0, 3, 1, 2] }, [id], `input ${l.name}`)), nchw: true };
      if (l.className === "InputLayer") {
        values.set(l.name, t);
        continue;
      }
      values.set(`${l.name}#input`, t);
    }
    const ins = l.inbound.length ? l.inbound.map((i) => values.get(i.layer)) : [values.get(`${l.name}#input`)];
    if (ins.some((t) => t === undefined)) {
      throw new KerasError("PAR6031", `layer ${l.name} (${l.className}) has no input: its inbound_nodes name no layer and it is not an InputLayer`, "every layer of a functional model but its inputs lists the layers it reads in inbound_nodes");
    }
    const out = layer(b, l, ins as Tensor[], weights);
    if (!out) return undefined;
    values.set(l.name, out);
  }
  const outT = values.get(outputs[0]);
  if (!outT) throw new KerasError("PAR6031", `output layer ${outputs[0]} is not defined`);
  const final = outT.nchw ? must(b.op(`${outputs[0]}_nhwc`, "transpose", { perm: [0, 2, 3, 1] }, [outT.id], "output")) : outT.id;
  b.outputs = [{ name: outputs[0], tensor: final }];
  if (!addTrainingLoss(b, final, options.loss, d)) return undefined;
  return b.result([]);
}

function must(ids: string[] | undefined): string {
  if (!ids) throw new KerasError("PAR6016", "a layer could not be imported (see the preceding diagnostic)");
  return ids[0];
}

function layer(b: GraphBuilder, l: KLayer, ins: Tensor[], weights: Map<string, { shape: number[]; data?: Float32Array }>): Tensor | undefined {
  const c = l.config;
  const src = `layer ${l.name} (${l.className})`;
  const op = (kind: string, attrs: Attrs, inputs: string[], name = l.name): string => {
    const ids = b.op(name, kind, attrs, inputs, src);
    if (!ids) throw new KerasError("PAR6020", `${src} could not be imported`);
    return ids[0];
  };
  const nhwc = (t: Tensor): string => (t.nchw ? op("transpose", { perm: [0, 2, 3, 1] }, [t.id], `${l.name}_nhwc`) : t.id);
  const w = (suffix: string) => {
    for (const [k, v] of weights) if (k === `${l.name}/${suffix}` || k.endsWith(`/${l.name}/${suffix}`) || (k.startsWith(`${l.name}/`) && k.endsWith(`/${suffix}`))) return v;
    return undefined;
  };
  const set = (opName: string, param: string, v: { shape: number[]; data?: Float32Array } | undefined, f?: (x: Float32Array) => Float32Array) => {
    if (v) {
      // The manifest's shape must be what the layer's configuration (units, filters, kernel) makes.
      const want = b.graph.op(opName).sig.params.find((p) => p.name === param)?.shape;
      const size = (s: readonly number[]) => s.reduce((a, x) => a * x, 1);
      if (want && size(v.shape) !== size(want)) {
        throw new KerasError("PAR6032", `${src}: the weightsManifest gives its ${param} shape [${v.shape.join(", ")}] (${size(v.shape)} values), but the layer's configuration makes it [${want.join(", ")}] (${size(want)} values)`, "the layer's config (units, filters, kernel_size) and the weightsManifest disagree: was the model.json edited, or saved from another model?");
      }
      b.setWeight(opName, param, v.data && (f ? f(v.data) : v.data));
    }
    // A topology without a weightsManifest still declares these weights: count them.
    else if (weights.size === 0) b.setWeight(opName, param, undefined);
  };
  const activation = (t: Tensor, act: unknown): Tensor => {
    const a = typeof act === "string" ? act : "linear";
    const par = KERAS_ACTIVATIONS.get(a);
    if (par === undefined) throw new KerasError("PAR6016", `${src}: activation ${a} has no par op`);
    if (par === null) return t;
    const x = par.channelsLast && t.nchw ? { id: nhwc(t), nchw: false } : t;
    return { id: op(par.op, par.attrs, [x.id], `${l.name}_${a}`), nchw: x.nchw };
  };
  const padding = (kernel: number[], strides: number[], t: Tensor): { id: string; pad: number[] } => {
    if ((c.padding ?? "valid") === "valid") return { id: t.id, pad: [0, 0] };
    const [H, W] = b.type(t.id).shape.slice(2);
    const tot = [H, W].map((s, a) => Math.max(0, (Math.ceil(s / strides[a]) - 1) * strides[a] + kernel[a] - s));
    const lo = tot.map((p) => Math.floor(p / 2));
    if (tot.every((p, a) => p === 2 * lo[a])) return { id: t.id, pad: lo };
    return { id: op("pad", { pads: [0, 0, lo[0], lo[1], 0, 0, tot[0] - lo[0], tot[1] - lo[1]] }, [t.id], `${l.name}_pad`), pad: [0, 0] };
  };
  const pair = (v: unknown, dflt: number): number[] => (Array.isArray(v) ? (v as number[]) : typeof v === "number" ? [v, v] : [dflt, dflt]);
  const [x] = ins;
  switch (l.className) {
    case "Dense": {
      const id = op("linear", { out: c.units as number, bias: c.use_bias !== false }, [nhwc(x)]);
      set(id, "weight", w("kernel"));
      if (c.use_bias !== false) set(id, "bias", w("bias"));
      return activation({ id, nchw: false }, c.activation);
    }
    case "Conv2D": case "DepthwiseConv2D": {
      if (!x.nchw) throw new KerasError("PAR6016", `${src} needs a 4-D image input`);
      const kernel = pair(c.kernel_size, 1);
      const strides = pair(c.strides, 1);
      const dil = pair(c.dilation_rate, 1);
      const p = padding(kernel.map((k, a) => (k - 1) * dil[a] + 1), strides, x);
      const C = b.type(x.id).shape[1];
      const depth = l.className === "DepthwiseConv2D";
      const mult = (c.depth_multiplier as number) ?? 1;
      const out = depth ? C * mult : (c.filters as number);
      const bias = c.use_bias !== false;
      const id = op("conv2d", { out, kernel, stride: strides, padding: p.pad, dilation: dil, groups: depth ? C : 1, bias }, [p.id]);
      const [kh, kw] = kernel;
      const cin = depth ? 1 : C;
      // [kh, kw, in, out] → [out, in, kh, kw]; depthwise [kh, kw, C, m] → [C·m, 1, kh, kw].
      set(id, "weight", w(depth ? "depthwise_kernel" : "kernel"), (k) => {
        const o = new Float32Array(k.length);
        for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let a = 0; a < (depth ? C : cin); a++) for (let m = 0; m < (depth ? mult : out); m++) {
          const src0 = ((i * kw + j) * (depth ? C : cin) + a) * (depth ? mult : out) + m;
          const oc = depth ? a * mult + m : m;
          const ic = depth ? 0 : a;
          o[((oc * cin + ic) * kh + i) * kw + j] = k[src0];
        }
        return o;
      });
      if (bias) set(id, "bias", w("bias"));
      return activation({ id, nchw: true }, c.activation);
    }
    case "MaxPooling2D": case "AveragePooling2D": {
      const kernel = pair(c.pool_size, 2);
      const strides = pair(c.strides ?? c.pool_size, 2);
      const p = padding(kernel, strides, x);
      if (l.className === "MaxPooling2D" && p.id !== x.id) throw new KerasError("PAR6016", `${src}: "same" padding that is asymmetric (par pads pools symmetrically)`);
      return { id: op("pool2d", { mode: l.className === "MaxPooling2D" ? "max" : "avg", kernel, stride: strides, padding: p.pad }, [p.id]), nchw: true };
    }
    case "GlobalAveragePooling2D": {
      const g = op("global_pool", {}, [x.id], `${l.name}_pool`);
      return { id: op("flatten", { axis: 1 }, [g]), nchw: false };
    }
    case "Flatten":
      return { id: op("flatten", { axis: 1 }, [nhwc(x)]), nchw: false };
    case "Reshape": {
      const target = c.target_shape as number[];
      return { id: op("reshape", { shape: [b.type(x.id).shape[0], ...target] }, [nhwc(x)]), nchw: false };
    }
    case "Dropout":
      return (c.rate as number) > 0 ? { id: op("dropout", { p: c.rate as number }, [x.id]), nchw: x.nchw } : x;
    case "BatchNormalization": {
      const axis = Array.isArray(c.axis) ? (c.axis as number[])[0] : ((c.axis as number) ?? -1);
      const rank = b.type(x.id).shape.length;
      if (!(x.nchw ? axis === -1 || axis === 3 : axis === -1 || axis === 1) || (!x.nchw && rank !== 2 && axis === -1)) throw new KerasError("PAR6016", `${src}: batch normalisation over axis ${axis} of a rank-${rank} tensor`);
      const id = op("batchnorm", { eps: (c.epsilon as number) ?? 1e-3 }, [x.id]);
      if (c.scale !== false) set(id, "weight", w("gamma"));
      if (c.center !== false) set(id, "bias", w("beta"));
      return { id, nchw: x.nchw };
    }
    case "LayerNormalization": {
      const id = op("layernorm", { axes: 1, eps: (c.epsilon as number) ?? 1e-3 }, [nhwc(x)]);
      if (c.scale !== false) set(id, "weight", w("gamma"));
      if (c.center !== false) set(id, "bias", w("beta"));
      return { id, nchw: false };
    }
    case "Embedding": {
      const id = op("embedding", { vocab: c.input_dim as number, dim: c.output_dim as number }, [x.id]);
      set(id, "weight", w("embeddings"));
      return { id, nchw: false };
    }
    case "LSTM": {
      for (const [k, want] of [["activation", "tanh"], ["recurrent_activation", "sigmoid"]] as const) {
        if ((c[k] ?? want) !== want) throw new KerasError("PAR6016", `${src}: ${k} ${String(c[k])} (par's lstm uses ${want})`);
      }
      if (c.go_backwards || c.stateful) throw new KerasError("PAR6016", `${src}: go_backwards/stateful LSTM`);
      const h = c.units as number;
      const id = op("lstm", { hidden: h, return_sequences: c.return_sequences === true }, [x.id]);
      const tr = (rows: number) => (k: Float32Array) => {
        const cols = k.length / rows;
        const o = new Float32Array(k.length);
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) o[j * rows + i] = k[i * cols + j];
        return o;
      };
      const kernel = w("kernel");
      const rec = w("recurrent_kernel");
      set(id, "weight_ih", kernel, kernel && tr(kernel.shape[0]));
      set(id, "weight_hh", rec, rec && tr(rec.shape[0]));
      if (c.use_bias !== false) set(id, "bias_ih", w("bias"));
      return { id, nchw: false };
    }
    case "Add": {
      let acc = ins[0].id;
      const same = ins.every((t) => t.nchw === ins[0].nchw);
      const ids = same ? ins.map((t) => t.id) : ins.map((t, i) => (t.nchw ? op("transpose", { perm: [0, 2, 3, 1] }, [t.id], `${l.name}_nhwc${i}`) : t.id));
      acc = ids[0];
      for (let i = 1; i < ids.length; i++) acc = op("add", {}, [acc, ids[i]], i === ids.length - 1 ? l.name : `${l.name}_${i}`);
      return { id: acc, nchw: same && ins[0].nchw };
    }
    case "Concatenate": {
      const axis = (c.axis as number) ?? -1;
      if (ins.every((t) => t.nchw) && (axis === -1 || axis === 3)) return { id: op("concat", { axis: 1 }, ins.map((t) => t.id)), nchw: true };
      const ids = ins.map((t, i) => (t.nchw ? op("transpose", { perm: [0, 2, 3, 1] }, [t.id], `${l.name}_nhwc${i}`) : t.id));
      return { id: op("concat", { axis }, ids), nchw: false };
    }
    case "Activation":
      return activation(x, c.activation);
    case "ReLU":
      return { id: op("relu", {}, [x.id]), nchw: x.nchw };
    case "Softmax":
      return { id: op("softmax", { axis: -1 }, [nhwc(x)]), nchw: false };
    default:
      throw new KerasError("PAR6010", `${src} has no mapping`);
  }
}

/** A minimal view of a tfjs LayersModel (pass the model; par does not import tfjs-layers). */
export interface LayersModelLike {
  toJSON(unused?: unknown, returnString?: boolean): unknown;
  weights: { originalName?: string; name: string; shape: (number | null)[] }[];
  getWeights(): { dataSync(): ArrayLike<number>; shape: number[] }[];
}

/** Imports an in-memory tf.LayersModel: its topology and its current weight values. */
export function importLayersModel(model: LayersModelLike, file: string, options: ImportOptions, d: Diagnostics): ImportedModel | undefined {
  const topology = model.toJSON(undefined, false);
  const values = model.getWeights();
  const specs = model.weights.map((w, i) => ({ name: w.originalName ?? w.name, shape: values[i].shape, dtype: "float32" }));
  const bytes = new Uint8Array(values.reduce((n, v) => n + 4 * v.shape.reduce((a, b) => a * b, 1), 0));
  const view = new DataView(bytes.buffer);
  let o = 0;
  for (const v of values) for (const x of Array.from(v.dataSync())) {
    view.setFloat32(o, x, true);
    o += 4;
  }
  const json = { modelTopology: typeof topology === "string" ? JSON.parse(topology) : topology, weightsManifest: [{ paths: ["memory"], weights: specs }] };
  return importKeras(json, file, options, d, () => bytes);
}
