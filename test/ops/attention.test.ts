import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { partition } from "../../src/core/region.js";
import type { TensorType } from "../../src/core/tensor.js";
import { attention } from "../../src/ops/attention.js";
import type { Attrs, ShardContext, TF } from "../../src/ops/contract.js";
import { isFirstAlongReductions, reductionDims, spaceSizes, taskRegions } from "../../src/ops/regions.js";
import { resolveAttrs } from "../../src/ops/attrs.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, compare, inferOrThrow, kernelShapes, randomTensor, rng, shardFlops, wholeShard } from "../support/sharded.js";
import { assertProperty, degreeFor } from "../support/property.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });

/**
 * Multi-head self-attention in plain loops: weights [in, out], params in the op's order
 * (q, k, v, out weights, then q, k, v, out biases when present).
 */
function referenceAttention(x: Float32Array, [b, s, d]: number[], heads: number, causal: boolean, p: Float32Array[]): Float32Array {
  const [wq, wk, wv, wo, bq, bk, bv, bo] = p;
  const hd = d / heads;
  const proj = (w: Float32Array, bias: Float32Array | undefined): Float64Array => {
    const out = new Float64Array(b * s * d);
    for (let r = 0; r < b * s; r++)
      for (let c = 0; c < d; c++) {
        let acc = bias ? bias[c] : 0;
        for (let k = 0; k < d; k++) acc += x[r * d + k] * w[k * d + c];
        out[r * d + c] = acc;
      }
    return out;
  };
  const q = proj(wq, bq);
  const k = proj(wk, bk);
  const v = proj(wv, bv);
  const merged = new Float64Array(b * s * d);
  for (let bi = 0; bi < b; bi++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < s; i++) {
        const sc: number[] = [];
        for (let j = 0; j < s; j++) {
          if (causal && j > i) break;
          let acc = 0;
          for (let e = 0; e < hd; e++) acc += q[(bi * s + i) * d + h * hd + e] * k[(bi * s + j) * d + h * hd + e];
          sc.push(acc / Math.sqrt(hd));
        }
        const mx = Math.max(...sc);
        const ex = sc.map((v2) => Math.exp(v2 - mx));
        const sum = ex.reduce((a, c) => a + c, 0);
        for (let e = 0; e < hd; e++) {
          let acc = 0;
          ex.forEach((w, j) => (acc += (w / sum) * v[(bi * s + j) * d + h * hd + e]));
          merged[(bi * s + i) * d + h * hd + e] = acc;
        }
      }
  const y = new Float32Array(b * s * d);
  for (let r = 0; r < b * s; r++)
    for (let c = 0; c < d; c++) {
      let acc = bo ? bo[c] : 0;
      for (let k2 = 0; k2 < d; k2++) acc += merged[r * d + k2] * wo[k2 * d + c];
      y[r * d + c] = acc;
    }
  return y;
}

function attrsOf(given: Attrs): Attrs {
  const a = resolveAttrs(attention, given, { opName: "att", diagnostics: new Diagnostics() });
  if (!a) throw new Error("bad attrs");
  return a;
}

describe("attention: shapes, FLOPs, regions", () => {
  it("infers y like x and torch's 4d² + 4d parameters as separate Q/K/V/out projections", () => {
    const sig = inferOrThrow(attention, [f32(2, 5, 8)], attrsOf({ heads: 2 }));
    expect(sig.outputs[0].shape).toEqual([2, 5, 8]);
    expect(sig.params.map((p) => `${p.name}${JSON.stringify(p.shape)}`)).toEqual([
      "q_weight[8,8]", "k_weight[8,8]", "v_weight[8,8]", "out_weight[8,8]", "q_bias[8]", "k_bias[8]", "v_bias[8]", "out_bias[8]",
    ]);
    const count = sig.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    expect(count).toBe(4 * 64 + 4 * 8);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["sample:sample:2", "length:attribute:5", "heads:reduction:2"]);
    expect(reductionDims(sig)).toEqual([2]);
    const noBias = inferOrThrow(attention, [f32(2, 5, 8)], attrsOf({ heads: 4, bias: false }));
    expect(noBias.params.map((p) => p.name)).toEqual(["q_weight", "k_weight", "v_weight", "out_weight"]);
  });

  it("rejects heads that do not divide d_model (PAR2150) and a rank-2 input (PAR2108)", () => {
    const d = new Diagnostics();
    expect(attention.infer([f32(2, 5, 8)], attrsOf({ heads: 3 }), { opName: "att", diagnostics: d })).toBeUndefined();
    expect(d.items.map((i) => i.code)).toEqual(["PAR2150"]);
    expect(d.items[0].message).toContain("3 does not divide 8");
    const d2 = new Diagnostics();
    expect(attention.infer([f32(5, 8)], attrsOf({ heads: 2 }), { opName: "att", diagnostics: d2 })).toBeUndefined();
    expect(d2.items.map((i) => i.code)).toEqual(["PAR2108"]);
  });

  it("regions of a (sample, length, heads) task, by hand", () => {
    // x [2, 5, 8], 2 heads of 4 features; the task owns sample 0..2, queries 2..4, head 1.
    const sig = inferOrThrow(attention, [f32(2, 5, 8)], attrsOf({ heads: 2 }));
    const r = taskRegions(sig, [[2, 5, 8]], { lo: [0, 2, 1], hi: [2, 4, 2] });
    expect(r.inputs[0]).toEqual({ lo: [0, 0, 0], hi: [2, 5, 8] }); // the whole sequence
    expect(r.params.slice(0, 3)).toEqual([0, 1, 2].map(() => ({ lo: [0, 4], hi: [8, 8] }))); // Wq/Wk/Wv columns of head 1
    expect(r.params[3]).toEqual({ lo: [4, 0], hi: [8, 8] }); // Wo rows of head 1
    expect(r.params.slice(4, 7)).toEqual([0, 1, 2].map(() => ({ lo: [4], hi: [8] })));
    expect(r.params[7]).toEqual({ lo: [0], hi: [8] }); // out bias: whole (added by head 0's task only)
    expect(r.outputs[0]).toEqual({ lo: [0, 2, 0], hi: [2, 4, 8] });
    expect(isFirstAlongReductions(sig, { lo: [0, 2, 1], hi: [2, 4, 2] })).toBe(false);
    expect(isFirstAlongReductions(sig, { lo: [1, 3, 0], hi: [2, 5, 1] })).toBe(true);
  });

  it("FLOPs by hand", () => {
    // b 2, seq 5, d 8, 2 heads of 4: Q 2·2·5·8·8 = 1280, K+V 2560, QKᵀ+PV 4·2·2·5·5·4 = 1600,
    // out 1280 → 6720 matMul FLOPs; 100 scores at 5 (6 causal) forward, 3 backward.
    const sig = inferOrThrow(attention, [f32(2, 5, 8)], attrsOf({ heads: 2 }));
    expect(sig.flops([2, 5, 2])).toEqual({ forward: 6720 + 500, backward: 2 * 6720 + 300 });
    const causal = inferOrThrow(attention, [f32(2, 5, 8)], attrsOf({ heads: 2, causal: true }));
    expect(causal.flops([2, 5, 2])).toEqual({ forward: 6720 + 600, backward: 2 * 6720 + 300 });
  });

  it("sample and heads shards sum to the whole; a length split adds the documented K/V recompute", () => {
    const sig = inferOrThrow(attention, [f32(4, 6, 12)], attrsOf({ heads: 3 }));
    const whole = sig.flops(spaceSizes(sig));
    expect(shardFlops(sig, [2, 1, 3])).toEqual(whole);
    expect(shardFlops(sig, [3, 1, 2])).toEqual(whole);
    // K and V projections over the whole sequence: 2 · 2·b·seq·d·d per task.
    const kv = 4 * 4 * 6 * 12 * 12;
    for (const p of [2, 3, 4]) {
      expect(shardFlops(sig, [1, p, 1])).toEqual({ forward: whole.forward + (p - 1) * kv, backward: whole.backward + (p - 1) * 2 * kv });
    }
  });
});

for (const backend of BACKENDS) {
  describe(`attention on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("shape inference agrees with the kernel", () => {
      const { inferred, actual } = kernelShapes(tf, attention, [f32(2, 3, 8)], attrsOf({ heads: 4, causal: true }));
      expect(actual).toEqual(inferred);
    });

    it("matches a hand-written reference (plain, causal, no bias)", () => {
      const shape = [2, 4, 6];
      for (const given of [{ heads: 2 }, { heads: 3, causal: true }, { heads: 1, bias: false, causal: true }] as Attrs[]) {
        const attrs = attrsOf(given);
        const sig = inferOrThrow(attention, [f32(...shape)], attrs);
        tf.tidy(() => {
          const next = rng(11);
          const x = randomTensor(tf, f32(...shape), next);
          const ps = sig.params.map((p) => randomTensor(tf, f32(...p.shape), next));
          const [y] = attention.forward(tf, { inputs: [x], params: ps, attrs, sig, shard: wholeShard(sig, [f32(...shape)]) });
          const ref = referenceAttention(x.dataSync() as Float32Array, shape, attrs.heads as number, attrs.causal as boolean, ps.map((p) => p.dataSync() as Float32Array));
          const c = compare(ref, y.dataSync(), JSON.stringify(given), { abs: 1e-5, rel: 1e-5 });
          expect(c).toMatchObject({ ok: true });
        });
      }
    });

    it("causal: each length shard masks with its own query offset", () => {
      // Run the three query shards of a [1, 5, 4] input by hand, compare each with the
      // reference rows, and check a query never sees later positions.
      const shape = [1, 5, 4];
      const attrs = attrsOf({ heads: 2, causal: true });
      const sig = inferOrThrow(attention, [f32(...shape)], attrs);
      tf.tidy(() => {
        const next = rng(3);
        const x = randomTensor(tf, f32(...shape), next);
        const ps = sig.params.map((p) => randomTensor(tf, f32(...p.shape), next));
        const pData = ps.map((p) => p.dataSync() as Float32Array);
        const xData = x.dataSync() as Float32Array;
        const ref = referenceAttention(xData, shape, 2, true, pData);
        for (const box of partition(spaceSizes(sig), [1, 3, 1])) {
          const r = taskRegions(sig, [shape], box);
          const shard: ShardContext = { box, spaceSizes: spaceSizes(sig), inputRegions: r.inputs, outputRegions: r.outputs, firstAlongReductions: true };
          const [y] = attention.forward(tf, { inputs: [x], params: ps, attrs, sig, shard });
          expect(y.shape).toEqual([1, box.hi[1] - box.lo[1], 4]);
          const want = ref.slice(box.lo[1] * 4, box.hi[1] * 4);
          expect(compare(want, y.dataSync(), `queries ${box.lo[1]}..${box.hi[1]}`, { abs: 1e-5, rel: 1e-5 })).toMatchObject({ ok: true });
        }
        // Changing positions 3.. leaves rows 0..2 unchanged.
        const x2 = new Float32Array(xData);
        for (let i = 3 * 4; i < x2.length; i++) x2[i] += 1;
        const ref2 = referenceAttention(x2, shape, 2, true, pData);
        const [y2] = attention.forward(tf, { inputs: [tf.tensor(x2, shape)], params: ps, attrs, sig, shard: wholeShard(sig, [f32(...shape)]) });
        expect(compare(ref.slice(0, 12), y2.dataSync().slice(0, 12), "prefix", { abs: 1e-5, rel: 1e-5 }).ok).toBe(true);
        expect(compare(ref2, y2.dataSync(), "perturbed", { abs: 1e-5, rel: 1e-5 }).ok).toBe(true);
      });
    });

    it("sharded equals whole (forward and backward), any partition of sample, length and heads", () => {
      const arb = fc
        .record({ n: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 5 }), heads: fc.integer({ min: 1, max: 3 }), hd: fc.integer({ min: 1, max: 3 }), causal: fc.boolean(), bias: fc.boolean(), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreeFor(c.n, 3), degreeFor(c.s), degreeFor(c.heads, 3)));
      assertProperty(
        fc.property(arb, ([c, dn, ds, dh]) => {
          const res = checkShardedEqualsWhole(tf, {
            entry: attention,
            inputs: [f32(c.n, c.s, c.heads * c.hd)],
            attrs: { heads: c.heads, causal: c.causal, bias: c.bias },
            degrees: [dn, ds, dh],
            seed: c.seed,
          });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
          expect(res.comparisons.length).toBe(1 + 1 + (c.bias ? 8 : 4));
        }),
        20,
      );
    });
  });
}
