import fc from "fast-check";
import type { Tensor4D, Tensor5D } from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import type { TensorType } from "../../src/core/tensor.js";
import { globalPool, maxPoolRouteHost, maxPoolRouteKernels, pool1d, pool2d, pool3d, poolOut } from "../../src/ops/pool.js";
import { taskRegions } from "../../src/ops/regions.js";
import type { Attrs, OpEntry, TF } from "../../src/ops/contract.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, compare, inferOrThrow, kernelShapes, randomTensor, rng, shardFlops, wholeShard } from "../support/sharded.js";
import { assertShardedEqualsWhole, errorCodes, resolved as attrs } from "./_ops-b-helpers.js";
import { autodiffBackward } from "../../src/ops/autodiff.js";
import { cpuVersusWasm } from "./backend-agreement.js";
import { assertProperty, degreeFor } from "../support/property.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });

describe("pool2d: shapes, FLOPs, regions", () => {
  it("stride defaults to the kernel; padding and rectangular kernels", () => {
    const sig = inferOrThrow(pool2d, [f32(2, 3, 8, 7)], attrs(pool2d, { mode: "max", kernel: [2] }));
    expect(sig.outputs[0].shape).toEqual([2, 3, 4, 3]);
    expect(sig.params).toEqual([]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["sample:sample:2", "channel:attribute:3", "height:attribute:4", "width:attribute:3"]);
    expect(sig.flops([2, 3, 4, 3])).toEqual({ forward: 4 * 72, backward: 4 * 72 });
    // ResNet stem pool: k 3, s 2, p 1 on 112 → 56.
    const stem = inferOrThrow(pool2d, [f32(1, 1, 112, 112)], attrs(pool2d, { mode: "max", kernel: [3], stride: [2], padding: [1] }));
    expect(stem.outputs[0].shape).toEqual([1, 1, 56, 56]);
  });

  it("a height shard reads its halo (overlapping windows)", () => {
    const sig = inferOrThrow(pool2d, [f32(1, 1, 9, 9)], attrs(pool2d, { mode: "avg", kernel: [3], stride: [2], padding: [1] }));
    // output rows [0, 2) read -1 .. 1·2-1+2 = 3 → [0, 4); rows [2, 5) read [3, 9)
    expect(taskRegions(sig, [[1, 1, 9, 9]], { lo: [0, 0, 0, 0], hi: [1, 1, 2, 5] }).inputs[0]).toEqual({ lo: [0, 0, 0, 0], hi: [1, 1, 4, 9] });
    expect(taskRegions(sig, [[1, 1, 9, 9]], { lo: [0, 0, 2, 0], hi: [1, 1, 5, 5] }).inputs[0]).toEqual({ lo: [0, 0, 3, 0], hi: [1, 1, 9, 9] });
  });

  it("rejects bad inputs and attributes with coded diagnostics", () => {
    expect(errorCodes(pool2d, [f32(3, 8, 8)], { mode: "max", kernel: [2] })).toEqual(["PAR2108"]);
    expect(errorCodes(pool2d, [f32(1, 3, 8, 8)], { mode: "max", kernel: [3], padding: [2] })).toEqual(["PAR2112"]);
    expect(errorCodes(pool2d, [f32(1, 3, 8, 8)], { mode: "max", kernel: [2], stride: [1, 1, 1] })).toEqual(["PAR2110"]);
    expect(errorCodes(pool2d, [f32(1, 3, 2, 8)], { mode: "avg", kernel: [3] })).toEqual(["PAR2109"]);
    expect(errorCodes(pool2d, [f32(1, 3, 8, 8)], { mode: "min", kernel: [2] })).toEqual(["PAR2104"]);
  });

  it("FLOPs of the shards sum to the whole", () => {
    const sig = inferOrThrow(pool2d, [f32(3, 4, 9, 9)], attrs(pool2d, { mode: "max", kernel: [3], stride: [2], padding: [1] }));
    expect(shardFlops(sig, [2, 3, 2, 3])).toEqual(sig.flops(sig.space.map((d) => d.size)));
  });
});

describe("pool1d / pool3d, ceil mode, dilation, end pads: shapes and diagnostics", () => {
  it("names the spatial dims by rank and takes one value per axis", () => {
    const s1 = inferOrThrow(pool1d, [f32(2, 3, 9)], attrs(pool1d, { mode: "max", kernel: [3], stride: [2] }));
    expect(s1.outputs[0].shape).toEqual([2, 3, 4]);
    expect(s1.space.map((d) => d.name)).toEqual(["sample", "channel", "length"]);
    const s3 = inferOrThrow(pool3d, [f32(1, 2, 4, 6, 6)], attrs(pool3d, { mode: "avg", kernel: [2, 3, 3], stride: [2, 3, 3] }));
    expect(s3.outputs[0].shape).toEqual([1, 2, 2, 2, 2]);
    expect(s3.space.map((d) => d.name)).toEqual(["sample", "channel", "depth", "height", "width"]);
    expect(errorCodes(pool3d, [f32(1, 2, 4, 6, 6)], { mode: "max", kernel: [2, 2] })).toEqual(["PAR2110"]);
    expect(errorCodes(pool1d, [f32(1, 2, 4, 6)], { mode: "max", kernel: [2] })).toEqual(["PAR2108"]);
  });

  it("ceil mode rounds up, but a last window must start inside the input or the left padding (torch)", () => {
    // SqueezeNet / GoogLeNet: 3×3, stride 2, ceil mode on 55 → 27, on 112 → 56.
    expect(poolOut(55, 3, 2, 1, 0, 0, true)).toBe(27);
    expect(poolOut(112, 3, 2, 1, 0, 0, true)).toBe(56);
    expect(poolOut(5, 2, 2, 1, 0, 0, true)).toBe(3);
    expect(poolOut(5, 2, 2, 1, 0, 0, false)).toBe(2);
    // ceil((6 + 2 − 2)/2) + 1 = 4, but window 4 would start at 6 − 1 = 5 ≥ 5 + 1 − 1: dropped.
    expect(poolOut(5, 2, 2, 1, 1, 1, true)).toBe(3);
    const sig = inferOrThrow(pool2d, [f32(1, 1, 5, 5)], attrs(pool2d, { mode: "max", kernel: [2], stride: [2], ceil_mode: true }));
    expect(sig.outputs[0].shape).toEqual([1, 1, 3, 3]);
  });

  it("end pads widen the output; dilation widens the window; avg takes no dilation", () => {
    const sig = inferOrThrow(pool2d, [f32(1, 1, 6, 6)], attrs(pool2d, { mode: "max", kernel: [3], stride: [2], padding: [0], padding_end: [1] }));
    expect(sig.outputs[0].shape).toEqual([1, 1, 3, 3]);
    const dil = inferOrThrow(pool2d, [f32(1, 1, 6, 6)], attrs(pool2d, { mode: "max", kernel: [2], stride: [1], dilation: [2] }));
    expect(dil.outputs[0].shape).toEqual([1, 1, 4, 4]);
    expect(dil.inputMaps[0][2]).toEqual({ kind: "window", dim: 2, stride: 1, dilation: 2, kernel: 2, padLo: 0, size: 6 });
    expect(errorCodes(pool2d, [f32(1, 1, 6, 6)], { mode: "avg", kernel: [2], dilation: [2] })).toEqual(["PAR2104"]);
    expect(errorCodes(pool2d, [f32(1, 1, 6, 6)], { mode: "max", kernel: [2], padding_end: [2] })).toEqual(["PAR2112"]);
  });
});

describe("global_pool: shapes, FLOPs, regions", () => {
  it("[N, C, H, W] → [N, C, 1, 1] with spatial reductions", () => {
    const sig = inferOrThrow(globalPool, [f32(2, 3, 4, 5)], {});
    expect(sig.outputs[0].shape).toEqual([2, 3, 1, 1]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}`)).toEqual(["sample:sample", "channel:attribute", "height:reduction", "width:reduction"]);
    const r = taskRegions(sig, [[2, 3, 4, 5]], { lo: [0, 1, 2, 0], hi: [1, 3, 4, 3] });
    expect(r.inputs[0]).toEqual({ lo: [0, 1, 2, 0], hi: [1, 3, 4, 3] });
    expect(r.outputs[0]).toEqual({ lo: [0, 1, 0, 0], hi: [1, 3, 1, 1] });
    expect(sig.flops([2, 3, 4, 5])).toEqual({ forward: 120, backward: 120 });
    expect(shardFlops(sig, [2, 2, 3, 2])).toEqual(sig.flops([2, 3, 4, 5]));
  });

  it("rejects rank 2", () => {
    expect(errorCodes(globalPool, [f32(2, 3)], {})).toEqual(["PAR2108"]);
  });
});

for (const backend of BACKENDS) {
  describe(`pooling on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("shape inference agrees with the kernel", () => {
      const cases: [OpEntry, TensorType, Attrs][] = [
        [pool2d, f32(2, 3, 8, 7), { mode: "max", kernel: [2] }],
        [pool2d, f32(1, 2, 9, 9), { mode: "avg", kernel: [3, 2], stride: [2, 1], padding: [1] }],
        [globalPool, f32(2, 3, 4, 5), {}],
        [globalPool, f32(2, 3, 6), {}],
      ];
      for (const [entry, x, a] of cases) {
        const { inferred, actual } = kernelShapes(tf, entry, [x], attrs(entry, { ...a }));
        expect(actual).toEqual(inferred);
      }
    });

    it("max pads with -∞ and avg counts the padding (count_include_pad=True)", () => {
      const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
      const run = (mode: string) => {
        const a = attrs(pool2d, { mode, kernel: [2], stride: [1], padding: [1] });
        const sig = inferOrThrow(pool2d, [f32(1, 1, 2, 2)], a);
        return Array.from(pool2d.forward(tf, { inputs: [tf.neg(x)], params: [], attrs: a, sig, shard: wholeShard(sig, [f32(1, 1, 2, 2)]) })[0].dataSync());
      };
      expect(run("max")).toEqual([-1, -1, -2, -1, -1, -2, -3, -3, -4]);
      expect(run("avg")).toEqual([-0.25, -0.75, -0.5, -1, -2.5, -1.5, -0.75, -1.75, -1]);
    });

    it("ceil mode, count_include_pad = false, dilation, 1-D and 3-D compute torch's values", () => {
      const run = (entry: OpEntry, data: number[], shape: number[], given: Attrs): number[] => {
        const a = attrs(entry, given);
        const sig = inferOrThrow(entry, [f32(...shape)], a);
        return Array.from(entry.forward(tf, { inputs: [tf.tensor(data, shape)], params: [], attrs: a, sig, shard: wholeShard(sig, [f32(...shape)]) })[0].dataSync());
      };
      const near = (got: number[], want: number[]) => got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
      // x = arange(1, 26).reshape(5, 5) with the odd columns negated; values from torch.nn.functional.
      const x = Array.from({ length: 25 }, (_, i) => (i + 1) * (i % 5 === 1 || i % 5 === 3 ? -1 : 1));
      expect(run(pool2d, x, [1, 1, 5, 5], { mode: "max", kernel: [2], stride: [2], ceil_mode: true })).toEqual([6, 8, 10, 16, 18, 20, 21, 23, 25]);
      near(run(pool2d, x, [1, 1, 5, 5], { mode: "avg", kernel: [3], stride: [2], padding: [1], ceil_mode: true }), [-0.222222, -1.222222, 0.222222, -0.333333, -4.333333, 0.333333, -0.222222, -4.555555, 0.222222]);
      near(run(pool2d, x, [1, 1, 5, 5], { mode: "avg", kernel: [3], stride: [2], padding: [1], ceil_mode: true, count_include_pad: false }), [-0.5, -1.833333, 0.5, -0.5, -4.333333, 0.5, -0.5, -6.833333, 0.5]);
      expect(run(pool2d, x, [1, 1, 5, 5], { mode: "max", kernel: [2], stride: [1], dilation: [2] })).toEqual([13, -2, 15, 18, -7, 20, 23, -12, 25]);
      expect(run(pool1d, [1, 2, 3, 4, 5, 6, 7], [1, 1, 7], { mode: "max", kernel: [3], stride: [2], padding: [1], ceil_mode: true })).toEqual([2, 4, 6, 7]);
      const z = Array.from({ length: 27 }, (_, i) => i + 1);
      near(run(pool3d, z, [1, 1, 3, 3, 3], { mode: "avg", kernel: [2], stride: [2], padding: [1], count_include_pad: false }), [1, 2.5, 5.5, 7, 14.5, 16, 19, 20.5]);
      expect(run(pool3d, z, [1, 1, 3, 3, 3], { mode: "max", kernel: [2], stride: [1], ceil_mode: true })).toEqual([14, 15, 17, 18, 23, 24, 26, 27]);
    });

    it("every pool rank and option: sharded equals whole (forward and backward)", () => {
      const arb = fc
        .record({
          n: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 1, max: 2 }), sizes: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 3, maxLength: 3 }),
          k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 2 }), p: fc.integer({ min: 0, max: 1 }), pe: fc.integer({ min: 0, max: 1 }),
          ceil: fc.boolean(), include: fc.boolean(), mode: fc.constantFrom("max", "avg"), seed: fc.nat(),
        })
        .chain((c) => {
          const entry = [pool1d, pool2d, pool3d][c.n - 1];
          const d = c.mode === "avg" ? 1 : c.d;
          const extent = d * (c.k - 1) + 1;
          const p = Math.min(c.p, Math.floor(extent / 2));
          const pe = Math.min(c.pe, Math.floor(extent / 2));
          const spatial = c.sizes.slice(0, c.n);
          if (spatial.some((L) => poolOut(L, c.k, c.s, d, p, pe, c.ceil) < 1)) return fc.constant(undefined);
          const a = attrs(entry, { mode: c.mode, kernel: [c.k], stride: [c.s], dilation: [d], padding: [p], padding_end: [pe], ceil_mode: c.ceil, count_include_pad: c.include });
          const x = f32(2, c.c, ...spatial);
          const sig = inferOrThrow(entry, [x], a);
          return fc.tuple(fc.constant({ entry, a, x, seed: c.seed }), fc.tuple(...sig.space.map((dim) => degreeFor(dim.size, 3))));
        });
      assertShardedEqualsWhole(tf, arb, 40);
    });

    it("pool2d: sharded equals whole (forward and backward), random partitions incl. halos", () => {
      const arb = fc
        .record({ n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 8 }), w: fc.integer({ min: 1, max: 7 }), k: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), p: fc.integer({ min: 0, max: 1 }), mode: fc.constantFrom("max", "avg"), seed: fc.nat() })
        .chain((c) => {
          const p = Math.min(c.p, Math.floor(c.k / 2), Math.floor(c.kw / 2));
          const oh = Math.floor((c.h + 2 * p - c.k) / c.s) + 1;
          const ow = Math.floor((c.w + 2 * p - c.kw) / c.s) + 1;
          if (oh < 1 || ow < 1) return fc.constant(undefined);
          return fc.tuple(fc.constant({ ...c, p }), fc.tuple(degreeFor(c.n), degreeFor(c.c), degreeFor(oh), degreeFor(ow)));
        });
      assertProperty(
        fc.property(arb, (t) => {
          if (!t) return;
          const [c, degrees] = t;
          const a = attrs(pool2d, { mode: c.mode, kernel: [c.k, c.kw], stride: [c.s], padding: [c.p] });
          const res = checkShardedEqualsWhole(tf, { entry: pool2d, inputs: [f32(c.n, c.c, c.h, c.w)], attrs: a, degrees, seed: c.seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        30,
      );
    });

    it("global_pool: sharded equals whole (forward and backward), any partition", () => {
      const arb = fc
        .record({ n: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 1, max: 5 }), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), fc.tuple(degreeFor(c.n), degreeFor(c.c), degreeFor(c.h), degreeFor(c.w))));
      assertProperty(
        fc.property(arb, ([c, degrees]) => {
          const res = checkShardedEqualsWhole(tf, { entry: globalPool, inputs: [f32(c.n, c.c, c.h, c.w)], attrs: {}, degrees, seed: c.seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        30,
      );
    });
  });
}

describe("pool2d max: the host routing (wasm, cpu) and the kernel routing (other backends) agree bit for bit", () => {
  it("with ties inside windows (first tap in row-major order wins) and overlapping windows", async () => {
    const tf = await useBackend("cpu");
    const arb = fc.record({ n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 3, max: 8 }), w: fc.integer({ min: 3, max: 7 }), k: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), seed: fc.nat() });
    assertProperty(
      fc.property(arb, (c) => {
        tf.tidy(() => {
          const next = rng(c.seed);
          // Few distinct values: many windows hold their max more than once.
          const xs = Float32Array.from({ length: c.n * c.h * c.w * c.c }, () => Math.floor(next() * 3));
          const xp = tf.tensor5d(xs, [c.n, 1, c.h, c.w, c.c]);
          const y = tf.reshape(tf.maxPool(tf.reshape(xp, [c.n, c.h, c.w, c.c]) as Tensor4D, [c.k, c.kw], [c.s, c.s], "valid"), [c.n, 1, -1, Math.floor((c.w - c.kw) / c.s) + 1, c.c]) as Tensor5D;
          const dy = tf.tensor(Float32Array.from({ length: y.size }, () => next() - 0.5), y.shape) as Tensor5D;
          const host = maxPoolRouteHost(tf, xp, y, dy, [1, c.k, c.kw], [1, c.s, c.s], [1, 1, 1]).dataSync();
          const kernels = maxPoolRouteKernels(tf, xp, y, dy, [1, c.k, c.kw], [1, c.s, c.s], [1, 1, 1]).dataSync();
          expect(Array.from(host)).toEqual(Array.from(kernels));
        });
      }),
      40,
    );
  });
});

describe("pool3d max, dilated: the host routing and the kernel routing agree bit for bit", () => {
  it("random depth/height/width windows, strides and dilations, with ties", async () => {
    const tf = await useBackend("cpu");
    const arb = fc.record({ sizes: fc.array(fc.integer({ min: 3, max: 6 }), { minLength: 3, maxLength: 3 }), k: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 3, maxLength: 3 }), s: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 2 }), seed: fc.nat() });
    assertProperty(
      fc.property(arb, (c) => {
        tf.tidy(() => {
          const next = rng(c.seed);
          const shape = [1, 2, ...c.sizes];
          const x = tf.tensor(Float32Array.from({ length: 2 * c.sizes[0] * c.sizes[1] * c.sizes[2] }, () => Math.floor(next() * 3)), shape);
          const a = attrs(pool3d, { mode: "max", kernel: c.k, stride: [c.s], dilation: [c.d] });
          const sig = inferOrThrow(pool3d, [f32(...shape)], a);
          const y = pool3d.forward(tf, { inputs: [x], params: [], attrs: a, sig, shard: wholeShard(sig, [f32(...shape)]) })[0];
          const last = (t: typeof x) => tf.transpose(t, [0, 2, 3, 4, 1]) as Tensor5D;
          const dy = tf.tensor(Float32Array.from({ length: y.size }, () => next() - 0.5), y.shape);
          const k = c.k as [number, number, number];
          const host = maxPoolRouteHost(tf, last(x), last(y), last(dy), k, [c.s, c.s, c.s], [c.d, c.d, c.d]).dataSync();
          const kernels = maxPoolRouteKernels(tf, last(x), last(y), last(dy), k, [c.s, c.s, c.s], [c.d, c.d, c.d]).dataSync();
          expect(Array.from(host)).toEqual(Array.from(kernels));
        });
      }),
      25,
    );
  });
});

describe("pool2d max: explicit backward equals autodiff (cpu)", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  it("random configurations on the whole op", () => {
    const arb = fc.record({ n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 8 }), w: fc.integer({ min: 1, max: 7 }), k: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), p: fc.integer({ min: 0, max: 1 }), seed: fc.nat() });
    assertProperty(
      fc.property(arb, (c) => {
        const p = Math.min(c.p, Math.floor(c.k / 2), Math.floor(c.kw / 2));
        if (c.h + 2 * p < c.k || c.w + 2 * p < c.kw) return;
        const x = f32(c.n, c.c, c.h, c.w);
        const a = attrs(pool2d, { mode: "max", kernel: [c.k, c.kw], stride: [c.s], padding: [p] });
        const sig = inferOrThrow(pool2d, [x], a);
        tf.tidy(() => {
          const next = rng(c.seed);
          const xt = randomTensor(tf, x, next);
          const dy = randomTensor(tf, sig.outputs[0], next);
          const args = { inputs: [xt], params: [], attrs: a, sig, shard: wholeShard(sig, [x]) };
          const ys = pool2d.forward(tf, args);
          const bargs = { ...args, outputs: ys, dOutputs: [dy] };
          const mine = pool2d.backward!(tf, bargs).dInputs[0]!.dataSync();
          const auto = autodiffBackward(pool2d, tf, { ...bargs, attrs: { ...a, mode: "max" } });
          // autodiffBackward calls pool2d.forward, whose gradient is tfjs' MaxPoolGrad on cpu.
          expect(compare(auto.dInputs[0]!.dataSync(), mine, "dx").ok).toBe(true);
        });
      }),
      30,
    );
  });
});

describe("pooling: wasm agrees with cpu on the whole op", () => {
  it("max and avg, with padding and strides; global pool", async () => {
    const cases: [OpEntry, TensorType, Attrs][] = [
      [pool2d, f32(2, 3, 7, 6), { mode: "max", kernel: [3], stride: [2], padding: [1] }],
      [pool2d, f32(1, 2, 5, 5), { mode: "max", kernel: [1] }],
      [pool2d, f32(2, 3, 7, 6), { mode: "avg", kernel: [3, 2], stride: [2, 1], padding: [1] }],
      [pool2d, f32(1, 2, 7, 6), { mode: "max", kernel: [3], stride: [2], dilation: [2], ceil_mode: true }],
      [pool1d, f32(2, 3, 9), { mode: "avg", kernel: [3], stride: [2], padding: [1], ceil_mode: true, count_include_pad: false }],
      [pool3d, f32(1, 2, 4, 5, 5), { mode: "max", kernel: [2, 3, 3], stride: [2], padding: [0, 1, 1] }],
      [pool3d, f32(1, 2, 4, 5, 5), { mode: "avg", kernel: [2], stride: [2], ceil_mode: true }],
      [globalPool, f32(2, 3, 4, 5), {}],
    ];
    for (const [entry, x, a] of cases) {
      expect(await cpuVersusWasm(entry, [x], attrs(entry, { ...a }))).toEqual([]);
    }
  });
});
