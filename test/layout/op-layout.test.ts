import { describe, expect, it } from "vitest";
import { Graph } from "../../src/ir/graph.js";
import { LayoutCache } from "../../src/layout/cache.js";
import { gathersGradient, sumsPartials } from "../../src/layout/flow.js";
import { makeOpLayout } from "../../src/layout/op-layout.js";
import { makeOverlaps, overlapRegion } from "../../src/layout/overlaps.js";
import { holders, shardDevices, shardGroup } from "../../src/layout/placement.js";
import { addOp, tt } from "../runtime/graphs.js";
import { addTwoHeaded } from "./fixtures.js";

/** x[8, 6] → linear(4) → softmax_cross_entropy. */
function tiny(): Graph {
  const g = new Graph("tiny");
  g.addInput("x", tt([8, 6]));
  g.addInput("labels", tt([8], "i32"));
  addOp(g, "fc", "linear", ["x"], { out: 4 });
  addOp(g, "loss", "softmax_cross_entropy", ["fc", "labels"]);
  return g;
}

describe("op layout (degrees only)", () => {
  it("linear split by samples and in_channel: partial sums per output region, weight shards per row block", () => {
    const g = tiny();
    const fc = g.op("fc");
    // Dims: sample, channel (out), in_channel (a reduction).
    const L = makeOpLayout(fc, [[8, 6]], [2, 1, 3]);
    expect(L.count).toBe(6);
    expect(L.reductionDims).toEqual([2]);
    expect(L.boxes[4]).toEqual({ lo: [4, 0, 2], hi: [8, 4, 4] });
    expect(L.inputs[0][4]).toEqual({ lo: [4, 2], hi: [8, 4] });
    // Two output regions (one per sample half), each written by three partial tasks.
    expect(L.groups[0].map((gr) => [gr.region, gr.owner, gr.partials, gr.replicas])).toEqual([
      [{ lo: [0, 0], hi: [4, 4] }, 0, [0, 1, 2], []],
      [{ lo: [4, 0], hi: [8, 4] }, 3, [3, 4, 5], []],
    ]);
    expect(L.groups[0][1].volume).toBe(16);
    // weight [in, out]: a row block per in_channel third, held by both sample halves;
    // bias [out]: one shard held by every task.
    expect(L.shards[0].map((s) => [s.region, s.tasks])).toEqual([
      [{ lo: [0, 0], hi: [2, 4] }, [0, 3]],
      [{ lo: [2, 0], hi: [4, 4] }, [1, 4]],
      [{ lo: [4, 0], hi: [6, 4] }, [2, 5]],
    ]);
    expect(L.shards[1].map((s) => s.tasks)).toEqual([[0, 1, 2, 3, 4, 5]]);
    // Equal boxes share an extent (for the cost memo).
    expect(L.extents).toEqual([[4, 4, 2]]);
    expect(Array.from(L.extentOf)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(L.key).toBe("2,1,3");
  });

  it("uneven splits give distinct extents", () => {
    const g = tiny();
    const L = makeOpLayout(g.op("fc"), [[8, 6]], [3, 1, 1]);
    expect(L.extents).toEqual([[3, 4, 6], [2, 4, 6]]);
    expect(Array.from(L.extentOf)).toEqual([0, 0, 1]);
  });

  it("a dim only another output addresses makes replicas, not partial sums", () => {
    const g = new Graph("two");
    g.addInput("x", tt([4, 6]));
    addTwoHeaded(g, "two", "x");
    const L = makeOpLayout(g.op("two"), [[4, 6]], [2, 3]);
    expect(L.reductionDims).toEqual([]);
    // The first output addresses both dims: six single-task groups.
    expect(L.groups[0].map((gr) => gr.partials.length)).toEqual([1, 1, 1, 1, 1, 1]);
    // The second only rows: per row half the first task owns it, the others replicate it.
    expect(L.groups[1].map((gr) => [gr.region, gr.owner, gr.partials, gr.replicas])).toEqual([
      [{ lo: [0], hi: [2] }, 0, [0], [1, 2]],
      [{ lo: [2], hi: [4] }, 3, [3], [4, 5]],
    ]);
  });

  it("equal regions of one tensor get equal ids across the ops reading it (through the graph's cache)", () => {
    const g = new Graph("readers");
    g.addInput("x", tt([4, 6]));
    addOp(g, "a", "relu", ["x"]);
    addOp(g, "b", "linear", ["a"], { out: 3 });
    addOp(g, "c", "relu", ["a"]);
    const cache = LayoutCache.of(g);
    const lb = cache.layout(g.op("b"), [2, 1, 1]);
    const lc = cache.layout(g.op("c"), [2, 3]);
    // b's task 1 reads rows 2..4 whole, as does no task of c; c's tasks read column blocks.
    expect(lb.inputs[0][1]).toEqual({ lo: [2, 0], hi: [4, 6] });
    const idsB = Array.from(lb.inputIds[0]);
    const idsC = Array.from(lc.inputIds[0]);
    expect(new Set([...idsB, ...idsC]).size).toBe(2 + 6);
    expect(cache.layout(g.op("c"), [1, 1]).inputIds[0][0]).not.toBe(idsB[0]);
    // The full region read twice gets one id.
    expect(cache.layout(g.op("b"), [1, 1, 1]).inputIds[0][0]).toBe(cache.layout(g.op("c"), [1, 1]).inputIds[0][0]);
  });

  it("the graph's cache returns one layout object per degree vector", () => {
    const g = tiny();
    const cache = LayoutCache.of(g);
    expect(LayoutCache.of(g)).toBe(cache);
    expect(cache.layout(g.op("fc"), [2, 1, 1])).toBe(cache.layout(g.op("fc"), [2, 1, 1]));
    expect(cache.layout(g.op("fc"), [2, 1, 1])).not.toBe(cache.layout(g.op("fc"), [1, 2, 1]));
  });
});

describe("overlaps (producer holders ∩ consumer input regions)", () => {
  it("sample-split producer, channel-split consumer: every consumer task reads a piece of every holder", () => {
    const g = new Graph("chain");
    g.addInput("x", tt([4, 6]));
    addOp(g, "p", "relu", ["x"]);
    addOp(g, "c", "relu", ["p"]);
    const pl = makeOpLayout(g.op("p"), [[4, 6]], [2, 1]);
    const cl = makeOpLayout(g.op("c"), [[4, 6]], [1, 3]);
    const ov = makeOverlaps(pl, 0, cl, 0);
    expect(Array.from(ov.taskStart)).toEqual([0, 2, 4, 6]);
    expect(Array.from(ov.holder)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(Array.from(ov.task)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Array.from(ov.volume)).toEqual([4, 4, 4, 4, 4, 4]);
    expect(overlapRegion(pl, 0, cl, 0, ov, 3)).toEqual({ lo: [2, 2], hi: [4, 4] });
  });

  it("holders are the groups' owners only: partial tasks and replicas hold nothing for consumers", () => {
    const g = new Graph("two");
    g.addInput("x", tt([4, 6]));
    const [, s] = addTwoHeaded(g, "two", "x");
    addOp(g, "r", "relu", [s]);
    const pl = makeOpLayout(g.op("two"), [[4, 6]], [2, 3]);
    const ov = makeOverlaps(pl, 1, makeOpLayout(g.op("r"), [[4]], [1]), 0);
    expect(Array.from(ov.holder)).toEqual([0, 1]);
    expect(holders(pl, [5, 6, 7, 8, 9, 10], 1)).toEqual([
      { region: { lo: [0], hi: [2] }, device: 5, task: 0 },
      { region: { lo: [2], hi: [4] }, device: 8, task: 3 },
    ]);
  });
});

describe("placement", () => {
  it("a shard's devices in order of first appearance, and its all-reduce group ascending", () => {
    const g = tiny();
    const L = makeOpLayout(g.op("fc"), [[8, 6]], [2, 1, 3]);
    const devices = [3, 1, 1, 0, 3, 2];
    expect(shardDevices(L.shards[1][0], devices)).toEqual([3, 1, 0, 2]);
    expect(shardGroup(L.shards[1][0], devices)).toEqual([0, 1, 2, 3]);
    expect(shardGroup(L.shards[0][1], devices)).toEqual([1, 3]);
    // Two tasks of one shard on one device: one member.
    expect(shardGroup(L.shards[0][0], [4, 0, 0, 4, 0, 0])).toEqual([4]);
  });
});

describe("flow", () => {
  it("a loss's partials are summed only when something reads the loss; a loss takes no gradient", () => {
    const g = tiny();
    expect(sumsPartials(g, g.op("fc"), 0)).toBe(true);
    expect(sumsPartials(g, g.op("loss"), 0)).toBe(false);
    expect(gathersGradient(g.op("fc"))).toBe(true);
    expect(gathersGradient(g.op("loss"))).toBe(false);
    addOp(g, "scaled", "relu", ["loss"]);
    expect(sumsPartials(g, g.op("loss"), 0)).toBe(true);
    expect(gathersGradient(g.op("loss"))).toBe(false);
  });
});
