import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { TensorType } from "../../src/core/tensor.js";
import { conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d, liveTapRange } from "../../src/ops/conv.js";
import { valuesOf } from "../../src/ops/windows.js";
import type { OpEntry } from "../../src/ops/contract.js";
import { resolveAttrs } from "../../src/ops/attrs.js";
import { autodiffBackward } from "../../src/ops/autodiff.js";
import { taskRegions, windowPadding } from "../../src/ops/regions.js";
import type { Attrs, AxisMap, TF } from "../../src/ops/contract.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, compare, inferOrThrow, kernelShapes, randomTensor, rng, shardFlops, wholeShard } from "../support/sharded.js";
import { cpuVersusWasm } from "./backend-agreement.js";
import { assertShardedEqualsWhole, degreesFor, resolved } from "./_ops-b-helpers.js";
import { assertProperty } from "../support/property.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });
const ctx = () => ({ opName: "conv", diagnostics: new Diagnostics() });
/** Attributes with the entry's defaults filled in, as the checker hands them over. */
function attrs(given: Attrs): Attrs {
  const c = ctx();
  const a = resolveAttrs(conv2d, given, c);
  if (!a) throw new Error(c.diagnostics.items.map((d) => d.message).join("; "));
  return a;
}
function errors(x: TensorType, given: Attrs): string[] {
  const c = ctx();
  const a = resolveAttrs(conv2d, given, c);
  if (a) expect(conv2d.infer([x], a, c)).toBeUndefined();
  return c.diagnostics.items.map((d) => d.code);
}

describe("conv2d: shapes, FLOPs, regions", () => {
  it("infers NCHW output, torch weight layout and the SOAP dims", () => {
    const sig = inferOrThrow(conv2d, [f32(2, 3, 8, 8)], attrs({ out: 4, kernel: [3], padding: [1] }));
    expect(sig.outputs[0].shape).toEqual([2, 4, 8, 8]);
    expect(sig.params.map((p) => p.shape)).toEqual([[4, 3, 3, 3], [4]]);
    expect(sig.params[0].init).toEqual({ kind: "uniform", bound: 1 / Math.sqrt(27) });
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["sample:sample:2", "channel:parameter:4", "height:attribute:8", "width:attribute:8", "in_channel:reduction:3"]);
    // 2·kh·kw per (output element × input channel).
    expect(sig.flops([2, 4, 8, 8, 3])).toEqual({ forward: 2 * 9 * 2 * 4 * 64 * 3, backward: 4 * 9 * 2 * 4 * 64 * 3 });
  });

  it("accepts a scalar for a spatial attribute (kernel = 3 means [3, 3])", () => {
    const a = attrs({ out: 2, kernel: 3, stride: 2, padding: 1 });
    expect(a).toMatchObject({ kernel: [3], stride: [2], padding: [1], dilation: [1], groups: 1, bias: true });
    expect(inferOrThrow(conv2d, [f32(1, 1, 8, 8)], a).outputs[0].shape).toEqual([1, 2, 4, 4]);
  });

  it("stride, dilation and rectangular kernels: (H + 2p - d(k-1) - 1)/s + 1", () => {
    const sig = inferOrThrow(conv2d, [f32(1, 2, 11, 9)], attrs({ out: 3, kernel: [3, 2], stride: [2, 1], padding: [2, 1], dilation: [2, 3], bias: false }));
    // H: (11 + 4 - 4 - 1)/2 + 1 = 6; W: (9 + 2 - 3 - 1)/1 + 1 = 8
    expect(sig.outputs[0].shape).toEqual([1, 3, 6, 8]);
    expect(sig.params.map((p) => p.shape)).toEqual([[3, 2, 3, 2]]);
  });

  it("a height shard reads its halo; border tasks pad, inner ones do not", () => {
    const sig = inferOrThrow(conv2d, [f32(1, 2, 8, 8)], attrs({ out: 2, kernel: [3], padding: [1] }));
    const top = { lo: [0, 0, 0, 0, 0], hi: [1, 2, 4, 8, 2] };
    const bottom = { lo: [0, 0, 4, 0, 0], hi: [1, 2, 8, 8, 2] };
    expect(taskRegions(sig, [[1, 2, 8, 8]], top).inputs[0]).toEqual({ lo: [0, 0, 0, 0], hi: [1, 2, 5, 8] });
    expect(taskRegions(sig, [[1, 2, 8, 8]], bottom).inputs[0]).toEqual({ lo: [0, 0, 3, 0], hi: [1, 2, 8, 8] });
    const hmap = sig.inputMaps[0][2] as Extract<AxisMap, { kind: "window" }>;
    expect(windowPadding(hmap, top)).toEqual([1, 0]);
    expect(windowPadding(hmap, bottom)).toEqual([0, 1]);
    // stride 2: output rows [2, 4) read input rows 2·2-1 .. 3·2-1+2 = [3, 8)
    const s2 = inferOrThrow(conv2d, [f32(1, 1, 9, 9)], attrs({ out: 1, kernel: [3], stride: [2], padding: [1] }));
    expect(taskRegions(s2, [[1, 1, 9, 9]], { lo: [0, 0, 2, 0, 0], hi: [1, 1, 4, 5, 1] }).inputs[0]).toEqual({ lo: [0, 0, 3, 0], hi: [1, 1, 8, 9] });
  });

  it("channel and in_channel shards: weight row/column blocks", () => {
    const sig = inferOrThrow(conv2d, [f32(2, 6, 5, 5)], attrs({ out: 4, kernel: [3] }));
    const r = taskRegions(sig, [[2, 6, 5, 5]], { lo: [0, 2, 0, 0, 3], hi: [2, 4, 3, 3, 6] });
    expect(r.inputs[0]).toEqual({ lo: [0, 3, 0, 0], hi: [2, 6, 5, 5] });
    expect(r.params[0]).toEqual({ lo: [2, 3, 0, 0], hi: [4, 6, 3, 3] });
    expect(r.params[1]).toEqual({ lo: [2], hi: [4] });
  });

  it("grouped conv: one output channel per group maps a channel block to its input groups", () => {
    const g = inferOrThrow(conv2d, [f32(1, 6, 4, 4)], attrs({ out: 3, kernel: [1], groups: 3 }));
    expect(g.space.map((d) => d.splittable ?? true)).toEqual([true, true, true, true, false]);
    expect(taskRegions(g, [[1, 6, 4, 4]], { lo: [0, 1, 0, 0, 0], hi: [1, 3, 4, 4, 2] }).inputs[0]).toEqual({ lo: [0, 2, 0, 0], hi: [1, 6, 4, 4] });
    const dw = inferOrThrow(conv2d, [f32(1, 4, 4, 4)], attrs({ out: 4, kernel: [3], groups: 4 }));
    expect(dw.inputMaps[0][1]).toEqual({ kind: "iter", dim: 1 });
    expect(dw.params[0].shape).toEqual([4, 1, 3, 3]);
    // Several output channels per group: the channel dim stays whole.
    const multi = inferOrThrow(conv2d, [f32(1, 4, 4, 4)], attrs({ out: 8, kernel: [3], groups: 2 }));
    expect(multi.space[1].splittable).toBe(false);
    expect(multi.inputMaps[0][1]).toEqual({ kind: "full" });
  });

  it("rejects bad inputs and attributes with coded diagnostics", () => {
    expect(errors(f32(3, 8, 8), { out: 2, kernel: [3] })).toEqual(["PAR2108"]);
    expect(errors(f32(1, 3, 8, 8), { out: 2, kernel: [3, 3, 3] })).toEqual(["PAR2110"]);
    expect(errors(f32(1, 3, 8, 8), { out: 2, kernel: [3], groups: 2 })).toEqual(["PAR2111"]);
    expect(errors(f32(1, 3, 8, 8), { out: 2, kernel: [3], padding: [3] })).toEqual(["PAR2112"]);
    expect(errors(f32(1, 3, 2, 8), { out: 2, kernel: [3] })).toEqual(["PAR2109"]);
    expect(errors(f32(1, 3, 8, 8), { kernel: [3] })).toEqual(["PAR2102"]);
    expect(errors(f32(1, 3, 8, 8), { out: 2, kernel: [0] })).toEqual(["PAR2104"]);
  });

  it("FLOPs of the shards sum to the whole (no halo recompute: FLOPs follow output positions)", () => {
    const sig = inferOrThrow(conv2d, [f32(3, 5, 9, 7)], attrs({ out: 6, kernel: [3], padding: [1], stride: [2] }));
    const whole = sig.flops(sig.space.map((d) => d.size));
    expect(shardFlops(sig, [2, 3, 2, 3, 2])).toEqual(whole);
  });
});

interface ConvCase {
  n: number; c: number; h: number; w: number; k: number; kw: number; s: number; p: number; d: number; g: "one" | "depthwise" | "perOut1" | "multi"; out: number; bias: boolean; seed: number;
}

/** A valid conv instance from raw random numbers (or undefined to skip). */
function convCase(c: ConvCase): { x: TensorType; a: Attrs } | undefined {
  let C = c.c;
  let out = c.out;
  let groups = 1;
  if (c.g === "depthwise") { groups = C; out = C; }
  else if (c.g === "perOut1") { groups = out; C = out * 2; }
  else if (c.g === "multi") { groups = 2; C = 2 * Math.max(1, Math.floor(c.c / 2)); out = 4; }
  const extH = c.d * (c.k - 1) + 1;
  const extW = c.d * (c.kw - 1) + 1;
  const p = Math.min(c.p, extH - 1, extW - 1);
  if (c.h + 2 * p < extH || c.w + 2 * p < extW) return undefined;
  return { x: f32(c.n, C, c.h, c.w), a: attrs({ out, kernel: [c.k, c.kw], stride: [c.s], padding: [p], dilation: [c.d], groups, bias: c.bias }) };
}

const convArb = fc.record({
  n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 6 }),
  k: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), p: fc.integer({ min: 0, max: 2 }), d: fc.integer({ min: 1, max: 2 }),
  g: fc.constantFrom("one" as const, "one" as const, "depthwise" as const, "perOut1" as const, "multi" as const), out: fc.integer({ min: 1, max: 3 }), bias: fc.boolean(), seed: fc.nat(),
});

for (const backend of BACKENDS) {
  describe(`conv2d on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("shape inference agrees with the kernel", () => {
      const cases: [TensorType, Attrs][] = [
        [f32(2, 3, 8, 8), { out: 4, kernel: [3], padding: [1] }],
        [f32(1, 2, 11, 9), { out: 3, kernel: [3, 2], stride: [2, 1], padding: [2, 1], dilation: [2, 3] }],
        [f32(1, 4, 5, 5), { out: 4, kernel: [3], groups: 4, stride: [2] }],
      ];
      for (const [x, a] of cases) {
        const { inferred, actual } = kernelShapes(tf, conv2d, [x], attrs({ ...a }));
        expect(actual).toEqual(inferred);
      }
    });

    it("sharded equals whole (forward and backward), random partitions incl. halos and groups", () => {
      const arb = convArb.chain((raw) => {
        const cs = convCase(raw);
        if (!cs) return fc.constant(undefined);
        const sig = inferOrThrow(conv2d, [cs.x], cs.a);
        return fc.tuple(fc.constant(cs), fc.constant(raw.seed), degreesFor(sig, 3));
      });
      assertProperty(
        fc.property(arb, (t) => {
          if (!t) return;
          const [cs, seed, degrees] = t;
          const res = checkShardedEqualsWhole(tf, { entry: conv2d, inputs: [cs.x], attrs: cs.a, degrees, seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        30,
      );
    });
  });
}

describe("conv2d explicit backward equals autodiff (cpu)", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  it("on the whole op, random configurations", () => {
    assertProperty(
      fc.property(convArb, (raw) => {
        const cs = convCase(raw);
        if (!cs) return;
        const sig = inferOrThrow(conv2d, [cs.x], cs.a);
        tf.tidy(() => {
          const next = rng(raw.seed);
          const x = randomTensor(tf, cs.x, next);
          const ps = sig.params.map((p) => randomTensor(tf, { dtype: "f32", shape: p.shape, dims: p.dims }, next));
          const dy = randomTensor(tf, sig.outputs[0], next);
          const args = { inputs: [x], params: ps, attrs: cs.a, sig, shard: wholeShard(sig, [cs.x]) };
          const ys = conv2d.forward(tf, args);
          const bargs = { ...args, outputs: ys, dOutputs: [dy] };
          const mine = conv2d.backward!(tf, bargs);
          const auto = autodiffBackward(conv2d, tf, bargs);
          expect(compare(auto.dInputs[0]!.dataSync(), mine.dInputs[0]!.dataSync(), "dx").ok).toBe(true);
          mine.dParams.forEach((d, i) => expect(compare(auto.dParams[i].dataSync(), d.dataSync(), `d${sig.params[i].name}`).ok).toBe(true));
        });
      }),
      30,
    );
  });
});

describe("conv2d: wasm agrees with cpu on the whole op", () => {
  it("padding, stride, dilation, groups", async () => {
    const cases: [TensorType, Attrs][] = [
      [f32(2, 3, 7, 6), { out: 4, kernel: [3], padding: [1] }],
      [f32(1, 2, 11, 9), { out: 3, kernel: [3, 2], stride: [2, 1], padding: [2, 1], dilation: [2, 3] }],
      [f32(2, 4, 6, 6), { out: 4, kernel: [3], groups: 4, stride: [2], padding: [1] }],
      [f32(1, 4, 5, 5), { out: 6, kernel: [2], groups: 2, bias: false }],
      [f32(2, 8, 16, 16), { out: 8, kernel: [3], stride: [2], padding: [1] }],
    ];
    for (const [x, a] of cases) {
      expect(await cpuVersusWasm(conv2d, [x], attrs({ ...a }))).toEqual([]);
    }
  });
});

/**
 * The convolution formula itself, as plain loops over flat arrays (channel-first, any number
 * of spatial axes, groups, stride, dilation, begin/end padding): the reference par's kernels
 * are checked against. Two values per case are also checked against torch below.
 */
function naiveConv(x: number[], xs: number[], w: number[], ws: number[], b: number[] | undefined, a: { stride: number[]; padding: number[]; dilation: number[]; groups: number; padEnd?: number[] }): { y: number[]; shape: number[] } {
  const n = xs.length - 2;
  const [N, C] = xs;
  const [O, cin] = ws;
  const k = ws.slice(2);
  const pe = a.padEnd ?? a.padding;
  const out = xs.slice(2).map((L, i) => Math.floor((L + a.padding[i] + pe[i] - a.dilation[i] * (k[i] - 1) - 1) / a.stride[i]) + 1);
  const strides = (sh: number[]) => sh.map((_, i) => sh.slice(i + 1).reduce((p, q) => p * q, 1));
  const [xst, wst] = [strides(xs), strides(ws)];
  const shape = [N, O, ...out];
  const y = new Array<number>(shape.reduce((p, q) => p * q, 1)).fill(0);
  const perOut = O / a.groups;
  const idx = (sizes: number[], flat: number) => sizes.map((_, i) => Math.floor(flat / strides(sizes)[i]) % sizes[i]);
  for (let f = 0; f < y.length; f++) {
    const [nb, o, ...pos] = idx(shape, f);
    const g = Math.floor(o / perOut);
    let acc = b ? b[o] : 0;
    for (let c = 0; c < cin; c++) {
      for (let t = 0; t < k.reduce((p, q) => p * q, 1); t++) {
        const tap = idx(k, t);
        const at = pos.map((p, i) => p * a.stride[i] - a.padding[i] + tap[i] * a.dilation[i]);
        if (at.some((v, i) => v < 0 || v >= xs[i + 2])) continue;
        const xi = nb * xst[0] + (g * cin + c) * xst[1] + at.reduce((s, v, i) => s + v * xst[i + 2], 0);
        const wi = o * wst[0] + c * wst[1] + tap.reduce((s, v, i) => s + v * wst[i + 2], 0);
        acc += x[xi] * w[wi];
      }
    }
    y[f] = acc;
  }
  void C;
  return { y, shape };
}

const sinData = (count: number, f: number) => Array.from({ length: count }, (_, i) => Math.round(Math.sin(i * f) * 1e4) / 1e4);

describe("conv1d and conv3d: shapes, the formula, torch's values", () => {
  it("name the spatial dims by rank; padding_end widens the output", () => {
    const s1 = inferOrThrow(conv1d, [f32(2, 4, 9)], resolved(conv1d, { out: 6, kernel: [3], stride: [2], padding: [2], dilation: [2], groups: 2 }));
    expect(s1.outputs[0].shape).toEqual([2, 6, 5]);
    expect(s1.params[0].shape).toEqual([6, 2, 3]);
    expect(s1.space.map((d) => d.name)).toEqual(["sample", "channel", "length", "in_channel"]);
    const s3 = inferOrThrow(conv3d, [f32(1, 2, 4, 5, 5)], resolved(conv3d, { out: 3, kernel: [2, 3, 3], stride: [1, 2, 2], padding: [1] }));
    expect(s3.outputs[0].shape).toEqual([1, 3, 5, 3, 3]);
    expect(s3.space.map((d) => d.name)).toEqual(["sample", "channel", "depth", "height", "width", "in_channel"]);
    // SAME_UPPER on 8 with k 3, s 2: pads 0 before, 1 after → 4.
    const same = inferOrThrow(conv2d, [f32(1, 1, 8, 8)], attrs({ out: 1, kernel: [3], stride: [2], padding: [0], padding_end: [1] }));
    expect(same.outputs[0].shape).toEqual([1, 1, 4, 4]);
    expect(errors(f32(1, 3, 8), { out: 2, kernel: [3] })).toEqual(["PAR2108"]);
  });

  it("a 1-D and a 3-D conv compute torch's values (F.conv1d with dilation and groups, F.conv3d with strides)", async () => {
    const tf = await useBackend("cpu");
    const run = (entry: OpEntry, x: number[], xs: number[], w: number[], ws: number[], b: number[] | undefined, given: Attrs): number[] => {
      const a = resolved(entry, given);
      const sig = inferOrThrow(entry, [f32(...xs)], a);
      const params = [tf.tensor(w, ws), ...(b ? [tf.tensor(b, [b.length])] : [])];
      return Array.from(entry.forward(tf, { inputs: [tf.tensor(x, xs)], params, attrs: a, sig, shard: wholeShard(sig, [f32(...xs)]) })[0].dataSync());
    };
    const x1 = sinData(72, 1);
    const w1 = sinData(36, 0.7);
    const b1 = sinData(6, 0.3);
    const y1 = run(conv1d, x1, [2, 4, 9], w1, [6, 2, 3], b1, { out: 6, kernel: [3], stride: [2], padding: [2], dilation: [2], groups: 2 });
    [1.3849, -0.2867, -1.7134, 1.7128, 0.8766, -0.996].forEach((v, i) => expect(y1[i]).toBeCloseTo(v, 3));
    const ref1 = naiveConv(x1, [2, 4, 9], w1, [6, 2, 3], b1, { stride: [2], padding: [2], dilation: [2], groups: 2 });
    expect(compare(ref1.y, y1, "conv1d").ok).toBe(true);
    const x3 = sinData(200, 1);
    const w3 = sinData(108, 0.9);
    const y3 = run(conv3d, x3, [1, 2, 4, 5, 5], w3, [3, 2, 2, 3, 3], undefined, { out: 3, kernel: [2, 3, 3], stride: [1, 2, 2], padding: [1], bias: false });
    [-0.7747, 0.435, 0.5978, -0.2875, -0.1113, 0.3091].forEach((v, i) => expect(y3[i]).toBeCloseTo(v, 3));
    [0.1237, -1.1527, 0.4844].forEach((v, i) => expect(y3[y3.length - 3 + i]).toBeCloseTo(v, 3));
  });

  it("random 1-D, 2-D and 3-D convs (groups, stride, dilation, end pads) equal the formula", async () => {
    const tf = await useBackend("cpu");
    const arb = fc.record({ n: fc.integer({ min: 1, max: 3 }), sizes: fc.array(fc.integer({ min: 2, max: 6 }), { minLength: 3, maxLength: 3 }), k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 2 }), p: fc.integer({ min: 0, max: 1 }), pe: fc.integer({ min: 0, max: 2 }), grouped: fc.boolean(), seed: fc.nat() });
    assertProperty(
      fc.property(arb, (c) => {
        const entry = [conv1d, conv2d, conv3d][c.n - 1];
        const ext = c.d * (c.k - 1) + 1;
        const [p, pe] = [Math.min(c.p, ext - 1), Math.min(c.pe, ext - 1)];
        const spatial = c.sizes.slice(0, c.n);
        if (spatial.some((L) => L + p + pe < ext)) return;
        const [C, out, groups] = c.grouped ? [4, 6, 2] : [3, 2, 1];
        const xs = [2, C, ...spatial];
        const ws = [out, C / groups, ...spatial.map(() => c.k)];
        const next = rng(c.seed);
        const x = Array.from({ length: xs.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1);
        const w = Array.from({ length: ws.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1);
        const b = Array.from({ length: out }, () => next() * 2 - 1);
        const a = resolved(entry, { out, kernel: [c.k], stride: [c.s], dilation: [c.d], padding: [p], padding_end: [pe], groups });
        const sig = inferOrThrow(entry, [f32(...xs)], a);
        const got = tf.tidy(() => Array.from(entry.forward(tf, { inputs: [tf.tensor(x, xs)], params: [tf.tensor(w, ws), tf.tensor(b, [out])], attrs: a, sig, shard: wholeShard(sig, [f32(...xs)]) })[0].dataSync()));
        const ref = naiveConv(x, xs, w, ws, b, { stride: spatial.map(() => c.s), padding: spatial.map(() => p), padEnd: spatial.map(() => pe), dilation: spatial.map(() => c.d), groups });
        expect(sig.outputs[0].shape).toEqual(ref.shape);
        expect(compare(ref.y, got, "y").ok).toBe(true);
      }),
      30,
    );
  });
});

for (const backend of BACKENDS) {
  describe(`conv1d / conv3d / end pads on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("sharded equals whole (forward and backward), random partitions incl. halos, groups and end pads", () => {
      const arb = fc
        .record({ n: fc.constantFrom(1, 3, 2), sizes: fc.array(fc.integer({ min: 2, max: 5 }), { minLength: 3, maxLength: 3 }), k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 2 }), p: fc.integer({ min: 0, max: 1 }), pe: fc.integer({ min: 0, max: 1 }), grouped: fc.boolean(), bias: fc.boolean(), seed: fc.nat() })
        .chain((c) => {
          const entry = [conv1d, conv2d, conv3d][c.n - 1];
          const ext = c.d * (c.k - 1) + 1;
          const [p, pe] = [Math.min(c.p, ext - 1), Math.min(c.pe, ext - 1)];
          const spatial = c.sizes.slice(0, c.n);
          if (spatial.some((L) => L + p + pe < ext)) return fc.constant(undefined);
          const [C, out, groups] = c.grouped ? [4, 2, 2] : [2, 3, 1];
          const a = resolved(entry, { out, kernel: [c.k], stride: [c.s], dilation: [c.d], padding: [p], padding_end: [pe], groups, bias: c.bias });
          const x = f32(2, C, ...spatial);
          const sig = inferOrThrow(entry, [x], a);
          return fc.tuple(fc.constant({ entry, a, x, seed: c.seed }), degreesFor(sig, 2));
        });
      assertShardedEqualsWhole(tf, arb, 25);
    });
  });
}

describe("conv1d / conv3d: wasm agrees with cpu on the whole op", () => {
  it("stride, dilation, groups, end pads", async () => {
    const cases: [OpEntry, TensorType, Attrs][] = [
      [conv1d, f32(2, 4, 11), { out: 6, kernel: [3], stride: [2], padding: [2], dilation: [2], groups: 2 }],
      [conv3d, f32(1, 2, 4, 6, 6), { out: 3, kernel: [2, 3, 3], stride: [1, 2, 2], padding: [1], padding_end: [0, 1, 1] }],
      [conv3d, f32(1, 4, 3, 5, 5), { out: 4, kernel: [3], groups: 4, dilation: [1, 2, 2], padding: [1, 2, 2] }],
    ];
    for (const [entry, x, a] of cases) expect(await cpuVersusWasm(entry, [x], resolved(entry, { ...a }))).toEqual([]);
  });
});

describe("conv1d / conv3d explicit backward equals autodiff (cpu)", () => {
  it("on the whole op, random configurations", async () => {
    const tf = await useBackend("cpu");
    const arb = fc.record({ n: fc.constantFrom(1, 3), sizes: fc.array(fc.integer({ min: 2, max: 5 }), { minLength: 3, maxLength: 3 }), k: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }), s: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 2 }), p: fc.integer({ min: 0, max: 1 }), grouped: fc.boolean(), seed: fc.nat() });
    assertProperty(
      fc.property(arb, (c) => {
        const entry = c.n === 1 ? conv1d : conv3d;
        const k = c.k.slice(0, c.n);
        const spatial = c.sizes.slice(0, c.n);
        const pads = k.map((kk) => Math.min(c.p, c.d * (kk - 1)));
        if (spatial.some((L, i) => L + 2 * pads[i] < c.d * (k[i] - 1) + 1)) return;
        const [C, out, groups] = c.grouped ? [4, 6, 2] : [3, 2, 1];
        const x = f32(2, C, ...spatial);
        const a = resolved(entry, { out, kernel: k, stride: [c.s], dilation: [c.d], padding: pads, groups });
        const sig = inferOrThrow(entry, [x], a);
        tf.tidy(() => {
          const next = rng(c.seed);
          const xt = randomTensor(tf, x, next);
          const ps = sig.params.map((p) => randomTensor(tf, { dtype: "f32", shape: p.shape, dims: p.dims }, next));
          const dy = randomTensor(tf, sig.outputs[0], next);
          const args = { inputs: [xt], params: ps, attrs: a, sig, shard: wholeShard(sig, [x]) };
          const bargs = { ...args, outputs: entry.forward(tf, args), dOutputs: [dy] };
          const mine = entry.backward!(tf, bargs);
          const auto = autodiffBackward(entry, tf, bargs);
          expect(compare(auto.dInputs[0]!.dataSync(), mine.dInputs[0]!.dataSync(), "dx").ok).toBe(true);
          mine.dParams.forEach((d, i) => expect(compare(auto.dParams[i].dataSync(), d.dataSync(), `d${sig.params[i].name}`).ok).toBe(true));
        });
      }),
      25,
    );
  });
});

/**
 * The transposed convolution by its definition, as plain loops: every input element
 * x[n, c, i] scatters x·w[c, o, j] to output position i·s − p_begin + j·d (channel-first,
 * any number of spatial axes, groups, output_padding widening the end).
 */
function naiveConvTranspose(x: number[], xs: number[], w: number[], ws: number[], b: number[] | undefined, a: { stride: number[]; padding: number[]; padEnd: number[]; outPad: number[]; dilation: number[]; groups: number }): { y: number[]; shape: number[] } {
  const [N, C] = xs;
  const og = ws[1];
  const k = ws.slice(2);
  const O = og * a.groups;
  const cg = C / a.groups;
  const out = xs.slice(2).map((L, i) => (L - 1) * a.stride[i] + (k[i] - 1) * a.dilation[i] + 1 - a.padding[i] - a.padEnd[i] + a.outPad[i]);
  const shape = [N, O, ...out];
  const st = (sh: number[]) => sh.map((_, i) => sh.slice(i + 1).reduce((p, q) => p * q, 1));
  const [xst, wst, yst] = [st(xs), st(ws), st(shape)];
  const y = new Array<number>(shape.reduce((p, q) => p * q, 1)).fill(0);
  const idx = (sizes: number[], flat: number) => sizes.map((_, i) => Math.floor(flat / st(sizes)[i]) % sizes[i]);
  for (let f = 0; f < x.length; f++) {
    const [nb, c, ...pos] = idx(xs, f);
    const g = Math.floor(c / cg);
    for (let ol = 0; ol < og; ol++) {
      for (let t = 0; t < k.reduce((p, q) => p * q, 1); t++) {
        const tap = idx(k, t);
        const at = pos.map((p, i) => p * a.stride[i] - a.padding[i] + tap[i] * a.dilation[i]);
        if (at.some((v, i) => v < 0 || v >= out[i])) continue;
        const o = g * og + ol;
        y[nb * yst[0] + o * yst[1] + at.reduce((s, v, i) => s + v * yst[i + 2], 0)] += x[f] * w[c * wst[0] + ol * wst[1] + tap.reduce((s, v, i) => s + v * wst[i + 2], 0)];
      }
    }
  }
  if (b) for (let f = 0; f < y.length; f++) y[f] += b[idx(shape, f)[1]];
  return { y, shape };
}

const transposeArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }), sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }), k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }),
  d: fc.integer({ min: 1, max: 2 }), p: fc.integer({ min: 0, max: 2 }), pe: fc.integer({ min: 0, max: 2 }), op: fc.integer({ min: 0, max: 2 }), grouped: fc.boolean(), blockCase: fc.boolean(), bias: fc.boolean(), seed: fc.nat(),
});

/** A valid transposed-conv case from raw numbers (the block case: k = s, no padding), or undefined. */
function transposeCase(c: typeof transposeArb extends fc.Arbitrary<infer T> ? T : never) {
  const entry = [convTranspose1d, convTranspose2d, convTranspose3d][c.n - 1];
  const [k, d, p, pe] = c.blockCase ? [c.s, 1, 0, 0] : [c.k, c.d, c.p, c.pe];
  const op = c.blockCase ? 0 : Math.min(c.op, Math.max(c.s, d) - 1);
  const spatial = c.sizes.slice(0, c.n);
  if (spatial.some((L) => (L - 1) * c.s + (k - 1) * d + 1 - p - pe + op < 1)) return undefined;
  const [C, out, groups] = c.grouped ? [4, 6, 2] : [3, 2, 1];
  const x = f32(2, C, ...spatial);
  const a = resolved(entry, { out, kernel: [k], stride: [c.s], dilation: [d], padding: [p], padding_end: [pe], output_padding: [op], groups, bias: c.bias });
  return { entry, x, a, spatial, k, d, p, pe, op, C, out, groups };
}

describe("conv_transpose1d/2d/3d: shapes, maps, the definition, torch's values", () => {
  it("output extent, the weight [C, out/groups, k...], and how each spatial dim splits", () => {
    const sig = inferOrThrow(convTranspose2d, [f32(2, 4, 5, 5)], resolved(convTranspose2d, { out: 6, kernel: [3], stride: [2], padding: [1], output_padding: [1], groups: 2 }));
    expect(sig.outputs[0].shape).toEqual([2, 6, 10, 10]);
    expect(sig.params.map((p) => p.shape)).toEqual([[4, 3, 3, 3], [6]]);
    // stride 2 with padding: an output block reads an irregular set of inputs, so height/width stay whole.
    expect(sig.space.map((d) => `${d.name}:${d.size}${d.splittable === false ? "—" : ""}`)).toEqual(["sample:2", "channel:6—", "height:10—", "width:10—", "in_channel:2—"]);
    // U-Net's 2×2 stride-2 upsampling: the dims count input positions, the output is a block map.
    const up = inferOrThrow(convTranspose2d, [f32(1, 16, 8, 8)], resolved(convTranspose2d, { out: 8, kernel: [2], stride: [2] }));
    expect(up.outputs[0].shape).toEqual([1, 8, 16, 16]);
    expect(up.space.map((d) => `${d.name}:${d.size}`)).toEqual(["sample:1", "channel:8", "height:8", "width:8", "in_channel:16"]);
    expect(up.outputMaps[0][2]).toEqual({ kind: "block", dim: 2, blockSize: 2 });
    expect(taskRegions(up, [[1, 16, 8, 8]], { lo: [0, 0, 2, 0, 0], hi: [1, 8, 5, 8, 16] }).outputs[0]).toEqual({ lo: [0, 0, 4, 0], hi: [1, 8, 10, 16] });
    // Stride 1: a window with padLo = (k − 1)·d − p.
    const s1 = inferOrThrow(convTranspose1d, [f32(1, 2, 6)], resolved(convTranspose1d, { out: 2, kernel: [3], padding: [1] }));
    expect(s1.inputMaps[0][2]).toEqual({ kind: "window", dim: 2, stride: 1, dilation: 1, kernel: 3, padLo: 1, size: 6 });
    const whole = sig.flops(sig.space.map((d) => d.size));
    // 2·(C/g)·(out)·N·∏(in·k) multiply-adds.
    expect(whole.forward).toBeCloseTo(2 * 2 * 6 * 2 * 25 * 9, 6);
    expect(shardFlops(up, [1, 2, 3, 2, 4]).forward).toBeCloseTo(up.flops(up.space.map((d) => d.size)).forward, 6);
  });

  it("rejects output_padding ≥ the stride and the dilation (PAR2104), padding that leaves nothing (PAR2109)", () => {
    const e = (given: Attrs, x = f32(1, 2, 4, 4)) => {
      const c = ctx();
      const a = resolveAttrs(convTranspose2d, given, c);
      if (a) expect(convTranspose2d.infer([x], a, c)).toBeUndefined();
      return c.diagnostics.items.map((d) => d.code);
    };
    expect(e({ out: 2, kernel: [3], stride: [2], output_padding: [2] })).toEqual(["PAR2104"]);
    expect(e({ out: 2, kernel: [1], padding: [1] }, f32(1, 2, 1, 1))).toEqual(["PAR2109"]);
    expect(e({ out: 3, kernel: [2], groups: 2 })).toEqual(["PAR2111"]);
    expect(e({ out: 2, kernel: [2] }, f32(1, 2, 4))).toEqual(["PAR2108"]);
  });

  it("torch's values (F.conv_transpose2d with groups and output_padding, F.conv_transpose1d with dilation)", async () => {
    const tf = await useBackend("cpu");
    const run = (entry: OpEntry, x: number[], xs: number[], w: number[], ws: number[], b: number[] | undefined, given: Attrs): number[] => {
      const a = resolved(entry, given);
      const sig = inferOrThrow(entry, [f32(...xs)], a);
      return Array.from(entry.forward(tf, { inputs: [tf.tensor(x, xs)], params: [tf.tensor(w, ws), ...(b ? [tf.tensor(b, [b.length])] : [])], attrs: a, sig, shard: wholeShard(sig, [f32(...xs)]) })[0].dataSync());
    };
    const y = run(convTranspose2d, sinData(100, 1), [1, 4, 5, 5], sinData(108, 0.7), [4, 3, 3, 3], sinData(6, 0.3), { out: 6, kernel: [3], stride: [2], padding: [1], output_padding: [1], groups: 2 });
    [-0.038, 1.4171, 0.5008, 0.9867, 0.5792, -0.3508].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 3));
    [3.4863, 2.8626, 1.9888].forEach((v, i) => expect(y[y.length - 3 + i]).toBeCloseTo(v, 3));
    const y1 = run(convTranspose1d, sinData(36, 1), [2, 3, 6], sinData(24, 0.9), [3, 2, 4], undefined, { out: 2, kernel: [4], stride: [3], padding: [2], dilation: [2], bias: false });
    expect(y1.length).toBe(2 * 2 * 18);
    [-0.4839, 0.9272, 0.1383, 1.4631, 2.3978, 0.8917].forEach((v, i) => expect(y1[i]).toBeCloseTo(v, 3));
  });

  it("random cases equal the definition", async () => {
    const tf = await useBackend("cpu");
    assertProperty(
      fc.property(transposeArb, (raw) => {
        const c = transposeCase(raw);
        if (!c) return;
        const ws = [c.C, c.out / c.groups, ...c.spatial.map(() => c.k)];
        const next = rng(raw.seed);
        const x = Array.from({ length: c.x.shape.reduce((p, q) => p * q, 1) }, () => next() * 2 - 1);
        const w = Array.from({ length: ws.reduce((p, q) => p * q, 1) }, () => next() * 2 - 1);
        const b = raw.bias ? Array.from({ length: c.out }, () => next() * 2 - 1) : undefined;
        const sig = inferOrThrow(c.entry, [c.x], c.a);
        const got = tf.tidy(() => Array.from(c.entry.forward(tf, { inputs: [tf.tensor(x, c.x.shape)], params: [tf.tensor(w, ws), ...(b ? [tf.tensor(b, [c.out])] : [])], attrs: c.a, sig, shard: wholeShard(sig, [c.x]) })[0].dataSync()));
        const all = (v: number) => c.spatial.map(() => v);
        const ref = naiveConvTranspose(x, c.x.shape, w, ws, b, { stride: all(raw.s), padding: all(c.p), padEnd: all(c.pe), outPad: all(c.op), dilation: all(c.d), groups: c.groups });
        expect(sig.outputs[0].shape).toEqual(ref.shape);
        expect(compare(ref.y, got, "y").ok).toBe(true);
      }),
      40,
    );
  });
});

for (const backend of BACKENDS) {
  describe(`conv_transpose on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("sharded equals whole (forward and backward): windows at stride 1, blocks at k = s, whole axes otherwise", () => {
      const arb = transposeArb.chain((raw) => {
        const c = transposeCase(raw);
        if (!c) return fc.constant(undefined);
        const sig = inferOrThrow(c.entry, [c.x], c.a);
        return fc.tuple(fc.constant({ ...c, seed: raw.seed }), degreesFor(sig, 3));
      });
      assertShardedEqualsWhole(tf, arb, 30);
    });
  });
}

describe("conv_transpose: explicit backward equals autodiff (cpu); wasm agrees with cpu", () => {
  it("random cases on the whole op", async () => {
    const tf = await useBackend("cpu");
    assertProperty(
      fc.property(transposeArb, (raw) => {
        const c = transposeCase(raw);
        if (!c) return;
        const sig = inferOrThrow(c.entry, [c.x], c.a);
        tf.tidy(() => {
          const next = rng(raw.seed);
          const xt = randomTensor(tf, c.x, next);
          const ps = sig.params.map((p) => randomTensor(tf, { dtype: "f32", shape: p.shape, dims: p.dims }, next));
          const dy = randomTensor(tf, sig.outputs[0], next);
          const args = { inputs: [xt], params: ps, attrs: c.a, sig, shard: wholeShard(sig, [c.x]) };
          const bargs = { ...args, outputs: c.entry.forward(tf, args), dOutputs: [dy] };
          const mine = c.entry.backward!(tf, bargs);
          const auto = autodiffBackward(c.entry, tf, bargs);
          expect(compare(auto.dInputs[0]!.dataSync(), mine.dInputs[0]!.dataSync(), "dx").ok).toBe(true);
          mine.dParams.forEach((d, i) => expect(compare(auto.dParams[i].dataSync(), d.dataSync(), `d${sig.params[i].name}`).ok).toBe(true));
        });
      }),
      25,
    );
  });

  it("wasm: upsampling 2-D and 3-D, grouped with output_padding, 1-D dilated", async () => {
    const cases: [OpEntry, TensorType, Attrs][] = [
      [convTranspose2d, f32(1, 4, 4, 4), { out: 3, kernel: [2], stride: [2] }],
      [convTranspose3d, f32(1, 4, 2, 3, 3), { out: 2, kernel: [2], stride: [2] }],
      [convTranspose2d, f32(2, 4, 3, 3), { out: 6, kernel: [3], stride: [2], padding: [1], output_padding: [1], groups: 2 }],
      [convTranspose1d, f32(2, 3, 5), { out: 2, kernel: [3], padding: [1], dilation: [2] }],
    ];
    for (const [entry, x, a] of cases) expect(await cpuVersusWasm(entry, [x], resolved(entry, { ...a }))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// Degenerate dilated convs: dilation and padding many times the input (DeepLabV3's ASPP on
// a ResNet-18 backbone at 64×64: 3×3 taps at dilation 12/24/36, padding = dilation, on a
// 2×2 map), where most taps read only padding. The kernel drops those taps (liveTaps);
// these tests hold it to the plain formula, forward and gradients, on both backends.

interface PlainConvAttrs {
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
}

/**
 * Every (output, input, weight) index triple of the convolution formula whose input is a
 * real position (not padding): x[n, g·cin + c, i·s − p + u·d] meets w[o, c, u] for y[n, o, i].
 */
function plainConvTerms(xs: number[], ws: number[], a: PlainConvAttrs, visit: (yi: number, xi: number, wi: number) => void): number[] {
  const n = xs.length - 2;
  const [N] = xs;
  const [O, cin] = ws;
  const k = ws.slice(2);
  const out = xs.slice(2).map((L, i) => Math.floor((L + 2 * a.padding[i] - a.dilation[i] * (k[i] - 1) - 1) / a.stride[i]) + 1);
  const strides = (sh: number[]) => sh.map((_, i) => sh.slice(i + 1).reduce((p, q) => p * q, 1));
  const [xst, wst, yst] = [strides(xs), strides(ws), strides([N, O, ...out])];
  const kst = strides(k);
  const ost = strides(out);
  const taps = k.reduce((p, q) => p * q, 1);
  const positions = out.reduce((p, q) => p * q, 1);
  const perOut = O / a.groups;
  for (let nb = 0; nb < N; nb++)
    for (let o = 0; o < O; o++)
      for (let q = 0; q < positions; q++) {
        const pos = out.map((sz, i) => Math.floor(q / ost[i]) % sz);
        const yi = nb * yst[0] + o * yst[1] + pos.reduce((s, v, i) => s + v * yst[i + 2], 0);
        for (let t = 0; t < taps; t++) {
          const tap = k.map((sz, i) => Math.floor(t / kst[i]) % sz);
          const at = pos.map((p, i) => p * a.stride[i] - a.padding[i] + tap[i] * a.dilation[i]);
          if (at.some((v, i) => v < 0 || v >= xs[i + 2])) continue;
          for (let c = 0; c < cin; c++) {
            const xi = nb * xst[0] + (Math.floor(o / perOut) * cin + c) * xst[1] + at.reduce((s, v, i) => s + v * xst[i + 2], 0);
            visit(yi, xi, o * wst[0] + c * wst[1] + tap.reduce((s, v, i) => s + v * wst[i + 2], 0));
          }
        }
      }
  void n;
  return [N, O, ...out];
}

/** The plain forward (y = b + Σ x·w) and, for an output gradient dy, the plain dx = Σ dy·w, dw = Σ dy·x, db = Σ dy. */
function plainConv(x: ArrayLike<number>, xs: number[], w: ArrayLike<number>, ws: number[], b: ArrayLike<number>, dy: ArrayLike<number> | undefined, a: PlainConvAttrs) {
  const shape = plainConvTerms(xs, ws, a, () => {});
  const per = shape.slice(2).reduce((p, q) => p * q, 1);
  const y = Array.from({ length: shape.reduce((p, q) => p * q, 1) }, (_, i) => b[Math.floor(i / per) % shape[1]]);
  const dx = new Array<number>(x.length).fill(0);
  const dw = new Array<number>(w.length).fill(0);
  plainConvTerms(xs, ws, a, (yi, xi, wi) => {
    y[yi] += x[xi] * w[wi];
    if (dy) {
      dx[xi] += dy[yi] * w[wi];
      dw[wi] += dy[yi] * x[xi];
    }
  });
  const db = new Array<number>(shape[1]).fill(0);
  if (dy) for (let i = 0; i < y.length; i++) db[Math.floor(i / per) % shape[1]] += dy[i];
  return { y, shape, dx, dw, db };
}

interface DegenerateCase {
  what: string;
  entry: OpEntry;
  xs: number[];
  out: number;
  kernel: number[];
  stride?: number[];
  padding: number[];
  dilation: number[];
  groups?: number;
}

const DEGENERATE: DegenerateCase[] = [
  ...[12, 24, 36].map((d): DegenerateCase => ({ what: `ASPP's 3×3 at dilation ${d} on 2×2`, entry: conv2d, xs: [2, 3, 2, 2], out: 4, kernel: [3], padding: [d], dilation: [d] })),
  { what: "dilation past the height only (2×5, dilation 12 × 2)", entry: conv2d, xs: [1, 2, 2, 5], out: 3, kernel: [3], padding: [12, 2], dilation: [12, 2] },
  { what: "stride 2 with dilation 4 on 3×3 (the outer taps read only padding)", entry: conv2d, xs: [1, 2, 3, 3], out: 2, kernel: [3], stride: [2], padding: [4], dilation: [4] },
  { what: "a 3×3 conv with padding 1 on a 1×1 map (only the centre tap reads)", entry: conv2d, xs: [2, 3, 1, 1], out: 2, kernel: [3], padding: [1], dilation: [1] },
  { what: "depthwise at dilation 24", entry: conv2d, xs: [1, 4, 2, 2], out: 4, kernel: [3], padding: [24], dilation: [24], groups: 4 },
  { what: "conv1d at dilation 12", entry: conv1d, xs: [2, 3, 2], out: 2, kernel: [3], padding: [12], dilation: [12] },
  { what: "conv1d whose every tap reads only padding (the output is the bias)", entry: conv1d, xs: [2, 2, 1], out: 2, kernel: [2], stride: [3], padding: [2], dilation: [3] },
  // Outputs 1–3 read −3…−1 and 2…4 of a length-2 input: a task of them alone has no live tap.
  { what: "conv1d whose middle outputs read only padding", entry: conv1d, xs: [2, 2, 2], out: 2, kernel: [2], padding: [4], dilation: [5] },
  { what: "conv3d, dilation 1/12/24", entry: conv3d, xs: [1, 2, 2, 2, 2], out: 2, kernel: [3], padding: [1, 12, 24], dilation: [1, 12, 24] },
];

const degenerateAttrs = (c: DegenerateCase): Attrs => resolved(c.entry, { out: c.out, kernel: c.kernel, stride: c.stride ?? [1], padding: c.padding, dilation: c.dilation, groups: c.groups ?? 1 });
const plainAttrs = (c: DegenerateCase): PlainConvAttrs => {
  const n = c.xs.length - 2;
  return { stride: valuesOf(c.stride ?? [1], n), padding: valuesOf(c.padding, n), dilation: valuesOf(c.dilation, n), groups: c.groups ?? 1 };
};
const weightShape = (c: DegenerateCase): number[] => [c.out, c.xs[1] / (c.groups ?? 1), ...valuesOf(c.kernel, c.xs.length - 2)];

describe("conv: taps that read only padding", () => {
  it("liveTapRange: the first and last taps that read a real position for some output", () => {
    // 2×2 map, 3 taps at dilation 12, padding 12: outputs 0, 1 read −12, 0, 12 and −11, 1, 13.
    expect(liveTapRange(2, 3, 1, 12, 12, 0, 2)).toEqual([1, 1]);
    expect(liveTapRange(2, 3, 1, 36, 36, 0, 2)).toEqual([1, 1]);
    // An ordinary 3×3 with padding 1 on 8: every tap reads.
    expect(liveTapRange(8, 3, 1, 1, 1, 0, 8)).toEqual([0, 2]);
    // A task with only the first output: tap 0 reads padding alone.
    expect(liveTapRange(8, 3, 1, 1, 1, 0, 1)).toEqual([1, 2]);
    // Stride 3 steps over the one real position: no tap reads it.
    expect(liveTapRange(1, 2, 3, 2, 3, 0, 1)).toBeUndefined();
    // Length 2, 2 taps at dilation 5, padding 4: outputs 1–3 read only padding, 0 and 4 one tap each.
    expect(liveTapRange(2, 2, 1, 4, 5, 1, 4)).toBeUndefined();
    expect(liveTapRange(2, 2, 1, 4, 5, 0, 5)).toEqual([0, 1]);
    expect(liveTapRange(2, 2, 1, 4, 5, 4, 5)).toEqual([0, 0]);
  });

  it("FLOPs count the taps the kernel computes: ASPP's dilated 3×3 on 2×2 costs a 1×1", () => {
    const aspp = inferOrThrow(conv2d, [f32(4, 512, 2, 2)], attrs({ out: 256, kernel: [3], padding: [36], dilation: [36], bias: false }));
    expect(aspp.flops(aspp.space.map((d) => d.size))).toEqual({ forward: 2 * 4 * 256 * 4 * 512, backward: 4 * 4 * 256 * 4 * 512 });
    expect(shardFlops(aspp, [2, 2, 2, 1, 2])).toEqual(aspp.flops(aspp.space.map((d) => d.size)));
    const none = inferOrThrow(conv1d, [f32(2, 2, 1)], resolved(conv1d, { out: 2, kernel: [2], stride: [3], padding: [2], dilation: [3] }));
    expect(none.flops(none.space.map((d) => d.size))).toEqual({ forward: 0, backward: 0 });
  });

  it("the plain gradients are the finite differences of the plain forward (the reference itself is right)", () => {
    const c = DEGENERATE[3];
    const ws = weightShape(c);
    const next = rng(5);
    const x = Array.from({ length: c.xs.reduce((p, q) => p * q, 1) }, () => next() * 2 - 1);
    const w = Array.from({ length: ws.reduce((p, q) => p * q, 1) }, () => next() * 2 - 1);
    const b = Array.from({ length: c.out }, () => next() * 2 - 1);
    const base = plainConv(x, c.xs, w, ws, b, undefined, plainAttrs(c));
    const dy = base.y.map(() => next() * 2 - 1);
    const g = plainConv(x, c.xs, w, ws, b, dy, plainAttrs(c));
    const loss = (xx: number[], ww: number[]) => plainConv(xx, c.xs, ww, ws, b, undefined, plainAttrs(c)).y.reduce((s, v, i) => s + v * dy[i], 0);
    const h = 1e-6;
    const fd = (v: number[], i: number, f: (u: number[]) => number) => {
      const [up, down] = [[...v], [...v]];
      up[i] += h;
      down[i] -= h;
      return (f(up) - f(down)) / (2 * h);
    };
    x.forEach((_, i) => expect(g.dx[i]).toBeCloseTo(fd(x, i, (u) => loss(u, w)), 6));
    w.forEach((_, i) => expect(g.dw[i]).toBeCloseTo(fd(w, i, (u) => loss(x, u)), 6));
  });
});

for (const backend of BACKENDS) {
  describe(`conv with dilation and padding past the input, on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    for (const c of DEGENERATE) {
      it(`${c.what}: forward and gradients equal the plain formula`, () => {
        const a = degenerateAttrs(c);
        const x = f32(...c.xs);
        const sig = inferOrThrow(c.entry, [x], a);
        const ws = weightShape(c);
        const next = rng(7);
        const xv = Array.from({ length: c.xs.reduce((p, q) => p * q, 1) }, () => next() * 2 - 1);
        const wv = Array.from({ length: ws.reduce((p, q) => p * q, 1) }, () => next() * 2 - 1);
        const bv = Array.from({ length: c.out }, () => next() * 2 - 1);
        const dyv = Array.from({ length: sig.outputs[0].shape.reduce((p, q) => p * q, 1) }, () => next() * 2 - 1);
        const ref = plainConv(xv, c.xs, wv, ws, bv, dyv, plainAttrs(c));
        expect(sig.outputs[0].shape).toEqual(ref.shape);
        tf.tidy(() => {
          const args = { inputs: [tf.tensor(xv, c.xs)], params: [tf.tensor(wv, ws), tf.tensor(bv, [c.out])], attrs: a, sig, shard: wholeShard(sig, [x]) };
          const ys = c.entry.forward(tf, args);
          expect(ys[0].shape).toEqual(ref.shape);
          const g = c.entry.backward!(tf, { ...args, outputs: ys, dOutputs: [tf.tensor(dyv, ref.shape)] });
          const got = [compare(ref.y, ys[0].dataSync(), "y"), compare(ref.dx, g.dInputs[0]!.dataSync(), "dx"), compare(ref.dw, g.dParams[0].dataSync(), "dw"), compare(ref.db, g.dParams[1].dataSync(), "db")];
          expect(got.filter((r) => !r.ok)).toEqual([]);
        });
      });
    }

    it("sharded equals whole: every split of samples, channels, positions and in_channels", () => {
      for (const c of DEGENERATE) {
        const a = degenerateAttrs(c);
        const sig = inferOrThrow(c.entry, [f32(...c.xs)], a);
        // Each dim split as finely as it allows (positions one per task).
        const degrees = sig.space.map((d) => (d.splittable === false ? 1 : Math.min(d.size, d.cls === "attribute" ? d.size : 2)));
        const res = checkShardedEqualsWhole(tf, { entry: c.entry, inputs: [f32(...c.xs)], attrs: a, degrees, seed: 3 });
        expect(res.comparisons.filter((r) => !r.ok), c.what).toEqual([]);
      }
    });
  });
}

describe("conv: ASPP's own shape on wasm", () => {
  it("512 → 256 channels, 3×3 at dilation 36 on 2×2: forward and backward run (a 73×73 dilated filter overflowed the wasm heap) and equal the plain formula", async () => {
    const tf = await useBackend("wasm");
    const c: DegenerateCase = { what: "ASPP", entry: conv2d, xs: [1, 512, 2, 2], out: 256, kernel: [3], padding: [36], dilation: [36] };
    const a = degenerateAttrs(c);
    const sig = inferOrThrow(conv2d, [f32(...c.xs)], a);
    const ws = weightShape(c);
    const next = rng(11);
    const xv = Float32Array.from({ length: 512 * 4 }, () => next() * 2 - 1);
    const wv = Float32Array.from({ length: ws.reduce((p, q) => p * q, 1) }, () => (next() * 2 - 1) / 32);
    const bv = Float32Array.from({ length: 256 }, () => next() * 2 - 1);
    const dyv = Float32Array.from({ length: 256 * 4 }, () => next() * 2 - 1);
    const ref = plainConv(xv, c.xs, wv, ws, bv, dyv, plainAttrs(c));
    tf.tidy(() => {
      const args = { inputs: [tf.tensor(xv, c.xs)], params: [tf.tensor(wv, ws), tf.tensor(bv, [256])], attrs: a, sig, shard: wholeShard(sig, [f32(...c.xs)]) };
      const ys = conv2d.forward(tf, args);
      const g = conv2d.backward!(tf, { ...args, outputs: ys, dOutputs: [tf.tensor(dyv, ref.shape)] });
      const got = [compare(ref.y, ys[0].dataSync(), "y"), compare(ref.dx, g.dInputs[0]!.dataSync(), "dx"), compare(ref.dw, g.dParams[0].dataSync(), "dw")];
      expect(got.filter((r) => !r.ok)).toEqual([]);
    });
  });
});
