// TensorFlow.js for tests: the cpu backend and the wasm backend, chosen per suite.
// tfjs is a process-wide singleton, so a suite switches the backend in beforeAll.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import type { TF } from "../../src/ops/contract.js";

export const BACKENDS = ["cpu", "wasm"] as const;
export type BackendName = (typeof BACKENDS)[number];

export async function useBackend(name: BackendName): Promise<TF> {
  tf.env().set("PROD", true);
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend ${name} failed to initialise`);
  await tf.ready();
  return tf as unknown as TF;
}

export { tf };
