// The order of a pipeline's work (docs/strategies.md, "Schedules"). A step is a set of
// units (stage k, micro-batch m, forward or backward); each device group runs its units
// in the order its schedule prescribes:
//   gpipe        all forwards, then all backwards;
//   1f1b         stage s: min(p − s − 1, M) warm-up forwards, then one forward and one
//                backward in turn, then the remaining backwards (PipeDream-flush);
//   interleaved  Narayanan et al. (SC'21) as Megatron-LM implements it: device group g
//                runs the v virtual stages g, g + p, ...; the k-th forward is of chunk
//                ⌊(k mod pv) / p⌋ and micro-batch ⌊k / pv⌋·p + k mod p (backwards the
//                chunks in reverse), with (p − g − 1)·2 + (v − 1)·p warm-up forwards
//                (all of them when M = p), then 1F1B, then the cool-down.
// `unitOrder` places every unit at its idealised start time (each unit one slot; a unit
// starts when its device group is free and its inputs are done: F(k, m) after F(k − 1, m),
// B(k, m) after B(k + 1, m) and after F(k, m)) and lists them by start time, ties by
// stage: a topological order of the step in which the pipeline flows. Lowering emits its
// instructions in that order (src/codegen/lower/steps.ts); the order is a pure function
// of (stages, p, M, schedule, v).

import type { PipelineConfig, PipelineSchedule } from "../ir/strategy.js";

export type Phase = "F" | "B";

export interface Unit {
  stage: number;
  microbatch: number;
  phase: Phase;
}

export interface PipelineShape {
  /** Stages (p·v for the interleaved schedule). */
  stages: number;
  microbatches: number;
  schedule: PipelineSchedule;
  /** Virtual stages per device group (interleaved; 1 otherwise). */
  virtual: number;
}

export function pipelineShape(p: PipelineConfig | undefined): PipelineShape {
  if (!p) return { stages: 1, microbatches: 1, schedule: "gpipe", virtual: 1 };
  return { stages: p.stages.length, microbatches: p.microbatches, schedule: p.schedule, virtual: p.schedule === "interleaved" ? p.virtualStages ?? 1 : 1 };
}

/** The units each device group runs, in order (group g: stages g, g + p, ... with interleaving). */
export function groupSequences(shape: PipelineShape): Unit[][] {
  const { stages, microbatches: M, schedule } = shape;
  const v = shape.virtual;
  const p = stages / v;
  if (!Number.isInteger(p) || p < 1) throw new Error(`schedule: ${stages} stages do not make ${v} virtual stages per device group`);
  const out: Unit[][] = [];
  for (let g = 0; g < p; g++) {
    if (schedule === "interleaved") {
      out.push(interleaved(g, p, v, M));
      continue;
    }
    const F = (m: number): Unit => ({ stage: g, microbatch: m, phase: "F" });
    const B = (m: number): Unit => ({ stage: g, microbatch: m, phase: "B" });
    const seq: Unit[] = [];
    if (schedule === "gpipe") {
      for (let m = 0; m < M; m++) seq.push(F(m));
      for (let m = 0; m < M; m++) seq.push(B(m));
    } else {
      const warm = Math.min(p - g - 1, M);
      for (let m = 0; m < warm; m++) seq.push(F(m));
      for (let i = 0; i < M - warm; i++) seq.push(F(warm + i), B(i));
      for (let m = M - warm; m < M; m++) seq.push(B(m));
    }
    out.push(seq);
  }
  return out;
}

/** Megatron-LM's interleaved 1F1B for device group g of p, v chunks, M micro-batches (a multiple of p). */
function interleaved(g: number, p: number, v: number, M: number): Unit[] {
  const total = M * v;
  const unit = (k: number, phase: Phase): Unit => {
    const inGroup = k % (p * v);
    const chunk = Math.floor(inGroup / p);
    return { stage: (phase === "F" ? chunk : v - 1 - chunk) * p + g, microbatch: Math.floor(k / (p * v)) * p + (k % p), phase };
  };
  const warm = M === p ? total : Math.min((p - g - 1) * 2 + (v - 1) * p, total);
  const seq: Unit[] = [];
  for (let k = 0; k < warm; k++) seq.push(unit(k, "F"));
  for (let i = 0; i < total - warm; i++) seq.push(unit(warm + i, "F"), unit(i, "B"));
  for (let k = total - warm; k < total; k++) seq.push(unit(k, "B"));
  return seq;
}

export interface TimedUnit extends Unit {
  /** Idealised start slot (every unit takes one slot). */
  start: number;
}

/** Every unit of a step with its idealised start, in the global order (start, then stage, then forward first). */
export function unitOrder(shape: PipelineShape): TimedUnit[] {
  const seqs = groupSequences(shape);
  const K = shape.stages;
  const finish = new Map<string, number>();
  const key = (k: number, m: number, ph: Phase) => `${ph}${k}:${m}`;
  const deps = (u: Unit): string[] => {
    if (u.phase === "F") return u.stage > 0 ? [key(u.stage - 1, u.microbatch, "F")] : [];
    return [key(u.stage, u.microbatch, "F"), ...(u.stage < K - 1 ? [key(u.stage + 1, u.microbatch, "B")] : [])];
  };
  const next = seqs.map(() => 0);
  const free = seqs.map(() => 0);
  const out: TimedUnit[] = [];
  let progress = true;
  while (progress) {
    progress = false;
    for (let g = 0; g < seqs.length; g++) {
      while (next[g] < seqs[g].length) {
        const u = seqs[g][next[g]];
        const ds = deps(u).map((d) => finish.get(d));
        if (ds.some((x) => x === undefined)) break;
        const start = Math.max(free[g], ...(ds as number[]));
        finish.set(key(u.stage, u.microbatch, u.phase), start + 1);
        free[g] = start + 1;
        out.push({ ...u, start });
        next[g]++;
        progress = true;
      }
    }
  }
  if (next.some((n, g) => n < seqs[g].length)) throw new Error(`schedule ${shape.schedule}: the device groups' orders wait on each other`);
  return out.sort((a, b) => a.start - b.start || a.stage - b.stage || (a.phase === b.phase ? 0 : a.phase === "F" ? -1 : 1));
}
