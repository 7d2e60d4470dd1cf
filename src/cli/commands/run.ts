// `par run FILE|plan.json [--steps N] [--json] [--trace OUT.json] [--backend B] [--timeout S]`:
// trains a plan for N steps with one worker thread per device (src/runtime/workers/run-workers.ts)
// and prints the backend, each step's loss and time. A model FILE (.par, .onnx, model.json) is compiled first (on
// the `local` mesh with the searched strategy unless --mesh/--strategy say otherwise).
//
// --trace writes one Chrome trace with two processes: "measured" (every instruction of
// every step on every device, as the workers timed it) and, when the model and strategy
// are known (a model FILE), "predicted": the simulator's timeline of one iteration of the
// same strategy, drawn from the start of the LAST measured step (the first steps include
// warm-up), so the two can be compared in one view.

import { resolve } from "node:path";
import type { Plan } from "../../plan/plan.js";
import { loadMeasuredCosts } from "../../cost/compute.js";
import { execute, simulate } from "../../pipeline.js";
import { isBackendRequest, BACKEND_NAMES, type BackendRequest } from "../../runtime/backend.js";
import { DEFAULT_TIMEOUT_MS, instructionLabel, instructionOp, type WorkerRunResult } from "../../runtime/workers/run-workers.js";
import type { Timeline } from "../../sim/simulate.js";
import { toChromeTrace, type ChromeTrace, type TraceEvent } from "../../sim/trace.js";
import { median } from "../../core/stats.js";
import { UsageError, type FlagSpec, type ParsedArgs } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { outputFlag, writeOutput } from "../output-path.js";
import { runProgress } from "../step-progress.js";
import { COMPILE_FLAGS, loadPlanOrPar, str } from "./compile-source.js";
import { engineTarget, FORCE_FLAG } from "../memory-check.js";
import { checkRanks, chooseEngine, ENGINE_FLAG, engineArgs, engineLine, meshForRanks, TORCH_FLAGS } from "../engine-flag.js";

export const BACKEND_FLAG: FlagSpec = { name: "backend", kind: "string", value: "B", doc: `tensorflow, wasm or cpu (default: the best available: ${BACKEND_NAMES.slice(1).join(" > ")})` };
export const TIMEOUT_FLAG: FlagSpec = { name: "timeout", kind: "int", value: "S", doc: `seconds any wait may take: a device's start (backend and weights), a message, an all-reduce, a step (default ${DEFAULT_TIMEOUT_MS / 1000})` };
export const STEPS_FLAG: FlagSpec = { name: "steps", kind: "int", value: "N", doc: "training steps (default 10)" };
export const COSTS_FLAG: FlagSpec = { name: "costs", kind: "string", value: "FILE", repeatable: true, doc: "measured-cost tables (`par profile`) for the predicted timeline" };

export function backendFlag(args: ParsedArgs): BackendRequest {
  const b = str(args, "backend") ?? "auto";
  if (!isBackendRequest(b)) throw new UsageError(`unknown backend ${b}`, `one of ${BACKEND_NAMES.join(", ")}`);
  return b;
}

export function positiveInt(args: ParsedArgs, name: string, fallback: number): number {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || v < 1) throw new UsageError(`--${name} needs a positive integer`);
  return v;
}

export function nonNegativeInt(args: ParsedArgs, name: string, fallback: number): number {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || v < 0) throw new UsageError(`--${name} needs an integer ≥ 0`);
  return v;
}

/** The measured timeline as trace events of process `pid` (ts in µs from `origin`, epoch ms). */
export function measuredEvents(plan: Plan, r: WorkerRunResult, pid: number, origin: number): TraceEvent[] {
  const events: TraceEvent[] = [{ name: "process_name", ph: "M", pid, tid: 0, args: { name: `measured (${r.backend})` } }];
  for (const d of r.timeline.devices) {
    events.push({ name: "thread_name", ph: "M", pid, tid: d.device, args: { name: `device ${d.device}` } });
    const program = plan.programs.find((p) => p.device === d.device)!;
    for (const s of d.steps) {
      events.push({ name: `step ${s.step}`, cat: "step", ph: "X", pid, tid: d.device, ts: (s.start - origin) * 1e3, dur: (s.end - s.start) * 1e3, args: { step: s.step } });
      if (!s.starts || !s.ends) continue;
      program.instructions.forEach((ins, i) => {
        events.push({
          name: instructionLabel(ins),
          cat: ins.kind,
          ph: "X",
          pid,
          tid: d.device,
          ts: (s.starts![i] - origin) * 1e3,
          dur: Math.max(0, s.ends![i] - s.starts![i]) * 1e3,
          args: { op: instructionOp(plan, d.device, ins), instruction: i, step: s.step },
        });
      });
    }
  }
  return events;
}

/** One trace: "predicted" (pid 0, the simulator's timeline `predicted`) and "measured" (pid 1, the workers). */
export function comparisonTrace(plan: Plan, r: WorkerRunResult, predicted?: Timeline): ChromeTrace {
  const origin = Math.min(...r.timeline.devices.map((d) => d.steps[0]?.start ?? Infinity));
  const events: TraceEvent[] = [];
  const otherData: Record<string, string | number> = { model: plan.model, strategy: plan.strategy, mesh: plan.mesh, backend: r.backend, measuredMedianStepMs: median(r.stepTimesMs) };
  if (predicted) {
    const t = predicted;
    const sim = toChromeTrace(t, "predicted (simulator)");
    const lastStart = Math.min(...r.timeline.devices.map((d) => d.steps[d.steps.length - 1]?.start ?? Infinity));
    const shift = (lastStart - origin) * 1e3;
    for (const e of sim.traceEvents) events.push(e.ph === "X" ? { ...e, ts: (e.ts ?? 0) + shift } : e);
    otherData.predictedIterationMs = t.iterationTime * 1e3;
  }
  events.push(...measuredEvents(plan, r, 1, origin));
  return { traceEvents: events, displayTimeUnit: "ms", otherData };
}

export const runCommand: Command = {
  name: "run",
  summary: "train a plan (or a model file) on this machine, one worker thread (tfjs) or torch process per device",
  usage: "FILE.par|FILE.onnx|model.json|plan.json [--steps N] [--engine tfjs|torch|auto] [--backend B | --device cpu|cuda] [--nproc N] [--data DIR] [--timeout S] [--trace OUT.json] [--json] [compile options of model files]",
  flags: [STEPS_FLAG, { ...ENGINE_FLAG, doc: `${ENGINE_FLAG.doc} (default tfjs)` }, BACKEND_FLAG, ...TORCH_FLAGS, TIMEOUT_FLAG, { name: "trace", kind: "string", value: "OUT.json", doc: "write measured and predicted timelines as one Chrome trace" }, COSTS_FLAG, ...COMPILE_FLAGS, FORCE_FLAG, JSON_FLAG],
  details: [
    "examples:",
    "  par run models/mlp.par --set hidden=64 --strategy dp --steps 20",
    "  par compile models/mlp.par --set hidden=64 --strategy dp --out mlp.plan.json",
    "  par run mlp.plan.json --backend wasm --trace run.json --json",
    "  par run models/mlp.par --set hidden=64 --engine torch --nproc 2 --steps 20",
    "  par run mlp.plan.json --engine torch --device cuda   # not run: needs CUDA GPUs",
  ].join("\n"),
  async run(ctx: CommandContext): Promise<number> {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one FILE, got ${ctx.args.positionals.length}`);
    const steps = positiveInt(ctx.args, "steps", 10);
    const backend = backendFlag(ctx.args);
    const timeoutMs = positiveInt(ctx.args, "timeout", DEFAULT_TIMEOUT_MS / 1000) * 1000;
    const asJson = ctx.args.flags.json === true;
    const trace = outputFlag(ctx, "trace");
    const engineFlags = engineArgs(ctx.args, backend, { fallback: "tfjs" });
    const chosen = chooseEngine(engineFlags, ctx.io.cwd);
    const c = loadPlanOrPar(ctx, ctx.args.positionals[0], { mesh: meshForRanks(ctx.args, engineFlags, chosen), memory: engineTarget(chosen.engine.name, backend, engineFlags.device) });
    if (!c) return 1;
    const { plan } = c;
    checkRanks(plan, engineFlags);
    if (!asJson && engineFlags.automatic) ctx.io.out(engineLine(chosen));
    if (!asJson) ctx.io.out(`plan: model ${plan.model}, strategy ${plan.strategy} on ${plan.mesh} (${plan.programs.length} devices)\n`);
    const stepProgress = runProgress(ctx.progress, "run", plan.programs.length, steps);
    const r = await execute(plan, c.pipeline.ctx, {
      engine: chosen.engine,
      steps,
      backend,
      timeoutMs,
      startupTimeoutMs: timeoutMs,
      trace: trace !== undefined,
      onStep: (s, loss, ms) => {
        stepProgress(s, loss);
        if (!asJson) ctx.io.out(`step ${String(s + 1).padStart(String(steps).length)}  loss ${loss.toFixed(6)}  ${ms.toFixed(2)} ms\n`);
      },
    });
    ctx.progress.end();
    let tracePredicted = false;
    if (trace !== undefined) {
      // A plan file brings no mesh or strategy to simulate: the trace is measured only.
      const { mesh, strategy } = c;
      const measured = () => ((ctx.args.flags.costs as string[] | undefined) ?? []).map((f) => loadMeasuredCosts(resolve(ctx.io.cwd, f), f));
      const predicted = mesh && strategy ? c.pipeline.stage((p) => simulate(c.graph, mesh, strategy, p, { optimizer: plan.optimizer.kind, measured: measured() }).timeline) : undefined;
      tracePredicted = predicted !== undefined;
      writeOutput(trace, JSON.stringify(comparisonTrace(plan, r, predicted)) + "\n");
    }
    const summary = {
      engine: chosen.engine.name,
      backend: r.backend,
      backendDetail: r.backendDetail,
      model: plan.model,
      strategy: plan.strategy,
      mesh: plan.mesh,
      devices: plan.programs.length,
      losses: r.losses,
      stepTimesMs: r.stepTimesMs,
      medianStepMs: median(r.stepTimesMs),
      startupMs: r.startupMs,
      ...(trace !== undefined ? { trace: trace.shown, tracePredicted } : {}),
    };
    if (asJson) ctx.io.out(JSON.stringify(summary, null, 2) + "\n");
    else {
      ctx.io.out(`backend: ${r.backend} (${r.backendDetail}); median step ${summary.medianStepMs.toFixed(2)} ms; start-up ${(r.startupMs / 1000).toFixed(2)} s\n`);
      if (trace !== undefined) ctx.io.out(`trace: ${trace.shown} (measured${tracePredicted ? " and predicted" : "; no predicted timeline for a plan file: run the model file for both"})\n`);
    }
    return 0;
  },
};
