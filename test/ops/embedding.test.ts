import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { TensorType } from "../../src/core/tensor.js";
import { embedding } from "../../src/ops/embedding.js";
import { resolveAttrs } from "../../src/ops/attrs.js";
import { autodiffBackward } from "../../src/ops/autodiff.js";
import { partition, regionShape } from "../../src/core/region.js";
import { isFirstAlongReductions, taskRegions } from "../../src/ops/regions.js";
import type { Attrs, TF } from "../../src/ops/contract.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, compare, inferOrThrow, kernelShapes, randomTensor, rng, shardFlops } from "../support/sharded.js";
import { cpuVersusWasm } from "./backend-agreement.js";
import { assertProperty, degreeFor } from "../support/property.js";

const i32 = (...shape: number[]): TensorType => ({ dtype: "i32", shape, dims: shape.map((_, i) => `d${i}`) });
const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });
function errors(ins: TensorType[], given: Attrs): string[] {
  const c = { opName: "emb", diagnostics: new Diagnostics() };
  const a = resolveAttrs(embedding, given, c);
  if (a) expect(embedding.infer(ins, a, c)).toBeUndefined();
  return c.diagnostics.items.map((d) => d.code);
}

describe("embedding: shapes, FLOPs, regions", () => {
  it("indices [b, s] → [b, s, dim]; weight [vocab, dim] ~ N(0, 1)", () => {
    const sig = inferOrThrow(embedding, [i32(4, 6)], { vocab: 10, dim: 8 });
    expect(sig.outputs[0]).toMatchObject({ dtype: "f32", shape: [4, 6, 8] });
    expect(sig.params).toEqual([{ name: "weight", shape: [10, 8], dims: ["vocab", "dim"], init: { kind: "normal", std: 1 } }]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["sample:sample:4", "length:attribute:6", "channel:parameter:8", "vocab:reduction:10"]);
    expect(sig.flops([4, 6, 8, 10])).toEqual({ forward: 4 * 6 * 8, backward: 4 * 6 * 8 });
  });

  it("a channel shard holds a column block of W; a vocab shard holds a row block", () => {
    const sig = inferOrThrow(embedding, [i32(4, 6)], { vocab: 10, dim: 8 });
    const r = taskRegions(sig, [[4, 6]], { lo: [2, 0, 4, 5], hi: [4, 6, 8, 10] });
    expect(r.inputs[0]).toEqual({ lo: [2, 0], hi: [4, 6] });
    expect(r.params[0]).toEqual({ lo: [5, 4], hi: [10, 8] });
    expect(r.outputs[0]).toEqual({ lo: [2, 0, 4], hi: [4, 6, 8] });
  });

  it("FLOPs: exact over index/channel splits; a vocab split repeats the masked scan", () => {
    const sig = inferOrThrow(embedding, [i32(4, 6)], { vocab: 10, dim: 8 });
    const whole = sig.flops([4, 6, 8, 10]);
    expect(shardFlops(sig, [2, 3, 3, 1])).toEqual(whole);
    expect(shardFlops(sig, [2, 1, 2, 3])).toEqual({ forward: 3 * whole.forward, backward: 3 * whole.backward });
  });

  it("rejects float indices, rank 0 and missing attributes", () => {
    expect(errors([f32(4)], { vocab: 3, dim: 2 })).toEqual(["PAR2106"]);
    expect(errors([i32()], { vocab: 3, dim: 2 })).toEqual(["PAR2108"]);
    expect(errors([i32(4)], { vocab: 3 })).toEqual(["PAR2102"]);
  });
});

for (const backend of BACKENDS) {
  describe(`embedding on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("shape inference agrees with the kernel", () => {
      const { inferred, actual } = kernelShapes(tf, embedding, [i32(2, 3)], { vocab: 5, dim: 4 }, 1, 5);
      expect(actual).toEqual(inferred);
    });

    it("sharded equals whole (forward and weight gradient), any partition incl. vocab", () => {
      const arb = fc
        .record({ b: fc.integer({ min: 1, max: 4 }), s: fc.integer({ min: 1, max: 4 }), vocab: fc.integer({ min: 1, max: 7 }), dim: fc.integer({ min: 1, max: 5 }), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), fc.tuple(degreeFor(c.b), degreeFor(c.s), degreeFor(c.dim), degreeFor(c.vocab))));
      assertProperty(
        fc.property(arb, ([c, degrees]) => {
          const res = checkShardedEqualsWhole(tf, { entry: embedding, inputs: [i32(c.b, c.s)], attrs: { vocab: c.vocab, dim: c.dim }, degrees, seed: c.seed, intHigh: c.vocab });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
          expect(res.comparisons.length).toBe(2);
        }),
        30,
      );
    });
  });
}

describe("embedding explicit backward equals autodiff (cpu)", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  it("whole op and every task of a vocab/channel partition", () => {
    const arb = fc.record({ b: fc.integer({ min: 1, max: 4 }), s: fc.integer({ min: 1, max: 3 }), vocab: fc.integer({ min: 1, max: 7 }), dim: fc.integer({ min: 1, max: 4 }), seed: fc.nat() })
      .chain((c) => fc.tuple(fc.constant(c), degreeFor(c.dim), degreeFor(c.vocab)));
    assertProperty(
      fc.property(arb, ([c, dd, dv]) => {
        const ins = [i32(c.b, c.s)];
        const attrs = { vocab: c.vocab, dim: c.dim };
        const sig = inferOrThrow(embedding, ins, attrs);
        tf.tidy(() => {
          const next = rng(c.seed);
          const ix = randomTensor(tf, ins[0], next, c.vocab);
          const w = randomTensor(tf, f32(c.vocab, c.dim), next);
          const dy = randomTensor(tf, sig.outputs[0], next);
          const sizes = sig.space.map((d) => d.size);
          for (const box of partition(sizes, [1, 1, dd, dv])) {
            const r = taskRegions(sig, [ins[0].shape], box);
            const shard = { box, spaceSizes: sizes, inputRegions: r.inputs, outputRegions: r.outputs, firstAlongReductions: isFirstAlongReductions(sig, box) };
            const tw = tf.slice(w, r.params[0].lo, regionShape(r.params[0]));
            const tdy = tf.slice(dy, r.outputs[0].lo, regionShape(r.outputs[0]));
            const args = { inputs: [ix], params: [tw], attrs, sig, shard };
            const ys = embedding.forward(tf, args);
            const bargs = { ...args, outputs: ys, dOutputs: [tdy] };
            const mine = embedding.backward!(tf, bargs);
            const auto = autodiffBackward(embedding, tf, bargs);
            expect(mine.dInputs).toEqual([null]);
            expect(compare(auto.dParams[0].dataSync(), mine.dParams[0].dataSync(), "dW").ok).toBe(true);
          }
        });
      }),
      30,
    );
  });
});

describe("embedding: wasm agrees with cpu on the whole op", () => {
  it("forward and weight gradient", async () => {
    expect(await cpuVersusWasm(embedding, [i32(3, 4)], { vocab: 6, dim: 5 }, 3, 6)).toEqual([]);
  });
});
