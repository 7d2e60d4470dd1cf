// Byte-level mutations for binary inputs (ONNX models, weight shards) and for text files
// read as bytes: truncation, bit flips, random bytes, spliced garbage.

import type { Rng } from "./rng.js";

export function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

/** One of: truncated, 1–8 bits flipped, a run of random bytes spliced in, or all random. */
export function mutateBytes(bytes: Uint8Array, rng: Rng): Uint8Array {
  const kind = rng.weighted<string>([
    [3, "truncate"],
    [4, "flip"],
    [2, "splice"],
    [1, "random"],
  ]);
  if (bytes.length === 0 || kind === "random") return randomBytes(rng, 1 + rng.int(4096));
  if (kind === "truncate") return bytes.slice(0, rng.int(bytes.length));
  const out = new Uint8Array(bytes);
  if (kind === "flip") {
    const flips = 1 + rng.int(8);
    for (let k = 0; k < flips; k++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return out;
  }
  const at = rng.int(out.length);
  const garbage = randomBytes(rng, 1 + rng.int(64));
  const spliced = new Uint8Array(out.length + garbage.length);
  spliced.set(out.subarray(0, at));
  spliced.set(garbage, at);
  spliced.set(out.subarray(at), at + garbage.length);
  return spliced;
}
