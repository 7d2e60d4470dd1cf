// NumPy .npy files, the arrays `par forward` reads and writes. Format versions 1 and 2
// (and 3, whose header is UTF-8): the magic "\x93NUMPY", a version, the header length
// (2 bytes in v1, 4 after) and a Python dict literal {'descr': '<f4', 'fortran_order':
// False, 'shape': (3, 8), }, then the data in C order. Little-endian f4, f8, i4, i8, u1
// and b1 are read; anything else (big-endian data, other dtypes, Fortran order) is a coded
// error (PAR6041), a malformed file PAR6040. Written files are v1 (v2 past 64 KiB of
// header), with the header padded to a multiple of 64 bytes as numpy writes it.

import { parError } from "../core/diagnostics.js";

export type NpyDType = "f4" | "f8" | "i4" | "i8" | "u1" | "b1";

export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SIZE: Readonly<Record<NpyDType, number>> = { f4: 4, f8: 8, i4: 4, i8: 8, u1: 1, b1: 1 };
/** Elements a .npy array may hold (2^31: par tensors are indexed by int32). */
const MAX_ELEMENTS = 2 ** 31;

function bad(file: string, why: string): never {
  throw parError("PAR6040", `${file} is not a valid .npy file: ${why}`, { expected: "a NumPy .npy file (numpy.save)", hint: "write it with numpy.save(path, array)" });
}

/** The dtype of a descr such as '<f4' or '|u1'; PAR6041 for one par does not read. */
function dtypeOf(descr: string, file: string): NpyDType {
  const m = /^([<>|=])([a-zA-Z]\d*)$/.exec(descr);
  const kind = m?.[2];
  const order = m?.[1];
  const known = kind === "f4" || kind === "f8" || kind === "i4" || kind === "i8" || kind === "u1" || kind === "b1";
  // One-byte types carry no byte order ('|'); '=' is native, little-endian on every host par runs on.
  if (!m || !known || order === ">") {
    throw parError("PAR6041", `${file} holds ${order === ">" ? "big-endian " : ""}data of dtype '${descr}', which par does not read`, {
      expected: "little-endian float32, float64, int32, int64, uint8 or bool ('<f4', '<f8', '<i4', '<i8', '|u1', '|b1')",
      hint: "convert it first, e.g. numpy.save(path, array.astype(numpy.float32))",
    });
  }
  return kind as NpyDType;
}

/** The header dict's three entries, read from its Python literal. */
function parseHeader(text: string, file: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined || !/^\s*\{/.test(text)) bad(file, `its header is not a dict with descr, fortran_order and shape: ${JSON.stringify(text.trim().slice(0, 120))}`);
  const parts = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (parts.some((p) => !/^\d{1,10}$/.test(p))) bad(file, `its shape (${shapeText}) is not a tuple of non-negative integers`);
  return { descr, fortran: fortran === "True", shape: parts.map(Number) };
}

/** Reads a .npy file's bytes (`file` names it in messages). */
export function decodeNpy(bytes: Uint8Array, file: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) bad(file, "it does not start with the .npy magic \\x93NUMPY");
  const major = bytes[6];
  if (major < 1 || major > 3) bad(file, `format version ${major}.${bytes[7]} (par reads versions 1 to 3)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) bad(file, "the file ends inside its header");
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + headerLen;
  if (start > bytes.length) bad(file, `its header says ${headerLen} bytes, but the file ends first`);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(8 + lenBytes, start));
  const h = parseHeader(text, file);
  const dtype = dtypeOf(h.descr, file);
  const count = h.shape.reduce((a, b) => a * b, 1);
  if (h.fortran) {
    throw parError("PAR6041", `${file} is in Fortran (column-major) order, which par does not read`, { expected: "C order (fortran_order: False)", hint: "save numpy.ascontiguousarray(array) instead" });
  }
  if (count > MAX_ELEMENTS) bad(file, `its shape (${h.shape.join(", ")}) has more than 2^31 elements`);
  const need = count * SIZE[dtype];
  if (bytes.length - start !== need) bad(file, `shape (${h.shape.join(", ")}) of '${h.descr}' needs ${need} bytes of data, the file has ${bytes.length - start}`);
  // One copy into an aligned buffer: the data may start at any offset of `bytes`.
  const copy = new Uint8Array(need);
  copy.set(bytes.subarray(start));
  const b = copy.buffer;
  const data: NpyData = dtype === "f4" ? new Float32Array(b) : dtype === "f8" ? new Float64Array(b) : dtype === "i4" ? new Int32Array(b) : dtype === "i8" ? new BigInt64Array(b) : new Uint8Array(b);
  return { dtype, shape: h.shape, data };
}

/** A .npy file (v1, or v2 for a header over 64 KiB) holding `a`. */
export function encodeNpy(a: NpyArray): Uint8Array {
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (a.data.length !== count) throw new Error(`npy: ${a.data.length} values for shape [${a.shape.join(", ")}]`);
  const descr = a.dtype === "u1" || a.dtype === "b1" ? `|${a.dtype}` : `<${a.dtype}`;
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const v2 = dict.length + 12 > 0xffff;
  const prefix = v2 ? 12 : 10;
  // Pad with spaces so that the data starts at a multiple of 64; the header ends with '\n'.
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = dict + " ".repeat(total - prefix - dict.length - 1) + "\n";
  const data = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(total + data.length);
  out.set(MAGIC);
  out[6] = v2 ? 2 : 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (v2) view.setUint32(8, header.length, true);
  else view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(data, total);
  return out;
}
