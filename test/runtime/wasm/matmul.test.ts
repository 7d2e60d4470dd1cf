import { describe, expect, it } from "vitest";
import { initBackend } from "../../../src/runtime/backend.js";

/** Plain float64 reference of op(a)·op(b) over broadcast batch dims ([..., m, k] · [..., k, n]). */
function reference(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], tA: boolean, tB: boolean): Float32Array {
  const ar = aShape.length;
  const br = bShape.length;
  const [ra, ca] = [aShape[ar - 2], aShape[ar - 1]];
  const [rb, cb] = [bShape[br - 2], bShape[br - 1]];
  const m = tA ? ca : ra;
  const k = tA ? ra : ca;
  const n = tB ? rb : cb;
  const batchA = a.length / (ra * ca);
  const batchB = b.length / (rb * cb);
  const batch = Math.max(batchA, batchB);
  const out = new Float32Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    const ao = (batchA === 1 ? 0 : z) * ra * ca;
    const bo = (batchB === 1 ? 0 : z) * rb * cb;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a[ao + (tA ? q * ca + i : i * ca + q)] * b[bo + (tB ? j * cb + q : q * cb + j)];
        out[z * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

function filled(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(seed * 7.1 + i * 1.3);
  return x;
}

describe("wasm BatchMatMul with transposed operands (wasm-matmul.ts)", () => {
  const cases: { a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [
    { a: [5, 3], b: [5, 4], tA: true, tB: false },
    { a: [3, 5], b: [4, 5], tA: false, tB: true },
    { a: [5, 3], b: [4, 5], tA: true, tB: true },
    { a: [3, 5], b: [5, 4], tA: false, tB: false },
    { a: [2, 6, 3], b: [2, 6, 4], tA: true, tB: false },
    { a: [2, 3, 6], b: [2, 4, 6], tA: false, tB: true },
    { a: [2, 6, 3], b: [4, 6], tA: true, tB: true },
  ];
  it.each(cases)("op(a $a)·op(b $b), transposeA $tA, transposeB $tB matches a float64 reference", async ({ a, b, tA, tB }) => {
    const { tf, name } = await initBackend("wasm");
    expect(name).toBe("wasm");
    const av = filled(a.reduce((x, y) => x * y, 1), 1);
    const bv = filled(b.reduce((x, y) => x * y, 1), 2);
    const out = tf.matMul(tf.tensor(av, a), tf.tensor(bv, b), tA, tB);
    const want = reference(av, a, bv, b, tA, tB);
    const got = out.dataSync() as Float32Array;
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
  });

  it("leaves autodiff intact: the gradients of x·W are dY·Wᵀ and xᵀ·dY", async () => {
    const { tf } = await initBackend("wasm");
    const xv = filled(12, 3);
    const wv = filled(20, 4);
    const dyv = filled(15, 5);
    const x = tf.tensor(xv, [3, 4]);
    const w = tf.tensor(wv, [4, 5]);
    const dy = tf.tensor(dyv, [3, 5]);
    const [dx, dw] = tf.grads((p: unknown, q: unknown) => tf.sum(tf.mul(tf.matMul(p as never, q as never), dy)))([x, w]);
    const wantDx = reference(dyv, [3, 5], wv, [4, 5], false, true);
    const wantDw = reference(xv, [3, 4], dyv, [3, 5], true, false);
    (dx.dataSync() as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(wantDx[i], 4));
    (dw.dataSync() as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(wantDw[i], 4));
  });

  it("frees the transposed copies it makes", async () => {
    const { tf } = await initBackend("wasm");
    const a = tf.tensor(filled(15, 6), [5, 3]);
    const b = tf.tensor(filled(20, 7), [5, 4]);
    // The backend's own count: the transposed operands are backend data, not engine tensors.
    const live = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    tf.matMul(a, b, true, false).dispose();
    const before = live();
    for (let i = 0; i < 5; i++) tf.matMul(a, b, true, false).dispose();
    expect(live()).toBe(before);
  });
});
