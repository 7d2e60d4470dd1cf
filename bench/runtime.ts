// Runtime benchmarks (issue 6 §5), on the `local` mesh and the default backend:
//  1. data parallelism on the local mesh's devices vs one device, for a small MLP and a
//     small CNN: step time and speed-up, next to the speed-up 2 INDEPENDENT workers reach
//     on this machine (the one-device plan run in two workers at once: the ceiling that
//     core count, memory bandwidth and the other tenants allow);
//  2. the shared-memory channels: point-to-point and 2-device all-reduce bandwidth
//     between two worker threads, vs a plain memory copy in one thread (target ≥ 50 %);
//     medians of several runs, each ratio within one run.
// Step times are medians over the timed steps after the untimed warm-up (steadyStepMs).
// The machine is shared: every ratio is taken within one run.

import { availableParallelism, loadavg } from "node:os";
import { Worker } from "node:worker_threads";
import { baseline } from "../src/ir/baselines.js";
import { CNN, loadGraph, localMesh, median, MLP, ONE_DEVICE, planOf, singleOn, steadyStepMs, type BenchModel } from "./runtime-models.js";


async function dpLine(m: BenchModel): Promise<string> {
  const graph = loadGraph(m);
  const mesh = localMesh();
  const one = planOf(graph, singleOn(graph, ONE_DEVICE), ONE_DEVICE);
  const dp = planOf(graph, baseline("dp", graph, mesh), mesh);
  const t1 = await steadyStepMs(one);
  const tn = await steadyStepMs(dp);
  // Two independent one-device runs at once: each step time, and the throughput ratio.
  const [a, b] = await Promise.all([steadyStepMs(one), steadyStepMs(one)]);
  const independent = (2 * t1.ms) / Math.max(a.ms, b.ms);
  return (
    `${m.label} on ${t1.backend}: 1 device ${t1.ms.toFixed(2)} ms/step; dp on ${dp.programs.length} devices ${tn.ms.toFixed(2)} ms/step ` +
    `→ speed-up ${(t1.ms / tn.ms).toFixed(2)}×; 2 independent 1-device workers reach ${independent.toFixed(2)}× throughput ` +
    `(each ${a.ms.toFixed(2)} / ${b.ms.toFixed(2)} ms/step)`
  );
}

// The channel benchmark runs in two eval'd workers that import the compiled shm modules.
// Point-to-point is measured as MPI's osu_bw does: the sender sends a window of messages
// (as many as the ring holds, as a plan's sends to a peer normally do), the receiver takes
// each into a destination buffer (recvInto with the executor's sink: a whole-buffer
// receive, so a handed-off payload is adopted, not copied) and acknowledges the window; a "burst" run sends every message at once instead (the rest waits in the
// sender's queue, copied). The all-reduce is the executor's (allreduceShared: a large
// buffer moves into the run's shared arena once, in the warm-up, as runPlan sizes it, and
// is summed there in place). Each of REPS timed runs follows a warm-up; the median run is reported.
const REPS = 5;
const CHANNEL_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const { ShmComm } = await import(workerData.commUrl);
  const { me, channels, floats, messages, mode, window, reps, options, arena } = workerData;
  const comm = new ShmComm(me, channels, { timeoutMs: 60000, blocking: true, ...(arena ? { arena } : {}), ...options });
  let data = new Float32Array(floats).fill(me + 1);
  let dst = new Float32Array(floats);
  const sink = {
    begin(n) { if (n !== floats) throw new Error("message of " + n + " floats, expected " + floats); },
    chunk(src, at, offset, count) { dst.set(src.subarray(at, at + count), offset); },
    // As the executor's receive of a whole buffer: a handed-off payload becomes the
    // destination, and the array it replaces goes back to the sender's pool.
    adopt(a) { const old = dst; dst = a; return old; },
  };
  const run = async (tagBase) => {
    if (mode === "allreduce") {
      for (let i = 0; i < messages; i++) data = await comm.allreduceShared([0, 1], tagBase + i, data);
      return;
    }
    if (mode === "pingpong") {
      for (let i = 0; i < messages; i++) {
        if (me === 0) {
          comm.send(1, tagBase + i, data);
          await comm.recv(1, tagBase + "r" + i);
        } else {
          await comm.recvInto(0, tagBase + i, sink);
          comm.send(0, tagBase + "r" + i, data);
        }
      }
      return;
    }
    for (let w = 0; w < messages; w += window) {
      const end = Math.min(messages, w + window);
      if (me === 0) {
        for (let i = w; i < end; i++) comm.send(1, tagBase + i, data);
        await comm.recv(1, tagBase + "ack" + w);
      } else {
        for (let i = w; i < end; i++) await comm.recvInto(0, tagBase + i, sink);
        comm.send(0, tagBase + "ack" + w, new Float32Array(1));
      }
    }
  };
  await run("warm");
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await run("t" + r + ":");
    times.push(performance.now() - t0);
  }
  parentPort.postMessage(times);
})();
`;

/** Median bytes per second over REPS runs (a run's time is the slower worker's). */
async function channelBandwidth(mode: "p2p" | "burst" | "allreduce" | "pingpong", floats: number, messages: number, options: Record<string, unknown> = {}): Promise<number> {
  const { channelPorts, createChannels } = await import("../src/runtime/shm/comm.js");
  const { createChannelBuffer } = await import("../src/runtime/shm/channel.js");
  const { ringBytesFor } = await import("../src/runtime/workers/run-workers.js");
  // Sized as runPlan sizes a pair's ring for this message size.
  const ring = ringBytesFor(floats * 4);
  const window = mode === "burst" ? messages : Math.max(1, Math.floor(ring / (floats * 4 + 64)) - 1);
  const ch = createChannels([0, 1], () => ring, createChannelBuffer);
  const { createArena } = await import("../src/runtime/shm/arena.js");
  // Room for each device's buffer, as runPlan makes for a plan's all-reduced buffers.
  const arena = mode === "allreduce" ? createArena([0, 1], () => floats * 4) : undefined;
  const commUrl = new URL("../src/runtime/shm/comm.js", import.meta.url).href;
  const times = await Promise.all(
    [0, 1].map(
      (me) =>
        new Promise<number[]>((resolve, reject) => {
          const channels = ch.get(me)!;
          const workerData = { me, channels, floats, messages, mode: mode === "burst" ? "p2p" : mode, window, reps: REPS, commUrl, options, arena: arena?.get(me) };
          const w = new Worker(CHANNEL_WORKER, { eval: true, workerData, transferList: channelPorts(channels) });
          w.once("message", (ms: number[]) => {
            resolve(ms);
            void w.terminate();
          });
          w.once("error", reject);
        }),
    ),
  );
  const runs = times[0].map((t, i) => Math.max(t, times[1][i]));
  return (floats * 4 * messages) / (median(runs) / 1000);
}

/**
 * One-way latency of the runtime's own exchange path (ShmComm send, then a receive that
 * spins and sleeps as a device's does): half the median round trip of 1-float messages
 * between two worker threads. bench/measure-cpu.ts records it as the local mesh's link
 * latency, so the simulator charges each message what the runtime pays for it.
 */
export async function channelLatency(messages = 400): Promise<number> {
  const bytesPerSecond = await channelBandwidth("pingpong", 1, messages);
  // channelBandwidth reports bytes of `messages` one-way messages over a run of `messages` round trips.
  return 4 / bytesPerSecond / 2;
}

/**
 * The reference: one thread's plain copy of the same bytes, measured the way the channel
 * is. `messages` copies (Float32Array.set) of a `floats`-element message into one
 * preallocated destination make a run; REPS timed runs follow a warm-up; bytes over the
 * median run. The source and destination are ordinary (non-shared) buffers, as a
 * device's tensors are. `shared` copies into a SharedArrayBuffer instead: not the
 * reference, only context (V8 copies shared memory with word-by-word relaxed copies, so
 * a ring's copy in or out runs at that speed, not at a plain memcpy's).
 */
function copyBandwidth(floats: number, messages: number, shared = false): number {
  const src = new Float32Array(floats).fill(1);
  const dst = shared ? new Float32Array(new SharedArrayBuffer(floats * 4)) : new Float32Array(floats);
  for (let i = 0; i < 3; i++) dst.set(src);
  const runs: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < messages; i++) dst.set(src);
    runs.push(performance.now() - t0);
  }
  return (floats * 4 * messages) / (median(runs) / 1000);
}

/** The channel lines alone, with ShmComm options overriding the workers' (for experiments). */
export async function runChannelBench(options: Record<string, unknown> = {}, sizes = [1 << 14, 1 << 20]): Promise<string> {
  const lines: string[] = [];
  for (const floats of sizes) {
    const messages = floats >= 1 << 20 ? 40 : 400;
    const r: string[] = [];
    for (const mode of ["p2p", "burst", "allreduce"] as const) r.push(`${mode} ${GBs(await channelBandwidth(mode, floats, messages, options))}`);
    lines.push(`${(floats * 4) >> 10} KiB: copy ${GBs(copyBandwidth(floats, messages))}; ${r.join("; ")}`);
  }
  return lines.join("\n");
}

const GBs = (x: number) => `${(x / 1e9).toFixed(2)} GB/s`;

export async function runRuntimeBench(): Promise<string> {
  const lines: string[] = [];
  for (const m of [MLP, CNN]) lines.push(await dpLine(m));
  for (const floats of [1 << 14, 1 << 20]) {
    const messages = floats >= 1 << 20 ? 40 : 400;
    const p2p = await channelBandwidth("p2p", floats, messages);
    const burst = await channelBandwidth("burst", floats, messages);
    const ar = await channelBandwidth("allreduce", floats, messages);
    // The copy right after the channel runs, under the same load.
    const copy = copyBandwidth(floats, messages);
    const sharedCopy = copyBandwidth(floats, messages, true);
    const pct = (x: number) => `${((100 * x) / copy).toFixed(0)} %`;
    // Below ~1 MiB a message's fixed cost (its record, the peer thread's wake-up, an await)
    // outweighs its copy, whatever the path: the figures say so rather than hide it.
    const us = (bytesPerSecond: number) => `${(((floats * 4) / bytesPerSecond) * 1e6).toFixed(1)} µs`;
    const small = floats * 4 < 1 << 20 ? ` [at this size a message takes ${us(p2p)} end to end against ${us(copy)} for its copy: per-message costs dominate, and the 50 % target is for large messages]` : "";
    lines.push(
      `shm ${(floats * 4) >> 10} KiB messages (medians of ${REPS}): memory copy ${GBs(copy)}; point-to-point ${GBs(p2p)} (${pct(p2p)} of the copy; target ≥ 50 %), ` +
        `all sent at once ${GBs(burst)} (${pct(burst)}); 2-device all-reduce ${GBs(ar)} of buffer per second (${pct(ar)} of the copy; target ≥ 50 %); ` +
        `[context: a copy into shared memory ${GBs(sharedCopy)}]${small}`,
    );
  }
  lines.push(`load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores (the machine is shared; compare ratios within one run)`);
  return lines.join("\n");
}
