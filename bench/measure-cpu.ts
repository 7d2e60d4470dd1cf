// Measures this machine (matmul FLOP/s, copy bandwidth, kernel launch time, shared-memory
// link) on the tfjs wasm backend and writes src/core/cpu-measured.json, which the `cpu`
// catalog entry and the `local` mesh read. Run after `npm run build`:
//   node dist/bench/measure-cpu.js [OUT.json]

import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { writeFileAtomic } from "../src/core/files.js";
import { measureCpu } from "../src/core/measure-cpu.js";
import { channelLatency } from "./runtime.js";
import { repoRoot } from "./paths.js";

tf.env().set("PROD", true);
if (!(await tf.setBackend("wasm"))) throw new Error("the tfjs wasm backend failed to initialise");
await tf.ready();
const measured = await measureCpu(tf as unknown as Parameters<typeof measureCpu>[0]);
// The link latency the simulator charges per message is what the runtime's own exchange
// path costs (ShmComm send and a device's spinning-then-sleeping receive), not a bare
// Atomics round trip: the latter is several times smaller and made local predictions of
// communication-heavy strategies optimistic.
measured.shm.latency = await channelLatency();
measured.provenance += "; shm latency: half the median round trip of 1-float messages through the runtime's ShmComm between two worker threads (bench/runtime.ts channelLatency)";
const out = process.argv[2] ? resolve(process.argv[2]) : join(repoRoot(), "src", "core", "cpu-measured.json");
writeFileAtomic(out, JSON.stringify(measured, null, 2) + "\n");
process.stdout.write(`wrote ${out}\n${JSON.stringify(measured, null, 2)}\n`);
