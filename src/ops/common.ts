// Helpers shared by op entries: conventional parallel-dim names for activations and
// identity axis maps. Layouts follow PyTorch/ONNX: NCHW for images, [batch, seq, feature]
// for sequences.

import { regionShape } from "../core/region.js";
import type { TensorType } from "../core/tensor.js";
import type { AxisMap, DimClass, ParallelDim } from "./contract.js";

/** An input or output axis read or written whole by every task. */
export const FULL: AxisMap = { kind: "full" };
/** An axis addressed by iteration dim `dim`. */
export const iter = (dim: number): AxisMap => ({ kind: "iter", dim });
/** The FLOPs of an op that only moves data. */
export const noFlops = (): { forward: number; backward: number } => ({ forward: 0, backward: 0 });

/** A kernel's output shape: the task's output region (the whole op gets the full shape). */
export function outShape(shard: { outputRegions: { lo: number[]; hi: number[] }[] }, i = 0): number[] {
  return regionShape(shard.outputRegions[i]);
}

/**
 * Names of an activation's axes as parallel dims, by rank:
 * 1: sample · 2: sample, channel · 3: sample, length, channel ·
 * 4: sample, channel, height, width (NCHW) · 5: sample, channel, depth, height, width.
 * Higher ranks: sample, attr1, attr2, ...
 */
export function activationDimNames(rank: number): string[] {
  switch (rank) {
    case 0: return [];
    case 1: return ["sample"];
    case 2: return ["sample", "channel"];
    case 3: return ["sample", "length", "channel"];
    case 4: return ["sample", "channel", "height", "width"];
    case 5: return ["sample", "channel", "depth", "height", "width"];
    default: return ["sample", ...Array.from({ length: rank - 1 }, (_, i) => `attr${i + 1}`)];
  }
}

/** Parallel dims over every axis of an activation; `channelClass` is "parameter" when weights carry it. */
export function activationSpace(t: TensorType, channelClass: DimClass = "attribute"): ParallelDim[] {
  return activationDimNames(t.shape.length).map((name, i) => ({
    name,
    cls: name === "sample" ? "sample" : name === "channel" ? channelClass : "attribute",
    size: t.shape[i],
  }));
}

const IDENTITY_MAPS: AxisMap[][] = [];

/**
 * Axis i ↔ iteration dim i. Signatures are never mutated, so the maps of each rank are made
 * once and shared (frozen: tens of thousands of ops hold them).
 */
export function identityMaps(rank: number): AxisMap[] {
  let maps = IDENTITY_MAPS[rank];
  if (maps === undefined) {
    maps = Object.freeze(Array.from({ length: rank }, (_, i) => Object.freeze({ kind: "iter", dim: i }) as AxisMap)) as AxisMap[];
    if (rank < 64) IDENTITY_MAPS[rank] = maps;
  }
  return maps;
}

export function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function fmtShape(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}
