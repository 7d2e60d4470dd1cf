// ONNX Runtime as the numeric oracle of imports: runs an ONNX file's bytes on given arrays
// (the .npy representation par forward reads) and returns its outputs by name.
import ort from "onnxruntime-node";
import type { NpyArray } from "../../src/frontend/npy.js";

export interface OrtOutput {
  dims: number[];
  data: Float32Array;
}

function tensorOf(a: NpyArray): ort.Tensor {
  const dims = [...a.shape];
  switch (a.dtype) {
    case "f4":
      return new ort.Tensor("float32", a.data as Float32Array, dims);
    case "f8":
      return new ort.Tensor("float64", a.data as Float64Array, dims);
    case "i4":
      return new ort.Tensor("int32", a.data as Int32Array, dims);
    case "i8":
      return new ort.Tensor("int64", a.data as BigInt64Array, dims);
    case "u1":
      return new ort.Tensor("uint8", a.data as Uint8Array, dims);
    case "b1":
      return new ort.Tensor("bool", a.data as Uint8Array, dims);
  }
}

/** Runs the model in `bytes` on `feeds` (by input name); every float output, by output name. */
export async function ortRun(bytes: Uint8Array, feeds: Record<string, NpyArray>): Promise<Map<string, OrtOutput>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "disabled", intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const r = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, a]) => [k, tensorOf(a)])));
    const out = new Map<string, OrtOutput>();
    for (const name of session.outputNames) {
      const t = r[name];
      out.set(name, { dims: [...t.dims], data: Float32Array.from(t.data as ArrayLike<number>) });
    }
    return out;
  } finally {
    await session.release();
  }
}
