// Constants that become par parameters. A weight is read lazily: handlers describe how
// the constant maps to the parameter's layout (a transpose, a gate reorder, a negation)
// with `map`, and the values are produced only when a command needs them (lowering with
// weights, `par forward`), so importing the structure of a large model copies no weight.

import { volume } from "../../core/tensor.js";
import type { ParamValues } from "../import-build.js";
import { Unmappable } from "./errors.js";
import { floatsOf, hasData } from "./tensor-data.js";
import { constDims, isFloatConst, sourcesOf, type Val } from "./values.js";

/** A weight's values, read on demand, and how to re-lay them out for a parameter. */
export interface Weight extends ParamValues {
  /** The same weight with `f` applied to its values when they are read (`length`: elements then, when known). */
  map(f: (w: Float32Array) => Float32Array, length?: number): Weight;
}

function weight(read: () => Float32Array, length: number | undefined, available: boolean, sources: readonly string[]): Weight {
  return {
    read,
    length,
    available,
    sources,
    map: (f, n) => weight(() => f(read()), n, available, sources),
  };
}

/** `data` (row-major, `dims`) with its axes permuted: output axis i is input axis perm[i]. */
export function permuteFloats(data: Float32Array, dims: readonly number[], perm: readonly number[]): Float32Array {
  if (perm.every((p, i) => p === i)) return data;
  const rank = dims.length;
  const shape = perm.map((p) => dims[p]);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1] * dims[i + 1];
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  const step = perm.map((p) => inStrides[p]);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    // Odometer over the output index: advance the last axis, carry into earlier ones.
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      src += step[a];
      if (idx[a] < shape[a]) break;
      src -= step[a] * shape[a];
      idx[a] = 0;
    }
  }
  return out;
}

/** The float values of constant `v` as a lazily read weight; PAR6016 for a computed or non-float value. */
export function weightOf(v: Val, what: string): Weight {
  if (v.kind !== "const") throw new Unmappable("PAR6016", `${what} must be a constant (an initializer)`);
  if (!isFloatConst(v)) throw new Unmappable("PAR6016", `${what} must be float, got data type ${v.tensor?.dataType ?? v.view?.tensor.dataType ?? "int"}`);
  const n = volume(constDims(v));
  const sources = sourcesOf(v);
  if (v.tensor) {
    const t = v.tensor;
    return weight(() => floatsOf(t), n, hasData(t), sources);
  }
  if (v.view) {
    const { tensor, perm } = v.view;
    return weight(() => permuteFloats(floatsOf(tensor), tensor.dims, perm), n, hasData(tensor), sources);
  }
  const data = v.value!.data;
  return weight(() => Float32Array.from(data), n, true, sources);
}
