// The stage-level schedule of one training step: every device group runs its units
// (forward or backward of one micro-batch through one stage) in program order
// (src/ir/pipeline-schedule.ts); a unit starts when the group is free, its inputs have
// arrived and (ZeRO-3) its weights are gathered:
//
//   F(k, m)  after F(j, m) of every stage j feeding stage k, plus the activations' transfer
//   B(k, m)  after B(j, m) of every stage j that stage k feeds, plus the gradients' transfer
//            (the last stage's B follows its own F, earlier in its group's order)
//
// Transfers between two stages queue in the sender's program order on their own link (one
// per direction); the receiving group waits for them, the sender does not. Each group has
// one data-parallel channel (NCCL's communicator of its data-parallel group) that runs, in
// the order they are issued: ZeRO-3's weight all-gather of unit i + 1 (issued when unit i
// starts: one unit of prefetch), the gradient buckets of a backward (issued when each
// bucket's gradients are complete), the final all-reduce. When a group's last unit and
// channel item are done, tied weights (copies kept by two stages) are all-reduced, then the
// optimizer step runs and, under ZeRO 1–2, the updated weights are all-gathered. The step
// ends when every group has finished. One pass over the units in dependency order; no
// event queue (each queue's order is its sender's program order, so times along it grow).

import type { PipelineUnit } from "../../ir/pipeline-schedule.js";
import type { Boundary, Tie } from "./boundary.js";
import type { GradBucket } from "./weight-sync.js";

/** What one (virtual) stage costs, for the schedule. */
export interface StageStepCosts {
  /** Seconds of one micro-batch's forward and backward. */
  forward: number;
  backward: number;
  /** Once per step: added to the stage's first forward and last backward. */
  perStepForward: number;
  perStepBackward: number;
  /** ZeRO-3: the weights' all-gather before each unit (0 otherwise). */
  unitGather: number;
  buckets: readonly GradBucket[];
  /** Buckets after every backward (ZeRO 2–3) or only the last. */
  everyMicrobatch: boolean;
  update: number;
  postGather: number;
}

export interface ScheduleInput {
  /** Per device group, its units in program order. */
  order: readonly (readonly PipelineUnit[])[];
  stages: readonly StageStepCosts[];
  microbatches: number;
  boundaries: readonly Boundary[];
  ties: readonly Tie[];
}

export type ChannelKind = "gather" | "grad" | "tie";

export interface ChannelItem {
  group: number;
  stage: number;
  kind: ChannelKind;
  start: number;
  end: number;
}

export interface GroupTimes {
  /** End of the group's last unit. */
  computeEnd: number;
  /** End of its data-parallel channel's last item (gradient sync done). */
  syncEnd: number;
  updateStart: number;
  /** End of the optimizer step and (ZeRO 1–2) the weights' all-gather: the group's step. */
  end: number;
  /** Seconds the group computed (units only). */
  busy: number;
}

export interface ScheduleTimes {
  stepTime: number;
  /** By unit id (unitId): start and end; NaN for units no group runs. */
  unitStart: Float64Array;
  unitEnd: Float64Array;
  /** Per boundary (index into `boundaries`) and micro-batch: the forward and backward transfer's start and end. */
  transfers: { forwardStart: Float64Array; forwardEnd: Float64Array; backwardStart: Float64Array; backwardEnd: Float64Array }[];
  channel: ChannelItem[];
  groups: GroupTimes[];
}

/** The index of unit (stage, micro-batch, direction) in ScheduleTimes' arrays. */
export function unitId(stage: number, microbatch: number, backward: boolean, microbatches: number): number {
  return (stage * microbatches + microbatch) * 2 + (backward ? 1 : 0);
}

export function simulateSchedule(input: ScheduleInput): ScheduleTimes {
  const { order, stages, boundaries } = input;
  const M = input.microbatches;
  const K = stages.length;
  const P = order.length;
  const unitStart = new Float64Array(K * M * 2).fill(NaN);
  const unitEnd = new Float64Array(K * M * 2).fill(NaN);
  const into = stages.map(() => [] as number[]);
  const outOf = stages.map(() => [] as number[]);
  boundaries.forEach((b, i) => {
    into[b.to].push(i);
    outOf[b.from].push(i);
  });
  const transfers = boundaries.map(() => ({
    forwardStart: new Float64Array(M).fill(NaN), forwardEnd: new Float64Array(M).fill(NaN),
    backwardStart: new Float64Array(M).fill(NaN), backwardEnd: new Float64Array(M).fill(NaN),
  }));
  const linkFree = boundaries.map(() => ({ forward: 0, backward: 0 }));
  // Each stage's first forward and last backward in its group's order (they carry the per-step work).
  const firstF = new Int32Array(K).fill(-1);
  const lastB = new Int32Array(K).fill(-1);
  order.forEach((units) => units.forEach((u, i) => {
    if (!u.backward && firstF[u.stage] < 0) firstF[u.stage] = i;
    if (u.backward) lastB[u.stage] = i;
  }));

  const channel: ChannelItem[] = [];
  const chanFree = new Float64Array(P);
  const post = (g: number, stage: number, kind: ChannelKind, issue: number, seconds: number): number => {
    const start = Math.max(issue, chanFree[g]);
    const end = start + seconds;
    chanFree[g] = end;
    channel.push({ group: g, stage, kind, start, end });
    return end;
  };
  const free = new Float64Array(P);
  const busy = new Float64Array(P);
  const next = new Int32Array(P);
  /** Per group: when the weights of its next unit are gathered (ZeRO-3). */
  const gathered = new Float64Array(P);
  for (let g = 0; g < P; g++) {
    const u = order[g][0];
    if (u && stages[u.stage].unitGather > 0) gathered[g] = post(g, u.stage, "gather", 0, stages[u.stage].unitGather);
  }

  let remaining = order.reduce((n, u) => n + u.length, 0);
  while (remaining > 0) {
    let progressed = false;
    for (let g = 0; g < P; g++) {
      const units = order[g];
      while (next[g] < units.length) {
        const i = next[g];
        const u = units[i];
        const s = stages[u.stage];
        // Inputs: activations from the feeding stages, or gradients from the fed ones.
        let ready = Math.max(free[g], gathered[g]);
        let blocked = false;
        for (const bi of u.backward ? outOf[u.stage] : into[u.stage]) {
          const t = u.backward ? transfers[bi].backwardEnd[u.microbatch] : transfers[bi].forwardEnd[u.microbatch];
          if (Number.isNaN(t)) {
            blocked = true;
            break;
          }
          if (t > ready) ready = t;
        }
        if (blocked) break;
        const duration = u.backward ? s.backward + (lastB[u.stage] === i ? s.perStepBackward : 0) : s.forward + (firstF[u.stage] === i ? s.perStepForward : 0);
        const id = unitId(u.stage, u.microbatch, u.backward, M);
        const end = ready + duration;
        unitStart[id] = ready;
        unitEnd[id] = end;
        free[g] = end;
        busy[g] += duration;
        // The channel, in issue order: the next unit's gather (issued now), then this unit's gradient buckets.
        const n = units[i + 1];
        gathered[g] = n && stages[n.stage].unitGather > 0 ? post(g, n.stage, "gather", ready, stages[n.stage].unitGather) : 0;
        if (u.backward && (s.everyMicrobatch || lastB[u.stage] === i)) {
          const offset = lastB[u.stage] === i ? s.perStepBackward : 0;
          for (const b of s.buckets) post(g, u.stage, "grad", ready + offset + Math.min(b.ready, s.backward), b.seconds);
        }
        // Sends, in this group's program order on each link.
        for (const bi of u.backward ? into[u.stage] : outOf[u.stage]) {
          const b = boundaries[bi];
          const link = linkFree[bi];
          const tr = transfers[bi];
          if (u.backward) {
            const start = Math.max(end, link.backward);
            link.backward = start + b.backward;
            tr.backwardStart[u.microbatch] = start;
            tr.backwardEnd[u.microbatch] = link.backward;
          } else {
            const start = Math.max(end, link.forward);
            link.forward = start + b.forward;
            tr.forwardStart[u.microbatch] = start;
            tr.forwardEnd[u.microbatch] = link.forward;
          }
        }
        next[g]++;
        remaining--;
        progressed = true;
      }
    }
    if (!progressed) throw new Error("pipeline schedule deadlock: no group can run its next unit (the unit order contradicts the stage dependencies)");
  }

  const groupOf = (stage: number) => stage % P;
  const syncEnd = Float64Array.from(chanFree, (c, g) => Math.max(c, free[g]));
  const tieEnd = new Float64Array(P);
  for (const t of input.ties) {
    const [a, b] = t.stages.map(groupOf);
    const start = Math.max(syncEnd[a], syncEnd[b]);
    const end = post(a, t.stages[0], "tie", start, t.seconds);
    tieEnd[a] = Math.max(tieEnd[a], end);
    tieEnd[b] = Math.max(tieEnd[b], end);
  }
  const groups: GroupTimes[] = [];
  let stepTime = 0;
  for (let g = 0; g < P; g++) {
    const updateStart = Math.max(syncEnd[g], tieEnd[g]);
    let work = 0;
    for (let k = g; k < K; k += P) work += stages[k].update + stages[k].postGather;
    const end = updateStart + work;
    groups.push({ computeEnd: free[g], syncEnd: syncEnd[g], updateStart, end, busy: busy[g] });
    if (end > stepTime) stepTime = end;
  }
  return { stepTime, unitStart, unitEnd, transfers, channel, groups };
}
