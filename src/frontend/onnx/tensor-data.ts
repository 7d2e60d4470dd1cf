// A tensor's values, decoded when read. The decoder (decode.ts) keeps only where the data
// is: a view of the model file's bytes, the proto's typed value lists, or a place in a
// side file (external data, whose file external.ts checked and resolved). Floats come out
// as float32 (double and float16/bfloat16 converted), integers as exact JS numbers below
// 2^53. Reading external data that is not there is a coded error (PAR6008).

import { closeSync, openSync, readSync } from "node:fs";
import { parError } from "../../core/diagnostics.js";
import { DTYPE_BYTES, isFloatDType, ONNX_DTYPE, type OnnxTensor } from "./decode.js";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** f16 bits → f32 value. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const bf16 = new Float32Array(1);
const bf16Bits = new Uint32Array(bf16.buffer);
/** bfloat16 bits → f32 value (the high half of an f32). */
function bfloatToFloat(h: number): number {
  bf16Bits[0] = (h & 0xffff) << 16;
  return bf16[0];
}

export function elementsOf(t: OnnxTensor): number {
  return t.dims.reduce((a, b) => a * b, 1);
}

/** True when the tensor's values can be read now (not external, or its side file was found). */
export function hasData(t: OnnxTensor): boolean {
  return !t.external || t.external.file !== undefined;
}

/**
 * Bytes [from, to) of a tensor's external data, into `into` (a fresh array by default);
 * PAR6008 when the side file cannot give them.
 */
function readExternal(t: OnnxTensor, from: number, to: number, into?: Uint8Array): Uint8Array {
  const ext = t.external!;
  if (ext.file === undefined) {
    throw parError("PAR6008", `the values of \`${t.name}\` are in the side file \`${ext.location}\`, which is missing`, {
      expected: `${ext.location} beside the model, holding the weights`,
      hint: "copy the model's external data file next to it; to start from random weights instead, import the model to .par (`par import`) and use that",
    });
  }
  const out = into ? into.subarray(0, to - from) : new Uint8Array(to - from);
  let fd: number | undefined;
  try {
    fd = openSync(ext.file, "r");
    let got = 0;
    while (got < out.length) {
      const n = readSync(fd, out, got, out.length - got, ext.offset + from + got);
      if (n === 0) break;
      got += n;
    }
    if (got < out.length) throw new Error(`the file ends ${out.length - got} bytes early`);
  } catch (e) {
    throw parError("PAR6008", `cannot read the values of \`${t.name}\` from \`${ext.location}\`: ${e instanceof Error ? e.message : String(e)}`, { hint: "the side file may have changed since the model was loaded" });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return out;
}

/** The tensor's little-endian bytes (raw_data or external data); undefined for typed value lists. */
function bytesOf(t: OnnxTensor): Uint8Array | undefined {
  if (t.raw) return t.raw;
  if (t.external) return readExternal(t, 0, elementsOf(t) * DTYPE_BYTES[t.dataType]);
  return undefined;
}

/** Float values of `bytes` (little-endian, of `dataType`) as float32. */
function decodeFloats(bytes: Uint8Array, dataType: number): Float32Array {
  const n = bytes.length / DTYPE_BYTES[dataType];
  if (dataType === ONNX_DTYPE.FLOAT && LITTLE_ENDIAN) {
    // One copy into an aligned buffer (raw_data views start anywhere in the file).
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return new Float32Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] =
      dataType === ONNX_DTYPE.FLOAT ? view.getFloat32(4 * i, true)
      : dataType === ONNX_DTYPE.DOUBLE ? view.getFloat64(8 * i, true)
      : dataType === ONNX_DTYPE.FLOAT16 ? halfToFloat(view.getUint16(2 * i, true))
      : bfloatToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

/** The values of a float tensor as float32; PAR6008 (thrown) when its external data is missing. */
export function floatsOf(t: OnnxTensor): Float32Array {
  if (!isFloatDType(t.dataType)) throw new Error(`tensor ${t.name} is not float`);
  const bytes = bytesOf(t);
  if (bytes) return decodeFloats(bytes, t.dataType);
  const src = t.floatValues ?? [];
  if (t.dataType === ONNX_DTYPE.FLOAT16) return Float32Array.from(src, halfToFloat);
  if (t.dataType === 16) return Float32Array.from(src, bfloatToFloat);
  return Float32Array.from(src);
}

/** The values of an integer (or bool) tensor; PAR6008 (thrown) when its external data is missing. */
export function intsOf(t: OnnxTensor): number[] {
  if (t.intValues) return t.intValues;
  const bytes = bytesOf(t);
  if (!bytes) return [];
  const size = DTYPE_BYTES[t.dataType];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / size;
  const v: number[] = new Array(n);
  const d = t.dataType;
  for (let i = 0; i < n; i++) {
    const o = i * size;
    v[i] =
      size === 8 ? Number(d === ONNX_DTYPE.UINT64 ? view.getBigUint64(o, true) : view.getBigInt64(o, true))
      : size === 4 ? (d === ONNX_DTYPE.UINT32 ? view.getUint32(o, true) : view.getInt32(o, true))
      : size === 2 ? (d === ONNX_DTYPE.UINT16 ? view.getUint16(o, true) : view.getInt16(o, true))
      : d === ONNX_DTYPE.INT8 ? view.getInt8(o)
      : view.getUint8(o);
  }
  return v;
}

/** Bytes scanned at a time (the scan keeps nothing). */
const SCAN_CHUNK = 1 << 24;
/** The scan's one aligned buffer, reused: a model's scan allocates nothing per tensor. */
let scanBuffer: Uint8Array | undefined;

/**
 * Whether a float tensor holds a NaN or an infinity (a −inf attention mask). Scans the
 * bytes without keeping them; undefined when the data is external and missing.
 */
export function hasNonFinite(t: OnnxTensor): boolean | undefined {
  if (!isFloatDType(t.dataType)) return false;
  if (!hasData(t)) return undefined;
  if (t.dataType !== ONNX_DTYPE.FLOAT || (!t.raw && !t.external)) return floatsOf(t).some((v) => !Number.isFinite(v));
  const total = elementsOf(t) * 4;
  // An f32 is finite unless all 8 exponent bits are set: test them on aligned copies.
  scanBuffer ??= new Uint8Array(SCAN_CHUNK);
  const chunk = scanBuffer;
  for (let from = 0; from < total; from += chunk.length) {
    const to = Math.min(total, from + chunk.length);
    if (t.raw) chunk.set(t.raw.subarray(from, to));
    else readExternal(t, from, to, chunk);
    const words = new Uint32Array(chunk.buffer, 0, (to - from) / 4);
    const exponent = LITTLE_ENDIAN ? 0x7f800000 : 0x0000807f;
    for (let i = 0; i < words.length; i++) if ((words[i] & exponent) === exponent) return true;
  }
  return false;
}
