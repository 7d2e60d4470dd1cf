// The order in which each device group of a pipeline runs its units: one forward (F) or
// backward (B) of one micro-batch through one stage. Program order, not times: the
// simulator times these lists (src/sim/scale/pipeline-sim.ts) and the memory model walks
// them to count the micro-batches whose activations are held (src/cost/scale-memory.ts).
//
// - GPipe (Huang et al. 2019): every forward, then every backward, micro-batches in order.
// - 1F1B (PipeDream-flush, Narayanan et al. 2021): group g runs min(p − g − 1, M) warm-up
//   forwards, then alternates one forward and one backward, then drains the backwards; it
//   holds at most min(p − g, M) micro-batches.
// - Interleaved 1F1B (Narayanan et al. 2021, §2.2.2; Megatron-LM's schedule): group g runs
//   the v stages g, g + p, ..., g + (v−1)p ("model chunks"). Forwards go round the chunks in
//   rounds of p micro-batches: the k-th forward of a group is chunk ⌊k/p⌋ mod v of
//   micro-batch ⌊k/(p·v)⌋·p + k mod p; backwards take the chunks in reverse. Warm-up:
//   min((p − g − 1)·2 + (v − 1)·p, M·v) forwards, then one forward / one backward, then
//   the remaining backwards. M must be a multiple of p.

import type { PipelineSchedule } from "./strategy.js";

export interface PipelineUnit {
  /** The (virtual) stage: 0 .. p·v − 1; stage k runs on group k mod p. */
  stage: number;
  microbatch: number;
  backward: boolean;
}

/** Per device group (0 .. p − 1), its units in program order. */
export function pipelineOrder(schedule: PipelineSchedule, groups: number, virtual: number, microbatches: number): PipelineUnit[][] {
  const p = groups;
  const M = microbatches;
  if (!(p >= 1 && M >= 1 && virtual >= 1)) throw new RangeError(`pipelineOrder: ${p} groups, ${virtual} virtual stages, ${M} micro-batches`);
  const out: PipelineUnit[][] = [];
  for (let g = 0; g < p; g++) {
    const units: PipelineUnit[] = [];
    const F = (stage: number, microbatch: number) => units.push({ stage, microbatch, backward: false });
    const B = (stage: number, microbatch: number) => units.push({ stage, microbatch, backward: true });
    if (schedule === "gpipe" || (schedule === "1f1b" && virtual === 1)) {
      if (virtual !== 1) throw new RangeError(`pipelineOrder: ${schedule} with ${virtual} virtual stages`);
      if (schedule === "gpipe") {
        for (let m = 0; m < M; m++) F(g, m);
        for (let m = 0; m < M; m++) B(g, m);
      } else {
        const warm = Math.min(p - g - 1, M);
        for (let m = 0; m < warm; m++) F(g, m);
        for (let i = 0; i < M - warm; i++) {
          F(g, warm + i);
          B(g, i);
        }
        for (let m = M - warm; m < M; m++) B(g, m);
      }
    } else {
      const v = virtual;
      if (M % p !== 0) throw new RangeError(`pipelineOrder: the interleaved schedule needs micro-batches (${M}) to be a multiple of the device groups (${p})`);
      const total = M * v;
      const chunkF = (k: number) => Math.floor(k / p) % v;
      const mb = (k: number) => Math.floor(k / (p * v)) * p + (k % p);
      const fwd = (k: number) => F(chunkF(k) * p + g, mb(k));
      const bwd = (k: number) => B((v - 1 - chunkF(k)) * p + g, mb(k));
      const warm = Math.min((p - g - 1) * 2 + (v - 1) * p, total);
      for (let k = 0; k < warm; k++) fwd(k);
      for (let i = 0; i < total - warm; i++) {
        fwd(warm + i);
        bwd(i);
      }
      for (let k = total - warm; k < total; k++) bwd(k);
    }
    out.push(units);
  }
  return out;
}
