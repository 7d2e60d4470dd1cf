// Running a plan on the torch engine: write it (with its ops' signatures) to a temporary
// file, start `python3 -m par_torch run` with one rank per plan device, stream its JSON
// lines into a TorchRunResult, and map any failure to one coded ParError.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parError } from "../../core/diagnostics.js";
import type { Plan } from "../../plan/plan.js";
import { withSignatures } from "../../plan/signatures.js";
import { readDump, type DumpedTensors } from "./dump.js";
import { exitError, recordError, startEngine, type EngineRecord } from "./process.js";
import { findTorchPython, type TorchPython } from "./python.js";
import { ResultBuilder, type TorchRunResult } from "./result.js";

export type TorchDevice = "cpu" | "cuda";

export interface TorchRunOptions {
  steps: number;
  /** "cpu" (Gloo, default) or "cuda" (NCCL, one GPU per rank). */
  device?: TorchDevice;
  /** Seconds a rank waits for a peer before failing (default 60). */
  timeoutS?: number;
  /** A directory of <input id>.npy files (docs/engines.md); default: synthetic data. */
  data?: string;
  /** Write the measured timeline as a Chrome trace here. */
  trace?: string;
  /** Report every instruction's start and end (the timeline's starts/ends). */
  times?: boolean;
  /** Also return the weights after the last step and that step's weight gradients. */
  dumpWeights?: boolean;
  /** Receive in the sender's order (as NCCL needs) even on Gloo. */
  orderedP2p?: boolean;
  /** torch threads per rank (default: cores / ranks). */
  threads?: number;
  onStep?: (step: number, loss: number, ms: number) => void;
  /** Called once the ranks are up, with their process ids. */
  onStart?: (info: { pids: number[]; launcherPid: number | undefined }) => void;
  python?: TorchPython;
  env?: NodeJS.ProcessEnv;
}

export interface TorchRunOutput extends TorchRunResult {
  /** With `dumpWeights`. */
  dump?: DumpedTensors;
}

/** The plan with every op's exported signature (what python/par_torch reads). */
export function signedPlan(plan: Plan): Plan {
  return plan.ops.every((o) => o.signature !== undefined) ? plan : withSignatures(plan);
}

/** The command-line flags of `par_torch run` for these options. */
export function runFlags(options: TorchRunOptions): string[] {
  const args = ["--steps", String(options.steps), "--device", options.device ?? "cpu", "--timeout", String(options.timeoutS ?? 60)];
  if (options.data !== undefined) args.push("--data", options.data);
  if (options.trace !== undefined) args.push("--trace", options.trace);
  if (options.times) args.push("--times");
  if (options.orderedP2p) args.push("--ordered-p2p");
  if (options.threads !== undefined) args.push("--threads", String(options.threads));
  return args;
}

export async function runPlanTorch(plan: Plan, options: TorchRunOptions): Promise<TorchRunOutput> {
  if (!(Number.isInteger(options.steps) && options.steps >= 1)) throw new RangeError("runPlanTorch: steps must be an integer ≥ 1");
  const python = options.python ?? findTorchPython(options.env);
  const dir = mkdtempSync(join(tmpdir(), "par-torch-"));
  try {
    const planPath = join(dir, "plan.json");
    writeFileSync(planPath, JSON.stringify(signedPlan(plan)));
    const dumpDir = join(dir, "dump");
    const args = ["run", planPath, "--json", "--nproc", String(plan.devices.length), ...runFlags(options)];
    if (options.dumpWeights) args.push("--dump", dumpDir);
    const builder = new ResultBuilder();
    let error: EngineRecord | undefined;
    const proc = startEngine(python.python, args, (rec) => {
      if (rec.event === "start") {
        builder.start(rec);
        options.onStart?.({ pids: (rec.pids ?? []) as number[], launcherPid: proc.child.pid });
      }
      else if (rec.event === "step") {
        builder.step(rec);
        options.onStep?.(rec.step as number, rec.loss as number, rec.ms as number);
      } else if (rec.event === "error") error ??= rec;
    }, options.env);
    const exit = await proc.exited;
    if (error) throw recordError(error);
    if (exit.status !== 0) throw exitError(exit, `${plan.model}/${plan.strategy}`);
    const result: TorchRunOutput = builder.result();
    if (result.losses.length !== options.steps) throw parError("PAR8012", `the torch engine reported ${result.losses.length} of ${options.steps} steps`);
    if (options.dumpWeights) result.dump = readDump(plan, dumpDir);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
