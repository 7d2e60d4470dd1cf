import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { TensorType } from "../../src/core/tensor.js";
import { batchMatmul, matmul } from "../../src/ops/matmul.js";
import { taskRegions } from "../../src/ops/regions.js";
import type { TF } from "../../src/ops/contract.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, inferOrThrow, kernelShapes, shardFlops } from "../support/sharded.js";
import { cpuVersusWasm } from "./backend-agreement.js";
import { assertProperty, degreeFor } from "../support/property.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });

describe("matmul: shapes, FLOPs, regions", () => {
  it("a[b, m, k] · b[k, n] → [b, m, n] with sample, rows, cols (parameter), inner", () => {
    const sig = inferOrThrow(matmul, [f32(2, 3, 4), f32(4, 5)], {});
    expect(sig.outputs[0].shape).toEqual([2, 3, 5]);
    expect(sig.params).toEqual([]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["sample:sample:2", "rows:attribute:3", "cols:parameter:5", "inner:reduction:4"]);
    expect(sig.flops([2, 3, 5, 4])).toEqual({ forward: 2 * 2 * 3 * 5 * 4, backward: 4 * 2 * 3 * 5 * 4 });
  });

  it("2-D matmul: rows are the samples", () => {
    const sig = inferOrThrow(matmul, [f32(3, 4), f32(4, 5)], {});
    expect(sig.space.map((d) => d.cls)).toEqual(["sample", "parameter", "reduction"]);
  });

  it("broadcasts size-1 batch dims (read whole)", () => {
    const sig = inferOrThrow(matmul, [f32(1, 3, 4), f32(6, 4, 5)], {});
    expect(sig.outputs[0].shape).toEqual([6, 3, 5]);
    const r = taskRegions(sig, [[1, 3, 4], [6, 4, 5]], { lo: [2, 0, 1, 0], hi: [4, 3, 3, 2] });
    expect(r.inputs[0]).toEqual({ lo: [0, 0, 0], hi: [1, 3, 2] });
    expect(r.inputs[1]).toEqual({ lo: [2, 0, 1], hi: [4, 2, 3] });
    expect(r.outputs[0]).toEqual({ lo: [2, 0, 1], hi: [4, 3, 3] });
  });

  it("a cols shard reads all of a and a column block of b; an inner shard reads K blocks", () => {
    const sig = inferOrThrow(matmul, [f32(4, 6), f32(6, 8)], {});
    const r = taskRegions(sig, [[4, 6], [6, 8]], { lo: [1, 4, 2], hi: [3, 8, 5] });
    expect(r.inputs[0]).toEqual({ lo: [1, 2], hi: [3, 5] });
    expect(r.inputs[1]).toEqual({ lo: [2, 4], hi: [5, 8] });
    expect(r.outputs[0]).toEqual({ lo: [1, 4], hi: [3, 8] });
  });

  it("batch_matmul with transpose_b maps b[b, h, n, k]", () => {
    const sig = inferOrThrow(batchMatmul, [f32(2, 3, 5, 4), f32(2, 3, 7, 4)], { transpose_b: true });
    expect(sig.outputs[0].shape).toEqual([2, 3, 5, 7]);
    expect(sig.space.map((d) => d.name)).toEqual(["sample", "attr1", "rows", "cols", "inner"]);
    expect(sig.space[3].cls).toBe("attribute");
    const r = taskRegions(sig, [[2, 3, 5, 4], [2, 3, 7, 4]], { lo: [1, 0, 0, 2, 1], hi: [2, 2, 5, 6, 3] });
    expect(r.inputs[1]).toEqual({ lo: [1, 0, 2, 1], hi: [2, 2, 6, 3] });
  });

  it("rejects bad ranks and inner mismatches with coded diagnostics", () => {
    const bad = (entry: typeof matmul, ins: TensorType[], attrs = {}) => {
      const d = new Diagnostics();
      expect(entry.infer(ins, attrs, { opName: "mm", diagnostics: d })).toBeUndefined();
      return d.items.map((x) => x.code);
    };
    expect(bad(matmul, [f32(4), f32(4, 5)])).toEqual(["PAR2108"]);
    expect(bad(matmul, [f32(2, 3, 4), f32(1, 2, 4, 5)])).toEqual(["PAR2108"]);
    expect(bad(matmul, [f32(3, 4), f32(5, 6)])).toEqual(["PAR2107"]);
    expect(bad(matmul, [f32(2, 3, 4), f32(3, 4, 5)])).toEqual(["PAR2107"]);
    expect(bad(batchMatmul, [f32(3, 4), f32(4, 5)], { transpose_b: false })).toEqual(["PAR2108"]);
    expect(bad(batchMatmul, [f32(2, 3, 4), f32(2, 5, 4)], { transpose_b: false })).toEqual(["PAR2107"]);
    expect(bad(matmul, [{ dtype: "i32", shape: [2, 2], dims: ["a", "b"] }, f32(2, 2)])).toEqual(["PAR2106"]);
  });

  it("FLOPs of the shards sum to the whole", () => {
    const sig = inferOrThrow(batchMatmul, [f32(3, 2, 5, 4), f32(3, 2, 4, 7)], { transpose_b: false });
    const whole = sig.flops(sig.space.map((d) => d.size));
    expect(shardFlops(sig, [2, 2, 3, 3, 3])).toEqual(whole);
  });
});

for (const backend of BACKENDS) {
  describe(`matmul on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("shape inference agrees with the kernel", () => {
      for (const [entry, ins, attrs] of [
        [matmul, [f32(2, 3, 5), f32(5, 4)], {}],
        [matmul, [f32(2, 1, 3, 5), f32(1, 4, 5, 2)], {}],
        [batchMatmul, [f32(2, 3, 5, 4), f32(2, 3, 6, 4)], { transpose_b: true }],
      ] as const) {
        const { inferred, actual } = kernelShapes(tf, entry, [...ins], { ...attrs });
        expect(actual).toEqual(inferred);
      }
    });

    it("matmul: sharded equals whole (forward and backward), any partition", () => {
      const arb = fc
        .record({ b: fc.integer({ min: 1, max: 4 }), m: fc.integer({ min: 1, max: 5 }), k: fc.integer({ min: 1, max: 5 }), n: fc.integer({ min: 1, max: 5 }), mode: fc.constantFrom("2d", "shared", "batched", "bcastA", "bcastB"), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreeFor(c.b), degreeFor(c.m), degreeFor(c.n), degreeFor(c.k)));
      assertProperty(
        fc.property(arb, ([c, db, dm, dn, dk]) => {
          const ins =
            c.mode === "2d" ? [f32(c.m, c.k), f32(c.k, c.n)]
            : c.mode === "shared" ? [f32(c.b, c.m, c.k), f32(c.k, c.n)]
            : c.mode === "batched" ? [f32(c.b, c.m, c.k), f32(c.b, c.k, c.n)]
            : c.mode === "bcastA" ? [f32(1, c.m, c.k), f32(c.b, c.k, c.n)]
            : [f32(c.b, c.m, c.k), f32(1, c.k, c.n)];
          const degrees = c.mode === "2d" ? [dm, dn, dk] : [db, dm, dn, dk];
          const res = checkShardedEqualsWhole(tf, { entry: matmul, inputs: ins, attrs: {}, degrees, seed: c.seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        30,
      );
    });

    it("batch_matmul: sharded equals whole (forward and backward), any partition", () => {
      const arb = fc
        .record({ b: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 3 }), m: fc.integer({ min: 1, max: 5 }), k: fc.integer({ min: 1, max: 5 }), n: fc.integer({ min: 1, max: 5 }), t: fc.boolean(), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreeFor(c.b), degreeFor(c.h), degreeFor(c.m), degreeFor(c.n), degreeFor(c.k)));
      assertProperty(
        fc.property(arb, ([c, db, dh, dm, dn, dk]) => {
          const b = c.t ? f32(c.b, c.h, c.n, c.k) : f32(c.b, c.h, c.k, c.n);
          const res = checkShardedEqualsWhole(tf, { entry: batchMatmul, inputs: [f32(c.b, c.h, c.m, c.k), b], attrs: { transpose_b: c.t }, degrees: [db, dh, dm, dn, dk], seed: c.seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        30,
      );
    });
  });
}

describe("matmul: wasm agrees with cpu on the whole op", () => {
  it("shared, broadcast and transposed", async () => {
    expect(await cpuVersusWasm(matmul, [f32(2, 3, 4), f32(4, 5)], {})).toEqual([]);
    expect(await cpuVersusWasm(matmul, [f32(1, 3, 4), f32(2, 4, 5)], {})).toEqual([]);
    expect(await cpuVersusWasm(batchMatmul, [f32(2, 2, 3, 4), f32(2, 2, 5, 4)], { transpose_b: true })).toEqual([]);
  });
});
