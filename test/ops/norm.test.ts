import type { Tensor } from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { TensorType } from "../../src/core/tensor.js";
import { batchnorm, batchnormApply, centralMoment, groupNorm, layernorm, moments } from "../../src/ops/norm.js";
import { expandComposite } from "../../src/ops/composite.js";
import { autodiffBackward, backwardOf } from "../../src/ops/autodiff.js";
import { getOp } from "../../src/ops/registry.js";
import { partition as partitionBoxes } from "../../src/core/region.js";
import { taskRegions } from "../../src/ops/regions.js";
import type { Attrs, OpEntry, TF } from "../../src/ops/contract.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, compare, inferOrThrow, kernelShapes, randomTensor, rng, shardFlops, wholeShard } from "../support/sharded.js";
import { errorCodes, resolved as attrs } from "./_ops-b-helpers.js";
import { cpuVersusWasm } from "./backend-agreement.js";
import { assertProperty, degreeFor } from "../support/property.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });
/** A shape [N, C, spatial...] of rank 2..4 from random sizes. */
const cfShape = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
  .map(([n, c, sp, h, w]) => [n, c, h, w].slice(0, 2 + sp));
const degreesFor = (shape: number[]) => fc.tuple(...shape.map((s) => degreeFor(s, 3)));

describe("batchnorm family: shapes, FLOPs, regions", () => {
  it("batchnorm: params weight/bias [C] (ones/zeros), only channel splittable, expands to moments + central_moment + apply", () => {
    const a = attrs(batchnorm, {});
    expect(a.eps).toBe(1e-5);
    const sig = inferOrThrow(batchnorm, [f32(4, 3, 5, 5)], a);
    expect(sig.outputs[0].shape).toEqual([4, 3, 5, 5]);
    expect(sig.params.map((p) => `${p.name}:${p.shape}:${p.init.kind}`)).toEqual(["weight:3:ones", "bias:3:zeros"]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.splittable}`)).toEqual(["sample:sample:false", "channel:parameter:true", "height:attribute:false", "width:attribute:false"]);
    expect(sig.flops([4, 3, 5, 5])).toEqual({ forward: 8 * 300, backward: 13 * 300 });
    const ex = expandComposite(batchnorm, a);
    expect(ex).toEqual([
      { suffix: "mean", op: "moments", inputs: [0], attrs: {} },
      { suffix: "var", op: "central_moment", inputs: [0, { op: 0, output: 0 }], attrs: {} },
      { suffix: "", op: "batchnorm_apply", inputs: [0, { op: 0, output: 0 }, { op: 1, output: 0 }], attrs: { eps: 1e-5 } },
    ]);
    for (const e of ex) expect(getOp(e.op)).toBeDefined();
    // The sub-ops together carry the composite's parameters and FLOPs.
    const m = inferOrThrow(moments, [f32(4, 3, 5, 5)], {});
    const v = inferOrThrow(centralMoment, [f32(4, 3, 5, 5), m.outputs[0]], {});
    const ap = inferOrThrow(batchnormApply, [f32(4, 3, 5, 5), m.outputs[0], v.outputs[0]], attrs(batchnormApply, {}));
    expect([...m.params, ...v.params, ...ap.params].map((p) => p.shape)).toEqual(sig.params.map((p) => p.shape));
    const total = (s: typeof sig) => s.flops(s.space.map((d) => d.size));
    expect(total(m).forward + total(v).forward + total(ap).forward).toBe(total(sig).forward);
    expect(total(m).backward + total(v).backward + total(ap).backward).toBe(total(sig).backward);
  });

  it("moments: mean [C]; sample and spatial dims are summed over (partial sums)", () => {
    const sig = inferOrThrow(moments, [f32(4, 3, 5, 6)], {});
    expect(sig.outputs[0].shape).toEqual([3]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}`)).toEqual(["sample:sample", "channel:attribute", "height:reduction", "width:reduction"]);
    const r = taskRegions(sig, [[4, 3, 5, 6]], { lo: [2, 1, 0, 3], hi: [4, 2, 5, 6] });
    expect(r.inputs[0]).toEqual({ lo: [2, 1, 0, 3], hi: [4, 2, 5, 6] });
    expect(r.outputs[0]).toEqual({ lo: [1], hi: [2] });
    expect(shardFlops(sig, [2, 3, 2, 3])).toEqual(sig.flops([4, 3, 5, 6]));
  });

  it("central_moment: var [C] about a mean [C] read on the channel block; partial sums like moments", () => {
    const sig = inferOrThrow(centralMoment, [f32(4, 3, 5, 6), f32(3)], {});
    expect(sig.outputs[0].shape).toEqual([3]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}`)).toEqual(["sample:sample", "channel:attribute", "height:reduction", "width:reduction"]);
    const r = taskRegions(sig, [[4, 3, 5, 6], [3]], { lo: [2, 1, 0, 3], hi: [4, 3, 5, 6] });
    expect(r.inputs[0]).toEqual({ lo: [2, 1, 0, 3], hi: [4, 3, 5, 6] });
    expect(r.inputs[1]).toEqual({ lo: [1], hi: [3] });
    expect(r.outputs[0]).toEqual({ lo: [1], hi: [3] });
    expect(shardFlops(sig, [2, 3, 2, 3])).toEqual(sig.flops([4, 3, 5, 6]));
  });

  it("batchnorm_apply: reads the mean and var on the channel block", () => {
    const sig = inferOrThrow(batchnormApply, [f32(4, 3, 5), f32(3), f32(3)], attrs(batchnormApply, {}));
    expect(sig.space.map((d) => d.name)).toEqual(["sample", "channel", "length"]);
    const r = taskRegions(sig, [[4, 3, 5], [3], [3]], { lo: [1, 1, 2], hi: [3, 3, 4] });
    expect(r.inputs[1]).toEqual({ lo: [1], hi: [3] });
    expect(r.inputs[2]).toEqual({ lo: [1], hi: [3] });
    expect(r.params[0]).toEqual({ lo: [1], hi: [3] });
    expect(shardFlops(sig, [3, 2, 2])).toEqual(sig.flops([4, 3, 5]));
  });

  it("rejects bad ranks and mismatched statistics", () => {
    expect(errorCodes(batchnorm, [f32(5)], {})).toEqual(["PAR2108"]);
    expect(errorCodes(moments, [f32(5)], {})).toEqual(["PAR2108"]);
    expect(errorCodes(centralMoment, [f32(5), f32(5)], {})).toEqual(["PAR2108"]);
    expect(errorCodes(centralMoment, [f32(4, 3), f32(4)], {})).toEqual(["PAR2107"]);
    expect(errorCodes(centralMoment, [f32(4, 3), f32(2, 3)], {})).toEqual(["PAR2107"]);
    expect(errorCodes(batchnormApply, [f32(4, 3), f32(4), f32(3)], {})).toEqual(["PAR2107"]);
    expect(errorCodes(batchnormApply, [f32(4, 3), f32(3), f32(2, 3)], {})).toEqual(["PAR2107"]);
    expect(errorCodes(batchnormApply, [f32(4, 3), f32(3)], {})).toEqual(["PAR2105"]);
    expect(errorCodes(batchnorm, [f32(4, 3)], { momentum: 0.1 })).toEqual(["PAR2101"]);
  });
});

describe("layernorm: shapes, FLOPs, regions", () => {
  it("weight/bias over the last `axes` dims, which are not splittable", () => {
    const sig = inferOrThrow(layernorm, [f32(2, 7, 8)], attrs(layernorm, {}));
    expect(sig.params.map((p) => `${p.name}:${p.shape}:${p.init.kind}`)).toEqual(["weight:8:ones", "bias:8:zeros"]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.splittable}`)).toEqual(["sample:sample:true", "length:attribute:true", "channel:parameter:false"]);
    const two = inferOrThrow(layernorm, [f32(2, 3, 4, 5)], attrs(layernorm, { axes: 2 }));
    expect(two.params[0].shape).toEqual([4, 5]);
    expect(two.space.map((d) => d.splittable)).toEqual([true, true, false, false]);
    const r = taskRegions(two, [[2, 3, 4, 5]], { lo: [1, 1, 0, 0], hi: [2, 3, 4, 5] });
    expect(r.params[0]).toEqual({ lo: [0, 0], hi: [4, 5] });
    expect(sig.flops([2, 7, 8])).toEqual({ forward: 7 * 112, backward: 10 * 112 });
    expect(shardFlops(sig, [2, 3, 1])).toEqual(sig.flops([2, 7, 8]));
  });

  it("rejects axes beyond the rank", () => {
    expect(errorCodes(layernorm, [f32(2, 3)], { axes: 3 })).toEqual(["PAR2113"]);
    expect(errorCodes(layernorm, [f32(2, 3)], { axes: 0 })).toEqual(["PAR2104"]);
  });
});

for (const backend of BACKENDS) {
  describe(`normalisation on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("shape inference agrees with the kernels", () => {
      const cases: [OpEntry, TensorType[], Attrs][] = [
        [batchnorm, [f32(2, 3, 4, 4)], attrs(batchnorm, {})],
        [batchnorm, [f32(5, 3)], attrs(batchnorm, {})],
        [moments, [f32(2, 3, 4)], {}],
        [centralMoment, [f32(2, 3, 4), f32(3)], {}],
        [batchnormApply, [f32(2, 3, 4, 4), f32(3), f32(3)], attrs(batchnormApply, {})],
        [layernorm, [f32(2, 3, 4)], attrs(layernorm, { axes: 2 })],
      ];
      for (const [e, ins, a] of cases) {
        const { inferred, actual } = kernelShapes(tf, e, ins, a);
        expect(actual).toEqual(inferred);
      }
    });

    it("batchnorm normalises each channel to mean 0, variance 1 (then w, b)", () => {
      const x = tf.randomNormal([6, 2, 3, 3], 3, 2, "float32", 7);
      const sig = inferOrThrow(batchnorm, [f32(6, 2, 3, 3)], attrs(batchnorm, {}));
      const y = batchnorm.forward(tf, { inputs: [x], params: [tf.ones([2]), tf.zeros([2])], attrs: { eps: 1e-5 }, sig, shard: wholeShard(sig, [f32(6, 2, 3, 3)]) })[0];
      const { mean, variance } = tf.moments(y, [0, 2, 3]);
      for (const v of mean.dataSync()) expect(Math.abs(v)).toBeLessThan(1e-4);
      for (const v of variance.dataSync()) expect(Math.abs(v - 1)).toBeLessThan(1e-3);
    });

    it("moments: sharded over sample/channel/spatial equals whole", () => {
      const arb = fc.tuple(cfShape, fc.nat()).chain(([s, seed]) => fc.tuple(fc.constant(s), fc.constant(seed), degreesFor(s)));
      assertProperty(
        fc.property(arb, ([shape, seed, degrees]) => {
          const res = checkShardedEqualsWhole(tf, { entry: moments, inputs: [f32(...shape)], attrs: {}, degrees, seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        30,
      );
    });

    it("central_moment: sharded over sample/channel/spatial equals whole (any mean)", () => {
      const arb = fc.tuple(cfShape, fc.nat()).chain(([s, seed]) => fc.tuple(fc.constant(s), fc.constant(seed), degreesFor(s)));
      assertProperty(
        fc.property(arb, ([shape, seed, degrees]) => {
          const res = checkShardedEqualsWhole(tf, { entry: centralMoment, inputs: [f32(...shape), f32(shape[1])], attrs: {}, degrees, seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        30,
      );
    });

    it("batchnorm_apply: sharded equals whole, every dim", () => {
      const arb = fc.tuple(cfShape, fc.nat()).chain(([s, seed]) => fc.tuple(fc.constant(s), fc.constant(seed), degreesFor(s)));
      assertProperty(
        fc.property(arb, ([shape, seed, degrees]) => {
          // A random var input can be negative: the entry feeds |var| + 0.5 instead.
          const res = checkShardedEqualsWhole(tf, { entry: positiveVarApply, inputs: [f32(...shape), f32(shape[1]), f32(shape[1])], attrs: { eps: 1e-5 }, degrees, seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        30,
      );
    });

    it("batchnorm: a channel split equals whole", () => {
      const arb = fc.tuple(cfShape, fc.nat()).chain(([s, seed]) => fc.tuple(fc.constant(s), fc.constant(seed), degreeFor(s[1], 3)));
      assertProperty(
        fc.property(arb, ([shape, seed, dc]) => {
          const degrees = shape.map((_, i) => (i === 1 ? dc : 1));
          const res = checkShardedEqualsWhole(tf, { entry: batchnorm, inputs: [f32(...shape)], attrs: { eps: 1e-5 }, degrees, seed, tolerance: { abs: 1e-4, rel: 1e-4 } });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        30,
      );
    });

    it("expand (moments → central_moment → apply), sharded, equals batchnorm's forward and its autodiff gradients", () => {
      const arb = fc.tuple(cfShape, fc.nat()).chain(([s, seed]) => fc.tuple(fc.constant(s), fc.constant(seed), degreesFor(s)));
      assertProperty(
        fc.property(arb, ([shape, seed, degrees]) => {
          tf.tidy(() => {
            const xt = f32(...shape);
            const a = attrs(batchnorm, {});
            const next = rng(seed);
            const x = randomTensor(tf, xt, next);
            const w = randomTensor(tf, f32(shape[1]), next);
            const b = randomTensor(tf, f32(shape[1]), next);
            const dy = randomTensor(tf, xt, next);
            const bsig = inferOrThrow(batchnorm, [xt], a);
            const bargs = { inputs: [x], params: [w, b], attrs: a, sig: bsig, shard: wholeShard(bsig, [xt]) };
            const y = batchnorm.forward(tf, bargs)[0];
            const g = autodiffBackward(batchnorm, tf, { ...bargs, outputs: [y], dOutputs: [dy] });
            const c = composite(tf, x, w, b, dy, a, degrees);
            const tol = { abs: 1e-4, rel: 1e-4 };
            expect(compare(y.dataSync(), c.y.dataSync(), "y", tol).ok).toBe(true);
            expect(compare(g.dInputs[0]!.dataSync(), c.dx.dataSync(), "dx", tol).ok).toBe(true);
            expect(compare(g.dParams[0].dataSync(), c.dw.dataSync(), "dw", tol).ok).toBe(true);
            expect(compare(g.dParams[1].dataSync(), c.db.dataSync(), "db", tol).ok).toBe(true);
          });
        }),
        20,
      );
    });

    it("tiny variance relative to mean² (x = 1000 + noise, 2 values per channel): the sharded statistics match the whole", () => {
      // One-pass E[x²] − E[x]² loses every digit here (x² ≈ 1e6, var ≈ 4e-2 at f32's 6e-8
      // relative precision); the two-pass centred variance keeps them under any split.
      const shape = [2, 3, 1, 1];
      const noise = [0.3, -0.2, 0.05, -0.1, 0.25, 0.4];
      const data = Array.from({ length: 6 }, (_, i) => 1000 + noise[i]);
      for (const degrees of [[1, 1, 1, 1], [2, 1, 1, 1], [2, 3, 1, 1], [1, 3, 1, 1]]) {
        tf.tidy(() => {
          const x = tf.tensor(data, shape);
          const xt = f32(...shape);
          const msig = inferOrThrow(moments, [xt], {});
          const mean = shardedForward(tf, moments, msig, [x], [], {}, degrees);
          const vsig = inferOrThrow(centralMoment, [xt, msig.outputs[0]], {});
          const variance = shardedForward(tf, centralMoment, vsig, [x, mean], [], {}, degrees);
          // Exact statistics (float64) of the f32 inputs.
          const xs = Array.from(x.dataSync());
          for (let ch = 0; ch < 3; ch++) {
            const v = [xs[ch], xs[3 + ch]];
            const m = (v[0] + v[1]) / 2;
            const exactVar = ((v[0] - m) ** 2 + (v[1] - m) ** 2) / 2;
            expect(Math.abs(mean.dataSync()[ch] - m)).toBeLessThan(1e-3);
            expect(Math.abs(variance.dataSync()[ch] - exactVar) / exactVar).toBeLessThan(1e-2);
          }
          // The composite, sharded, equals the whole batchnorm (forward and gradients).
          const a = attrs(batchnorm, {});
          const w = tf.tensor1d([1, 0.5, -2]);
          const b = tf.tensor1d([0.1, 0, -0.3]);
          const dy = tf.tensor([0.3, -0.2, 0.5, 0.1, 0.4, -0.6], shape);
          const bsig = inferOrThrow(batchnorm, [xt], a);
          const bargs = { inputs: [x], params: [w, b], attrs: a, sig: bsig, shard: wholeShard(bsig, [xt]) };
          const y = batchnorm.forward(tf, bargs)[0];
          const g = autodiffBackward(batchnorm, tf, { ...bargs, outputs: [y], dOutputs: [dy] });
          const c = composite(tf, x, w, b, dy, a, degrees);
          // y ≈ ±w + b (|x − mean| ≫ sqrt(eps)): compared at 1e-3 of its scale.
          const tol = { abs: 1e-3, rel: 1e-3 };
          expect(compare(y.dataSync(), c.y.dataSync(), "y", tol).ok).toBe(true);
          expect(compare(g.dParams[0].dataSync(), c.dw.dataSync(), "dw", tol).ok).toBe(true);
          expect(compare(g.dParams[1].dataSync(), c.db.dataSync(), "db", tol).ok).toBe(true);
          // dx is 0 up to eps/var in theory: what is left is rounding of terms ~ w·dy/σ.
          const sigma = 0.175;
          expect(compare(g.dInputs[0]!.dataSync(), c.dx.dataSync(), "dx", { abs: 1e-3 * (2 / sigma), rel: 1e-3 }).ok).toBe(true);
          // And the normalised output really is ±1 per channel (w = 1 on channel 0).
          expect(Math.abs(Math.abs(y.dataSync()[0] - 0.1) - 1)).toBeLessThan(1e-2);
        });
      }
    });

    it("layernorm: sharded equals whole (non-normalised dims split)", () => {
      const arb = fc
        .record({ shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), axes: fc.integer({ min: 1, max: 2 }), seed: fc.nat() })
        .chain((c) => {
          const axes = Math.min(c.axes, c.shape.length);
          return fc.tuple(fc.constant({ ...c, axes }), fc.tuple(...c.shape.map((s, i) => (i >= c.shape.length - axes ? fc.constant(1) : degreeFor(s, 3)))));
        });
      assertProperty(
        fc.property(arb, ([c, degrees]) => {
          const res = checkShardedEqualsWhole(tf, { entry: layernorm, inputs: [f32(...c.shape)], attrs: { axes: c.axes, eps: 1e-5 }, degrees, seed: c.seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        30,
      );
    });
  });
}

/** batchnorm_apply fed |var| + 0.5 for its var input, so a random var keeps the variance positive. */
const positiveVarApply: OpEntry = {
  ...batchnormApply,
  forward: (tf2, args) => batchnormApply.forward(tf2, { ...args, inputs: [args.inputs[0], args.inputs[1], tf2.add(tf2.abs(args.inputs[2]), 0.5)] }),
  // Its explicit backward at |var| + 0.5, dvar times d(|v| + 0.5)/dv = sign(v).
  backward: (tf2, args) => {
    const g = batchnormApply.backward!(tf2, { ...args, inputs: [args.inputs[0], args.inputs[1], tf2.add(tf2.abs(args.inputs[2]), 0.5)] });
    return { ...g, dInputs: [g.dInputs[0], g.dInputs[1], tf2.mul(g.dInputs[2]!, tf2.sign(args.inputs[2]))] };
  },
};

/**
 * batchnorm's expansion run as the graph runs it: moments and central_moment sharded by
 * `degrees` (partials summed), apply whole; the backward goes through the graph edges
 * (apply → var → mean → x), each sub-op's gradient from its own backward.
 */
function composite(tf: TF, x: Tensor, w: Tensor, b: Tensor, dy: Tensor, a: Attrs, degrees: number[]) {
  const xt = f32(...(x.shape as number[]));
  const [, , step] = expandComposite(batchnorm, a);
  const msig = inferOrThrow(moments, [xt], {});
  const mean = shardedForward(tf, moments, msig, [x], [], {}, degrees);
  const vsig = inferOrThrow(centralMoment, [xt, msig.outputs[0]], {});
  const variance = shardedForward(tf, centralMoment, vsig, [x, mean], [], {}, degrees);
  const stat = msig.outputs[0];
  const asig = inferOrThrow(batchnormApply, [xt, stat, vsig.outputs[0]], step.attrs);
  const aargs = { inputs: [x, mean, variance], params: [w, b], attrs: step.attrs, sig: asig, shard: wholeShard(asig, [xt, stat, vsig.outputs[0]]) };
  const y = batchnormApply.forward(tf, aargs)[0];
  const ga = backwardOf(batchnormApply, tf, { ...aargs, outputs: [y], dOutputs: [dy] });
  const gv = backwardOf(centralMoment, tf, { inputs: [x, mean], params: [], attrs: {}, sig: vsig, shard: wholeShard(vsig, [xt, stat]), outputs: [variance], dOutputs: [ga.dInputs[2]!] });
  const dMean = tf.add(ga.dInputs[1]!, gv.dInputs[1]!);
  const gm = backwardOf(moments, tf, { inputs: [x], params: [], attrs: {}, sig: msig, shard: wholeShard(msig, [xt]), outputs: [mean], dOutputs: [dMean] });
  const dx = tf.add(tf.add(ga.dInputs[0]!, gv.dInputs[0]!), gm.dInputs[0]!);
  return { y, dx, dw: ga.dParams[0], db: ga.dParams[1] };
}

/** Runs every task of a partition and sums the outputs (for ops with one output). */
function shardedForward(tf: TF, entry: OpEntry, sig: ReturnType<typeof inferOrThrow>, xs: Tensor[], ws: Tensor[], a: Attrs, degrees: number[]) {
  const sizes = sig.space.map((d) => d.size);
  const shapes = xs.map((x) => x.shape as number[]);
  let total = tf.zeros(sig.outputs[0].shape);
  for (const box of partitionBoxes(sizes, degrees)) {
    const r = taskRegions(sig, shapes, box);
    const ins = xs.map((x, i) => tf.slice(x, r.inputs[i].lo, r.inputs[i].hi.map((h, k) => h - r.inputs[i].lo[k])));
    const y = entry.forward(tf, { inputs: ins, params: ws, attrs: a, sig, shard: { box, spaceSizes: sizes, inputRegions: r.inputs, outputRegions: r.outputs, firstAlongReductions: true } })[0];
    const o = r.outputs[0];
    total = tf.add(total, tf.pad(y, o.lo.map((l, k) => [l, sig.outputs[0].shape[k] - o.hi[k]] as [number, number])));
  }
  return total;
}


describe("normalisation: wasm agrees with cpu on the whole op", () => {
  it("batchnorm, moments, central_moment, batchnorm_apply, layernorm", async () => {
    expect(await cpuVersusWasm(batchnorm, [f32(3, 2, 4, 4)], { eps: 1e-5 })).toEqual([]);
    expect(await cpuVersusWasm(moments, [f32(3, 2, 4)], {})).toEqual([]);
    expect(await cpuVersusWasm(centralMoment, [f32(3, 2, 4), f32(2)], {})).toEqual([]);
    expect(await cpuVersusWasm(positiveVarApply, [f32(3, 2, 4), f32(2), f32(2)], { eps: 1e-5 })).toEqual([]);
    expect(await cpuVersusWasm(layernorm, [f32(2, 3, 6)], { axes: 2, eps: 1e-5 })).toEqual([]);
  });
});

describe("group_norm: shapes, maps, torch's values, sharded equals whole", () => {
  it("splits samples and whole groups (block maps of C/groups channels); spatial dims stay whole", () => {
    const sig = inferOrThrow(groupNorm, [f32(2, 6, 4, 4)], attrs(groupNorm, { groups: 3 }));
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}${d.splittable === false ? "—" : ""}`)).toEqual(["sample:sample:2", "group:parameter:3", "height:attribute:4—", "width:attribute:4—"]);
    expect(sig.inputMaps[0][1]).toEqual({ kind: "block", dim: 1, blockSize: 2 });
    expect(sig.params.map((p) => `${p.name}${JSON.stringify(p.shape)}`)).toEqual(["weight[6]", "bias[6]"]);
    expect(taskRegions(sig, [[2, 6, 4, 4]], { lo: [1, 1, 0, 0], hi: [2, 3, 4, 4] }).params[0]).toEqual({ lo: [2], hi: [6] });
    // Instance norm (one channel per group) maps the channel axis directly.
    expect(inferOrThrow(groupNorm, [f32(2, 6, 5)], attrs(groupNorm, { groups: 6 })).inputMaps[0][1]).toEqual({ kind: "iter", dim: 1 });
    expect(sig.flops([2, 3, 4, 4])).toEqual({ forward: 7 * 2 * 6 * 16, backward: 10 * 2 * 6 * 16 });
    expect(shardFlops(sig, [2, 3, 1, 1])).toEqual(sig.flops([2, 3, 4, 4]));
    expect(errorCodes(groupNorm, [f32(2, 6, 4)], { groups: 4 })).toEqual(["PAR2111"]);
    expect(errorCodes(groupNorm, [f32(6)], { groups: 1 })).toEqual(["PAR2108"]);
  });

  it("computes torch.nn.GroupNorm(2, 4) with a weight and bias", async () => {
    const tf = await useBackend("cpu");
    const x = f32(2, 4, 3);
    const a = attrs(groupNorm, { groups: 2 });
    const sig = inferOrThrow(groupNorm, [x], a);
    const data = Array.from({ length: 24 }, (_, i) => Math.sin(i * 0.8) * 2);
    const y = groupNorm.forward(tf, { inputs: [tf.tensor(data, [2, 4, 3])], params: [tf.tensor([1, 2, 0.5, -1]), tf.tensor([0, 0.1, 0.2, 0.3])], attrs: a, sig, shard: wholeShard(sig, [x]) })[0];
    const want = [-0.44103, 0.76251, 1.236, 1.48445, -0.97793, -3.3215, -0.57585, -0.32729, 0.18209, -0.58663, -0.85323, -0.30225];
    Array.from(y.dataSync()).slice(0, 12).forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
  });

  for (const backend of BACKENDS) {
    it(`sharded equals whole on ${backend} (forward, input and parameter gradients)`, async () => {
      const tf = await useBackend(backend);
      const arb = fc
        .record({ n: fc.integer({ min: 1, max: 3 }), groups: fc.integer({ min: 1, max: 3 }), per: fc.integer({ min: 1, max: 3 }), spatial: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 2 }), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreeFor(c.n, 3), degreeFor(c.groups, 3)));
      assertProperty(
        fc.property(arb, ([c, dn, dg]) => {
          const x = f32(c.n, c.groups * c.per, ...c.spatial);
          const res = checkShardedEqualsWhole(tf, { entry: groupNorm, inputs: [x], attrs: attrs(groupNorm, { groups: c.groups }), degrees: [dn, dg, ...c.spatial.map(() => 1)], seed: c.seed });
          expect(res.comparisons.filter((r) => !r.ok)).toEqual([]);
        }),
        20,
      );
    });
  }
});

/**
 * The batch statistics are long sums (N·H·W terms per channel). tfjs-wasm 4.22's Sum
 * accumulates in float32 in index order, so the whole sum and a sharded plan's partial sums
 * (per sample, all-reduced) differed by 1e-5 relative, which Inception v3 amplified to a
 * different training step and which flipped a ReLU in R3D-18 (the zoo's 2-device check).
 * channelSum keeps them within about an ulp of the exact sum, on every backend.
 */
for (const backend of BACKENDS) {
  describe(`batch statistics on ${backend}: long sums within an ulp of exact, split or whole`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    // Inception v3's first batch norm at batch 2 (2·79·79 terms per channel), values with a
    // mean well away from 0, as conv outputs have.
    const shape = [2, 3, 79, 79];
    const next = rng(7);
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 3 + (next() * 2 - 1));
    const perChannel = (f: (v: number) => number) => {
      const [n, c, per] = [shape[0], shape[1], shape[2] * shape[3]];
      return Array.from({ length: c }, (_, ch) => {
        let s = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < per; j++) s += f(values[(i * c + ch) * per + j]);
        return s / (n * per);
      });
    };
    const exactMean = perChannel((v) => v);
    const ulps = (got: ArrayLike<number>, exact: number[]) => Math.max(...exact.map((e, i) => Math.abs(got[i] - e) / (Math.abs(e) * 2 ** -23)));

    /** The statistic of the whole op and the all-reduced sum of its per-sample tasks (float32, as the runtime adds them). */
    function wholeAndSplit(entry: OpEntry, mean?: number[]): { whole: Float32Array; split: Float32Array } {
      return tf.tidy(() => {
        const x = tf.tensor(values, shape);
        const types = [f32(...shape), ...(mean ? [f32(shape[1])] : [])];
        const sig = inferOrThrow(entry, types, {});
        const inputs = (t: Tensor) => [t, ...(mean ? [tf.tensor(mean, [shape[1]])] : [])];
        const whole = entry.forward(tf, { inputs: inputs(x), params: [], attrs: {}, sig, shard: wholeShard(sig, types) })[0].dataSync() as Float32Array;
        const split = new Float32Array(shape[1]);
        for (let n = 0; n < shape[0]; n++) {
          const box = { lo: [n, 0, 0, 0], hi: [n + 1, ...shape.slice(1)] };
          const r = taskRegions(sig, types.map((t) => t.shape), box);
          const shard = { ...wholeShard(sig, types), box, inputRegions: r.inputs, outputRegions: r.outputs, firstAlongReductions: n === 0 };
          const part = entry.forward(tf, { inputs: inputs(tf.slice(x, [n], [1])), params: [], attrs: {}, sig, shard })[0].dataSync();
          for (let c = 0; c < shape[1]; c++) split[c] = Math.fround(split[c] + part[c]);
        }
        return { whole: Float32Array.from(whole), split };
      });
    }

    it("moments: the mean, whole and per-sample partials all-reduced, within 2 ulps of exact", () => {
      const { whole, split } = wholeAndSplit(moments);
      expect(ulps(whole, exactMean)).toBeLessThanOrEqual(2);
      expect(ulps(split, exactMean)).toBeLessThanOrEqual(2);
    });

    it("central_moment: the variance about the float32 mean, whole and split, within 2 ulps of exact", () => {
      const mean = Array.from(Float32Array.from(exactMean));
      const exactVar = (() => {
        const [n, c, per] = [shape[0], shape[1], shape[2] * shape[3]];
        return Array.from({ length: c }, (_, ch) => {
          let s = 0;
          // Each term as float32 computes it: (x − mean) is exact here (Sterbenz), its square rounded once.
          for (let i = 0; i < n; i++) for (let j = 0; j < per; j++) s += Math.fround(Math.fround(values[(i * c + ch) * per + j] - mean[ch]) ** 2);
          return s / (n * per);
        });
      })();
      const { whole, split } = wholeAndSplit(centralMoment, mean);
      expect(ulps(whole, exactVar)).toBeLessThanOrEqual(2);
      expect(ulps(split, exactVar)).toBeLessThanOrEqual(2);
    });

    it("moments, central_moment and batchnorm_apply: their explicit backwards equal autodiff of their forwards", () => {
      const xt = f32(2, 3, 5, 4);
      const cases: [OpEntry, TensorType[], Attrs][] = [[moments, [xt], {}], [centralMoment, [xt, f32(3)], {}], [batchnormApply, [xt, f32(3), f32(3)], attrs(batchnormApply, {})]];
      for (const [entry, types, a] of cases) {
        const sig = inferOrThrow(entry, types, a);
        tf.tidy(() => {
          const r = rng(11);
          // A variance must be positive.
          const inputs = types.map((t, i) => (i === 2 ? tf.add(tf.abs(randomTensor(tf, t, r)), 0.5) : randomTensor(tf, t, r)));
          const params = sig.params.map((p) => randomTensor(tf, { dtype: "f32", shape: p.shape, dims: p.dims }, r));
          const args = { inputs, params, attrs: a, sig, shard: wholeShard(sig, types) };
          const bargs = { ...args, outputs: entry.forward(tf, args), dOutputs: [randomTensor(tf, sig.outputs[0], r)] };
          const mine = entry.backward!(tf, bargs);
          const auto = autodiffBackward(entry, tf, bargs);
          mine.dInputs.forEach((d, i) => expect(compare(auto.dInputs[i]!.dataSync(), d!.dataSync(), `${entry.name} d${i}`).ok).toBe(true));
          mine.dParams.forEach((d, i) => expect(compare(auto.dParams[i].dataSync(), d.dataSync(), `${entry.name} d${sig.params[i].name}`).ok).toBe(true));
        });
      }
    });
  });
}
