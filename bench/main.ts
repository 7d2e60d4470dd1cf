// `npm run bench [-- SECTION...]`: performance figures, each section printing ratios
// measured side by side in one run (the machines are shared and noisy).
import { runFidelityBench } from "./fidelity.js";
import { runImportBench } from "./import.js";
import { runMemoryBench } from "./memory.js";
import { parseBench } from "./parse.js";
import { runRuntimeBench } from "./runtime.js";
import { runScaleBench } from "./scale.js";
import { runSearchBench } from "./search.js";
import { runSimulateBench } from "./simulate.js";
import { runTorchBench } from "./torch.js";
import { runVerifyBench } from "./verify.js";

/** Options after the section names: `--engine tfjs|torch` (the fidelity bench's engine). */
interface BenchOptions {
  engine: "tfjs" | "torch";
}

type Section = { name: string; doc: string; run: (o: BenchOptions) => Promise<string>; slow?: boolean };

const SECTIONS: Section[] = [
  { name: "parse", doc: "parse + check of a generated 10,000-line .par file (target ≤ 200 ms)", run: parseBench },
  { name: "simulate", doc: "full vs delta simulations per second (target: delta ≥ 10× full at 64 devices; inception_v3 on 16 devices ≤ 20 ms)", run: runSimulateBench },
  { name: "search", doc: "FlexFlow's six models on p100x16 and k80x64: search time, speed-up over data parallel and expert", run: runSearchBench },
  { name: "scale", doc: "GPT rows of the PTD-P paper (1.7B–1T) on their GPU counts: par's searched plan vs Megatron's published configuration in the same simulator (ratio ≥ 1), peak memory ≤ 80 GB, vs the paper's measured TFLOP/s, vs ZeRO-3 data parallelism", run: runScaleBench },
  { name: "runtime", doc: "data parallel on 2 local devices vs 1; shm all-reduce and point-to-point bandwidth vs memcpy", run: runRuntimeBench },
  { name: "fidelity", doc: "simulated vs measured iteration time on the local mesh (target: median error ≤ 10 %, rank correlation ≥ 0.9); --engine torch measures on the torch engine", run: (o) => runFidelityBench({ engine: o.engine }) },
  { name: "import", doc: "a generated 500 MB ONNX file: import time and peak RSS (target ≤ 15 s, ≤ 2 × file + 500 MB), and with its weights as external data", run: runImportBench },
  { name: "torch", doc: "par's torch engine vs hand-written PyTorch (DDP / tensor parallel) on the same model and ranks (target ratio ≤ 1.15); vs par's tfjs runtime", run: runTorchBench },
  { name: "memory", doc: "predicted vs measured peak memory per device of shipped models on the tfjs wasm runtime and the torch engine on CPU (target: within 15 %)", run: () => runMemoryBench() },
  { name: "verify", doc: "the central property at ≥ 1,000 random graph × strategy cases", run: () => runVerifyBench(), slow: true },
];

/** Splits argv into section names and options; undefined (after a message) on a bad option. */
function parseArgv(argv: string[]): { wanted: string[]; options: BenchOptions } | undefined {
  const wanted: string[] = [];
  const options: BenchOptions = { engine: "tfjs" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--engine" || a.startsWith("--engine=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (v !== "tfjs" && v !== "torch") {
        process.stderr.write(`bench: --engine ${v ?? ""}: expected tfjs or torch\n`);
        return undefined;
      }
      options.engine = v;
    } else if (a.startsWith("--")) {
      process.stderr.write(`bench: unknown option ${a} (options: --engine tfjs|torch)\n`);
      return undefined;
    } else wanted.push(a);
  }
  return { wanted, options };
}

async function main(): Promise<void> {
  const parsed = parseArgv(process.argv.slice(2));
  if (!parsed) {
    process.exitCode = 2;
    return;
  }
  const { wanted, options } = parsed;
  const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.name === w));
  if (unknown.length) {
    process.stderr.write(`bench: unknown section ${unknown.join(", ")}; sections: ${SECTIONS.map((s) => s.name).join(", ")}\n`);
    process.exitCode = 2;
    return;
  }
  for (const s of SECTIONS) {
    if (wanted.length ? !wanted.includes(s.name) : false) continue;
    process.stdout.write(`\n== ${s.name}: ${s.doc}\n`);
    process.stdout.write((await s.run(options)) + "\n");
  }
}

await main();
