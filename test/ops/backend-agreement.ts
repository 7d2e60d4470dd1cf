// The whole op on the cpu and on the wasm backend, forward and backward, on the same data.
// Sharded-equals-whole runs one backend against itself, so a kernel that is wrong but
// consistent (wasm's MaxPoolGrad, its float32 OneHot) would pass it; this catches that.
import type { TensorType } from "../../src/core/tensor.js";
import type { Attrs, OpEntry } from "../../src/ops/contract.js";
import { backwardOf } from "../../src/ops/autodiff.js";
import { compare, inferOrThrow, randomTensor, rng, wholeShard, type Comparison } from "../support/sharded.js";
import { useBackend, type BackendName } from "../support/tf.js";

async function wholeOn(backend: BackendName, entry: OpEntry, inputs: TensorType[], attrs: Attrs, seed: number, intHigh: number): Promise<Float32Array[]> {
  const tf = await useBackend(backend);
  const sig = inferOrThrow(entry, inputs, attrs);
  return tf.tidy(() => {
    const next = rng(seed);
    const xs = inputs.map((t) => randomTensor(tf, t, next, intHigh));
    const ws = sig.params.map((p) => randomTensor(tf, { dtype: p.dtype ?? "f32", shape: p.shape, dims: p.dims }, next));
    const dys = sig.outputs.map((o) => randomTensor(tf, o, next));
    const args = { inputs: xs, params: ws, attrs, sig, shard: wholeShard(sig, inputs) };
    const ys = entry.forward(tf, args);
    const g = backwardOf(entry, tf, { ...args, outputs: ys, dOutputs: dys });
    return [...ys, ...g.dInputs.filter((d) => d !== null), ...g.dParams].map((t) => Float32Array.from(t.dataSync()));
  });
}

/** Failed comparisons of cpu against wasm (empty when they agree). Leaves the cpu backend set. */
export async function cpuVersusWasm(entry: OpEntry, inputs: TensorType[], attrs: Attrs, seed = 1, intHigh = 2, tol = { abs: 1e-4, rel: 1e-4 }): Promise<Comparison[]> {
  const wasm = await wholeOn("wasm", entry, inputs, attrs, seed, intHigh);
  const cpu = await wholeOn("cpu", entry, inputs, attrs, seed, intHigh);
  return cpu.map((c, i) => compare(c, wasm[i], `tensor ${i}`, tol)).filter((c) => !c.ok);
}
