// From a task's box in an op's iteration space to the tensor regions it touches.
// This is the region algebra applied to the op contract; nothing here is op-specific.

import { partRegion, type Region } from "../core/region.js";
import type { AxisMap, OpSignature } from "./contract.js";

/** The index range along one tensor axis that a task with box `box` touches. */
export function axisRange(map: AxisMap, box: Region, axisSize: number): [number, number] {
  switch (map.kind) {
    case "iter":
      return [box.lo[map.dim], box.hi[map.dim]];
    case "full":
      return [0, axisSize];
    case "window": {
      // Output positions [lo, hi) read inputs from lo*stride - padLo to
      // (hi-1)*stride - padLo + (kernel-1)*dilation, clipped to the tensor: the halo.
      const first = box.lo[map.dim] * map.stride - map.padLo;
      const last = (box.hi[map.dim] - 1) * map.stride - map.padLo + (map.kernel - 1) * map.dilation;
      return [Math.max(0, first), Math.min(map.size, last + 1)];
    }
    case "block":
      return [box.lo[map.dim] * map.blockSize, box.hi[map.dim] * map.blockSize];
  }
}

/**
 * For a window axis: how much implicit zero padding the task needs before and after the
 * clipped input range (non-zero only for tasks at the tensor's borders).
 */
export function windowPadding(map: Extract<AxisMap, { kind: "window" }>, box: Region): [number, number] {
  const first = box.lo[map.dim] * map.stride - map.padLo;
  const last = (box.hi[map.dim] - 1) * map.stride - map.padLo + (map.kernel - 1) * map.dilation;
  return [Math.max(0, -first), Math.max(0, last + 1 - map.size)];
}

export function tensorRegion(maps: readonly AxisMap[], shape: readonly number[], box: Region): Region {
  const lo: number[] = [];
  const hi: number[] = [];
  maps.forEach((m, axis) => {
    const [l, h] = axisRange(m, box, shape[axis]);
    lo.push(l);
    hi.push(h);
  });
  return { lo, hi };
}

export interface TaskRegions {
  box: Region;
  inputs: Region[];
  params: Region[];
  outputs: Region[];
}

export function spaceSizes(sig: OpSignature): number[] {
  return sig.space.map((d) => d.size);
}

export function taskRegions(sig: OpSignature, inputShapes: readonly (readonly number[])[], box: Region): TaskRegions {
  return {
    box,
    inputs: sig.inputMaps.map((maps, i) => tensorRegion(maps, inputShapes[i], box)),
    params: sig.paramMaps.map((maps, i) => tensorRegion(maps, sig.params[i].shape, box)),
    outputs: sig.outputMaps.map((maps, i) => tensorRegion(maps, sig.outputs[i].shape, box)),
  };
}

/** Iteration dims that no output axis addresses: splitting them gives partial sums. */
export function reductionDims(sig: OpSignature): number[] {
  const used = new Set<number>();
  for (const maps of sig.outputMaps) for (const m of maps) if (m.kind !== "full") used.add(m.dim);
  const out: number[] = [];
  sig.space.forEach((_, i) => {
    if (!used.has(i)) out.push(i);
  });
  return out;
}

/** True when the task's box starts at 0 along every reduction dim. */
export function isFirstAlongReductions(sig: OpSignature, box: Region): boolean {
  return reductionDims(sig).every((d) => box.lo[d] === 0);
}
