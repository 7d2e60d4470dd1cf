// The release pass: where a buffer's contents are dead, the program says so (`release`),
// so that engines free the memory. A buffer is dead from its last read until its next pure
// write (src/plan/access.ts): a micro-batch's activations and gradients after its backward
// until the next step writes them again, a recomputed op's outputs between their last
// forward use and the recomputation, ZeRO-3's gathered weights between their use and the
// next gather, ZeRO-2's whole gradient after its reduce-scatter. Programs repeat every
// step, so "next" wraps around to the start of the program. Only buffers the lowering
// names releasable are considered (weights, their gradients and optimizer state carry
// over from step to step; an all-reduced gradient is read after the step).

import { bufferAccesses } from "../../plan/access.js";
import type { Instruction } from "../../plan/plan.js";

/** `program` with a `release` after the last read of every releasable buffer before its next pure write. */
export function insertReleases(program: readonly Instruction[], releasable: (buf: string) => boolean): Instruction[] {
  // Per buffer, its accesses in program order: [index, reads, pure write].
  const uses = new Map<string, [number, boolean, boolean][]>();
  program.forEach((ins, i) => {
    const seen = new Map<string, { read: boolean; write: boolean }>();
    for (const a of bufferAccesses(ins)) {
      const x = seen.get(a.buf) ?? { read: false, write: false };
      x.read ||= a.read;
      x.write ||= a.write;
      seen.set(a.buf, x);
    }
    for (const [buf, x] of seen) {
      if (!releasable(buf)) continue;
      const list = uses.get(buf) ?? [];
      list.push([i, x.read, x.write && !x.read]);
      uses.set(buf, list);
    }
  });
  const after = new Map<number, string[]>();
  for (const [buf, list] of uses) {
    for (let k = 0; k < list.length; k++) {
      const [index, reads] = list[k];
      const next = list[(k + 1) % list.length];
      if (!reads || !next[2] || (list.length === 1 && next === list[k])) continue;
      const at = after.get(index) ?? [];
      at.push(buf);
      after.set(index, at);
    }
  }
  if (after.size === 0) return [...program];
  const out: Instruction[] = [];
  program.forEach((ins, i) => {
    out.push(ins);
    for (const buf of after.get(i) ?? []) out.push({ kind: "release", buf });
  });
  return out;
}
