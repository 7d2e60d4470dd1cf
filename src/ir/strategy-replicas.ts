// Data-parallel replicas of a strategy (docs/strategies.md, "Replicas"): the op configs and
// pipeline stages describe replica 0; replica r runs each of its tasks on device
// d + r·offset. Helpers for the validator, the `.par` resolver and downstream users
// (lowering, simulation), so that all of them agree on what a replica is.

import type { ReplicaConfig, Strategy } from "./strategy.js";

/** R: how many replicas the strategy has (1 without `replicas`). */
export function replicaCount(s: Pick<Strategy, "replicas">): number {
  return s.replicas?.count ?? 1;
}

/** The device that replica `r` uses where replica 0 uses device `d`. */
export function replicaDevice(d: number, r: number, replicas: ReplicaConfig | undefined): number {
  return replicas === undefined ? d : d + r * replicas.offset;
}

/** The default offset: consecutive blocks of mesh size / count devices (undefined when count does not divide the mesh). */
export function defaultReplicaOffset(meshSize: number, count: number): number | undefined {
  return count >= 1 && meshSize % count === 0 ? meshSize / count : undefined;
}

/**
 * True when `d` is one of replica 0's own devices: `d` lies in the first `offset` devices
 * of a block of `count × offset` (⌊d / offset⌋ mod count = 0), so that its images
 * d + r·offset (r < count) are the rest of that block. With contiguous replicas
 * (offset = mesh / count) these are devices 0..offset-1; with Megatron's rank order
 * (offset = tensor-parallel size t) they are t devices out of every count·t.
 */
export function isReplicaZeroDevice(d: number, replicas: ReplicaConfig | undefined): boolean {
  return !splitsDevices(replicas) || Math.floor(d / replicas.offset) % replicas.count === 0;
}

/** True for replicas that set devices apart: more than one, with a positive integer offset (validation reports malformed ones). */
function splitsDevices(replicas: ReplicaConfig | undefined): replicas is ReplicaConfig {
  return replicas !== undefined && replicas.count > 1 && Number.isSafeInteger(replicas.offset) && replicas.offset >= 1;
}

/** Replica 0's devices among 0..limit-1, ascending (`isReplicaZeroDevice`). */
export function replicaZeroDevices(limit: number, replicas: ReplicaConfig | undefined): number[] {
  const out: number[] = [];
  for (let d = 0; d < limit; d++) if (isReplicaZeroDevice(d, replicas)) out.push(d);
  return out;
}

/** The first `n` devices of replica 0 (`isReplicaZeroDevice`), however far they reach. */
export function firstReplicaZeroDevices(n: number, replicas: ReplicaConfig | undefined): number[] {
  if (!splitsDevices(replicas)) return Array.from({ length: n }, (_, i) => i);
  // Blocks of `offset` devices, one every count × offset: the i-th is in block ⌊i / offset⌋.
  const { count, offset } = replicas;
  return Array.from({ length: n }, (_, i) => Math.floor(i / offset) * count * offset + (i % offset));
}
