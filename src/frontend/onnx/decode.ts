// Decoding an ONNX ModelProto into plain, bounded values. The protobuf schema is ONNX's own
// onnx.proto, embedded (onnx-proto.ts) and parsed by protobufjs once per process.
//
// Hostile input is expected: every failure is a coded diagnostic, never a crash.
//   - the file size is capped before decoding (PAR6001); protobufjs decodes in time and
//     memory linear in the bytes (bytes fields are views into the input), and a length
//     running past the end or a bad wire type throws, which becomes PAR6002; a stack
//     overflow from absurd nesting is caught the same way;
//   - node count is capped (PAR6005); every declared dim and tensor is checked against
//     2^31 per dim and 2^34 elements (PAR6006) BEFORE any data is materialised;
//   - tensor data must match its dims exactly (PAR6007). No value is decoded here: a
//     tensor keeps a view of its bytes, or, for data stored outside the file
//     (data_location = EXTERNAL), where in which side file they are (tensor-data.ts reads
//     them, external.ts checks the side files).

import protobuf from "protobufjs";
import type { Diagnostics } from "../../core/diagnostics.js";
import { ONNX_PROTO } from "./onnx-proto.js";

export interface OnnxLimits {
  /** Largest accepted file, in bytes. */
  maxBytes: number;
  maxNodes: number;
  /** Largest accepted single dim. */
  maxDim: number;
  /** Most elements one tensor may declare. */
  maxElements: number;
}

export const DEFAULT_ONNX_LIMITS: OnnxLimits = { maxBytes: 2 ** 31, maxNodes: 1_000_000, maxDim: 2 ** 31, maxElements: 2 ** 34 };

/** ONNX TensorProto.DataType values par reads. */
export const ONNX_DTYPE = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13 } as const;

export function isFloatDType(t: number): boolean {
  return t === ONNX_DTYPE.FLOAT || t === ONNX_DTYPE.DOUBLE || t === ONNX_DTYPE.FLOAT16 || t === 16;
}

export function isIntDType(t: number): boolean {
  return t === ONNX_DTYPE.INT64 || t === ONNX_DTYPE.INT32 || t === ONNX_DTYPE.INT16 || t === ONNX_DTYPE.INT8 || t === ONNX_DTYPE.UINT8 || t === ONNX_DTYPE.UINT16 || t === ONNX_DTYPE.UINT32 || t === ONNX_DTYPE.BOOL;
}

/** Where an initializer's data lives when it is stored outside the model (ONNX external data). */
export interface ExternalRef {
  /** The side file, relative to the model's folder (`location`). */
  location: string;
  /** Byte offset of the data in the side file. */
  offset: number;
  /** Bytes of data (`length`), when given; else the tensor's size. */
  length?: number;
  /** The side file's path once external.ts found it holding the data; absent while unchecked or missing. */
  file?: string;
}

/**
 * A tensor as decoded: dims and data type, and where its values are. Values are decoded
 * only when read (tensor-data.ts), so importing a model's structure costs no copy of its
 * weights: `raw` is a view into the file's bytes, `external` a place in a side file.
 */
export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** raw_data: little-endian values, a view into the model file's bytes. */
  raw?: Uint8Array;
  /** float_data / double_data / int32_data (float16 bits) of a float tensor. */
  floatValues?: ArrayLike<number>;
  /** int32_data / int64_data / uint64_data of an integer tensor, as exact JS numbers where |v| < 2^53. */
  intValues?: number[];
  /** Data in a side file (data_location = EXTERNAL). */
  external?: ExternalRef;
}

export interface OnnxAttr {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
  /** A list of strings (LSTM/GRU/RNN activations). */
  strings?: string[];
  /** A graph-valued attribute (If/Loop bodies) — par imports none, but names it. */
  hasGraph?: boolean;
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttr>;
}

/** A dim: a number, a symbolic name (dim_param) or undefined (unknown). */
export type OnnxDim = number | string | undefined;

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** Undefined when the rank is unknown. */
  shape?: OnnxDim[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  /** The default-domain (ai.onnx) opset. */
  opset: number;
  producer: string;
  graph: OnnxGraph;
}

let modelType: protobuf.Type | undefined;

/** The ModelProto type (tests and tools encode models with it). */
export function onnxModelType(): protobuf.Type {
  // keepCase: read fields by their onnx.proto names (raw_data, op_type).
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType("onnx.ModelProto");
  return modelType;
}

/** An int64 field: a number, or a Long when protobufjs found the `long` package. */
function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && "toNumber" in v) return (v as { toNumber(): number }).toNumber();
  if (typeof v === "string") return Number(v);
  return 0;
}

class Limit extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly expected?: string,
  ) {
    super(message);
  }
}

// protobufjs messages are dynamic; these are the fields read, by their onnx.proto names.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = any;

const utf8 = new TextDecoder("utf-8", { fatal: false });
const str = (b: unknown): string => (b instanceof Uint8Array ? utf8.decode(b) : typeof b === "string" ? b : "");

/** Bytes per element of each data type par reads (16 = bfloat16). */
export const DTYPE_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

export class OnnxDecoder {
  constructor(readonly limits: OnnxLimits) {}

  checkDims(dims: number[], what: string): number {
    let total = 1;
    for (const d of dims) {
      if (!Number.isSafeInteger(d) || d < 0 || d > this.limits.maxDim) throw new Limit("PAR6006", `${what} has dim ${d}, outside [0, ${this.limits.maxDim}]`, `dims of at most 2^31`);
      total *= d;
    }
    if (total > this.limits.maxElements) throw new Limit("PAR6006", `${what} declares ${total} elements, more than ${this.limits.maxElements}`, "at most 2^34 elements");
    return total;
  }

  tensor(t: Msg, what: string): OnnxTensor {
    const name = str(t.name) || what;
    const dims = (t.dims as unknown[]).map(num);
    const count = this.checkDims(dims, `tensor \`${name}\``);
    const dataType = t.data_type as number;
    const out: OnnxTensor = { name, dataType, dims };
    const bytes = DTYPE_BYTES[dataType];
    if (bytes === undefined) throw new Limit("PAR6007", `tensor \`${name}\` has data type ${dataType}, which par does not read`, "float, double, float16, bfloat16, integer or bool data");
    if (t.data_location === 1) {
      out.external = this.externalRef(t, name, count * bytes);
      return out;
    }
    const raw = t.raw_data as Uint8Array | undefined;
    const mismatch = (n: number) => new Limit("PAR6007", `tensor \`${name}\` holds ${n} values but its dims [${dims.join(", ")}] need ${count}`, `${count} values`);
    if (raw && raw.length > 0) {
      if (raw.length !== count * bytes) throw mismatch(Math.floor(raw.length / bytes));
      out.raw = raw;
      return out;
    }
    if (isFloatDType(dataType)) {
      const src: ArrayLike<number> = dataType === 1 ? t.float_data : dataType === 11 ? t.double_data : t.int32_data;
      if (src.length !== count) throw mismatch(src.length);
      out.floatValues = src;
    } else {
      const src: unknown[] = dataType === 7 ? t.int64_data : dataType === 12 || dataType === 13 ? t.uint64_data : t.int32_data;
      if (src.length !== count) throw mismatch(src.length);
      out.intValues = src.map(num);
    }
    return out;
  }

  /** The external_data entries of a tensor: location (required), offset, length. */
  private externalRef(t: Msg, name: string, size: number): ExternalRef {
    const kv = new Map((t.external_data as Msg[]).map((e) => [str(e.key), str(e.value)]));
    const location = kv.get("location") ?? "";
    if (!location) throw new Limit("PAR6007", `tensor \`${name}\` has external data without a location`, "an external_data entry `location`");
    const int = (key: string): number | undefined => {
      const v = kv.get(key);
      if (v === undefined || v === "") return undefined;
      if (!/^\d{1,15}$/.test(v)) throw new Limit("PAR6007", `tensor \`${name}\` has external data ${key} "${v}", not a byte count`, `a non-negative integer ${key}`);
      return Number(v);
    };
    const offset = int("offset") ?? 0;
    const length = int("length");
    if (length !== undefined && length !== size) throw new Limit("PAR6007", `tensor \`${name}\` has ${length} bytes of external data, but its dims and type need ${size}`, `length ${size}`);
    return length === undefined ? { location, offset } : { location, offset, length };
  }

  valueInfo(v: Msg): OnnxValueInfo {
    const name = str(v.name);
    const tt = v.type?.tensor_type;
    const info: OnnxValueInfo = { name, elemType: tt?.elem_type ?? 0 };
    if (tt?.shape) {
      info.shape = (tt.shape.dim as Msg[]).map((d): OnnxDim => {
        if (d.value === "dim_value" || (d.dim_value !== undefined && num(d.dim_value) > 0)) {
          const n = num(d.dim_value);
          if (n > 0) {
            this.checkDims([n], `value \`${name}\``);
            return n;
          }
        }
        return d.dim_param ? str(d.dim_param) : undefined;
      });
      const known = info.shape.filter((d): d is number => typeof d === "number");
      this.checkDims(known, `value \`${name}\``);
    }
    return info;
  }

  attr(a: Msg, node: string): OnnxAttr {
    const out: OnnxAttr = { name: str(a.name) };
    // The `type` field says which member is meant; older exporters leave it 0, so fall
    // back to whichever member is set.
    const type = a.type as number;
    if (type === 1 || (type === 0 && a.f)) out.f = a.f;
    if (type === 2 || (type === 0 && a.i !== undefined)) out.i = num(a.i);
    if (type === 3 || (type === 0 && a.s && a.s.length)) out.s = str(a.s);
    if (a.t) out.t = this.tensor(a.t, `${node}.${out.name}`);
    if ((a.floats as unknown[]).length) out.floats = [...a.floats];
    if ((a.ints as unknown[]).length) out.ints = (a.ints as unknown[]).map(num);
    if ((a.strings as unknown[]).length) out.strings = (a.strings as Uint8Array[]).map((b) => str(b));
    if (a.g || (a.graphs as unknown[]).length) out.hasGraph = true;
    return out;
  }

  model(m: Msg): OnnxModel | string {
    const g = m.graph;
    if (!g) return "the model has no graph";
    const opsets = m.opset_import as Msg[];
    const def = opsets.find((o) => str(o.domain) === "" || str(o.domain) === "ai.onnx");
    const nodesIn = g.node as Msg[];
    if (nodesIn.length > this.limits.maxNodes) throw new Limit("PAR6005", `the model has ${nodesIn.length} nodes, more than the limit of ${this.limits.maxNodes}`, `at most ${this.limits.maxNodes} nodes`);
    const initializers = new Map<string, OnnxTensor>();
    (g.initializer as Msg[]).forEach((t, i) => {
      const tensor = this.tensor(t, `initializer ${i}`);
      initializers.set(tensor.name, tensor);
    });
    const nodes = nodesIn.map((n, i): OnnxNode => {
      const name = str(n.name) || `${str(n.op_type)}_${i}`;
      const attrs = new Map<string, OnnxAttr>();
      for (const a of n.attribute as Msg[]) {
        const at = this.attr(a, name);
        attrs.set(at.name, at);
      }
      return { name, opType: str(n.op_type), domain: str(n.domain), inputs: (n.input as unknown[]).map(str), outputs: (n.output as unknown[]).map(str), attrs };
    });
    return {
      opset: def ? num(def.version) : 0,
      producer: str(m.producer_name),
      graph: {
        name: str(g.name),
        nodes,
        initializers,
        inputs: (g.input as Msg[]).map((v) => this.valueInfo(v)),
        outputs: (g.output as Msg[]).map((v) => this.valueInfo(v)),
      },
    };
  }
}

/**
 * Decodes an ONNX model file. Reports PAR6001/6002/6003/6005/6006/6007 and returns
 * undefined on failure.
 */
export function decodeOnnx(bytes: Uint8Array, file: string, diagnostics: Diagnostics, limits: Partial<OnnxLimits> = {}): OnnxModel | undefined {
  const lim = { ...DEFAULT_ONNX_LIMITS, ...limits };
  if (bytes.length > lim.maxBytes) {
    diagnostics.error("PAR6001", `${file}: ${bytes.length} bytes, more than the import limit of ${lim.maxBytes}`, { expected: `a model of at most ${lim.maxBytes} bytes` });
    return undefined;
  }
  let message: Msg;
  try {
    message = onnxModelType().decode(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    diagnostics.error("PAR6002", `${file} is not a valid ONNX model: ${why}`, { expected: "an ONNX ModelProto (.onnx)", hint: "the file may be truncated or not an ONNX model" });
    return undefined;
  }
  try {
    const m = new OnnxDecoder(lim).model(message);
    if (typeof m === "string") {
      diagnostics.error("PAR6003", `${file}: ${m}`, { expected: "a ModelProto with a graph" });
      return undefined;
    }
    return m;
  } catch (e) {
    if (e instanceof Limit) {
      diagnostics.error(e.code, `${file}: ${e.message}`, { expected: e.expected });
      return undefined;
    }
    // Anything else here is malformed content that decoded as protobuf (a RangeError
    // from a view over bytes, a stack overflow): still a corrupt model, not a crash.
    const why = e instanceof Error ? e.message : String(e);
    diagnostics.error("PAR6002", `${file} is not a valid ONNX model: ${why}`, { expected: "an ONNX ModelProto (.onnx)" });
    return undefined;
  }
}
