// The pipeline schedules' unit orders (src/layout/schedule.ts): each device group's order
// is its schedule's, the global order places units at their idealised start slots (the
// pictures of docs/strategies.md "Schedules", slot by slot), it is a topological order of
// the step, and the makespans have the closed forms of the bubble: 2(M + p − 1) slots for
// GPipe and 1F1B, and interleaving with v virtual stages shrinks the bubble's share by v.
import { describe, expect, it } from "vitest";
import { groupSequences, unitOrder, type PipelineShape, type TimedUnit } from "../../src/layout/schedule.js";

const show = (u: { phase: string; microbatch: number }) => `${u.phase}${u.microbatch + 1}`;

/** The docs' picture: per stage, the unit at each slot ("." when idle). */
function picture(units: TimedUnit[], stages: number): string[] {
  const end = Math.max(...units.map((u) => u.start)) + 1;
  return Array.from({ length: stages }, (_, s) => {
    const row: string[] = Array.from({ length: end }, () => ".");
    for (const u of units) if (u.stage === s) row[u.start] = show(u);
    return row.join(" ");
  });
}

function shape(stages: number, microbatches: number, schedule: PipelineShape["schedule"], virtual = 1): PipelineShape {
  return { stages, microbatches, schedule, virtual };
}

describe("pipeline schedules", () => {
  it("GPipe and 1F1B match the pictures of docs/strategies.md", () => {
    expect(picture(unitOrder(shape(2, 4, "gpipe")), 2)).toEqual(["F1 F2 F3 F4 . . B1 B2 B3 B4", ". F1 F2 F3 F4 B1 B2 B3 B4 ."]);
    expect(picture(unitOrder(shape(2, 4, "1f1b")), 2)).toEqual(["F1 F2 . B1 F3 B2 F4 B3 . B4", ". F1 B1 F2 B2 F3 B3 F4 B4 ."]);
  });

  it("1F1B: stage s runs min(p − s − 1, M) warm-up forwards, then alternates", () => {
    const seqs = groupSequences(shape(4, 6, "1f1b"));
    seqs.forEach((seq, s) => {
      const warm = seq.findIndex((u) => u.phase === "B");
      expect(warm).toBe(Math.min(4 - s - 1, 6) + 1);
      expect(seq.filter((u) => u.phase === "F").map((u) => u.microbatch)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(seq.filter((u) => u.phase === "B").map((u) => u.microbatch)).toEqual([0, 1, 2, 3, 4, 5]);
    });
  });

  it("interleaved: group g runs the v stages g, g + p, ... of every micro-batch, in Megatron-LM's order", () => {
    const seqs = groupSequences(shape(4, 4, "interleaved", 2));
    expect(seqs).toHaveLength(2);
    // Group 0, p = 2, v = 2, M = 4: warm-up (p − g − 1)·2 + (v − 1)·p = 4 forwards.
    expect(seqs[0].map((u) => `${u.phase}${u.stage}:${u.microbatch}`)).toEqual([
      "F0:0", "F0:1", "F2:0", "F2:1", "F0:2", "B2:0", "F0:3", "B2:1", "F2:2", "B0:0", "F2:3", "B0:1", "B2:2", "B2:3", "B0:2", "B0:3",
    ]);
    for (const seq of seqs) expect(seq).toHaveLength(2 * 2 * 4);
  });

  for (const sh of [shape(2, 2, "gpipe"), shape(3, 8, "gpipe"), shape(4, 5, "1f1b"), shape(2, 8, "1f1b"), shape(4, 1, "1f1b"), shape(4, 4, "interleaved", 2), shape(6, 6, "interleaved", 2), shape(8, 8, "interleaved", 4)]) {
    const name = `${sh.schedule} p=${sh.stages / sh.virtual} v=${sh.virtual} M=${sh.microbatches}`;
    it(`${name}: every unit once, in a topological order`, () => {
      const units = unitOrder(sh);
      expect(units).toHaveLength(2 * sh.stages * sh.microbatches);
      const at = new Map(units.map((u, i) => [`${u.phase}${u.stage}:${u.microbatch}`, i]));
      expect(at.size).toBe(units.length);
      for (const u of units) {
        const i = at.get(`${u.phase}${u.stage}:${u.microbatch}`)!;
        if (u.phase === "F" && u.stage > 0) expect(at.get(`F${u.stage - 1}:${u.microbatch}`)!).toBeLessThan(i);
        if (u.phase === "B") {
          expect(at.get(`F${u.stage}:${u.microbatch}`)!).toBeLessThan(i);
          if (u.stage < sh.stages - 1) expect(at.get(`B${u.stage + 1}:${u.microbatch}`)!).toBeLessThan(i);
        }
      }
    });
  }

  it("the bubble: GPipe and 1F1B take 2(M + p − 1) slots; interleaving divides the bubble's share by v", () => {
    const span = (sh: PipelineShape) => Math.max(...unitOrder(sh).map((u) => u.start)) + 1;
    for (const p of [2, 3, 4]) {
      for (const M of [2, 4, 8]) {
        expect(span(shape(p, M, "gpipe"))).toBe(2 * (M + p - 1));
        expect(span(shape(p, M, "1f1b"))).toBe(2 * (M + p - 1));
      }
    }
    // Interleaved: each unit is a 1/v-size chunk; a device group's work is 2Mv slots and
    // its idle share falls from (p − 1)/(M + p − 1) to (p − 1)/(Mv + p − 1) (chunks of
    // 1/v the time: the same p − 1 idle slots out of v times more).
    for (const [p, v, M] of [[2, 2, 4], [4, 2, 8], [2, 4, 4], [4, 2, 4]]) {
      const total = span(shape(p * v, M, "interleaved", v));
      expect(total).toBe(2 * (M * v + p - 1));
      const bubble = (total - 2 * M * v) / total;
      const plain = (2 * (p - 1)) / (2 * (M + p - 1));
      expect(bubble * (M * v + p - 1)).toBeCloseTo((plain * (M + p - 1)), 10);
    }
  });
});
