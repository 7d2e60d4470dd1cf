// `par auto FILE [--mesh local] [--budget N|DURATION] [--seed N] [--steps N] [--engine E] [--json]`:
// the whole pipeline on one model (src/pipeline.ts's autoParallelize): load (parse + check,
// or import) → SOAP search → compile to a Plan → train for a few steps with one device per
// local core, on the torch engine when torch can be imported and on the tfjs runtime
// otherwise (src/cli/engine-flag.ts; the choice and why are the first line) → verify against
// the single-device model on the same engine. Prints what each stage found and how long it took.

import { builtinMesh, builtinMeshNames } from "../../core/builtin-meshes.js";
import { didYouMean, Diagnostics, ParError } from "../../core/diagnostics.js";
import type { Mesh } from "../../core/mesh.js";
import type { OptimizerConfig } from "../../plan/plan.js";
import { formatSeconds } from "../../core/units.js";
import { autoParallelize, type PipelineContext, type PipelineResult, type Stage } from "../../pipeline.js";
import { UsageError } from "../args.js";
import { BUDGET_FLAG, budgetFlag } from "../budget-flag.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { MODEL_LOADING_FLAGS, modelOptions } from "../model-flags.js";
import { optimizerConfig, str } from "./compile-source.js";
import { BACKEND_FLAG, backendFlag, positiveInt, STEPS_FLAG, TIMEOUT_FLAG } from "./run.js";
import { searchProgress } from "../search-progress.js";
import { engineTarget, FORCE_FLAG, memoryDiagnostics } from "../memory-check.js";
import { chooseEngine, ENGINE_FLAG, engineArgs, engineLine, meshForRanks, TORCH_FLAGS } from "../engine-flag.js";

/** A few steps should show learning: larger default rates than `par compile`'s conservative ones. */
function withLearningRate(config: OptimizerConfig, lr: string | undefined): OptimizerConfig {
  if (lr === undefined) return { ...config, learningRate: config.kind === "adam" ? 0.001 : 0.3 };
  const v = Number(lr);
  if (!(v > 0) || !Number.isFinite(v)) throw new UsageError(`bad --lr ${lr}`, "a positive number, e.g. 0.01");
  return { ...config, learningRate: v };
}

function pickMesh(name: string | undefined, result: { meshes?: Map<string, Mesh> }): Mesh {
  const wanted = name ?? "local";
  const mesh = result.meshes?.get(wanted) ?? builtinMesh(wanted);
  if (!mesh) throw new UsageError(`unknown mesh ${wanted}`, didYouMean(wanted, builtinMeshNames()) ?? `built-in meshes: ${builtinMeshNames().join(", ")}`);
  if (!mesh.devices.every((d) => d.spec.kind === "cpu")) {
    throw new UsageError(`mesh ${wanted} has no local devices to train on`, "par auto trains on this machine: use --mesh local (or `par search` / `par simulate` for GPU meshes)");
  }
  return mesh;
}

function report(r: PipelineResult, mesh: Mesh, timings: PipelineContext["timings"], backend: string, devices: string): string {
  const ms = (s: number) => `${(s * 1e3).toFixed(3)} ms`;
  const speedup = (base: number) => (r.search.best.iterationTime > 0 ? `${(base / r.search.best.iterationTime).toFixed(2)}×` : "—");
  const b = r.search.baselines;
  const t = (s: Stage) => formatSeconds((timings[s] ?? 0) / 1e3);
  const lines = [
    `model ${r.model.graph.name} (${r.model.format}): ${r.model.graph.ops.size} ops, ${r.model.graph.parameterCount().toLocaleString("en-US")} parameters   [load ${t("load")}]`,
    `mesh ${mesh.name}: ${mesh.devices.length} device${mesh.devices.length === 1 ? "" : "s"}`,
    `search: ${r.search.iterations} iterations in ${r.search.seconds.toFixed(2)} s; best simulated iteration ${ms(r.search.best.iterationTime)}`,
    `  vs data parallel ${ms(b.dataParallel.iterationTime)} (${speedup(b.dataParallel.iterationTime)}), model parallel ${ms(b.modelParallel.iterationTime)} (${speedup(b.modelParallel.iterationTime)}), expert ${ms(b.expert.iterationTime)} (${speedup(b.expert.iterationTime)})   [search ${t("search")}]`,
    `plan: ${r.plan.programs.reduce((n, p) => n + p.instructions.length, 0)} instructions on ${r.plan.programs.length} devices   [lower ${t("lower")}]`,
    `train on ${backend}: ${r.run.losses.map((l, i) => `step ${i + 1} loss ${l.toFixed(5)} (${r.run.stepTimesMs[i].toFixed(1)} ms)`).join(", ")}   [execute ${t("execute")}]`,
    `verify vs one device: ${r.verify.ok ? "ok" : "MISMATCH"}, max abs error ${r.verify.maxAbsError.toExponential(2)}, max rel error ${r.verify.maxRelError.toExponential(2)}; the ${devices}' losses within ${r.workerLossError.toExponential(2)} of the verified run   [verify ${t("verify")}]`,
  ];
  if (!r.verify.ok && r.verify.firstMismatch) {
    const m = r.verify.firstMismatch;
    lines.push(`  first mismatch: ${m.what}${m.param ? ` of ${m.param}` : ""}${m.op ? ` (op ${m.op})` : ""} at step ${m.step}`);
  }
  return lines.join("\n") + "\n";
}

export const autoCommand: Command = {
  name: "auto",
  summary: "the whole pipeline: load → search → plan → train a few steps on local devices → verify",
  usage: "FILE [--mesh local | --nproc N] [--budget N|DURATION] [--seed N] [--steps N] [--engine auto|tfjs|torch] [--backend B | --device cpu|cuda] [--json]",
  flags: [
    ...MODEL_LOADING_FLAGS,
    { name: "mesh", kind: "string", value: "NAME", doc: "a local mesh to train on (default: local, one device per core)" },
    BUDGET_FLAG,
    { name: "seed", kind: "int", value: "N", doc: "seed of the search, the weights and the data (default 1)" },
    { ...STEPS_FLAG, doc: "training steps (default 5)" },
    { name: "optimizer", kind: "string", value: "sgd|momentum|adam", doc: "optimizer (default sgd; verification is tightest with sgd, since adam amplifies rounding noise in near-zero gradients)" },
    { name: "lr", kind: "string", value: "RATE", doc: "learning rate (default: 0.001 for adam, 0.3 for sgd and momentum)" },
    { ...ENGINE_FLAG, doc: `${ENGINE_FLAG.doc} (default auto)` },
    BACKEND_FLAG,
    ...TORCH_FLAGS,
    TIMEOUT_FLAG,
    FORCE_FLAG,
    JSON_FLAG,
  ],
  details: "examples:\n  par auto models/mlp.par --set hidden=64\n  par auto models/mlp.par --set hidden=64 --engine tfjs --backend wasm\n  par auto models/mlp.par --set hidden=64 --engine torch --nproc 2",
  async run(ctx: CommandContext): Promise<number> {
    const [file, ...extra] = ctx.args.positionals;
    if (!file) throw new UsageError("missing FILE");
    if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
    const budget = budgetFlag(ctx.args);
    const backend = backendFlag(ctx.args);
    const engineFlags = engineArgs(ctx.args, backend, { fallback: "auto" });
    const chosen = chooseEngine(engineFlags, ctx.io.cwd);
    const ranksMesh = meshForRanks(ctx.args, engineFlags, chosen);
    const steps = positiveInt(ctx.args, "steps", 5);
    const seed = typeof ctx.args.flags.seed === "number" ? ctx.args.flags.seed : 1;
    const timeout = ctx.args.flags.timeout;
    const diagnostics = new Diagnostics();
    const pctx: PipelineContext = { diagnostics, sources: ctx.sources, cwd: ctx.io.cwd, timings: {} };
    pctx.onStage = (s) => ctx.progress.phase(`auto: ${s}`);
    // The mesh may be declared in the .par file itself; resolve it after loading.
    const meshName = str(ctx.args, "mesh");
    const result = await autoParallelize(file, pctx, {
      load: modelOptions(ctx.args),
      budget,
      seed,
      steps,
      optimizer: withLearningRate(optimizerConfig(str(ctx.args, "optimizer") ?? "sgd"), str(ctx.args, "lr")),
      backend,
      engine: chosen.engine,
      ...(typeof timeout === "number" ? { timeoutMs: timeout * 1000 } : {}),
      // A plan predicted not to fit is refused before it runs (PAR5030), unless --force.
      checkPlan: (plan) => {
        const d = memoryDiagnostics(plan, engineTarget(chosen.engine.name, backend, engineFlags.device)(plan), ctx.args.flags.force === true);
        if (d.some((x) => x.severity === "error")) throw new ParError(d);
        ctx.report(d);
      },
      mesh: (loaded) => {
        const mesh = ranksMesh ?? pickMesh(meshName, { meshes: loaded.program?.meshes });
        if (engineFlags.nproc !== undefined && engineFlags.nproc !== mesh.devices.length) {
          throw new UsageError(`--nproc ${engineFlags.nproc} disagrees with mesh ${mesh.name}'s ${mesh.devices.length} devices (PAR8005)`, "give --mesh or --nproc, not both");
        }
        return mesh;
      },
      progress: {
        search: searchProgress(ctx.progress, budget),
        onStep: (step, loss) => {
          if (step === 0) ctx.progress.phase("auto: train", steps, "steps");
          ctx.progress.update(step + 1, `loss ${loss.toFixed(5)}`);
        },
        onVerifyStep: (done, total) => {
          if (done === 1) ctx.progress.phase("auto: verify against one device", total, "steps");
          ctx.progress.update(done);
        },
      },
    });
    ctx.progress.end();
    const mesh = result.mesh;
    ctx.report(diagnostics.warnings);
    if (ctx.args.flags.json) {
      ctx.io.out(
        JSON.stringify(
          {
            model: result.model.graph.name,
            mesh: mesh.name,
            ops: result.model.graph.ops.size,
            parameters: result.model.graph.parameterCount(),
            search: {
              iterations: result.search.iterations,
              seconds: result.search.seconds,
              best: { iterationTimeMs: result.search.best.iterationTime * 1e3 },
              baselines: Object.fromEntries(Object.entries(result.search.baselines).map(([k, v]) => [k, { iterationTimeMs: v.iterationTime * 1e3 }])),
            },
            engine: { name: chosen.engine.name, reason: chosen.reason },
            backend: result.run.backend,
            losses: result.run.losses,
            stepTimesMs: result.run.stepTimesMs,
            verify: { ok: result.verify.ok, maxAbsError: result.verify.maxAbsError, maxRelError: result.verify.maxRelError, workerLossError: result.workerLossError },
            timingsMs: pctx.timings,
          },
          null,
          2,
        ) + "\n",
      );
    } else {
      const devices = chosen.engine.name === "torch" ? "ranks" : "workers";
      ctx.io.out(engineLine(chosen) + `backend: ${result.run.backend}\n` + report(result, mesh, pctx.timings, result.run.backend, devices));
    }
    return result.verify.ok ? 0 : 1;
  },
};
