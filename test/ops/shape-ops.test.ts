// The data-moving ops of reshape.ts, join.ts and shape-ops.ts, tested as one family: one
// table of random cases for FLOPs, kernel shapes and sharded-equals-whole.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { TensorType } from "../../src/core/tensor.js";
import type { Attrs, OpEntry, TF } from "../../src/ops/contract.js";
import { taskRegions } from "../../src/ops/regions.js";
import { concat, slice, split } from "../../src/ops/join.js";
import { flatten, reshape, squeeze, unsqueeze } from "../../src/ops/reshape.js";
import { broadcastTo, depthToSpace, expand, pad, spaceToDepth, tile, transpose } from "../../src/ops/shape-ops.js";
import { wholeShard } from "../support/sharded.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { assertProperty } from "../support/property.js";
import { degreesFor, dimSummary, errorCodes, expectFlopsAdd, expectKernelShapes, expectShardedEqualsWhole, f32, i32, shapeArb, sigOf } from "./_ops-b-helpers.js";

describe("shape ops: shapes, regions, errors", () => {
  it("reshape keeps the shared leading axes splittable", () => {
    const sig = sigOf(reshape, [f32(4, 6, 8)], { shape: [4, 6, 2, -1] });
    expect(sig.outputs[0].shape).toEqual([4, 6, 2, 4]);
    expect(dimSummary(sig)).toEqual(["sample:sample:4", "length:attribute:6"]);
    const r = taskRegions(sig, [[4, 6, 8]], { lo: [1, 2], hi: [3, 5] });
    expect(r.inputs[0]).toEqual({ lo: [1, 2, 0], hi: [3, 5, 8] });
    expect(r.outputs[0]).toEqual({ lo: [1, 2, 0, 0], hi: [3, 5, 2, 4] });
    expect(sig.flops([4, 6])).toEqual({ forward: 0, backward: 0 });
  });

  it("reshape that changes axis 0 has one unsplittable dim", () => {
    const sig = sigOf(reshape, [f32(4, 6)], { shape: [8, 3] });
    expect(dimSummary(sig)).toEqual(["sample:sample:8:fixed"]);
    const r = taskRegions(sig, [[4, 6]], { lo: [0], hi: [8] });
    expect(r.inputs[0]).toEqual({ lo: [0, 0], hi: [4, 6] });
    expect(r.outputs[0]).toEqual({ lo: [0, 0], hi: [8, 3] });
    expect(sigOf(reshape, [f32(1)], { shape: [] }).space).toEqual([]);
  });

  it("reshape that merges (or unmerges) leading axes splits sample in blocks", () => {
    const sig = sigOf(reshape, [f32(4, 3, 5)], { shape: [12, 5] });
    expect(dimSummary(sig)).toEqual(["sample:sample:4"]);
    const r = taskRegions(sig, [[4, 3, 5]], { lo: [1], hi: [3] });
    expect(r.inputs[0]).toEqual({ lo: [1, 0, 0], hi: [3, 3, 5] });
    expect(r.outputs[0]).toEqual({ lo: [3, 0], hi: [9, 5] });
    const back = sigOf(reshape, [f32(12, 5)], { shape: [4, 3, 5] });
    expect(dimSummary(back)).toEqual(["sample:sample:4"]);
    expect(taskRegions(back, [[12, 5]], { lo: [1], hi: [3] }).inputs[0]).toEqual({ lo: [3, 0], hi: [9, 5] });
    expect(dimSummary(sigOf(flatten, [f32(2, 3, 4)], { axis: 2 }))).toEqual(["sample:sample:2"]);
  });

  it("reshape errors: two -1, zero, wrong count, indivisible -1", () => {
    expect(errorCodes(reshape, [f32(4, 6)], { shape: [-1, -1] })).toEqual(["PAR2132"]);
    expect(errorCodes(reshape, [f32(4, 6)], { shape: [0, 24] })).toEqual(["PAR2132"]);
    expect(errorCodes(reshape, [f32(4, 6)], { shape: [5, 5] })).toEqual(["PAR2132"]);
    expect(errorCodes(reshape, [f32(4, 6)], { shape: [5, -1] })).toEqual(["PAR2132"]);
    expect(errorCodes(reshape, [f32(4, 6)], {})).toEqual(["PAR2102"]);
  });

  it("flatten: axis 1 (default) keeps the sample dim; ONNX axis range", () => {
    const sig = sigOf(flatten, [f32(2, 3, 4, 5)]);
    expect(sig.outputs[0].shape).toEqual([2, 60]);
    expect(dimSummary(sig)).toEqual(["sample:sample:2"]);
    expect(sigOf(flatten, [f32(2, 3, 4)], { axis: 0 }).outputs[0].shape).toEqual([1, 24]);
    expect(sigOf(flatten, [f32(2, 3, 4)], { axis: 3 }).outputs[0].shape).toEqual([24, 1]);
    expect(sigOf(flatten, [f32(2, 3, 4)], { axis: -1 }).outputs[0].shape).toEqual([6, 4]);
    expect(errorCodes(flatten, [f32(2, 3)], { axis: 3 })).toEqual(["PAR2131"]);
  });

  it("transpose: output axis i addresses dim perm[i]", () => {
    const sig = sigOf(transpose, [f32(2, 3, 4)], { perm: [2, 0, -2] });
    expect(sig.outputs[0].shape).toEqual([4, 2, 3]);
    const r = taskRegions(sig, [[2, 3, 4]], { lo: [1, 0, 2], hi: [2, 2, 4] });
    expect(r.inputs[0]).toEqual({ lo: [1, 0, 2], hi: [2, 2, 4] });
    expect(r.outputs[0]).toEqual({ lo: [2, 1, 0], hi: [4, 2, 2] });
    expect(errorCodes(transpose, [f32(2, 3, 4)], { perm: [0, 0, 1] })).toEqual(["PAR2133"]);
    expect(errorCodes(transpose, [f32(2, 3, 4)], { perm: [0, 1] })).toEqual(["PAR2133"]);
    expect(errorCodes(transpose, [f32(2, 3, 4)], { perm: [0, 1, 3] })).toEqual(["PAR2133"]);
  });

  it("concat: the concat axis is fixed and read whole; other axes split", () => {
    const sig = sigOf(concat, [f32(4, 2, 5), f32(4, 3, 5)], { axis: -2 });
    expect(sig.outputs[0].shape).toEqual([4, 5, 5]);
    expect(dimSummary(sig)).toEqual(["sample:sample:4", "length:attribute:5:fixed", "channel:attribute:5"]);
    const r = taskRegions(sig, [[4, 2, 5], [4, 3, 5]], { lo: [2, 0, 1], hi: [4, 5, 3] });
    expect(r.inputs).toEqual([{ lo: [2, 0, 1], hi: [4, 2, 3] }, { lo: [2, 0, 1], hi: [4, 3, 3] }]);
    expect(r.outputs[0]).toEqual({ lo: [2, 0, 1], hi: [4, 5, 3] });
    expect(errorCodes(concat, [f32(4, 2), f32(3, 2)], { axis: 1 })).toEqual(["PAR2107"]);
    expect(errorCodes(concat, [f32(4, 2), f32(4, 2, 1)], { axis: 1 })).toEqual(["PAR2107"]);
    expect(errorCodes(concat, [f32(4, 2)], { axis: 2 })).toEqual(["PAR2131"]);
    expect(errorCodes(concat, [], { axis: 0 })).toEqual(["PAR2105"]);
  });

  it("split: one output per piece, each a window of the fixed split axis", () => {
    const sig = sigOf(split, [f32(4, 6)], { axis: 1, sizes: [1, 2, 3] });
    expect(sig.outputs.map((o) => o.shape)).toEqual([[4, 1], [4, 2], [4, 3]]);
    expect(dimSummary(sig)).toEqual(["sample:sample:4", "channel:attribute:6:fixed"]);
    const r = taskRegions(sig, [[4, 6]], { lo: [1, 0], hi: [3, 6] });
    expect(r.inputs[0]).toEqual({ lo: [1, 0], hi: [3, 6] });
    expect(r.outputs).toEqual([{ lo: [1, 0], hi: [3, 1] }, { lo: [1, 0], hi: [3, 2] }, { lo: [1, 0], hi: [3, 3] }]);
    expect(sigOf(split, [f32(4, 6)], { axis: -1, parts: 3 }).outputs.map((o) => o.shape)).toEqual([[4, 2], [4, 2], [4, 2]]);
    expect(errorCodes(split, [f32(4, 6)], { axis: 1, parts: 4 })).toEqual(["PAR2135"]);
    expect(errorCodes(split, [f32(4, 6)], { axis: 1, sizes: [2, 2] })).toEqual(["PAR2135"]);
    expect(errorCodes(split, [f32(4, 6)], { axis: 1 })).toEqual(["PAR2135"]);
    expect(errorCodes(split, [f32(4, 6)], { axis: 1, parts: 2, sizes: [3, 3] })).toEqual(["PAR2135"]);
  });

  it("slice: the sliced axis splits too (a strided window into the input)", () => {
    const sig = sigOf(slice, [f32(3, 10)], { axis: 1, start: 1, end: -1, step: 3 });
    // positions 1, 4, 7
    expect(sig.outputs[0].shape).toEqual([3, 3]);
    const r = taskRegions(sig, [[3, 10]], { lo: [0, 1], hi: [3, 3] });
    expect(r.inputs[0]).toEqual({ lo: [0, 4], hi: [3, 8] });
    expect(sigOf(slice, [f32(5)], { start: -2, end: 100 }).outputs[0].shape).toEqual([2]);
    expect(errorCodes(slice, [f32(5)], { start: 3, end: 2 })).toEqual(["PAR2136"]);
    expect(errorCodes(slice, [f32(5)], { start: 0, end: 2, step: 0 })).toEqual(["PAR2104"]);
    expect(errorCodes(slice, [f32(5)], { axis: 1, end: 2 })).toEqual(["PAR2131"]);
  });

  it("squeeze / unsqueeze address only the kept axes", () => {
    const sq = sigOf(squeeze, [f32(4, 1, 3, 1)], { axes: [1] });
    expect(sq.outputs[0].shape).toEqual([4, 3, 1]);
    expect(taskRegions(sq, [[4, 1, 3, 1]], { lo: [1, 1, 0], hi: [2, 3, 1] }).inputs[0]).toEqual({ lo: [1, 0, 1, 0], hi: [2, 1, 3, 1] });
    expect(sigOf(squeeze, [f32(4, 1, 3, 1)]).outputs[0].shape).toEqual([4, 3]);
    expect(errorCodes(squeeze, [f32(4, 1)], { axes: [0] })).toEqual(["PAR2137"]);
    expect(errorCodes(squeeze, [f32(1, 1)], { axes: [0, -2] })).toEqual(["PAR2134"]);
    const us = sigOf(unsqueeze, [f32(4, 3)], { axes: [0, -1] });
    expect(us.outputs[0].shape).toEqual([1, 4, 3, 1]);
    expect(taskRegions(us, [[4, 3]], { lo: [1, 1], hi: [2, 3] }).outputs[0]).toEqual({ lo: [0, 1, 1, 0], hi: [1, 2, 3, 1] });
    expect(errorCodes(unsqueeze, [f32(4, 3)], { axes: [4] })).toEqual(["PAR2131"]);
  });

  it("expand / broadcast_to: broadcast axes read whole; backward FLOPs one add per output", () => {
    for (const e of [expand, broadcastTo]) {
      const sig = sigOf(e, [f32(3, 1)], { shape: [2, 3, 4] });
      expect(sig.outputs[0].shape).toEqual([2, 3, 4]);
      expect(taskRegions(sig, [[3, 1]], { lo: [1, 1, 2], hi: [2, 3, 4] }).inputs[0]).toEqual({ lo: [1, 0], hi: [3, 1] });
      expect(sig.flops([2, 3, 4])).toEqual({ forward: 0, backward: 24 });
      expect(errorCodes(e, [f32(3, 2)], { shape: [3, 4] })).toEqual(["PAR2138"]);
    }
  });

  it("pad: padded axes are fixed and read whole", () => {
    const sig = sigOf(pad, [f32(2, 3, 4)], { pads: [0, 1, 0, 0, 2, 0] });
    expect(sig.outputs[0].shape).toEqual([2, 6, 4]);
    expect(dimSummary(sig)).toEqual(["sample:sample:2", "length:attribute:6:fixed", "channel:attribute:4"]);
    expect(taskRegions(sig, [[2, 3, 4]], { lo: [1, 0, 1], hi: [2, 6, 3] }).inputs[0]).toEqual({ lo: [1, 0, 1], hi: [2, 3, 3] });
    expect(errorCodes(pad, [f32(2, 3)], { pads: [1, 1] })).toEqual(["PAR2139"]);
    expect(errorCodes(pad, [f32(2, 3)], { pads: [1, 1, -1, 0] })).toEqual(["PAR2104"]);
  });
});

/** A random case per op: inputs, attrs. Shapes are small; every attr path is exercised. */
const CASES: { name: string; entry: OpEntry; arb: fc.Arbitrary<{ inputs: TensorType[]; attrs: Attrs }> }[] = [
  {
    name: "reshape",
    entry: reshape,
    arb: fc.tuple(shapeArb(1, 3, 4), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.boolean()).map(([s, keep, hole, inverse]) => {
      // Keep a prefix, then merge the rest (optionally through a -1); or the inverse.
      const k = Math.min(keep, s.length);
      const rest = s.slice(k).reduce((a, b) => a * b, 1);
      const merged = [...s.slice(0, k), rest];
      if (inverse) return { inputs: [f32(...merged)], attrs: { shape: s } };
      return { inputs: [f32(...s)], attrs: { shape: hole ? [...s.slice(0, k), -1] : merged } };
    }),
  },
  { name: "flatten", entry: flatten, arb: fc.tuple(shapeArb(1, 4, 4), fc.integer({ min: 0, max: 4 })).map(([s, a]) => ({ inputs: [f32(...s)], attrs: { axis: Math.min(a, s.length) } })) },
  {
    name: "transpose",
    entry: transpose,
    arb: shapeArb(1, 4, 4).chain((s) =>
      fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length }).map((perm) => ({ inputs: [f32(...s)], attrs: { perm } })),
    ),
  },
  {
    name: "concat",
    entry: concat,
    arb: fc
      .tuple(shapeArb(1, 3, 4), fc.nat(), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }))
      .map(([s, a, sizes]) => {
        const axis = a % s.length;
        return { inputs: sizes.map((n) => f32(...s.map((v, i) => (i === axis ? n : v)))), attrs: { axis } };
      }),
  },
  {
    name: "split",
    entry: split,
    arb: fc.tuple(shapeArb(1, 3, 4), fc.nat(), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.boolean()).map(([s, a, sizes, equal]) => {
      const axis = a % s.length;
      const shape = s.map((v, i) => (i === axis ? (equal ? 2 * sizes.length : sizes.reduce((x, y) => x + y, 0)) : v));
      return { inputs: [f32(...shape)], attrs: (equal ? { axis, parts: sizes.length } : { axis, sizes }) as Attrs };
    }),
  },
  {
    name: "slice",
    entry: slice,
    arb: fc.tuple(shapeArb(1, 3, 7), fc.nat(), fc.integer({ min: -7, max: 6 }), fc.integer({ min: 1, max: 3 })).map(([s, a, start, step]) => {
      const axis = a % s.length;
      const n = s[axis];
      const st = Math.max(-n, Math.min(start, n - 1));
      return { inputs: [f32(...s)], attrs: { axis, start: st, end: n + 2, step } };
    }),
  },
  {
    name: "squeeze",
    entry: squeeze,
    arb: fc.tuple(shapeArb(1, 3, 4), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })).map(([s, ones]) => {
      const shape = [...s.slice(0, 1), 1, ...s.slice(1)].map((v, i) => (ones[i] ? 1 : v));
      return { inputs: [f32(...shape)], attrs: (ones[0] ? {} : { axes: [1] }) as Attrs };
    }),
  },
  { name: "unsqueeze", entry: unsqueeze, arb: fc.tuple(shapeArb(1, 3, 4), fc.integer({ min: -2, max: 1 })).map(([s, a]) => ({ inputs: [f32(...s)], attrs: { axes: [a] } })) },
  {
    name: "expand",
    entry: expand,
    arb: fc.tuple(shapeArb(1, 3, 4), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 2 })).map(([s, ones, extra]) => {
      const x = s.map((v, i) => (ones[i] ? 1 : v));
      return { inputs: [f32(...x)], attrs: { shape: [...Array.from({ length: extra }, () => 2), ...s] } };
    }),
  },
  {
    name: "pad",
    entry: pad,
    arb: shapeArb(1, 3, 4).chain((s) =>
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 2 * s.length, maxLength: 2 * s.length }).map((pads) => ({ inputs: [f32(...s)], attrs: { pads } })),
    ),
  },
];

describe("shape ops: FLOPs of shards add up", () => {
  it("for every op and random partitions", () => {
    for (const c of CASES) {
      assertProperty(
        fc.property(c.arb.chain((k) => fc.tuple(fc.constant(k), degreesFor(sigOf(c.entry, k.inputs, k.attrs), 4))), ([k, deg]) => expectFlopsAdd(sigOf(c.entry, k.inputs, k.attrs), deg)),
        10,
      );
    }
  });
});

for (const backend of BACKENDS) {
  describe(`shape ops on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    for (const c of CASES) {
      it(`${c.name}: shape inference agrees with the kernel; sharded equals whole (forward and backward)`, () => {
        assertProperty(
          fc.property(
            c.arb.chain((k) => fc.tuple(fc.constant(k), degreesFor(sigOf(c.entry, k.inputs, k.attrs)), fc.nat())),
            ([k, deg, seed]) => {
              expectKernelShapes(tf, c.entry, k.inputs, k.attrs);
              expectShardedEqualsWhole(tf, c.entry, k.inputs, k.attrs, deg, seed);
            },
          ),
          20,
        );
      });
    }

    it("block-split reshapes: sharded equals whole (uneven sample split)", () => {
      expectShardedEqualsWhole(tf, reshape, [f32(4, 3, 5)], { shape: [12, 5] }, [3], 1);
      expectShardedEqualsWhole(tf, reshape, [f32(12, 5)], { shape: [4, 3, 5] }, [3], 2);
      expectShardedEqualsWhole(tf, flatten, [f32(5, 2, 3)], { axis: 2 }, [2], 3);
    });

    it("reshape and transpose accept integer tensors (no gradient)", () => {
      expectKernelShapes(tf, reshape, [i32(2, 3)], { shape: [3, 2] });
      expectKernelShapes(tf, transpose, [i32(2, 3)], { perm: [1, 0] });
    });

    it("slice with a step picks every step-th element on each shard", () => {
      const sig = sigOf(slice, [f32(7)], { start: 1, end: 7, step: 2 });
      const x = tf.tensor([0, 1, 2, 3, 4, 5, 6], [7]);
      const r = taskRegions(sig, [[7]], { lo: [1], hi: [3] });
      const y = slice.forward(tf, {
        inputs: [tf.slice(x, r.inputs[0].lo, [r.inputs[0].hi[0] - r.inputs[0].lo[0]])],
        params: [],
        attrs: { axis: 0, start: 1, end: 7, step: 2 },
        sig,
        shard: { box: r.box, spaceSizes: [3], inputRegions: r.inputs, outputRegions: r.outputs, firstAlongReductions: true },
      })[0];
      expect(Array.from(y.dataSync())).toEqual([3, 5]);
    });
  });
}

describe("tile, depth_to_space, space_to_depth: shapes and maps", () => {
  it("tile repeats along each axis; a repeated axis is read whole, every output axis splits", () => {
    const sig = sigOf(tile, [f32(2, 3, 4)], { repeats: [1, 2, 3] });
    expect(sig.outputs[0].shape).toEqual([2, 6, 12]);
    expect(sig.inputMaps[0]).toEqual([{ kind: "iter", dim: 0 }, { kind: "full" }, { kind: "full" }]);
    expect(dimSummary(sig)).toEqual(["sample:sample:2", "length:attribute:6", "channel:attribute:12"]);
    expect(errorCodes(tile, [f32(2, 3)], { repeats: [2] })).toEqual(["PAR2139"]);
  });

  it("depth_to_space counts input positions (output block maps); CRD splits channels, DCR does not", () => {
    const crd = sigOf(depthToSpace, [f32(1, 8, 3, 3)], { blocksize: 2, mode: "CRD" });
    expect(crd.outputs[0].shape).toEqual([1, 2, 6, 6]);
    expect(crd.inputMaps[0][1]).toEqual({ kind: "block", dim: 1, blockSize: 4 });
    expect(crd.outputMaps[0][2]).toEqual({ kind: "block", dim: 2, blockSize: 2 });
    expect(dimSummary(sigOf(depthToSpace, [f32(1, 8, 3, 3)], { blocksize: 2 }))).toEqual(["sample:sample:1", "channel:attribute:2:fixed", "height:attribute:3", "width:attribute:3"]);
    expect(errorCodes(depthToSpace, [f32(1, 6, 3, 3)], { blocksize: 2 })).toEqual(["PAR2111"]);
    const s2d = sigOf(spaceToDepth, [f32(1, 2, 4, 6)], { blocksize: 2 });
    expect(s2d.outputs[0].shape).toEqual([1, 8, 2, 3]);
    expect(s2d.inputMaps[0][2]).toEqual({ kind: "block", dim: 2, blockSize: 2 });
    expect(errorCodes(spaceToDepth, [f32(1, 2, 5, 6)], { blocksize: 2 })).toEqual(["PAR2111"]);
    expect(errorCodes(spaceToDepth, [f32(2, 5, 6)], { blocksize: 2 })).toEqual(["PAR2108"]);
  });
});

for (const backend of BACKENDS) {
  describe(`tile, depth_to_space, space_to_depth on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });
    const run = (entry: OpEntry, data: number[], shape: number[], attrs: Attrs): number[] => {
      const sig = sigOf(entry, [f32(...shape)], attrs);
      return Array.from(entry.forward(tf, { inputs: [tf.tensor(data, shape)], params: [], attrs: { mode: "DCR", ...attrs }, sig, shard: wholeShard(sig, [f32(...shape)]) })[0].dataSync());
    };

    it("torch's pixel_shuffle is CRD; ONNX's default DCR and SpaceToDepth follow the spec's reshape-transpose", () => {
      const x = [0, 1, 2, 3, 4, 5, 6, 7];
      expect(run(depthToSpace, x, [1, 8, 1, 1], { blocksize: 2, mode: "CRD" })).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(run(depthToSpace, x, [1, 8, 1, 1], { blocksize: 2, mode: "DCR" })).toEqual([0, 2, 4, 6, 1, 3, 5, 7]);
      const y = Array.from({ length: 16 }, (_, i) => i);
      expect(run(spaceToDepth, y, [1, 1, 4, 4], { blocksize: 2 })).toEqual([0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15]);
      expect(run(tile, [1, 2, 3], [1, 3], { repeats: [2, 2] })).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    });

    it("sharded equals whole (forward and backward)", () => {
      const arb = fc
        .record({ op: fc.constantFrom("tile", "d2s_crd", "d2s_dcr", "s2d"), n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 3 }), w: fc.integer({ min: 1, max: 3 }), b: fc.integer({ min: 1, max: 2 }), reps: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 }), seed: fc.nat() })
        .map((c) => {
          if (c.op === "tile") return { ...c, entry: tile, x: f32(c.n, c.c, c.h, c.w), attrs: { repeats: c.reps } as Attrs };
          if (c.op === "s2d") return { ...c, entry: spaceToDepth, x: f32(c.n, c.c, c.h * c.b, c.w * c.b), attrs: { blocksize: c.b } as Attrs };
          return { ...c, entry: depthToSpace, x: f32(c.n, c.c * c.b * c.b, c.h, c.w), attrs: { blocksize: c.b, mode: c.op === "d2s_crd" ? "CRD" : "DCR" } as Attrs };
        })
        .chain((c) => fc.tuple(fc.constant(c), degreesFor(sigOf(c.entry, [c.x], c.attrs))));
      assertProperty(fc.property(arb, ([c, deg]) => expectShardedEqualsWhole(tf, c.entry, [c.x], c.attrs, deg, c.seed)), 30);
    });
  });
}
