// `npm run bench [-- SECTION...]`: performance figures, each section printing ratios
// measured side by side in one run (the machines are shared and noisy).
import { runFidelityBench } from "./fidelity.js";
import { parseBench } from "./parse.js";
import { runRuntimeBench } from "./runtime.js";
import { runSearchBench } from "./search.js";
import { runSimulateBench } from "./simulate.js";
import { runTorchBench } from "./torch.js";
import { runVerifyBench } from "./verify.js";

type Section = { name: string; doc: string; run: () => Promise<string>; slow?: boolean };

const SECTIONS: Section[] = [
  { name: "parse", doc: "parse + check of a generated 10,000-line .par file (target ≤ 200 ms)", run: parseBench },
  { name: "simulate", doc: "full vs delta simulations per second (target: delta ≥ 10× full at 64 devices; inception_v3 on 16 devices ≤ 20 ms)", run: runSimulateBench },
  { name: "search", doc: "FlexFlow's six models on p100x16 and k80x64: search time, speed-up over data parallel and expert", run: runSearchBench },
  { name: "runtime", doc: "data parallel on 2 local devices vs 1; shm all-reduce and point-to-point bandwidth vs memcpy", run: runRuntimeBench },
  { name: "fidelity", doc: "simulated vs measured iteration time on the local mesh (target: median error ≤ 10 %, rank correlation ≥ 0.9)", run: runFidelityBench },
  { name: "torch", doc: "par's torch engine vs hand-written PyTorch (DDP / tensor parallel) on the same model and ranks (target ratio ≤ 1.15); vs par's tfjs runtime", run: runTorchBench },
  { name: "verify", doc: "the central property at ≥ 1,000 random graph × strategy cases", run: runVerifyBench, slow: true },
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.name === w));
  if (unknown.length) {
    process.stderr.write(`bench: unknown section ${unknown.join(", ")}; sections: ${SECTIONS.map((s) => s.name).join(", ")}\n`);
    process.exitCode = 2;
    return;
  }
  for (const s of SECTIONS) {
    if (wanted.length ? !wanted.includes(s.name) : false) continue;
    process.stdout.write(`\n== ${s.name}: ${s.doc}\n`);
    process.stdout.write((await s.run()) + "\n");
  }
}

await main();
