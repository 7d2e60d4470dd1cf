// Given weight values in a Plan (imported models keep their trained weights). A param whose
// `init` is `{kind: "values", ref}` starts from `plan.weights[ref]`: little-endian f32,
// row-major over the whole param, base64 in the JSON. Each device decodes the table and
// takes its shard's region, so any sharding starts from exactly the given values.
//
// Base64 costs 4/3 of the raw bytes and every worker receives the whole table, so the
// plan carries at most PLAN_WEIGHTS_CAP_BYTES of raw weights (64 MiB ≈ 16 M parameters);
// beyond that lowering fails with PAR5013 and the model should be compiled with random
// init (docs/import.md).

import { parError } from "../core/diagnostics.js";

/** Most raw bytes of given weights one plan may carry. */
export const PLAN_WEIGHTS_CAP_BYTES = 64 * 1024 * 1024;

export interface PlanWeight {
  dtype: "f32";
  /** base64 of the little-endian f32 values, row-major over the whole param tensor. */
  data: string;
}

export type PlanWeights = Record<string, PlanWeight>;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function encodeF32(values: Float32Array): string {
  if (LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64");
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  return Buffer.from(bytes).toString("base64");
}

/** The values of a base64 string; undefined when it is not base64 of whole f32s. */
export function decodeF32(data: string): Float32Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(data, "base64");
  if (bytes.length % 4 !== 0) return undefined;
  const out = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** The number of f32 elements a base64 string of whole f32s encodes (without decoding it). */
export function encodedLength(data: string): number {
  const pad = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  return ((data.length / 4) * 3 - pad) / 4;
}

/**
 * The plan's weight table for the params that have given values. `shapes` are the param
 * shapes by id; a value array of the wrong length is a bug in the caller (thrown), a
 * table over the cap is PAR5013 (a ParError).
 */
export function planWeightsOf(weights: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, readonly number[]>, capBytes = PLAN_WEIGHTS_CAP_BYTES): PlanWeights {
  let bytes = 0;
  for (const [id, v] of weights) if (shapes.has(id)) bytes += v.length * 4;
  if (bytes > capBytes) {
    throw parError("PAR5013", `the model's given weights are ${(bytes / 2 ** 20).toFixed(1)} MiB, more than a plan carries (${(capBytes / 2 ** 20).toFixed(0)} MiB)`, {
      hint: "compile it with random init instead: `par import MODEL --out model.par`, then compile model.par",
    });
  }
  const out: PlanWeights = {};
  for (const id of [...weights.keys()].sort()) {
    const shape = shapes.get(id);
    if (!shape) continue;
    const v = weights.get(id)!;
    const n = shape.reduce((a, b) => a * b, 1);
    if (v.length !== n) throw new Error(`lower: weights of ${id} have ${v.length} values, the param [${shape.join(", ")}] has ${n}`);
    out[id] = { dtype: "f32", data: encodeF32(v) };
  }
  return out;
}
