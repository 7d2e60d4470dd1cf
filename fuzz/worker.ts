// The fuzzer's worker thread: builds the corpus once, then makes and runs the cases the
// harness asks for, one at a time. It runs in a thread of its own so that the harness can
// stop a case that hangs (terminate the thread) and go on with a fresh one.

import { parentPort, workerData } from "node:worker_threads";
import { makeCase } from "./cases.js";
import { Corpus } from "./corpus.js";
import { executeCase } from "./execute.js";

export type ToWorker = { index: number };
export type FromWorker =
  | { type: "ready" }
  | { type: "case"; case: Omit<ReturnType<typeof makeCase>, "files"> & { files: { name: string; bytes: number }[] } }
  | { type: "result"; index: number; result: Awaited<ReturnType<typeof executeCase>> };

const { seed } = workerData as { seed: number };
const corpus = new Corpus(seed);
corpus.plans();
const port = parentPort!;
port.postMessage({ type: "ready" } satisfies FromWorker);
port.on("message", async (m: ToWorker) => {
  const c = makeCase(corpus, seed, m.index);
  // The case is described before it runs: if it hangs, the harness still knows what it was.
  port.postMessage({ type: "case", case: { ...c, files: c.files.map((f) => ({ name: f.name, bytes: typeof f.data === "string" ? Buffer.byteLength(f.data) : f.data.length })) } } satisfies FromWorker);
  const result = await executeCase(c);
  port.postMessage({ type: "result", index: m.index, result } satisfies FromWorker);
});
