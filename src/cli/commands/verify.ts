// `par verify FILE.par|FILE.onnx|model.json|plan.json [--steps N] [--tolerance X] [--workers] [--json]`: runs the
// plan and the single-device plan of the same model on the same data and weights
// (src/runtime/exec/verify.ts) and compares every step's loss, the last step's weight gradients
// and the weights after it. Errors are relative to the reference tensor's largest
// magnitude; the default tolerance (1e-4) and why are in src/runtime/exec/verify.ts and
// docs/runtime.md. Exit 1 (PAR5110) on a mismatch, naming the first op/param that diverges.
// --workers also trains the plan on worker threads (shared-memory exchanges) and checks
// that its losses match the in-process run's.

import { ParError, parError } from "../../core/diagnostics.js";
import { tensorError, type VerifyResult } from "../../runtime/exec/verify.js";
import { DEFAULT_TIMEOUT_MS } from "../../runtime/workers/run-workers.js";
import { execute, reference, selectEngine, verify, verifyAcrossEngines, type CrossEngineVerification } from "../../pipeline.js";
import { UsageError } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { COMPILE_FLAGS, loadPlanOrPar, str } from "./compile-source.js";
import { BACKEND_FLAG, backendFlag, positiveInt, TIMEOUT_FLAG } from "./run.js";
import { countProgress, runProgress } from "../step-progress.js";
import { isBackendRequest } from "../../runtime/backend.js";
import { engineTarget, FORCE_FLAG } from "../memory-check.js";
import { checkRanks, chooseEngine, ENGINE_FLAG, engineArgs, engineLine, meshForRanks, TORCH_FLAGS, type EngineArgs } from "../engine-flag.js";

export const DEFAULT_TOLERANCE = 1e-4;

export const verifyCommand: Command = {
  name: "verify",
  summary: "check that a plan computes what the single-device model computes (losses, gradients, weights)",
  usage: "FILE.par|FILE.onnx|model.json|plan.json [--steps N] [--tolerance X] [--engine tfjs|torch|auto|both] [--workers] [--backend B | --device cpu|cuda] [--nproc N] [--json] [compile options of model files]",
  flags: [
    { name: "steps", kind: "int", value: "N", doc: "training steps to compare (default 3)" },
    { name: "tolerance", kind: "string", value: "X", doc: `largest accepted error relative to the reference tensor's largest magnitude (default ${DEFAULT_TOLERANCE})` },
    { name: "workers", kind: "bool", doc: "tfjs: also run the plan on worker threads and compare its losses" },
    { ...ENGINE_FLAG, value: "tfjs|torch|auto|both", doc: `${ENGINE_FLAG.doc}; both: each engine against the single-device reference, and torch's run against tfjs's (default tfjs)` },
    BACKEND_FLAG,
    ...TORCH_FLAGS,
    TIMEOUT_FLAG,
    ...COMPILE_FLAGS,
    FORCE_FLAG,
    JSON_FLAG,
  ],
  details: [
    "examples:",
    "  par verify models/mlp.par --set hidden=32 --strategy megatron --mesh local",
    "  par compile models/mlp.par --set hidden=32 --strategy dp --out mlp.plan.json",
    "  par verify mlp.plan.json --steps 5 --json",
    "  par verify docs/examples/mlp.onnx --batch 2 --strategy dp   # from the imported weights",
    "  par verify mlp.plan.json --engine torch",
    "  par verify models/mlp.par --set hidden=32 --strategy dp --engine both",
  ].join("\n"),
  async run(ctx: CommandContext): Promise<number> {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one FILE, got ${ctx.args.positionals.length}`);
    const steps = positiveInt(ctx.args, "steps", 3);
    const tolText = str(ctx.args, "tolerance");
    const tolerance = tolText === undefined ? DEFAULT_TOLERANCE : Number(tolText);
    if (!(tolerance > 0)) throw new UsageError(`--tolerance needs a positive number, got "${tolText}"`);
    const asJson = ctx.args.flags.json === true;
    const backend = backendFlag(ctx.args);
    const engineFlags = engineArgs(ctx.args, backend, { fallback: "tfjs", both: true });
    if (ctx.args.flags.workers === true && engineFlags.request !== "tfjs") throw new UsageError("--workers compares the tfjs runtime's worker threads with its in-process run", "drop --workers, or use --engine tfjs");
    if (engineFlags.request === "both") return verifyBoth(ctx, engineFlags, steps, tolerance);
    const chosen = chooseEngine({ ...engineFlags, request: engineFlags.request }, ctx.io.cwd);
    const c = loadPlanOrPar(ctx, ctx.args.positionals[0], { mesh: meshForRanks(ctx.args, engineFlags, chosen), memory: engineTarget(chosen.engine.name, backend, engineFlags.device) });
    if (!c) return 1;
    checkRanks(c.plan, engineFlags);
    if (!asJson && engineFlags.automatic) ctx.io.out(engineLine(chosen));
    const pctx = c.pipeline.ctx;
    const r = await verify(c.plan, reference(c.graph, c.plan, pctx), pctx, { steps, tolerance, backend, engine: chosen.engine, onStep: countProgress(ctx.progress, "verify: the plan and one device", "steps") });
    let workers: { backend: string; losses: number[]; maxLossError: number; ok: boolean } | undefined;
    if (ctx.args.flags.workers === true) {
      const timeoutMs = positiveInt(ctx.args, "timeout", DEFAULT_TIMEOUT_MS / 1000) * 1000;
      const onStep = runProgress(ctx.progress, "verify: on workers", c.plan.programs.length, steps);
      const w = await execute(c.plan, pctx, { steps, backend: isBackendRequest(r.backend) ? r.backend : backend, timeoutMs, startupTimeoutMs: timeoutMs, onStep });
      const e = tensorError(r.losses.plan, w.losses);
      workers = { backend: w.backend, losses: w.losses, maxLossError: e.rel, ok: e.abs <= 1e-6 || e.rel <= tolerance };
    }
    ctx.progress.end();
    const ok = r.ok && (workers?.ok ?? true);
    const summary = {
      ok,
      maxAbsError: r.maxAbsError,
      maxRelError: r.maxRelError,
      tolerance,
      steps,
      engine: r.engine,
      backend: r.backend,
      model: c.plan.model,
      strategy: c.plan.strategy,
      devices: c.plan.programs.length,
      ...(r.firstMismatch ? { firstMismatch: r.firstMismatch } : {}),
      losses: r.losses,
      ...(workers ? { workers } : {}),
    };
    if (asJson) ctx.io.out(JSON.stringify(summary, null, 2) + "\n");
    else {
      ctx.io.out(`verify ${c.plan.model} / ${c.plan.strategy} on ${c.plan.programs.length} devices against one device, ${steps} steps (${r.backend})\n`);
      ctx.io.out(`  max abs error ${r.maxAbsError.toExponential(2)}, max rel error ${r.maxRelError.toExponential(2)} (tolerance ${tolerance})\n`);
      if (workers) ctx.io.out(`  workers (${workers.backend}): losses within ${workers.maxLossError.toExponential(2)} of the in-process run\n`);
      ctx.io.out(ok ? "  ok\n" : "  MISMATCH\n");
    }
    if (ok) return 0;
    const m = r.firstMismatch;
    const where = m
      ? `${m.what === "loss" ? "the loss" : `the ${m.what} of ${m.param ?? "?"}${m.op ? ` (op ${m.op})` : ""}`} at step ${m.step}: abs error ${m.absError.toExponential(2)}, rel error ${m.relError.toExponential(2)}`
      : `the losses on worker threads (rel error ${workers?.maxLossError.toExponential(2)})`;
    throw new ParError([{ code: "PAR5110", severity: "error", message: `${c.plan.model} / ${c.plan.strategy} diverges from the single-device run: first at ${where} (tolerance ${tolerance})` }]);
  },
};

/** A cross-engine disagreement (PAR8020), naming what diverges first. */
export function acrossEnginesError(model: string, strategy: string, across: CrossEngineVerification["across"], tolerance: number): ParError {
  const m = across.firstMismatch;
  const what = !m ? "the runs" : m.what === "loss" ? `the loss of step ${m.step}` : `the ${m.what} of ${m.param ?? "?"}${m.op ? ` (op ${m.op})` : ""} after step ${m.step}`;
  const by = m ? ` by ${m.absError.toExponential(2)} (relative ${m.relError.toExponential(2)} > tolerance ${tolerance})` : "";
  return parError("PAR8020", `${model} / ${strategy}: ${what} on ${across.engines[1]} differs from ${across.engines[0]}${by}`, {
    hint: "both engines agree with the single-device reference on their own? then compare the op's kernels (docs/engines.md, \"Where the kernels live\")",
  });
}

/** `--engine both`: each engine against the single-device reference, then torch's run of the plan against tfjs's. */
async function verifyBoth(ctx: CommandContext, flags: EngineArgs<string>, steps: number, tolerance: number): Promise<number> {
  const asJson = ctx.args.flags.json === true;
  const torch = chooseEngine({ ...flags, request: "torch" }, ctx.io.cwd);
  const tfjs = selectEngine("tfjs", { backend: flags.backend });
  // Both engines run it: checked for the tfjs runtime, whose wasm heap is the tighter limit.
  const c = loadPlanOrPar(ctx, ctx.args.positionals[0], { mesh: meshForRanks(ctx.args, flags, torch), memory: engineTarget("tfjs", flags.backend, undefined) });
  if (!c) return 1;
  checkRanks(c.plan, flags);
  const pctx = c.pipeline.ctx;
  const r = await verifyAcrossEngines(c.plan, reference(c.graph, c.plan, pctx), pctx, { steps, tolerance, engines: [tfjs.engine, torch.engine] });
  const errors = (x: { maxAbsError: number; maxRelError: number }) => `max abs error ${x.maxAbsError.toExponential(2)}, max rel error ${x.maxRelError.toExponential(2)}`;
  if (asJson) {
    const brief = ({ ok, maxAbsError, maxRelError, firstMismatch, losses }: VerifyResult) => ({ ok, maxAbsError, maxRelError, ...(firstMismatch ? { firstMismatch } : {}), losses });
    ctx.io.out(JSON.stringify({
      ok: r.ok, tolerance, steps, model: c.plan.model, strategy: c.plan.strategy, devices: c.plan.programs.length,
      engines: r.engines.map((e) => ({ engine: e.engine, backend: e.backend, ...brief(e) })),
      across: { engines: r.across.engines, ...brief(r.across) },
    }, null, 2) + "\n");
  } else {
    ctx.io.out(`verify ${c.plan.model} / ${c.plan.strategy} on ${c.plan.programs.length} devices against one device, ${steps} steps, on both engines (tolerance ${tolerance})\n`);
    for (const e of r.engines) ctx.io.out(`  ${`${e.engine} (${e.backend})`.padEnd(20)} against one device: ${errors(e)}  ${e.ok ? "ok" : "MISMATCH"}\n`);
    ctx.io.out(`  ${r.across.engines[1]} against ${r.across.engines[0]} on the plan: ${errors(r.across)}  ${r.across.ok ? "ok" : "MISMATCH"}\n`);
    ctx.io.out(r.ok ? "  ok\n" : "  MISMATCH\n");
  }
  if (r.ok) return 0;
  const bad = r.engines.find((e) => !e.ok);
  if (bad) {
    const m = bad.firstMismatch;
    const where = m ? `${m.what === "loss" ? "the loss" : `the ${m.what} of ${m.param ?? "?"}${m.op ? ` (op ${m.op})` : ""}`} at step ${m.step}` : "a step";
    throw new ParError([{ code: "PAR5110", severity: "error", message: `${c.plan.model} / ${c.plan.strategy} on ${bad.engine} diverges from the single-device run: first at ${where} (tolerance ${tolerance})` }]);
  }
  throw acrossEnginesError(c.plan.model, c.plan.strategy, r.across, tolerance);
}
