// Runtime benchmarks (issue 6 §5), on the `local` mesh and the default backend:
//  1. data parallelism on the local mesh's devices vs one device, for a small MLP and a
//     small CNN: step time and speed-up, next to the speed-up 2 INDEPENDENT workers reach
//     on this machine (the one-device plan run in two workers at once: the ceiling that
//     core count, memory bandwidth and the other tenants allow);
//  2. the shared-memory channels: point-to-point and 2-device all-reduce bandwidth
//     between two worker threads, vs a plain memory copy in one thread (target ≥ 50 %).
// Step times are medians over steps after the first two (warm-up: wasm compiles kernels
// on first use). The machine is shared: every ratio is taken within one run.

import { loadavg } from "node:os";
import { Worker } from "node:worker_threads";
import { baseline } from "../src/ir/baselines.js";
import { runPlan } from "../src/runtime/run-workers.js";
import { CNN, loadGraph, localMesh, median, MLP, ONE_DEVICE, planOf, singleOn, type BenchModel } from "./runtime-models.js";

const STEPS = 8;

async function stepMs(plan: ReturnType<typeof planOf>): Promise<{ ms: number; backend: string }> {
  const r = await runPlan(plan, { steps: STEPS });
  return { ms: median(r.stepTimesMs.slice(2)), backend: r.backend };
}

async function dpLine(m: BenchModel): Promise<string> {
  const graph = loadGraph(m);
  const mesh = localMesh();
  const one = planOf(graph, singleOn(graph, ONE_DEVICE), ONE_DEVICE);
  const dp = planOf(graph, baseline("dp", graph, mesh), mesh);
  const t1 = await stepMs(one);
  const tn = await stepMs(dp);
  // Two independent one-device runs at once: each step time, and the throughput ratio.
  const [a, b] = await Promise.all([stepMs(one), stepMs(one)]);
  const independent = (2 * t1.ms) / Math.max(a.ms, b.ms);
  return (
    `${m.label} on ${t1.backend}: 1 device ${t1.ms.toFixed(2)} ms/step; dp on ${dp.programs.length} devices ${tn.ms.toFixed(2)} ms/step ` +
    `→ speed-up ${(t1.ms / tn.ms).toFixed(2)}×; 2 independent 1-device workers reach ${independent.toFixed(2)}× throughput ` +
    `(each ${a.ms.toFixed(2)} / ${b.ms.toFixed(2)} ms/step)`
  );
}

// The channel benchmark runs in two eval'd workers that import the compiled shm modules.
const CHANNEL_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const { ShmComm } = await import(workerData.commUrl);
  const { me, channels, floats, messages, mode } = workerData;
  const comm = new ShmComm(me, channels, { timeoutMs: 60000 });
  const data = new Float32Array(floats).fill(me + 1);
  const other = 1 - me;
  const run = async (tagBase) => {
    for (let i = 0; i < messages; i++) {
      if (mode === "p2p") {
        if (me === 0) comm.send(1, tagBase + i, data);
        else await comm.recv(0, tagBase + i);
      } else await comm.allreduce([0, 1], tagBase + i, data);
    }
    if (mode === "p2p") {
      // Round trip at the end so the sender's clock covers the receiver's last copy.
      if (me === 1) comm.send(0, tagBase + "ack", new Float32Array(1));
      else await comm.recv(1, tagBase + "ack");
    }
  };
  await run("warm");
  const t0 = performance.now();
  await run("t");
  parentPort.postMessage(performance.now() - t0);
})();
`;

async function channelBandwidth(mode: "p2p" | "allreduce", floats: number, messages: number): Promise<number> {
  const { createChannels } = await import("../src/runtime/shm-comm.js");
  const { createChannelBuffer } = await import("../src/runtime/shm-channel.js");
  const ring = Math.min(8 << 20, Math.max(64 << 10, 2 * (floats * 4 + 256)));
  const ch = createChannels([0, 1], () => ring, createChannelBuffer);
  const commUrl = new URL("../src/runtime/shm-comm.js", import.meta.url).href;
  const times = await Promise.all(
    [0, 1].map(
      (me) =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(CHANNEL_WORKER, { eval: true, workerData: { me, channels: ch.get(me)!, floats, messages, mode, commUrl } });
          w.once("message", (ms: number) => {
            resolve(ms);
            void w.terminate();
          });
          w.once("error", reject);
        }),
    ),
  );
  const ms = Math.max(...times);
  return (floats * 4 * messages) / (ms / 1000);
}

function copyBandwidth(floats: number, messages: number): number {
  const src = new Float32Array(floats).fill(1);
  const dst = new Float32Array(floats);
  for (let i = 0; i < 3; i++) dst.set(src);
  const t0 = performance.now();
  for (let i = 0; i < messages; i++) dst.set(src);
  return (floats * 4 * messages) / ((performance.now() - t0) / 1000);
}

const GBs = (x: number) => `${(x / 1e9).toFixed(2)} GB/s`;

export async function runRuntimeBench(): Promise<string> {
  const lines: string[] = [];
  for (const m of [MLP, CNN]) lines.push(await dpLine(m));
  for (const floats of [1 << 14, 1 << 20]) {
    const messages = floats >= 1 << 20 ? 40 : 400;
    const copy = copyBandwidth(floats, messages);
    const p2p = await channelBandwidth("p2p", floats, messages);
    const ar = await channelBandwidth("allreduce", floats, messages);
    lines.push(
      `shm ${(floats * 4) >> 10} KiB messages: memory copy ${GBs(copy)}; point-to-point ${GBs(p2p)} (${((100 * p2p) / copy).toFixed(0)} % of the copy; target ≥ 50 %); ` +
        `2-device all-reduce ${GBs(ar)} of buffer per second (${((100 * ar) / copy).toFixed(0)} %)`,
    );
  }
  lines.push(`load average ${loadavg()[0].toFixed(1)} on ${localMesh().devices.length} cores (the machine is shared; compare ratios within one run)`);
  return lines.join("\n");
}
