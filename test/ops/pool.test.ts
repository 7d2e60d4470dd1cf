import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { TensorType } from "../../src/core/tensor.js";
import { globalPool, maxPoolRouteHost, maxPoolRouteKernels, pool2d } from "../../src/ops/pool.js";
import { resolveAttrs } from "../../src/ops/attrs.js";
import { taskRegions } from "../../src/ops/regions.js";
import type { Attrs, OpEntry, TF } from "../../src/ops/contract.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, compare, inferOrThrow, kernelShapes, randomTensor, rng, shardFlops, wholeShard } from "../support/sharded.js";
import { autodiffBackward } from "../../src/ops/autodiff.js";
import { cpuVersusWasm } from "./backend-agreement.js";
import { assertProperty, degreeFor } from "../support/property.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });
function attrs(entry: OpEntry, given: Attrs): Attrs {
  const c = { opName: "p", diagnostics: new Diagnostics() };
  const a = resolveAttrs(entry, given, c);
  if (!a) throw new Error(c.diagnostics.items.map((d) => d.message).join("; "));
  return a;
}
function errors(entry: OpEntry, x: TensorType, given: Attrs): string[] {
  const c = { opName: "p", diagnostics: new Diagnostics() };
  const a = resolveAttrs(entry, given, c);
  if (a) expect(entry.infer([x], a, c)).toBeUndefined();
  return c.diagnostics.items.map((d) => d.code);
}

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
    expect(errors(pool2d, f32(3, 8, 8), { mode: "max", kernel: [2] })).toEqual(["PAR2108"]);
    expect(errors(pool2d, f32(1, 3, 8, 8), { mode: "max", kernel: [3], padding: [2] })).toEqual(["PAR2112"]);
    expect(errors(pool2d, f32(1, 3, 8, 8), { mode: "max", kernel: [2], stride: [1, 1, 1] })).toEqual(["PAR2110"]);
    expect(errors(pool2d, f32(1, 3, 2, 8), { mode: "avg", kernel: [3] })).toEqual(["PAR2109"]);
    expect(errors(pool2d, f32(1, 3, 8, 8), { mode: "min", kernel: [2] })).toEqual(["PAR2104"]);
  });

  it("FLOPs of the shards sum to the whole", () => {
    const sig = inferOrThrow(pool2d, [f32(3, 4, 9, 9)], attrs(pool2d, { mode: "max", kernel: [3], stride: [2], padding: [1] }));
    expect(shardFlops(sig, [2, 3, 2, 3])).toEqual(sig.flops(sig.space.map((d) => d.size)));
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
    expect(errors(globalPool, f32(2, 3), {})).toEqual(["PAR2108"]);
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
          const xp = tf.tensor4d(xs, [c.n, c.h, c.w, c.c]);
          const y = tf.maxPool(xp, [c.k, c.kw], [c.s, c.s], "valid");
          const dy = tf.tensor(Float32Array.from({ length: y.size }, () => next() - 0.5), y.shape);
          const host = maxPoolRouteHost(tf, xp, y, dy, c.k, c.kw, c.s, c.s).dataSync();
          const kernels = maxPoolRouteKernels(tf, xp, y, dy, c.k, c.kw, c.s, c.s).dataSync();
          expect(Array.from(host)).toEqual(Array.from(kernels));
        });
      }),
      40,
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
      [globalPool, f32(2, 3, 4, 5), {}],
    ];
    for (const [entry, x, a] of cases) {
      expect(await cpuVersusWasm(entry, [x], attrs(entry, { ...a }))).toEqual([]);
    }
  });
});
