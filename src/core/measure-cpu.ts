// Measures this machine as a mesh device: the `cpu` catalog entry and the `local` mesh's
// shared-memory link carry measured figures, not guesses. Run by bench/measure-cpu.ts, whose
// result is committed as src/core/cpu-measured.json.
//
// Every figure is the best of several repetitions: the machine is shared, and the fastest
// run is the one least disturbed by other processes, i.e. closest to what the hardware does.

import { Worker } from "node:worker_threads";
import { availableParallelism, cpus, totalmem } from "node:os";
import type * as tfc from "@tensorflow/tfjs-core";

type TF = typeof tfc;

export interface CpuMeasurement {
  /** ISO date of the measurement. */
  date: string;
  /** tfjs backend the compute figures were taken on ("wasm"). */
  backend: string;
  /** How the numbers were obtained, in words. */
  provenance: string;
  node: string;
  cpuModel: string;
  /** Logical cores (os.availableParallelism()): the `local` mesh has one device per core. */
  cores: number;
  totalMemoryBytes: number;
  /** Memory budget of one `cpu` device: total RAM shared evenly among the cores. */
  memoryPerDeviceBytes: number;
  /** f32 matmul of size×size by size×size: 2·size³ FLOP. */
  matmul: { size: number; flopsPerSecond: number };
  /** An elementwise op over `bytes` of f32: it reads and writes each byte once. */
  copy: { bytes: number; bytesPerSecond: number };
  /** Time of a one-element op: what any kernel costs regardless of its size. */
  launchOverheadSeconds: number;
  /** Between two worker threads through a SharedArrayBuffer, as the runtime exchanges tensors. */
  shm: { bytes: number; bandwidth: number; latency: number };
}

export interface MeasureOptions {
  matmulSize?: number;
  copyBytes?: number;
  shmBytes?: number;
  /** Repetitions per figure (the best one counts). */
  repeats?: number;
}

/** Best (smallest) wall time in seconds of `repeats` runs of `body`, after one warm-up run. */
function bestTime(repeats: number, body: () => void): number {
  body();
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    body();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

function measureMatmul(tf: TF, size: number, repeats: number): number {
  const a = tf.randomUniform([size, size]);
  const b = tf.randomUniform([size, size]);
  // dataSync waits for backends that run asynchronously; on wasm kernels are synchronous.
  const t = bestTime(repeats, () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  });
  const readBack = bestTime(repeats, () => {
    const c = tf.zeros([size, size]);
    c.dataSync();
    c.dispose();
  });
  a.dispose();
  b.dispose();
  return (2 * size ** 3) / Math.max(t - readBack, t / 2);
}

function measureCopy(tf: TF, bytes: number, repeats: number): number {
  const n = Math.max(1, Math.floor(bytes / 4));
  const x = tf.randomUniform([n]);
  // `neg` must materialise a new buffer (clone would only share the old one).
  const t = bestTime(repeats, () => tf.neg(x).dispose());
  x.dispose();
  return (2 * n * 4) / t;
}

function measureLaunch(tf: TF, repeats: number): number {
  const a = tf.scalar(1);
  const b = tf.scalar(2);
  const perBatch = 200;
  const t = bestTime(repeats, () => {
    for (let i = 0; i < perBatch; i++) tf.add(a, b).dispose();
  });
  a.dispose();
  b.dispose();
  return t / perBatch;
}

// The peer thread: waits for a request, optionally copies the shared buffer out (as a
// receiving device does), and answers. ctl[0] request number, ctl[1] answer, ctl[2] op.
const PEER = `
const { workerData } = require("node:worker_threads");
const ctl = new Int32Array(workerData.ctl);
const data = new Uint8Array(workerData.data);
const local = new Uint8Array(data.length);
let seen = 0;
for (;;) {
  while (Atomics.load(ctl, 0) === seen) Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  const op = Atomics.load(ctl, 2);
  if (op === 2) break;
  if (op === 1) local.set(data);
  Atomics.store(ctl, 1, seen);
  Atomics.notify(ctl, 1);
}
`;

async function measureShm(bytes: number, repeats: number): Promise<{ bandwidth: number; latency: number }> {
  const ctlBuf = new SharedArrayBuffer(16);
  const dataBuf = new SharedArrayBuffer(bytes);
  const ctl = new Int32Array(ctlBuf);
  const data = new Uint8Array(dataBuf);
  const source = new Uint8Array(bytes).map((_, i) => i & 255);
  const worker = new Worker(PEER, { eval: true, workerData: { ctl: ctlBuf, data: dataBuf } });
  const exited = new Promise<void>((resolve, reject) => {
    worker.once("exit", () => resolve());
    worker.once("error", reject);
  });
  await new Promise<void>((resolve, reject) => {
    worker.once("online", () => resolve());
    worker.once("error", reject);
  });
  let seq = 0;
  const request = (op: 0 | 1 | 2): void => {
    seq++;
    Atomics.store(ctl, 2, op);
    Atomics.store(ctl, 0, seq);
    Atomics.notify(ctl, 0);
    if (op === 2) return;
    const deadline = performance.now() + 10_000;
    while (Atomics.load(ctl, 1) !== seq) {
      Atomics.wait(ctl, 1, Atomics.load(ctl, 1), 1000);
      if (performance.now() > deadline) throw new Error("shared-memory peer thread did not answer within 10 s");
    }
  };
  try {
    const pings = 200;
    const roundTrip = bestTime(repeats, () => {
      for (let i = 0; i < pings; i++) request(0);
    }) / pings;
    const transfer = bestTime(repeats, () => {
      data.set(source);
      request(1);
    });
    // A transfer is one copy in, one copy out and one round trip of signalling.
    const latency = roundTrip / 2;
    return { bandwidth: bytes / Math.max(transfer - roundTrip, transfer / 2), latency };
  } finally {
    request(2);
    await exited;
  }
}

/** Measures this machine on `tf`'s current backend (bench/measure-cpu.ts picks wasm). */
export async function measureCpu(tf: TF, options: MeasureOptions = {}): Promise<CpuMeasurement> {
  const repeats = options.repeats ?? 5;
  const matmulSize = options.matmulSize ?? 1024;
  const copyBytes = options.copyBytes ?? 64 * 1024 * 1024;
  const shmBytes = options.shmBytes ?? 64 * 1024 * 1024;
  const cores = availableParallelism();
  const total = totalmem();
  const flops = measureMatmul(tf, matmulSize, repeats);
  const copy = measureCopy(tf, copyBytes, repeats);
  const launch = measureLaunch(tf, repeats);
  const shm = await measureShm(shmBytes, repeats);
  return {
    date: new Date().toISOString(),
    backend: tf.getBackend(),
    provenance:
      `measured by bench/measure-cpu.ts (measureCpu): best of ${repeats} runs each of a ${matmulSize}x${matmulSize} f32 matmul, ` +
      `a ${copyBytes}-byte elementwise copy, 200 one-element adds, and a ${shmBytes}-byte SharedArrayBuffer hand-off between two worker threads`,
    node: process.version,
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores,
    totalMemoryBytes: total,
    memoryPerDeviceBytes: Math.floor(total / cores),
    matmul: { size: matmulSize, flopsPerSecond: flops },
    copy: { bytes: copyBytes, bytesPerSecond: copy },
    launchOverheadSeconds: launch,
    shm: { bytes: shmBytes, ...shm },
  };
}
