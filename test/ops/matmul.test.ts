import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { TensorType } from "../../src/core/tensor.js";
import { batchMatmul, einsum, matmul, parseEinsum } from "../../src/ops/matmul.js";
import { rng, wholeShard, compare } from "../support/sharded.js";
import { resolveAttrs } from "../../src/ops/attrs.js";
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

/** Einstein summation by its definition: every assignment of the letters, as plain loops. */
function naiveEinsum(equation: string, xs: { data: number[]; shape: number[] }[]): { data: number[]; shape: number[] } {
  const e = parseEinsum(equation, xs.map((x) => x.shape.length));
  if (typeof e === "string") throw new Error(e);
  const size = new Map<string, number>();
  e.operands.forEach((ls, i) => ls.forEach((l, j) => size.set(l, Math.max(size.get(l) ?? 1, xs[i].shape[j]))));
  const letters = [...size.keys()];
  const shape = e.output.map((l) => size.get(l)!);
  const out = new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0);
  const at = (sh: number[], idx: number[]) => idx.reduce((acc, v, i) => acc * sh[i] + v, 0);
  const total = letters.reduce((a, l) => a * size.get(l)!, 1);
  for (let f = 0; f < total; f++) {
    const v = new Map<string, number>();
    let r = f;
    for (let i = letters.length - 1; i >= 0; i--) {
      v.set(letters[i], r % size.get(letters[i])!);
      r = Math.floor(r / size.get(letters[i])!);
    }
    let prod = 1;
    e.operands.forEach((ls, i) => (prod *= xs[i].data[at(xs[i].shape, ls.map((l, j) => (xs[i].shape[j] === 1 ? 0 : v.get(l)!)))]));
    out[at(shape, e.output.map((l) => v.get(l)!))] += prod;
  }
  return { data: out, shape };
}

const EINSUM_CASES: [string, number[][]][] = [
  ["bij,bkj->bik", [[2, 3, 4], [2, 5, 4]]],
  ["ij,jk", [[3, 4], [4, 2]]],
  ["...ij,...jk->...ik", [[3, 2, 4], [1, 4, 2]]],
  ["i,i->", [[5], [5]]],
  ["ij->ji", [[3, 4]]],
  ["ij->", [[3, 4]]],
  ["abc,cd,de->abe", [[2, 3, 4], [4, 2], [2, 3]]],
  ["bhqd,bhkd->bhqk", [[2, 2, 3, 4], [2, 2, 5, 4]]],
  ["bn,anm,bm->ba", [[2, 3], [4, 3, 2], [2, 2]]],
];

describe("einsum: parsing, shapes, maps, FLOPs, values", () => {
  it("parses explicit, implicit and ellipsis equations; rejects malformed ones", () => {
    expect(parseEinsum("ij,jk", [2, 2])).toEqual({ operands: [["i", "j"], ["j", "k"]], output: ["i", "k"] });
    expect(parseEinsum("...ij,jk->...ik", [4, 2])).toEqual({ operands: [["8", "9", "i", "j"], ["j", "k"]], output: ["8", "9", "i", "k"] });
    expect(parseEinsum("ii->i", [2])).toMatch(/repeats a letter/);
    expect(parseEinsum("ij,jk->ik", [2])).toMatch(/2 operands/);
    expect(parseEinsum("ij->ik", [2])).toMatch(/letter k is in no operand/);
  });

  it("output letters are sample/attribute dims, summed letters reductions; broadcast axes read whole", () => {
    const sig = inferOrThrow(einsum, [f32(3, 2, 4), f32(1, 4, 5)], { equation: "...ij,...jk->...ik" });
    expect(sig.outputs[0].shape).toEqual([3, 2, 5]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["sample:sample:3", "attr1:attribute:2", "attr2:attribute:5", "inner:reduction:4"]);
    expect(sig.inputMaps[1]).toEqual([{ kind: "full" }, { kind: "iter", dim: 3 }, { kind: "iter", dim: 2 }]);
    expect(sig.flops([3, 2, 5, 4])).toEqual({ forward: 2 * 120, backward: 4 * 120 });
    expect(shardFlops(sig, [2, 1, 2, 3])).toEqual(sig.flops([3, 2, 5, 4]));
    const err = (ins: TensorType[], equation: string) => {
      const d = new Diagnostics();
      expect(einsum.infer(ins, { equation }, { opName: "e", diagnostics: d })).toBeUndefined();
      return d.items.map((x) => x.code);
    };
    expect(err([f32(2, 3), f32(4, 5)], "ij,jk->ik")).toEqual(["PAR2107"]);
    expect(err([f32(2, 3)], "ij,jk->ik")).toEqual(["PAR2104"]);
    const c = { opName: "e", diagnostics: new Diagnostics() };
    expect(resolveAttrs(einsum, {}, c)).toBeUndefined();
    expect(c.diagnostics.items.map((x) => x.code)).toEqual(["PAR2102"]);
  });

  it("every case equals the definition (cpu)", async () => {
    const tf = await useBackend("cpu");
    for (const [equation, shapes] of EINSUM_CASES) {
      const next = rng(equation.length);
      const xs = shapes.map((shape) => ({ shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1) }));
      const types = shapes.map((sh) => f32(...sh));
      const sig = inferOrThrow(einsum, types, { equation });
      const ref = naiveEinsum(equation, xs);
      expect(sig.outputs[0].shape, equation).toEqual(ref.shape);
      const got = einsum.forward(tf, { inputs: xs.map((x) => tf.tensor(x.data, x.shape)), params: [], attrs: { equation }, sig, shard: wholeShard(sig, types) })[0];
      expect(compare(ref.data, Array.from(got.dataSync()), equation).ok, equation).toBe(true);
    }
  });

  for (const backend of BACKENDS) {
    it(`sharded equals whole on ${backend}, every case, partial sums over the summed letters`, async () => {
      const tf = await useBackend(backend);
      const arb = fc.tuple(fc.integer({ min: 0, max: EINSUM_CASES.length - 1 }), fc.nat()).chain(([i, seed]) => {
        const [equation, shapes] = EINSUM_CASES[i];
        const sig = inferOrThrow(einsum, shapes.map((sh) => f32(...sh)), { equation });
        return fc.tuple(fc.constant({ equation, shapes, seed }), fc.tuple(...sig.space.map((d) => degreeFor(d.size, 3))));
      });
      assertProperty(
        fc.property(arb, ([c, degrees]) => {
          const res = checkShardedEqualsWhole(tf, { entry: einsum, inputs: c.shapes.map((sh) => f32(...sh)), attrs: { equation: c.equation }, degrees, seed: c.seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        25,
      );
    });
  }
});
