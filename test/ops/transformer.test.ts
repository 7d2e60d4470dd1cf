// rms_norm, rotary, sdpa and silu (src/ops/transformer.ts): shapes, parameters, FLOPs and
// regions by hand; the kernels against plain-loop references written from Hugging Face's
// LlamaRMSNorm, apply_rotary_pos_emb (rotate_half) and eager attention with repeat_kv;
// sharded equals whole over random partitions; wasm agrees with cpu.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { partition } from "../../src/core/region.js";
import type { TensorType } from "../../src/core/tensor.js";
import type { Attrs, OpEntry, ShardContext, TF } from "../../src/ops/contract.js";
import { spaceSizes, taskRegions } from "../../src/ops/regions.js";
import { rmsNorm, rotary, sdpa, silu } from "../../src/ops/transformer.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, compare, inferOrThrow, kernelShapes, randomTensor, rng, shardFlops, wholeShard } from "../support/sharded.js";
import { errorCodes, resolved as attrs } from "./_ops-b-helpers.js";
import { assertProperty, degreeFor } from "../support/property.js";
import { cpuVersusWasm } from "./backend-agreement.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });


/** HF LlamaRMSNorm over the last axis: x·rsqrt(mean(x²) + eps)·w. */
function referenceRms(x: Float32Array, d: number, w: Float32Array, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[r * d + j] ** 2;
    const rstd = 1 / Math.sqrt(ss / d + eps);
    for (let j = 0; j < d; j++) y[r * d + j] = x[r * d + j] * rstd * w[j];
  }
  return y;
}

/** HF apply_rotary_pos_emb on [b, s, heads·hd]: q·cos + rotate_half(q)·sin, cos = cat(c, c). */
function referenceRotary(x: Float32Array, [b, s, c]: number[], hd: number, theta: number): Float64Array {
  const y = new Float64Array(x.length);
  const half = hd / 2;
  for (let bi = 0; bi < b; bi++)
    for (let p = 0; p < s; p++)
      for (let h = 0; h < c / hd; h++) {
        const base = (bi * s + p) * c + h * hd;
        for (let e = 0; e < hd; e++) {
          const j = e % half;
          const angle = p / Math.pow(theta, (2 * j) / hd);
          const rot = e < half ? -x[base + e + half] : x[base + e - half];
          y[base + e] = x[base + e] * Math.cos(angle) + rot * Math.sin(angle);
        }
      }
  return y;
}

/** Eager attention with k/v repeated to the query heads (HF repeat_kv): head h reads kv head ⌊h/g⌋. */
function referenceSdpa(q: Float32Array, k: Float32Array, v: Float32Array, [b, sq, sk]: number[], heads: number, kvHeads: number, hd: number, causal: boolean, scale: number): Float64Array {
  const g = heads / kvHeads;
  const qc = heads * hd;
  const kc = kvHeads * hd;
  const y = new Float64Array(b * sq * qc);
  for (let bi = 0; bi < b; bi++)
    for (let h = 0; h < heads; h++) {
      const kh = Math.floor(h / g);
      for (let i = 0; i < sq; i++) {
        const sc: number[] = [];
        for (let j = 0; j < sk; j++) {
          let acc = 0;
          for (let e = 0; e < hd; e++) acc += q[(bi * sq + i) * qc + h * hd + e] * k[(bi * sk + j) * kc + kh * hd + e];
          sc.push(causal && j > i ? -Infinity : acc * scale);
        }
        const mx = Math.max(...sc);
        const ex = sc.map((t) => Math.exp(t - mx));
        const sum = ex.reduce((a, t) => a + t, 0);
        for (let e = 0; e < hd; e++) {
          let acc = 0;
          ex.forEach((w, j) => (acc += (w / sum) * v[(bi * sk + j) * kc + kh * hd + e]));
          y[(bi * sq + i) * qc + h * hd + e] = acc;
        }
      }
    }
  return y;
}

describe("rms_norm, rotary, sdpa, silu: shapes, parameters, FLOPs, regions", () => {
  it("rms_norm has one weight of the normalised dims and splits only the others", () => {
    const sig = inferOrThrow(rmsNorm, [f32(2, 3, 8)], attrs(rmsNorm, {}));
    expect(sig.params.map((p) => `${p.name}${JSON.stringify(p.shape)}:${p.init.kind}`)).toEqual(["weight[8]:ones"]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.splittable !== false}`)).toEqual(["sample:sample:true", "length:attribute:true", "channel:parameter:false"]);
    expect(sig.flops([2, 3, 8])).toEqual({ forward: 4 * 48, backward: 7 * 48 });
    expect(inferOrThrow(rmsNorm, [f32(2, 3, 8)], attrs(rmsNorm, { axes: 2 })).params[0].shape).toEqual([3, 8]);
    expect(errorCodes(rmsNorm, [f32(2, 3)], { axes: 3 })).toEqual(["PAR2113"]);
  });

  it("rotary keeps x's shape, splits sample, length and whole heads, and rejects odd or non-dividing head_dim", () => {
    const sig = inferOrThrow(rotary, [f32(2, 5, 12)], attrs(rotary, { head_dim: 4 }));
    expect(sig.outputs[0].shape).toEqual([2, 5, 12]);
    expect(sig.params).toEqual([]);
    expect(sig.space.map((d) => `${d.name}:${d.size}`)).toEqual(["sample:2", "length:5", "heads:3"]);
    // Task: samples 1..2, positions 2..4, head 1 → columns 4..8.
    const r = taskRegions(sig, [[2, 5, 12]], { lo: [1, 2, 1], hi: [2, 4, 2] });
    expect(r.inputs[0]).toEqual({ lo: [1, 2, 4], hi: [2, 4, 8] });
    expect(r.outputs[0]).toEqual({ lo: [1, 2, 4], hi: [2, 4, 8] });
    expect(sig.flops([2, 5, 3])).toEqual({ forward: 3 * 120, backward: 3 * 120 });
    expect(errorCodes(rotary, [f32(2, 5, 12)], { head_dim: 3 })).toEqual(["PAR2160"]);
    expect(errorCodes(rotary, [f32(2, 5, 12)], { head_dim: 8 })).toEqual(["PAR2160"]);
    expect(errorCodes(rotary, [f32(5, 12)], { head_dim: 4 })).toEqual(["PAR2108"]);
  });

  it("sdpa: output like q, the heads dim over kv heads with query-head blocks, k and v read along the whole sequence", () => {
    // 4 query heads, 2 kv heads, head_dim 3: q [2, 5, 12], k/v [2, 5, 6].
    const sig = inferOrThrow(sdpa, [f32(2, 5, 12), f32(2, 5, 6), f32(2, 5, 6)], attrs(sdpa, { heads: 4, kv_heads: 2, causal: true }));
    expect(sig.outputs[0].shape).toEqual([2, 5, 12]);
    expect(sig.params).toEqual([]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}`)).toEqual(["sample:sample:2", "length:attribute:5", "heads:attribute:2"]);
    // Task: sample 0, queries 1..3, kv head 1 → query heads 2, 3 = columns 6..12, kv columns 3..6.
    const r = taskRegions(sig, [[2, 5, 12], [2, 5, 6], [2, 5, 6]], { lo: [0, 1, 1], hi: [1, 3, 2] });
    expect(r.inputs[0]).toEqual({ lo: [0, 1, 6], hi: [1, 3, 12] });
    expect(r.inputs[1]).toEqual({ lo: [0, 0, 3], hi: [1, 5, 6] });
    expect(r.inputs[2]).toEqual({ lo: [0, 0, 3], hi: [1, 5, 6] });
    expect(r.outputs[0]).toEqual({ lo: [0, 1, 6], hi: [1, 3, 12] });
    // FLOPs: 4·b·heads·sq·sk·hd = 4·2·4·5·5·3 = 2400 matMul; 200 scores at 6 (causal), 3 backward.
    expect(sig.flops([2, 5, 2])).toEqual({ forward: 2400 + 1200, backward: 4800 + 600 });
    // Every split sums to the whole: k and v are inputs, nothing is recomputed.
    expect(shardFlops(sig, [2, 3, 2])).toEqual(sig.flops([2, 5, 2]));
  });

  it("sdpa rejects heads not dividing q, kv_heads not dividing heads (PAR2161), k/v of the wrong width (PAR2107) and ranks ≠ 3 (PAR2108)", () => {
    expect(errorCodes(sdpa, [f32(2, 5, 12), f32(2, 5, 6), f32(2, 5, 6)], { heads: 5 })).toEqual(["PAR2161"]);
    expect(errorCodes(sdpa, [f32(2, 5, 12), f32(2, 5, 6), f32(2, 5, 6)], { heads: 4, kv_heads: 3 })).toEqual(["PAR2161"]);
    expect(errorCodes(sdpa, [f32(2, 5, 12), f32(2, 5, 6), f32(2, 5, 6)], { heads: 4 })).toEqual(["PAR2107"]);
    expect(errorCodes(sdpa, [f32(2, 5, 12), f32(2, 5, 6), f32(2, 4, 6)], { heads: 4, kv_heads: 2 })).toEqual(["PAR2107"]);
    expect(errorCodes(sdpa, [f32(2, 5, 12), f32(3, 5, 6), f32(3, 5, 6)], { heads: 4, kv_heads: 2 })).toEqual(["PAR2107"]);
    expect(errorCodes(sdpa, [f32(10, 12), f32(2, 5, 6), f32(2, 5, 6)], { heads: 4 })).toEqual(["PAR2108"]);
  });

  it("silu is a one-input elementwise passthrough", () => {
    expect(silu.family).toBe("elementwise");
    expect(silu.roles).toEqual(["passthrough"]);
    expect(inferOrThrow(silu, [f32(3, 4)], {}).flops([3, 4])).toEqual({ forward: 60, backward: 72 });
  });
});

for (const backend of BACKENDS) {
  describe(`rms_norm, rotary, sdpa, silu on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("shape inference agrees with the kernels", () => {
      for (const [entry, ins, given] of [
        [rmsNorm, [f32(2, 3, 4)], {}],
        [rotary, [f32(2, 3, 8)], { head_dim: 4 }],
        [sdpa, [f32(2, 3, 8), f32(2, 4, 4), f32(2, 4, 4)], { heads: 4, kv_heads: 2 }],
        [silu, [f32(2, 3)], {}],
      ] as [OpEntry, TensorType[], Attrs][]) {
        const { inferred, actual } = kernelShapes(tf, entry, ins, attrs(entry, given));
        expect(actual, entry.name).toEqual(inferred);
      }
    });

    it("match the plain-loop references", () => {
      tf.tidy(() => {
        const next = rng(5);
        const x = randomTensor(tf, f32(2, 3, 6), next);
        const w = randomTensor(tf, f32(6), next);
        const a = attrs(rmsNorm, { eps: 1e-5 });
        const sigN = inferOrThrow(rmsNorm, [f32(2, 3, 6)], a);
        const [yn] = rmsNorm.forward(tf, { inputs: [x], params: [w], attrs: a, sig: sigN, shard: wholeShard(sigN, [f32(2, 3, 6)]) });
        expect(compare(referenceRms(x.dataSync() as Float32Array, 6, w.dataSync() as Float32Array, 1e-5), yn.dataSync(), "rms_norm", { abs: 1e-5, rel: 1e-5 })).toMatchObject({ ok: true });

        const xr = randomTensor(tf, f32(2, 7, 12), next);
        const ar = attrs(rotary, { head_dim: 6, theta: 500 });
        const sigR = inferOrThrow(rotary, [f32(2, 7, 12)], ar);
        const [yr] = rotary.forward(tf, { inputs: [xr], params: [], attrs: ar, sig: sigR, shard: wholeShard(sigR, [f32(2, 7, 12)]) });
        expect(compare(referenceRotary(xr.dataSync() as Float32Array, [2, 7, 12], 6, 500), yr.dataSync(), "rotary", { abs: 1e-5, rel: 1e-5 })).toMatchObject({ ok: true });

        for (const given of [{ heads: 4, kv_heads: 2, causal: true }, { heads: 4, kv_heads: 1 }, { heads: 2, causal: true, scale: 0.3 }] as Attrs[]) {
          const as = attrs(sdpa, given);
          const heads = as.heads as number;
          const kvHeads = (as.kv_heads as number) || heads;
          const hd = 2;
          const ins = [f32(2, 4, heads * hd), f32(2, 4, kvHeads * hd), f32(2, 4, kvHeads * hd)];
          const sig = inferOrThrow(sdpa, ins, as);
          const ts = ins.map((t) => randomTensor(tf, t, next));
          const [y] = sdpa.forward(tf, { inputs: ts, params: [], attrs: as, sig, shard: wholeShard(sig, ins) });
          const [qd, kd, vd] = ts.map((t) => t.dataSync() as Float32Array);
          const ref = referenceSdpa(qd, kd, vd, [2, 4, 4], heads, kvHeads, hd, as.causal as boolean, (as.scale as number) || 1 / Math.sqrt(hd));
          expect(compare(ref, y.dataSync(), JSON.stringify(given), { abs: 1e-5, rel: 1e-5 })).toMatchObject({ ok: true });
        }
      });
    });

    it("rotary and causal sdpa shards along seq use global positions", () => {
      tf.tidy(() => {
        const next = rng(9);
        const shape = [1, 5, 8];
        const x = randomTensor(tf, f32(...shape), next);
        const ar = attrs(rotary, { head_dim: 4 });
        const sig = inferOrThrow(rotary, [f32(...shape)], ar);
        const ref = referenceRotary(x.dataSync() as Float32Array, shape, 4, 10000);
        for (const box of partition(spaceSizes(sig), [1, 3, 2])) {
          const r = taskRegions(sig, [shape], box);
          const shard: ShardContext = { box, spaceSizes: spaceSizes(sig), inputRegions: r.inputs, outputRegions: r.outputs, firstAlongReductions: true };
          const piece = tf.slice(x, r.inputs[0].lo, r.inputs[0].hi.map((h, i) => h - r.inputs[0].lo[i]));
          const [y] = rotary.forward(tf, { inputs: [piece], params: [], attrs: ar, sig, shard });
          const want: number[] = [];
          for (let p = r.outputs[0].lo[1]; p < r.outputs[0].hi[1]; p++) for (let c = r.outputs[0].lo[2]; c < r.outputs[0].hi[2]; c++) want.push(ref[p * 8 + c]);
          expect(compare(want, y.dataSync(), `box ${JSON.stringify(box)}`, { abs: 1e-5, rel: 1e-5 })).toMatchObject({ ok: true });
        }
      });
    });

    it("sharded equals whole (forward and backward), any partition", () => {
      const arb = fc
        .record({ n: fc.integer({ min: 1, max: 2 }), s: fc.integer({ min: 1, max: 5 }), kv: fc.integer({ min: 1, max: 3 }), g: fc.integer({ min: 1, max: 2 }), hd: fc.constantFrom(2, 4), causal: fc.boolean(), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreeFor(c.n, 2), degreeFor(c.s, 3), degreeFor(c.kv, 3)));
      assertProperty(
        fc.property(arb, ([c, dn, ds, dh]) => {
          const heads = c.kv * c.g;
          const q = f32(c.n, c.s, heads * c.hd);
          const kv = f32(c.n, c.s, c.kv * c.hd);
          const att = checkShardedEqualsWhole(tf, { entry: sdpa, inputs: [q, kv, kv], attrs: attrs(sdpa, { heads, kv_heads: c.kv, causal: c.causal }), degrees: [dn, ds, dh], seed: c.seed });
          expect(att.comparisons.filter((x) => !x.ok)).toEqual([]);
          expect(att.comparisons.length).toBe(1 + 3);
          const rot = checkShardedEqualsWhole(tf, { entry: rotary, inputs: [q], attrs: attrs(rotary, { head_dim: c.hd }), degrees: [dn, ds, Math.min(dh, heads)], seed: c.seed });
          expect(rot.comparisons.filter((x) => !x.ok)).toEqual([]);
          const rms = checkShardedEqualsWhole(tf, { entry: rmsNorm, inputs: [q], attrs: attrs(rmsNorm, { eps: 1e-5 }), degrees: [dn, ds, 1], seed: c.seed });
          expect(rms.comparisons.filter((x) => !x.ok)).toEqual([]);
          expect(rms.comparisons.length).toBe(1 + 1 + 1);
        }),
        20,
      );
    });
  });
}

describe("rms_norm, rotary, sdpa, silu: wasm agrees with cpu on the whole op", () => {
  it("forward and backward", async () => {
    expect(await cpuVersusWasm(rmsNorm, [f32(2, 3, 6)], { axes: 1, eps: 1e-5 })).toEqual([]);
    expect(await cpuVersusWasm(rotary, [f32(2, 3, 8)], { head_dim: 4, theta: 10000 })).toEqual([]);
    expect(await cpuVersusWasm(sdpa, [f32(2, 3, 8), f32(2, 3, 4), f32(2, 3, 4)], { heads: 4, kv_heads: 2, causal: true, scale: 0 })).toEqual([]);
    expect(await cpuVersusWasm(silu, [f32(3, 4)], {})).toEqual([]);
  });
});
