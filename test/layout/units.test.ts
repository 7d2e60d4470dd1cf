// Micro-batches and replicas as more tasks (src/layout/units.ts): task u·n + i is inner
// task i of unit u, its box the inner box moved to the unit's samples, on replica r's image
// of the inner device; output groups are scoped to a unit, weight shards span all units;
// one replica and one micro-batch give exactly makeOpLayout's layout.
import { describe, expect, it } from "vitest";
import { makeOpLayout } from "../../src/layout/op-layout.js";
import { makeUnitLayout, producerUnit, tasksOfUnit, unitDevices, unitOverlaps } from "../../src/layout/units.js";
import { mlp } from "../runtime/graphs.js";

describe("unit layouts", () => {
  const g = mlp(8, 6, 5, 3);
  const fc1 = g.op("fc1");
  const shapes = fc1.inputs.map((t) => g.tensor(t).type.shape);

  it("one replica, one micro-batch: makeOpLayout's layout", () => {
    const u = makeUnitLayout(fc1, shapes, [2, 1, 1], { replicas: 1, microbatches: 1 });
    const plain = makeOpLayout(fc1, shapes, [2, 1, 1]);
    expect(u.units).toBe(1);
    expect(u.all.boxes).toEqual(plain.boxes);
    expect(u.all.groups).toEqual(plain.groups);
  });

  it("2 replicas × 2 micro-batches: boxes on each unit's samples, devices on each replica", () => {
    // fc1's space: sample 8, channel 5, in_channel 6; one micro-batch of a replica has 2 samples, split 2 ways.
    const u = makeUnitLayout(fc1, shapes, [2, 1, 1], { replicas: 2, microbatches: 2 });
    expect(u.perMicrobatch).toBe(true);
    expect(u.units).toBe(4);
    expect(u.innerCount).toBe(2);
    expect(u.all.boxes.map((b) => [b.lo[0], b.hi[0]])).toEqual([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7], [7, 8]]);
    expect(tasksOfUnit(u, 3)).toEqual([6, 7]);
    // Replica r on d + r·offset: units 0, 1 are replica 0's micro-batches, units 2, 3 replica 1's.
    expect(unitDevices(u, [0, 1], { count: 2, offset: 2 })).toEqual([0, 1, 0, 1, 2, 3, 2, 3]);
    // Each unit writes its own output rows: 8 groups, one per task.
    expect(u.all.groups[0]).toHaveLength(8);
    // The weight is one shard held by every task of every unit: its data-parallel group.
    expect(u.all.shards[0]).toHaveLength(1);
    expect(u.all.shards[0][0].tasks).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("a consumer reads only its own unit's producer values", () => {
    const act = g.op("act");
    const prod = makeUnitLayout(fc1, shapes, [1, 1, 1], { replicas: 2, microbatches: 2 });
    const cons = makeUnitLayout(act, [g.tensor(fc1.outputs[0]).type.shape], [1, 1], { replicas: 2, microbatches: 2 });
    expect(producerUnit(prod, cons, 3)).toBe(3);
    const ov = unitOverlaps(prod, 0, cons, 0);
    // Task j of the consumer (unit j) reads holder j only, all of it (2 samples × 5 channels).
    expect([...ov.holder]).toEqual([0, 1, 2, 3]);
    expect([...ov.task]).toEqual([0, 1, 2, 3]);
    expect([...ov.volume]).toEqual([10, 10, 10, 10]);
  });

  it("a sample dim that does not split evenly is refused", () => {
    expect(() => makeUnitLayout(fc1, shapes, [1, 1, 1], { replicas: 3, microbatches: 1 })).toThrow(/does not split into 3/);
  });
});
