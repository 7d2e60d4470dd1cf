// Choosing the TensorFlow.js backend a device runs its kernels on.
//
// Order of preference (`auto`): `tensorflow` — the native TensorFlow binding through
// @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node (CPU), when one of them can be
// imported (both are optional: they download a native libtensorflow at install time);
// else `wasm` (@tensorflow/tfjs-backend-wasm, XNNPACK kernels; single-threaded in Node,
// which is what we want: one worker per core); else `cpu` (plain JS kernels). `--backend`
// overrides the choice and fails with PAR5100 when the named one cannot start.
//
// GPUs: tfjs-node-gpu gives no per-thread device placement, and CUDA reads the process
// environment (shared by all worker threads), so device workers share the GPUs that
// TensorFlow picks; per-device GPU pinning needs one process per device. We record the
// limitation rather than pretend (docs/runtime.md, "Backends").
//
// The banner "Hi, looks like you are running TensorFlow.js in Node.js..." is printed by
// the cpu backend's first tensor write through tfjs's `warn`, which is silent when the
// PROD (or IS_TEST) flag is set; PROD also drops debug-mode checks we do not need.

import * as tfjs from "@tensorflow/tfjs";
import { ParError } from "../core/diagnostics.js";
import type { TF } from "../ops/contract.js";
import { installFastTransposedMatMul } from "./wasm/matmul.js";

export const BACKEND_NAMES = ["auto", "tensorflow", "wasm", "cpu"] as const;
export type BackendRequest = (typeof BACKEND_NAMES)[number];
export type BackendName = Exclude<BackendRequest, "auto">;

export interface BackendChoice {
  name: BackendName;
  tf: TF;
  /** For people: which package provides it ("@tensorflow/tfjs-backend-wasm (simd)"). */
  detail: string;
}

export function isBackendRequest(x: string): x is BackendRequest {
  return (BACKEND_NAMES as readonly string[]).includes(x);
}

/** The native binding, or undefined when neither package can be imported. */
async function importNative(): Promise<{ tf: TF; pkg: string } | undefined> {
  // Specifiers held in variables: both packages are optional, and TypeScript must not
  // insist on their types at build time.
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      const mod = (await import(pkg)) as { default?: unknown };
      return { tf: (mod.default ?? mod) as TF, pkg };
    } catch {
      /* not installed or its native library does not load: try the next */
    }
  }
  return undefined;
}

async function useJs(name: "wasm" | "cpu"): Promise<BackendChoice | undefined> {
  const tf = tfjs as unknown as TF;
  tf.env().set("PROD", true);
  if (name === "wasm") {
    await import("@tensorflow/tfjs-backend-wasm");
    installFastTransposedMatMul();
  }
  try {
    if (!(await tf.setBackend(name))) return undefined;
    await tf.ready();
  } catch {
    return undefined;
  }
  const simd = name === "wasm" && tf.env().getAsync !== undefined ? await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT") : false;
  return { name, tf, detail: name === "wasm" ? `@tensorflow/tfjs-backend-wasm${simd ? " (simd)" : ""}` : "@tensorflow/tfjs-backend-cpu" };
}

async function useNative(): Promise<BackendChoice | undefined> {
  const native = await importNative();
  if (!native) return undefined;
  native.tf.env().set("PROD", true);
  try {
    if (!(await native.tf.setBackend("tensorflow"))) return undefined;
    await native.tf.ready();
  } catch {
    return undefined;
  }
  return { name: "tensorflow", tf: native.tf, detail: native.pkg };
}

/** Initialises the requested backend (or the best available for `auto`) in this thread. */
export async function initBackend(request: BackendRequest = "auto"): Promise<BackendChoice> {
  const order: BackendName[] = request === "auto" ? ["tensorflow", "wasm", "cpu"] : [request];
  for (const name of order) {
    const choice = name === "tensorflow" ? await useNative() : await useJs(name);
    if (choice) return choice;
  }
  throw new ParError([
    {
      code: "PAR5100",
      severity: "error",
      message:
        request === "tensorflow"
          ? "backend `tensorflow` needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, and neither can be loaded here"
          : `backend \`${request}\` failed to initialise`,
      hint: "use --backend wasm or --backend cpu (or leave --backend out to pick the best available)",
    },
  ]);
}
