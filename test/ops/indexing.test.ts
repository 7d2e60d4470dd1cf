// take, take_along_axis, scatter_nd, one_hot, arg_max / arg_min: values by hand (numpy /
// torch semantics), maps, diagnostics, and sharded equals whole on cpu and wasm.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { TensorType } from "../../src/core/tensor.js";
import type { Attrs, OpEntry, TF } from "../../src/ops/contract.js";
import { argMax, argMin, oneHot, scatterNd, take, takeAlongAxis } from "../../src/ops/indexing.js";
import { autodiffBackward } from "../../src/ops/autodiff.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { assertProperty } from "../support/property.js";
import { compare, randomTensor, rng, wholeShard } from "../support/sharded.js";
import { cpuVersusWasm } from "./backend-agreement.js";
import { degreesFor, dimSummary, errorCodes, expectFlopsAdd, expectShardedEqualsWhole, f32, i32, resolved, shapeArb, sigOf } from "./_ops-b-helpers.js";

interface Given {
  data: number[];
  type: TensorType;
}
const fv = (data: number[], ...shape: number[]): Given => ({ data, type: f32(...shape) });
const iv = (data: number[], ...shape: number[]): Given => ({ data, type: i32(...shape) });

describe("indexing ops: shapes, maps, diagnostics", () => {
  it("take: x[:axis] + indices + x[axis+1:]; the indexed axis is read whole", () => {
    const sig = sigOf(take, [f32(2, 5, 3), i32(4, 2)], { axis: 1 });
    expect(sig.outputs[0].shape).toEqual([2, 4, 2, 3]);
    expect(sig.inputMaps[0]).toEqual([{ kind: "iter", dim: 0 }, { kind: "full" }, { kind: "iter", dim: 3 }]);
    expect(sig.inputMaps[1]).toEqual([{ kind: "iter", dim: 1 }, { kind: "iter", dim: 2 }]);
    expect(sigOf(take, [f32(5, 3), i32()], { axis: 0 }).outputs[0].shape).toEqual([3]);
    expect(errorCodes(take, [f32(5, 3), f32(2)], {})).toEqual(["PAR2106"]);
    expect(errorCodes(take, [f32(5, 3), i32(2)], { axis: 2 })).toEqual(["PAR2131"]);
  });

  it("take_along_axis: shaped like indices; longer axes of x read from their start", () => {
    const sig = sigOf(takeAlongAxis, [f32(4, 6), i32(3, 2)], { axis: 1 });
    expect(sig.outputs[0].shape).toEqual([3, 2]);
    expect(sig.inputMaps[0]).toEqual([{ kind: "window", dim: 0, stride: 1, dilation: 1, kernel: 1, padLo: 0, size: 4 }, { kind: "full" }]);
    expect(errorCodes(takeAlongAxis, [f32(4, 6), i32(5, 2)], { axis: 1 })).toEqual(["PAR2107"]);
  });

  it("scatter_nd: the indexed axes are unsplittable, the trailing ones split", () => {
    const sig = sigOf(scatterNd, [f32(4, 5, 3), i32(2, 1), f32(2, 5, 3)]);
    expect(dimSummary(sig)).toEqual(["sample:sample:4:fixed", "length:attribute:5", "channel:attribute:3"]);
    expect(sig.inputMaps[2]).toEqual([{ kind: "full" }, { kind: "iter", dim: 1 }, { kind: "iter", dim: 2 }]);
    expect(errorCodes(scatterNd, [f32(4, 5, 3), i32(2, 1), f32(2, 5)])).toEqual(["PAR2107"]);
  });

  it("one_hot adds an axis of `depth`; arg_max reduces one (i32, unsplittable)", () => {
    const oh = sigOf(oneHot, [i32(2, 3)], { depth: 4, axis: 1 });
    expect(oh.outputs[0]).toMatchObject({ dtype: "f32", shape: [2, 4, 3] });
    expect(oh.inputMaps[0]).toEqual([{ kind: "iter", dim: 0 }, { kind: "iter", dim: 2 }]);
    const am = sigOf(argMax, [f32(2, 5, 3)], { axis: 1, keepdims: false });
    expect(am.outputs[0]).toMatchObject({ dtype: "i32", shape: [2, 3] });
    expect(dimSummary(am)).toEqual(["sample:sample:2", "length:reduction:5:fixed", "channel:attribute:3"]);
    expect(sigOf(argMin, [f32(2, 5)], { axis: -1 }).outputs[0].shape).toEqual([2, 1]);
  });

  it("FLOPs of the shards sum to the whole", () => {
    assertProperty(
      fc.property(shapeArb(2, 3, 5), (shape) => {
        for (const sig of [sigOf(take, [f32(...shape), i32(3)], { axis: 1 }), sigOf(takeAlongAxis, [f32(...shape), i32(...shape)], { axis: 0 })]) {
          fc.assert(fc.property(degreesFor(sig, 3), (deg) => expectFlopsAdd(sig, deg)), { numRuns: 5 });
        }
      }),
      10,
    );
  });
});

for (const backend of BACKENDS) {
  describe(`indexing ops on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    const run = (entry: OpEntry, given: Given[], attrs: Attrs): number[] => {
      const a = resolved(entry, attrs);
      const types = given.map((g) => g.type);
      const sig = sigOf(entry, types, attrs);
      const inputs = given.map((g) => tf.tensor(g.data, g.type.shape, g.type.dtype === "i32" ? "int32" : "float32"));
      return Array.from(entry.forward(tf, { inputs, params: [], attrs: a, sig, shard: wholeShard(sig, types) })[0].dataSync());
    };

    it("values: numpy.take with negative indices, torch.gather, ScatterND, OneHot, argmax ties", () => {
      const x = fv([0, 1, 2, 10, 11, 12, 20, 21, 22], 3, 3);
      expect(run(take, [x, iv([2, -3], 2)], { axis: 0 })).toEqual([20, 21, 22, 0, 1, 2]);
      expect(run(take, [x, iv([1, 1], 2)], { axis: 1 })).toEqual([1, 1, 11, 11, 21, 21]);
      // torch.gather(x, 1, [[0, 2], [1, 0], [2, 2]])
      expect(run(takeAlongAxis, [x, iv([0, 2, 1, 0, 2, 2], 3, 2)], { axis: 1 })).toEqual([0, 2, 11, 10, 22, 22]);
      // ONNX ScatterND example: data [8], indices [[4], [3], [1], [7]], updates [9, 10, 11, 12].
      expect(run(scatterNd, [fv([1, 2, 3, 4, 5, 6, 7, 8], 8), iv([4, 3, 1, 7], 4, 1), fv([9, 10, 11, 12], 4)], {})).toEqual([1, 11, 3, 10, 9, 6, 7, 12]);
      expect(run(scatterNd, [fv([1, 2, 3, 4], 2, 2), iv([1], 1, 1), fv([5, 5], 1, 2)], { reduction: "add" })).toEqual([1, 2, 8, 9]);
      expect(run(oneHot, [iv([1, -1, 0], 3)], { depth: 3, on: 5, off: -1 })).toEqual([-1, 5, -1, -1, -1, 5, 5, -1, -1]);
      const ties = fv([3, 7, 7, 1, 1, 0], 2, 3);
      expect(run(argMax, [ties], { axis: 1, keepdims: false })).toEqual([1, 0]);
      expect(run(argMax, [ties], { axis: 1, keepdims: false, select_last_index: true })).toEqual([2, 1]);
      expect(run(argMin, [ties], { axis: 0 })).toEqual([1, 1, 1]);
    });

    it("take and take_along_axis: sharded equals whole (forward, x's scatter-add gradient)", () => {
      const arb = fc
        .record({ shape: shapeArb(2, 3, 4), axis: fc.integer({ min: 0, max: 2 }), along: fc.boolean(), idxShape: shapeArb(0, 2, 3), seed: fc.nat() })
        .map((c) => {
          const axis = c.axis % c.shape.length;
          const entry = c.along ? takeAlongAxis : take;
          const ix = c.along ? i32(...c.shape.map((s, i) => (i === axis ? 3 : s))) : i32(...c.idxShape);
          return { ...c, entry, axis, inputs: [f32(...c.shape), ix] };
        })
        .chain((c) => fc.tuple(fc.constant(c), degreesFor(sigOf(c.entry, c.inputs, { axis: c.axis }))));
      // Indices in [0, size of the axis): intHigh is the smallest axis size.
      assertProperty(fc.property(arb, ([c, deg]) => expectShardedEqualsWhole(tf, c.entry, c.inputs, { axis: c.axis }, deg, c.seed, Math.min(...c.shape))), 25);
    });

    it("scatter_nd, one_hot, arg_max: sharded equals whole", () => {
      expectShardedEqualsWhole(tf, scatterNd, [f32(3, 4, 5), i32(2, 1), f32(2, 4, 5)], {}, [1, 2, 3], 1, 3);
      expectShardedEqualsWhole(tf, scatterNd, [f32(3, 4, 5), i32(2, 1), f32(2, 4, 5)], { reduction: "add" }, [1, 4, 2], 2, 3);
      expectShardedEqualsWhole(tf, scatterNd, [f32(3, 4, 2), i32(5, 2), f32(5, 2)], {}, [1, 1, 2], 3, 3);
      expectShardedEqualsWhole(tf, oneHot, [i32(3, 4)], { depth: 5, axis: 1 }, [2, 3, 2], 4, 5);
      expectShardedEqualsWhole(tf, argMax, [f32(3, 4, 5)], { axis: 1 }, [2, 1, 3], 5);
    });
  });
}

describe("indexing: explicit and autodiff gradients agree; wasm agrees with cpu", () => {
  it("take's one-hot scatter equals tfjs's gather gradient (cpu)", async () => {
    const tf = await useBackend("cpu");
    const x = f32(3, 5, 2);
    const ix = i32(4);
    const a = resolved(take, { axis: 1 });
    const sig = sigOf(take, [x, ix], a);
    tf.tidy(() => {
      const next = rng(9);
      const args = { inputs: [randomTensor(tf, x, next), randomTensor(tf, ix, next, 5)], params: [], attrs: a, sig, shard: wholeShard(sig, [x, ix]) };
      const bargs = { ...args, outputs: take.forward(tf, args), dOutputs: [randomTensor(tf, sig.outputs[0], next)] };
      expect(compare(autodiffBackward(take, tf, bargs).dInputs[0]!.dataSync(), take.backward!(tf, bargs).dInputs[0]!.dataSync(), "dx").ok).toBe(true);
    });
  });

  it("wasm", async () => {
    const cases: [OpEntry, TensorType[], Attrs][] = [
      [take, [f32(3, 5, 2), i32(2, 2)], { axis: 1 }],
      [takeAlongAxis, [f32(3, 5), i32(3, 4)], { axis: 1 }],
      [scatterNd, [f32(4, 3), i32(2, 1), f32(2, 3)], {}],
    ];
    for (const [entry, ins, a] of cases) expect(await cpuVersusWasm(entry, ins, resolved(entry, a), 1, 3)).toEqual([]);
  });
});
