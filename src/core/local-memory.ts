// What a device of this machine (the `local` mesh) can hold. Its devices share the
// machine's RAM, so each gets an equal share of it; and when the local runtime's kernels
// run on tfjs's wasm backend (the default when no native TensorFlow binding is installed),
// each worker's tensors live in a 32-bit wasm heap of at most 4 GiB, so a device holds no
// more than that either (docs/memory.md). Read at call time: a plan made here is for here.

import { createRequire } from "node:module";
import { totalmem } from "node:os";

/** The largest wasm heap tfjs-backend-wasm grows to (emscripten's getHeapMax(): 4 GiB less a 64 KiB page). */
export const WASM_HEAP_MAX_BYTES = 4294901760;

/** Whether a native TensorFlow binding (@tensorflow/tfjs-node[-gpu]) is installed: then tfjs's `auto` backend is `tensorflow`, not wasm. */
export function nativeTfjsInstalled(): boolean {
  const require = createRequire(import.meta.url);
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      /* not installed */
    }
  }
  return false;
}

/** Each of `count` devices' equal share of this machine's RAM, in bytes. */
export function ramShareBytes(count: number): number {
  return Math.floor(totalmem() / Math.max(1, count));
}

/**
 * The capacity of one of `count` local devices: its share of RAM, and at most the wasm heap
 * when the local runtime's default backend is wasm.
 */
export function localDeviceMemoryBytes(count: number): number {
  const share = ramShareBytes(count);
  return nativeTfjsInstalled() ? share : Math.min(share, WASM_HEAP_MAX_BYTES);
}
