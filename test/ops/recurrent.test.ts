import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { TensorType } from "../../src/core/tensor.js";
import type { TF } from "../../src/ops/contract.js";
import { gru, lstm, rnn } from "../../src/ops/recurrent.js";
import type { Attrs, OpEntry } from "../../src/ops/contract.js";
import { reductionDims, taskRegions } from "../../src/ops/regions.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { checkShardedEqualsWhole, compare, inferOrThrow, kernelShapes, randomTensor, rng, shardFlops, wholeShard } from "../support/sharded.js";
import { assertProperty, degreeFor } from "../support/property.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** torch.nn.LSTM (batch_first, gate order i, f, g, o, zero initial state), in plain loops. */
function referenceLstm(x: Float32Array, [b, s, n]: number[], h: number, wih: Float32Array, whh: Float32Array, bih: Float32Array, bhh: Float32Array): Float32Array[] {
  const out: Float32Array[] = [];
  for (let bi = 0; bi < b; bi++) {
    let hp = new Float32Array(h);
    let cp = new Float32Array(h);
    for (let t = 0; t < s; t++) {
      const g = new Float64Array(4 * h);
      for (let r = 0; r < 4 * h; r++) {
        let acc = bih[r] + bhh[r];
        for (let k = 0; k < n; k++) acc += wih[r * n + k] * x[(bi * s + t) * n + k];
        for (let k = 0; k < h; k++) acc += whh[r * h + k] * hp[k];
        g[r] = acc;
      }
      const hn = new Float32Array(h);
      const cn = new Float32Array(h);
      for (let j = 0; j < h; j++) {
        const i = sigmoid(g[j]);
        const f = sigmoid(g[h + j]);
        const gg = Math.tanh(g[2 * h + j]);
        const o = sigmoid(g[3 * h + j]);
        cn[j] = f * cp[j] + i * gg;
        hn[j] = o * Math.tanh(cn[j]);
      }
      hp = hn;
      cp = cn;
      out.push(hn); // index bi*s + t
    }
  }
  return out;
}

describe("lstm: shapes, FLOPs, regions", () => {
  it("infers [batch, seq, hidden] with torch's four parameters", () => {
    const sig = inferOrThrow(lstm, [f32(3, 4, 5)], { hidden: 2, return_sequences: true });
    expect(sig.outputs[0].shape).toEqual([3, 4, 2]);
    expect(sig.params.map((p) => `${p.name}${JSON.stringify(p.shape)}`)).toEqual(["weight_ih[8,5]", "weight_hh[8,2]", "bias_ih[8]", "bias_hh[8]"]);
    expect(sig.space.map((d) => `${d.name}:${d.cls}:${d.size}:${d.splittable ?? true}`)).toEqual([
      "sample:sample:3:true",
      "length:attribute:4:false",
      "channel:parameter:2:false",
    ]);
    expect(reductionDims(sig)).toEqual([]);
    for (const p of sig.params) expect(p.init).toEqual({ kind: "uniform", bound: 1 / Math.sqrt(2) });
  });

  it("return_sequences = false gives the last h [batch, hidden] and no length dim", () => {
    const sig = inferOrThrow(lstm, [f32(3, 4, 5)], { hidden: 2, return_sequences: false });
    expect(sig.outputs[0].shape).toEqual([3, 2]);
    expect(sig.space.map((d) => d.name)).toEqual(["sample", "channel"]);
    expect(reductionDims(sig)).toEqual([]);
  });

  it("has torch.nn.LSTM(10, 20)'s 2560 parameters: 4h(in + h) + 8h", () => {
    const sig = inferOrThrow(lstm, [f32(1, 1, 10)], { hidden: 20, return_sequences: true });
    const count = sig.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    expect(count).toBe(2560);
  });

  it("rejects a rank-2 input with PAR2108", () => {
    const d = new Diagnostics();
    expect(lstm.infer([f32(3, 5)], { hidden: 2, return_sequences: true }, { opName: "rnn", diagnostics: d })).toBeUndefined();
    expect(d.items.map((i) => i.code)).toEqual(["PAR2108"]);
  });

  it("FLOPs by hand, and sample shards sum to the whole", () => {
    // x [3, 4, 5], hidden 2: per (sample, step) matMuls 2·4·2·(5+2) = 112, elementwise 21·2 = 42.
    const sig = inferOrThrow(lstm, [f32(3, 4, 5)], { hidden: 2, return_sequences: true });
    const whole = sig.flops([3, 4, 2]);
    expect(whole).toEqual({ forward: 3 * 4 * (112 + 42), backward: 3 * 4 * (224 + 84) });
    expect(shardFlops(sig, [3, 1, 1])).toEqual(whole);
    const last = inferOrThrow(lstm, [f32(3, 4, 5)], { hidden: 2, return_sequences: false });
    expect(last.flops([3, 2])).toEqual(whole);
    expect(shardFlops(last, [2, 1])).toEqual(whole);
  });

  it("a sample shard reads its rows of x and holds the whole weights", () => {
    const sig = inferOrThrow(lstm, [f32(4, 3, 5)], { hidden: 2, return_sequences: true });
    const r = taskRegions(sig, [[4, 3, 5]], { lo: [1, 0, 0], hi: [3, 3, 2] });
    expect(r.inputs[0]).toEqual({ lo: [1, 0, 0], hi: [3, 3, 5] });
    expect(r.params).toEqual([
      { lo: [0, 0], hi: [8, 5] },
      { lo: [0, 0], hi: [8, 2] },
      { lo: [0], hi: [8] },
      { lo: [0], hi: [8] },
    ]);
    expect(r.outputs[0]).toEqual({ lo: [1, 0, 0], hi: [3, 3, 2] });
    const last = inferOrThrow(lstm, [f32(4, 3, 5)], { hidden: 2, return_sequences: false });
    const rl = taskRegions(last, [[4, 3, 5]], { lo: [2, 0], hi: [4, 2] });
    expect(rl.inputs[0]).toEqual({ lo: [2, 0, 0], hi: [4, 3, 5] });
    expect(rl.outputs[0]).toEqual({ lo: [2, 0], hi: [4, 2] });
  });
});

for (const backend of BACKENDS) {
  describe(`lstm on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("shape inference agrees with the kernel", () => {
      for (const rs of [true, false]) {
        const { inferred, actual } = kernelShapes(tf, lstm, [f32(2, 3, 4)], { hidden: 5, return_sequences: rs });
        expect(actual).toEqual(inferred);
      }
    });

    it("matches torch's LSTM equations (gate order i, f, g, o)", () => {
      const shape = [2, 3, 4];
      const h = 3;
      const attrs = { hidden: h, return_sequences: true };
      const sig = inferOrThrow(lstm, [f32(...shape)], attrs);
      tf.tidy(() => {
        const next = rng(7);
        const x = randomTensor(tf, f32(...shape), next);
        const ps = sig.params.map((p) => randomTensor(tf, f32(...p.shape), next));
        const [y] = lstm.forward(tf, { inputs: [x], params: ps, attrs, sig, shard: wholeShard(sig, [f32(...shape)]) });
        const [wih, whh, bih, bhh] = ps.map((p) => p.dataSync() as Float32Array);
        const ref = referenceLstm(x.dataSync() as Float32Array, shape, h, wih, whh, bih, bhh);
        const flat = new Float32Array(ref.length * h);
        ref.forEach((v, i) => flat.set(v, i * h));
        expect(compare(flat, y.dataSync(), "y", { abs: 1e-5, rel: 1e-5 }).ok).toBe(true);
        // The last-state output is the last step of the sequence output.
        const [last] = lstm.forward(tf, { inputs: [x], params: ps, attrs: { hidden: h, return_sequences: false }, sig: inferOrThrow(lstm, [f32(...shape)], { hidden: h, return_sequences: false }), shard: wholeShard(sig, [f32(...shape)]) });
        const lastRef = new Float32Array([...ref[2], ...ref[5]]);
        expect(compare(lastRef, last.dataSync(), "last", { abs: 1e-5, rel: 1e-5 }).ok).toBe(true);
      });
    });

    it("sharded equals whole (forward and backward), any sample partition", () => {
      const arb = fc
        .record({ n: fc.integer({ min: 1, max: 5 }), s: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 4 }), h: fc.integer({ min: 1, max: 4 }), rs: fc.boolean(), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreeFor(c.n)));
      assertProperty(
        fc.property(arb, ([c, dn]) => {
          const degrees = c.rs ? [dn, 1, 1] : [dn, 1];
          const res = checkShardedEqualsWhole(tf, { entry: lstm, inputs: [f32(c.n, c.s, c.k)], attrs: { hidden: c.h, return_sequences: c.rs }, degrees, seed: c.seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
          expect(res.comparisons.length).toBe(1 + 1 + 4);
        }),
        15,
      );
    });
  });
}

/** sin(i·f)/2 rounded to 4 places, the weights and inputs of the torch reference below. */
const sinHalf = (count: number, f: number) => Array.from({ length: count }, (_, i) => Math.round(Math.sin(i * f) * 0.5 * 1e4) / 1e4);

describe("gru and rnn; initial state, reverse, return_state: shapes and diagnostics", () => {
  it("gru has three gate blocks, rnn one; return_state adds h_n (and c_n for lstm)", () => {
    const g = inferOrThrow(gru, [f32(2, 4, 3), f32(2, 5)], { hidden: 5, return_sequences: true, reverse: false, return_state: true, linear_before_reset: true });
    expect(g.params.map((p) => p.shape)).toEqual([[15, 3], [15, 5], [15], [15]]);
    expect(g.outputs.map((o) => o.shape)).toEqual([[2, 4, 5], [2, 5]]);
    expect(g.inputMaps[1]).toEqual([{ kind: "iter", dim: 0 }, { kind: "iter", dim: 2 }]);
    const r = inferOrThrow(rnn, [f32(2, 4, 3)], { hidden: 5, return_sequences: false, reverse: true, return_state: false, nonlinearity: "relu" });
    expect(r.params.map((p) => p.shape)).toEqual([[5, 3], [5, 5], [5], [5]]);
    expect(r.outputs.map((o) => o.shape)).toEqual([[2, 5]]);
    const l = inferOrThrow(lstm, [f32(2, 4, 3), f32(2, 5), f32(2, 5)], { hidden: 5, return_sequences: true, reverse: false, return_state: true });
    expect(l.outputs.map((o) => o.shape)).toEqual([[2, 4, 5], [2, 5], [2, 5]]);
    // torch.nn.GRU(10, 20): 3·20·(10 + 20) + 6·20 = 1920 parameters.
    const count = inferOrThrow(gru, [f32(1, 1, 10)], { hidden: 20, return_sequences: true, reverse: false, return_state: false, linear_before_reset: true }).params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    expect(count).toBe(1920);
    // FLOPs: 2·3h(in + h) + 25h per (sample, step).
    expect(g.flops([2, 4, 5])).toEqual({ forward: 2 * 4 * (2 * 15 * 8 + 125), backward: 2 * 4 * (4 * 15 * 8 + 250) });
    expect(shardFlops(g, [2, 1, 1])).toEqual(g.flops([2, 4, 5]));
  });

  it("rejects an initial state of the wrong shape (PAR2107)", () => {
    const d = new Diagnostics();
    expect(gru.infer([f32(2, 4, 3), f32(3, 5)], { hidden: 5, return_sequences: true, reverse: false, return_state: false, linear_before_reset: true }, { opName: "g", diagnostics: d })).toBeUndefined();
    expect(d.items.map((i) => i.code)).toEqual(["PAR2107"]);
  });
});

for (const backend of BACKENDS) {
  describe(`gru, rnn and stateful lstm on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    const run = (entry: OpEntry, inputs: { data: number[]; shape: number[] }[], params: { data: number[]; shape: number[] }[], attrs: Record<string, unknown>): number[][] => {
      const types = inputs.map((i) => f32(...i.shape));
      const a = { return_sequences: true, reverse: false, return_state: false, ...(entry === gru ? { linear_before_reset: true } : entry === rnn ? { nonlinearity: "tanh" } : {}), ...attrs } as never;
      const sig = inferOrThrow(entry, types, a);
      const ys = entry.forward(tf, { inputs: inputs.map((i) => tf.tensor(i.data, i.shape)), params: params.map((p) => tf.tensor(p.data, p.shape)), attrs: a, sig, shard: wholeShard(sig, types) });
      return ys.map((y) => Array.from(y.dataSync()));
    };
    const near = (got: number[], want: number[]) => want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));

    it("gru with an initial state computes torch.nn.GRU (r, z, n; linear_before_reset)", () => {
      const [y, hn] = run(gru, [{ data: sinHalf(24, 0.9), shape: [2, 4, 3] }, { data: sinHalf(4, 2.3), shape: [2, 2] }], [
        { data: sinHalf(18, 0.3), shape: [6, 3] }, { data: sinHalf(12, 0.7), shape: [6, 2] }, { data: sinHalf(6, 1.1), shape: [6] }, { data: sinHalf(6, 1.7), shape: [6] },
      ], { hidden: 2, return_state: true });
      near(y, [-0.2167, -0.07236, -0.15711, 0.0073, -0.26104, -0.06206, -0.3043, -0.23299]);
      near(hn, [-0.3043, -0.23299, -0.28621, -0.24101]);
    });

    it("a reversed relu rnn computes the backward half of torch's bidirectional nn.RNN", () => {
      const w = (f: number) => [{ data: sinHalf(6, f), shape: [2, 3] }, { data: sinHalf(4, f), shape: [2, 2] }, { data: sinHalf(2, f - 0.02), shape: [2] }, { data: sinHalf(2, f - 0.02), shape: [2] }];
      const x = [{ data: sinHalf(24, 0.9), shape: [2, 4, 3] }];
      const [fwd] = run(rnn, x, w(0.49), { hidden: 2, nonlinearity: "relu" });
      near(fwd.slice(0, 4), [0.29433, 0.78927, 0.0, 0.81573]);
      const [bwd, hn] = run(rnn, x, w(0.57), { hidden: 2, nonlinearity: "relu", reverse: true, return_state: true });
      near(bwd.slice(0, 4), [0.60968, 1.26024, 0.0, 1.04819]);
      near(hn, [0.60968, 1.26024, 0.24879, 0.95352]);
    });

    it("sharded equals whole (forward and backward): every cell, state in and out, reverse", () => {
      const arb = fc
        .record({ cell: fc.constantFrom("lstm", "gru", "rnn"), b: fc.integer({ min: 1, max: 4 }), s: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 3 }), state: fc.boolean(), reverse: fc.boolean(), ret: fc.boolean(), seqs: fc.boolean(), lbr: fc.boolean(), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreeFor(c.b, 3)));
      assertProperty(
        fc.property(arb, ([c, deg]) => {
          const entry = c.cell === "lstm" ? lstm : c.cell === "gru" ? gru : rnn;
          const states = c.state ? (c.cell === "lstm" ? [f32(c.b, c.h), f32(c.b, c.h)] : [f32(c.b, c.h)]) : [];
          const extra: Attrs = c.cell === "gru" ? { linear_before_reset: c.lbr } : c.cell === "rnn" ? { nonlinearity: c.lbr ? "relu" : "tanh" } : {};
          const attrs: Attrs = { hidden: c.h, return_sequences: c.seqs, reverse: c.reverse, return_state: c.ret, ...extra };
          const sig = inferOrThrow(entry, [f32(c.b, c.s, c.n), ...states], attrs);
          const res = checkShardedEqualsWhole(tf, { entry, inputs: [f32(c.b, c.s, c.n), ...states], attrs, degrees: sig.space.map((_, i) => (i === 0 ? deg : 1)), seed: c.seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        25,
      );
    });
  });
}
