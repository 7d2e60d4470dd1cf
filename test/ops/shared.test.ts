// Shared weights: param (a weight as a tensor), gather (a lookup into an input table),
// lstm_chunk (the LSTM recurrence with weights and state as inputs), by hand and
// sharded-equals-whole on cpu and wasm.
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { TensorType } from "../../src/core/tensor.js";
import { constant, gather, lstmChunk, param } from "../../src/ops/shared.js";
import { lstm } from "../../src/ops/recurrent.js";
import { matmul } from "../../src/ops/matmul.js";
import { taskRegions } from "../../src/ops/regions.js";
import type { TF } from "../../src/ops/contract.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, inferOrThrow, kernelShapes, rng, randomTensor, shardFlops, wholeShard } from "../support/sharded.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });
const i32 = (...shape: number[]): TensorType => ({ dtype: "i32", shape, dims: shape.map((_, i) => `d${i}`) });

/** lstm_chunk's inputs for batch b, steps t, input size n, hidden h (with or without state). */
const chunkInputs = (b: number, t: number, n: number, h: number, state: boolean): TensorType[] => [
  f32(b, t, n), f32(4 * h, n), f32(4 * h, h), f32(4 * h), f32(4 * h), ...(state ? [f32(b, h), f32(b, h)] : []),
];

describe("param: shapes, regions, FLOPs, init", () => {
  it("has no inputs, one weight of the shape, and every axis a parameter dim", () => {
    const sig = inferOrThrow(param, [], { shape: [8, 4], init: "normal", scale: 0.02 });
    expect(sig.outputs[0].shape).toEqual([8, 4]);
    expect(sig.params.map((p) => p.shape)).toEqual([[8, 4]]);
    expect(sig.params[0].init).toEqual({ kind: "normal", std: 0.02 });
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["rows:parameter:8", "cols:parameter:4"]);
    expect(sig.inputMaps).toEqual([]);
    expect(sig.flops([8, 4])).toEqual({ forward: 32, backward: 32 });
    expect(shardFlops(sig, [3, 2])).toEqual(sig.flops([8, 4]));
  });

  it("a task holds and outputs its block", () => {
    const sig = inferOrThrow(param, [], { shape: [8, 4], init: "zeros", scale: 0 });
    const r = taskRegions(sig, [], { lo: [2, 1], hi: [5, 3] });
    expect(r.params[0]).toEqual({ lo: [2, 1], hi: [5, 3] });
    expect(r.outputs[0]).toEqual({ lo: [2, 1], hi: [5, 3] });
  });

  it("inits: scale 0 is normal 0.02, uniform 1/sqrt(last axis); zeros, ones", () => {
    const init = (i: string, scale = 0) => inferOrThrow(param, [], { shape: [6, 16], init: i, scale }).params[0].init;
    expect(init("normal")).toEqual({ kind: "normal", std: 0.02 });
    expect(init("uniform")).toEqual({ kind: "uniform", bound: 0.25 });
    expect(init("uniform", 0.5)).toEqual({ kind: "uniform", bound: 0.5 });
    expect(init("zeros")).toEqual({ kind: "zeros" });
    expect(init("ones")).toEqual({ kind: "ones" });
  });

  it("rejects an input and an empty shape with coded diagnostics", () => {
    const d = new Diagnostics();
    expect(param.infer([f32(2)], { shape: [2], init: "zeros", scale: 0 }, { opName: "w", diagnostics: d })).toBeUndefined();
    expect(param.infer([], { shape: [], init: "zeros", scale: 0 }, { opName: "w", diagnostics: d })).toBeUndefined();
    expect(d.items.map((x) => x.code)).toEqual(["PAR2105", "PAR2109"]);
  });
});

describe("constant: a fixed tensor held as a never-trained parameter", () => {
  it("outputs its shape as f32 or i32; every axis a parameter dim; FLOPs a copy, none back", () => {
    const sig = inferOrThrow(constant, [], { shape: [4, 3], dtype: "int" });
    expect(sig.outputs[0]).toMatchObject({ dtype: "i32", shape: [4, 3] });
    expect(sig.params).toEqual([{ name: "value", shape: [4, 3], dims: ["rows", "cols"], init: { kind: "zeros" } }]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}`)).toEqual(["rows:parameter", "cols:parameter"]);
    expect(sig.flops([2, 3])).toEqual({ forward: 6, backward: 0 });
    expect(shardFlops(sig, [2, 2])).toEqual(sig.flops([4, 3]));
  });
  it("a scalar has an empty space", () => {
    const sig = inferOrThrow(constant, [], { shape: [], dtype: "float" });
    expect(sig.outputs[0].shape).toEqual([]);
    expect(sig.space).toEqual([]);
  });
  it("rejects an input (PAR2105)", () => {
    const d = new Diagnostics();
    expect(constant.infer([f32(2)], { shape: [2], dtype: "float" }, { opName: "k", diagnostics: d })).toBeUndefined();
    expect(d.items.map((x) => x.code)).toEqual(["PAR2105"]);
  });
});

describe("gather: shapes, regions, FLOPs", () => {
  it("table[v, d], indices[b, s] → [b, s, d]; sample, length, channel", () => {
    const sig = inferOrThrow(gather, [f32(10, 4), i32(3, 5)], {});
    expect(sig.outputs[0].shape).toEqual([3, 5, 4]);
    expect(sig.params).toEqual([]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["sample:sample:3", "length:attribute:5", "channel:parameter:4"]);
    expect(sig.flops([3, 5, 4])).toEqual({ forward: 60, backward: 60 });
    expect(shardFlops(sig, [2, 3, 2])).toEqual(sig.flops([3, 5, 4]));
  });

  it("a task reads every row of its column block and its indices", () => {
    const sig = inferOrThrow(gather, [f32(10, 4), i32(3, 5)], {});
    const r = taskRegions(sig, [[10, 4], [3, 5]], { lo: [1, 0, 2], hi: [3, 2, 4] });
    expect(r.inputs[0]).toEqual({ lo: [0, 2], hi: [10, 4] });
    expect(r.inputs[1]).toEqual({ lo: [1, 0], hi: [3, 2] });
    expect(r.outputs[0]).toEqual({ lo: [1, 0, 2], hi: [3, 2, 4] });
  });

  it("rejects a 1-D table and float indices", () => {
    const d = new Diagnostics();
    expect(gather.infer([f32(10), i32(3)], {}, { opName: "g", diagnostics: d })).toBeUndefined();
    expect(gather.infer([f32(10, 2), f32(3)], {}, { opName: "g", diagnostics: d })).toBeUndefined();
    expect(d.items.map((x) => x.code)).toEqual(["PAR2108", "PAR2106"]);
  });
});

describe("lstm_chunk: shapes, regions, FLOPs", () => {
  it("(x, weights[, h0, c0]) → (y, h_n, c_n); only sample splits; FLOPs as lstm", () => {
    for (const state of [false, true]) {
      const sig = inferOrThrow(lstmChunk, chunkInputs(2, 3, 5, 4, state), {});
      expect(sig.outputs.map((o) => o.shape)).toEqual([[2, 3, 4], [2, 4], [2, 4]]);
      expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}:${d.splittable !== false}`)).toEqual(["sample:sample:2:true", "length:attribute:3:false", "channel:parameter:4:false"]);
      const whole = inferOrThrow(lstm, [f32(2, 3, 5)], { hidden: 4, return_sequences: true });
      expect(sig.flops([2, 3, 4])).toEqual(whole.flops([2, 3, 4]));
      expect(shardFlops(sig, [2, 1, 1])).toEqual(sig.flops([2, 3, 4]));
      const r = taskRegions(sig, chunkInputs(2, 3, 5, 4, state).map((t) => t.shape), { lo: [1, 0, 0], hi: [2, 3, 4] });
      expect(r.inputs[0]).toEqual({ lo: [1, 0, 0], hi: [2, 3, 5] });
      expect(r.inputs[1]).toEqual({ lo: [0, 0], hi: [16, 5] });
      if (state) expect(r.inputs[5]).toEqual({ lo: [1, 0], hi: [2, 4] });
      expect(r.outputs[1]).toEqual({ lo: [1, 0], hi: [2, 4] });
    }
  });

  it("rejects mismatched weights (PAR2107) and a rank-2 x (PAR2108)", () => {
    const d = new Diagnostics();
    const bad = chunkInputs(2, 3, 5, 4, true);
    bad[1] = f32(16, 6);
    expect(lstmChunk.infer(bad, {}, { opName: "l", diagnostics: d })).toBeUndefined();
    expect(lstmChunk.infer([f32(2, 5), ...chunkInputs(2, 3, 5, 4, false).slice(1)], {}, { opName: "l", diagnostics: d })).toBeUndefined();
    expect(d.items.map((x) => x.code)).toEqual(["PAR2107", "PAR2108"]);
  });
});

describe("matmul transpose_b with a 2-D b (a tied LM head)", () => {
  it("a[b, s, k] · b[n, k]ᵀ → [b, s, n]; a cols shard reads a row block of b", () => {
    const sig = inferOrThrow(matmul, [f32(2, 3, 4), f32(7, 4)], { transpose_b: true });
    expect(sig.outputs[0].shape).toEqual([2, 3, 7]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["sample:sample:2", "rows:attribute:3", "cols:parameter:7", "inner:reduction:4"]);
    const r = taskRegions(sig, [[2, 3, 4], [7, 4]], { lo: [0, 0, 2, 1], hi: [2, 3, 5, 3] });
    expect(r.inputs[1]).toEqual({ lo: [2, 1], hi: [5, 3] });
  });
});

for (const backend of BACKENDS) {
  describe(`shared-weight ops on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    const ok = (res: { comparisons: { ok: boolean }[] }) => expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);

    it("shape inference agrees with the kernels", () => {
      expect(kernelShapes(tf, param, [], { shape: [3, 2], init: "zeros", scale: 0 }).actual).toEqual([[3, 2]]);
      const g = kernelShapes(tf, gather, [f32(6, 3), i32(2, 4)], {}, 1, 6);
      expect(g.actual).toEqual(g.inferred);
      const l = kernelShapes(tf, lstmChunk, chunkInputs(2, 3, 2, 3, true), {});
      expect(l.actual).toEqual(l.inferred);
    });

    it("param: sharded equals whole", () => {
      for (const degrees of [[1, 1], [2, 1], [3, 2], [4, 3]]) {
        ok(checkShardedEqualsWhole(tf, { entry: param, inputs: [], attrs: { shape: [5, 3], init: "uniform", scale: 0 }, degrees, seed: degrees[0] }));
      }
    });

    it("constant: outputs its value (cast for int), sharded equals whole, and sends back a zero gradient", () => {
      const sig = inferOrThrow(constant, [], { shape: [3], dtype: "int" });
      const value = tf.tensor([1, 0, 7], [3]);
      const y = constant.forward(tf, { inputs: [], params: [value], attrs: { shape: [3], dtype: "int" }, sig, shard: wholeShard(sig, []) })[0];
      expect(y.dtype).toBe("int32");
      expect(Array.from(y.dataSync())).toEqual([1, 0, 7]);
      const g = constant.backward!(tf, { inputs: [], params: [value], attrs: { shape: [3], dtype: "float" }, sig, shard: wholeShard(sig, []), outputs: [value], dOutputs: [tf.ones([3])] });
      expect(Array.from(g.dParams[0].dataSync())).toEqual([0, 0, 0]);
      for (const degrees of [[1, 1], [2, 3], [4, 1]]) ok(checkShardedEqualsWhole(tf, { entry: constant, inputs: [], attrs: { shape: [5, 3], dtype: "float" }, degrees, seed: 3 }));
      ok(checkShardedEqualsWhole(tf, { entry: constant, inputs: [], attrs: { shape: [], dtype: "float" }, degrees: [], seed: 3 }));
    });

    it("gather: sharded equals whole (table gradient with repeated indices)", () => {
      for (const degrees of [[1, 1, 1], [2, 1, 1], [3, 2, 2], [1, 3, 3], [2, 2, 1]]) {
        ok(checkShardedEqualsWhole(tf, { entry: gather, inputs: [f32(5, 3), i32(3, 4)], attrs: {}, degrees, seed: 7 + degrees[2], intHigh: 5 }));
      }
      ok(checkShardedEqualsWhole(tf, { entry: gather, inputs: [f32(1, 2), i32(2)], attrs: {}, degrees: [2, 2], seed: 3, intHigh: 1 }));
    });

    it("lstm_chunk: sharded equals whole (with and without initial state, one step included)", () => {
      for (const [state, steps, d] of [[false, 3, 2], [true, 2, 3], [true, 1, 1], [false, 1, 3]] as const) {
        ok(checkShardedEqualsWhole(tf, { entry: lstmChunk, inputs: chunkInputs(3, steps, 2, 3, state), attrs: {}, degrees: [d, 1, 1], seed: 11 + steps, tolerance: { abs: 1e-4, rel: 1e-4 } }));
      }
    });

    it("two chained lstm_chunks equal one lstm over the whole sequence (outputs and gradients)", () => {
      const [b, t, n, h] = [2, 6, 3, 4];
      const lsig = inferOrThrow(lstm, [f32(b, t, n)], { hidden: h, return_sequences: true });
      const next = rng(5);
      const x = randomTensor(tf, f32(b, t, n), next);
      const ws = lsig.params.map((p) => randomTensor(tf, f32(...p.shape), next));
      const dy = randomTensor(tf, f32(b, t, h), next);
      const whole = (xx: typeof x, w: typeof ws) =>
        lstm.forward(tf, { inputs: [xx], params: w, attrs: { hidden: h, return_sequences: true }, sig: lsig, shard: wholeShard(lsig, [f32(b, t, n)]) })[0];
      const c1 = inferOrThrow(lstmChunk, chunkInputs(b, t / 2, n, h, false), {});
      const c2 = inferOrThrow(lstmChunk, chunkInputs(b, t / 2, n, h, true), {});
      const chunked = (xx: typeof x, w: typeof ws) => {
        const x1 = tf.slice(xx, [0, 0, 0], [b, t / 2, n]);
        const x2 = tf.slice(xx, [0, t / 2, 0], [b, t / 2, n]);
        const [y1, h1, s1] = lstmChunk.forward(tf, { inputs: [x1, ...w], params: [], attrs: {}, sig: c1, shard: wholeShard(c1, chunkInputs(b, t / 2, n, h, false)) });
        const [y2] = lstmChunk.forward(tf, { inputs: [x2, ...w, h1, s1], params: [], attrs: {}, sig: c2, shard: wholeShard(c2, chunkInputs(b, t / 2, n, h, true)) });
        return tf.concat([y1, y2], 1);
      };
      const loss = (f: typeof whole) => (xx: typeof x, ...w: typeof ws) => tf.sum(tf.mul(f(xx, w), dy));
      const ya = whole(x, ws).dataSync();
      const yb = chunked(x, ws).dataSync();
      expect(Math.max(...ya.map((v, i) => Math.abs(v - yb[i])))).toBeLessThan(1e-5);
      const ga = tf.grads(loss(whole))([x, ...ws]);
      const gb = tf.grads(loss(chunked))([x, ...ws]);
      ga.forEach((g, i) => {
        const a = g.dataSync();
        const c = gb[i].dataSync();
        expect(Math.max(...a.map((v, k) => Math.abs(v - c[k])))).toBeLessThan(1e-4);
      });
    });

    it("matmul transpose_b = true with a 2-D b: sharded equals whole", () => {
      for (const degrees of [[1, 1, 1, 1], [2, 2, 1, 1], [1, 1, 3, 2], [2, 3, 2, 2]]) {
        ok(checkShardedEqualsWhole(tf, { entry: matmul, inputs: [f32(2, 3, 4), f32(5, 4)], attrs: { transpose_b: true }, degrees, seed: 21 + degrees[2] }));
      }
    });
  });
}
