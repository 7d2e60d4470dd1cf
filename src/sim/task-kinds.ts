// Kinds of task in the task graph (the TaskStore's `kind` column) and the resources they occupy.

export const KIND_FWD = 0;
export const KIND_BWD = 1;
export const KIND_XFER = 2;
export const KIND_PSUM = 3;
export const KIND_ALLREDUCE = 4;
export const KIND_UPDATE = 5;
export const KIND_NAMES = ["fwd", "bwd", "xfer", "reduce", "allreduce", "update"] as const;
/**
 * A zero-duration join on no resource: the point where every gradient contribution to one
 * partial-summed output region has arrived at its owner, ahead of the broadcasts to the
 * partial tasks. It stands for p·q direct edges with p + q (same times: a start is a max).
 * Not a timeline task: the timeline routes dependencies through it.
 */
export const KIND_JOIN = 6;

/** `dst` of an in-line all-reduce's arrive marker (zero time on a member's queue; see the header). */
export const ARRIVE = -2;

/** Compute kinds run on a device's queue; the others on link queues. */
export function isComputeKind(kind: number): boolean {
  return kind === KIND_FWD || kind === KIND_BWD || kind === KIND_PSUM || kind === KIND_UPDATE;
}

