// The stage-level schedule against the closed forms of Narayanan et al. 2021 (§2.2): with
// p uniform stages and m micro-batches, GPipe's and 1F1B's bubble is (p − 1)/(m + p − 1) of
// the step; interleaving v virtual stages per device group divides the bubble time by v.
import { describe, expect, it } from "vitest";
import { pipelineOrder } from "../../../src/ir/pipeline-schedule.js";
import { simulateSchedule, type StageStepCosts } from "../../../src/sim/scale/pipeline-sim.js";
import type { PipelineSchedule } from "../../../src/ir/strategy.js";

function uniform(K: number, forward: number, backward: number): StageStepCosts[] {
  return Array.from({ length: K }, () => ({ forward, backward, perStepForward: 0, perStepBackward: 0, unitGather: 0, buckets: [], everyMicrobatch: false, update: 0, postGather: 0 }));
}

/** A chain of K stages with free transfers, stage k feeding k + 1. */
function run(schedule: PipelineSchedule, p: number, v: number, m: number, f = 1, b = 2) {
  const K = p * v;
  const boundaries = Array.from({ length: K - 1 }, (_, k) => ({ from: k, to: k + 1, forward: 0, backward: 0, bytes: 0 }));
  const order = pipelineOrder(schedule, p, v, m);
  const t = simulateSchedule({ order, stages: uniform(K, f / v, b / v), microbatches: m, boundaries, ties: [] });
  const busy = t.groups.reduce((n, g) => n + g.busy, 0);
  return { step: t.stepTime, bubble: 1 - busy / (p * t.stepTime), ideal: m * (f + b) };
}

describe("pipeline schedule simulation: closed forms", () => {
  for (const schedule of ["gpipe", "1f1b"] as const) {
    for (const [p, m] of [[2, 2], [4, 8], [8, 4], [4, 16], [1, 5]]) {
      it(`${schedule}: p=${p}, m=${m}: bubble (p − 1)/(m + p − 1)`, () => {
        const r = run(schedule, p, 1, m);
        expect(r.bubble).toBeCloseTo((p - 1) / (m + p - 1), 12);
        expect(r.step).toBeCloseTo((m + p - 1) * 3, 9);
      });
    }
  }
  for (const [p, v, m] of [[2, 2, 4], [4, 2, 8], [4, 4, 8], [8, 2, 16], [4, 3, 12]]) {
    it(`interleaved: p=${p}, v=${v}, m=${m}: bubble time (p − 1)(f + b)/v, a v-th of 1F1B's`, () => {
      const inter = run("interleaved", p, v, m);
      const plain = run("1f1b", p, 1, m);
      expect(inter.step - inter.ideal).toBeCloseTo((plain.step - plain.ideal) / v, 9);
      expect(inter.step - inter.ideal).toBeCloseTo(((p - 1) * 3) / v, 9);
    });
  }
  it("1F1B holds at most p − s micro-batches on stage s, GPipe all m", () => {
    const [p, m] = [4, 8];
    for (const [schedule, bound] of [["1f1b", (s: number) => p - s], ["gpipe", () => m]] as const) {
      pipelineOrder(schedule, p, 1, m).forEach((units, s) => {
        let live = 0;
        let worst = 0;
        for (const u of units) worst = Math.max(worst, (live += u.backward ? -1 : 1));
        expect(worst).toBe(bound(s));
      });
    }
  });
  it("a transfer between stages delays the pipeline by its time on the critical path", () => {
    const order = pipelineOrder("1f1b", 2, 1, 1);
    const boundaries = [{ from: 0, to: 1, forward: 0.5, backward: 0.25, bytes: 1 }];
    const t = simulateSchedule({ order, stages: uniform(2, 1, 2), microbatches: 1, boundaries, ties: [] });
    expect(t.stepTime).toBeCloseTo(1 + 0.5 + 1 + 2 + 0.25 + 2, 12);
  });
});
