// dropout: y = x · mask / (1 - p), mask[i] = 1 with probability 1 - p. The mask is a pure
// function of (seed, global row-major element index), so every partition of the op draws
// exactly the whole op's mask: each task hashes the global indices of its output region.
// Always active (par builds training graphs); backward = dy · mask / (1 - p).

import type { Tensor } from "@tensorflow/tfjs-core";
import { regionShape, type Region } from "../core/region.js";
import { checkInputs } from "./attrs.js";
import type { OpEntry, TF } from "./contract.js";
import { activationSpace, identityMaps, product } from "./common.js";

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A uniform number in [0, 1) from (seed, index): counter-based, so it needs no state and
 * any task can draw any element's number. Indices beyond 2^32 mix in their high word.
 */
export function dropoutUniform(seed: number, index: number): number {
  const lo = index >>> 0;
  const hi = Math.floor(index / 4294967296) >>> 0;
  const s = fmix32((seed >>> 0) ^ 0x9e3779b9);
  const h = fmix32(lo ^ fmix32(hi ^ s));
  return h / 4294967296;
}

/**
 * The scaled mask (0 or 1/(1-p)) of `region` of a tensor shaped `shape`, row-major, as
 * a host array: element k of the region is global element sum_i (lo_i + idx_i)·stride_i.
 */
export function dropoutMask(shape: readonly number[], region: Region, p: number, seed: number): Float32Array {
  const rs = regionShape(region);
  const n = product(rs);
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const scale = 1 / (1 - p);
  const mask = new Float32Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < n; k++) {
    let g = 0;
    for (let i = 0; i < rank; i++) g += (region.lo[i] + idx[i]) * strides[i];
    mask[k] = dropoutUniform(seed, g) >= p ? scale : 0;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < rs[i]) break;
      idx[i] = 0;
    }
  }
  return mask;
}

function maskTensor(tf: TF, shape: readonly number[], region: Region, p: number, seed: number): Tensor {
  return tf.tensor(dropoutMask(shape, region, p, seed), regionShape(region), "float32");
}

export const dropout: OpEntry = {
  name: "dropout",
  family: "regularisation",
  doc: "Zeroes each element with probability p and scales the rest by 1/(1-p); the mask depends only on `seed` and the element's global index.",
  roles: ["passthrough"],
  inputs: [{ name: "x" }],
  attrs: [
    { name: "p", kind: "float", default: 0.5, min: 0, doc: "drop probability in [0, 1)" },
    { name: "seed", kind: "int", default: 0, doc: "mask seed" },
  ],
  outputNames: ["y"],
  seeded: true,
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const p = attrs.p as number;
    if (!(p >= 0 && p < 1)) {
      ctx.diagnostics.error("PAR2140", `\`dropout\`: p = ${p} is not a probability in [0, 1)`, {
        pos: ctx.pos,
        expected: "0 ≤ p < 1",
        hint: p === 1 ? "p = 1 drops everything; remove the branch instead" : undefined,
      });
      return undefined;
    }
    const rank = x.shape.length;
    return {
      outputs: [{ ...x, shape: [...x.shape], dims: [...x.dims] }],
      params: [],
      space: activationSpace(x),
      inputMaps: [identityMaps(rank)],
      paramMaps: [],
      outputMaps: [identityMaps(rank)],
      // Forward: hash and compare (host, ~4) and a multiply; backward: one multiply.
      flops: (e) => ({ forward: 5 * product(e), backward: product(e) }),
    };
  },
  forward(tf, { inputs, attrs, sig, shard }) {
    const p = attrs.p as number;
    if (p === 0) return [tf.clone(inputs[0])];
    return [tf.mul(inputs[0], maskTensor(tf, sig.outputs[0].shape, shard.outputRegions[0], p, attrs.seed as number))];
  },
  backward(tf, { attrs, sig, shard, dOutputs }) {
    const p = attrs.p as number;
    if (p === 0) return { dInputs: [tf.clone(dOutputs[0])], dParams: [] };
    return { dInputs: [tf.mul(dOutputs[0], maskTensor(tf, sig.outputs[0].shape, shard.outputRegions[0], p, attrs.seed as number))], dParams: [] };
  },
};

export const DROPOUT_OPS: OpEntry[] = [dropout];
