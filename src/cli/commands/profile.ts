// `par profile FILE.par [--mesh local] [--strategy S|--search] [--backend B] [--repeats N]
//  [--warmup N] --out costs.json`: measures the forward and backward time of every distinct
// task, and the optimizer step of every weight-shard size, of the model under the strategy on this machine's backend (src/runtime/profile/exec.ts:
// the plan's steps run in this thread with every instruction timed; warm-up, repeats, median) and writes the simulator's measured-cost table
// (`par-measured-costs`, src/cost/compute.ts). `par simulate --costs costs.json` and
// `par run --trace --costs costs.json` then predict local runs from measurements.
// Several --strategy runs can be merged by giving --merge with earlier tables.
// On a mesh of several devices of this machine (`local`), every task is measured twice:
// alone, and while --load N background workers (default: the mesh's other devices) run
// kernels, so the simulator can charge contention (src/sim/contention.ts). --in-run instead
// times every kernel in a run on the worker runtime (src/runtime/profile/run.ts), where the
// other devices' work is the load.

import { existsSync } from "node:fs";
import { loadMeasuredCosts, measuredKey, type MeasuredCosts, type MeasuredEntry, type MeasuredUpdate } from "../../cost/compute.js";
import { profile } from "../../pipeline.js";
import { TIMED_STEPS, WARMUP_STEPS } from "../../runtime/profile/profile.js";
import { quantile } from "../../core/stats.js";
import { UsageError } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { outputFlag, writeOutput, type OutputPath } from "../output-path.js";
import { countProgress } from "../step-progress.js";
import { COMPILE_FLAGS, compileModel, str } from "./compile-source.js";
import { BACKEND_FLAG, backendFlag, nonNegativeInt, positiveInt } from "./run.js";
import { engineTarget, FORCE_FLAG } from "../memory-check.js";
import { checkRanks, chooseEngine, ENGINE_FLAG, engineArgs, engineLine, meshForRanks, TORCH_FLAGS } from "../engine-flag.js";

/** Adds measured `updates` to `table`'s, replacing rows of the same optimizer and shard size. */
export function mergeUpdates(table: readonly MeasuredUpdate[], updates: readonly MeasuredUpdate[]): MeasuredUpdate[] {
  const byKey = new Map(table.map((u) => [`${u.optimizer}|${u.floats}`, u]));
  for (const u of updates) byKey.set(`${u.optimizer}|${u.floats}`, u);
  return [...byKey.values()].sort((a, b) => a.optimizer.localeCompare(b.optimizer) || a.floats - b.floats);
}

/** The table already at `out` for --merge: none when the file does not exist yet; a coded error when it cannot be used. */
function tableToMerge(out: OutputPath): MeasuredCosts | undefined {
  return existsSync(out.full) ? loadMeasuredCosts(out.full, out.shown) : undefined;
}

/** Adds `entries` to `table`, replacing entries with the same key. */
export function mergeEntries(table: MeasuredEntry[], entries: readonly MeasuredEntry[]): MeasuredEntry[] {
  const byKey = new Map(table.map((e) => [measuredKey(e.op, e.inputs, e.attrs, e.extent), e]));
  for (const e of entries) byKey.set(measuredKey(e.op, e.inputs, e.attrs, e.extent), e);
  return [...byKey.values()];
}

export const profileCommand: Command = {
  name: "profile",
  summary: "measure task costs on this machine and write a measured-cost table for the simulator",
  usage: "FILE.par|FILE.onnx|model.json --out costs.json [--mesh NAME] [--strategy S | --search] [--engine tfjs|torch|auto] [--backend B | --device cpu|cuda] [--nproc N] [--repeats N] [--warmup N] [--load N | --in-run] [--merge] [--json] [--set NAME=VALUE ...]",
  flags: [
    { name: "out", kind: "string", value: "FILE", doc: "where to write the table (required)" },
    { name: "repeats", kind: "int", value: "N", doc: `measured steps; each task's median is kept (default ${TIMED_STEPS})` },
    { name: "warmup", kind: "int", value: "N", doc: `unmeasured steps first (default ${WARMUP_STEPS}: wasm reaches steady speed after ~10 steps)` },
    { name: "merge", kind: "bool", doc: "add to the table already at --out instead of replacing it" },
    { name: "load", kind: "int", value: "N", doc: "also measure each task while N background workers compute (default: the mesh's other devices when they are this machine's cores, else 0)" },
    { name: "in-run", kind: "bool", doc: "measure in a run on the worker runtime (one worker per device, as `par run`): every kernel timed where it runs, next to the other devices' work" },
    { ...ENGINE_FLAG, doc: `${ENGINE_FLAG.doc}; torch measures in a run on its ranks, as --in-run does on tfjs (default tfjs)` },
    BACKEND_FLAG,
    ...TORCH_FLAGS.filter((f) => f.name !== "data"),
    ...COMPILE_FLAGS.map((f) => (f.name === "strategy" ? { ...f, doc: "whose tasks to measure: a strategy, a strategy file or a baseline (default dp)" } : f)),
    FORCE_FLAG,
    JSON_FLAG,
  ],
  details: "examples:\n  par profile models/mlp.par --set hidden=64 --strategy dp --out mlp-costs.json\n  par simulate models/mlp.par --set hidden=64 --mesh local --strategy dp --costs mlp-costs.json\n  par profile models/mlp.par --set hidden=64 --engine torch --out torch-costs.json\n  par search models/mlp.par --set hidden=64 --mesh local --costs torch-costs.json",
  async run(ctx: CommandContext): Promise<number> {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one model FILE, got ${ctx.args.positionals.length}`);
    const out = outputFlag(ctx, "out");
    if (out === undefined) throw new UsageError("--out FILE is required");
    // Read before measuring: a table that cannot be merged fails at once.
    const old = ctx.args.flags.merge === true ? tableToMerge(out) : undefined;
    // Profiling measures a strategy's tasks; without one, data parallelism's (not a search).
    if (str(ctx.args, "strategy") === undefined && ctx.args.flags.search !== true) ctx.args.flags.strategy = "dp";
    const backendRequest = backendFlag(ctx.args);
    const engineFlags = engineArgs(ctx.args, backendRequest, { fallback: "tfjs" });
    if (engineFlags.request !== "tfjs" && ctx.args.flags.load !== undefined) throw new UsageError("--load is the tfjs runtime's profile under background load; the torch engine measures in a run, where the other ranks are the load", "drop --load, or use --engine tfjs");
    const chosen = chooseEngine(engineFlags, ctx.io.cwd);
    const torch = chosen.engine.name === "torch";
    const c = compileModel(ctx, ctx.args.positionals[0], { mesh: meshForRanks(ctx.args, engineFlags, chosen), memory: engineTarget(chosen.engine.name, backendRequest, engineFlags.device) });
    if (!c || !c.mesh) return 1;
    checkRanks(c.plan, engineFlags);
    if (engineFlags.automatic && ctx.args.flags.json !== true) ctx.io.out(engineLine(chosen));
    // Contention is a property of devices sharing this machine: the local mesh's cores.
    const local = c.mesh.devices.every((d) => d.spec.kind === "cpu");
    const inRun = torch || ctx.args.flags["in-run"] === true;
    if (inRun && ctx.args.flags.load !== undefined) throw new UsageError("--load and --in-run do not go together: in a run the other devices are the load");
    const load = inRun ? 0 : nonNegativeInt(ctx.args, "load", local ? c.mesh.devices.length - 1 : 0);
    const options = { warmup: nonNegativeInt(ctx.args, "warmup", WARMUP_STEPS), repeats: positiveInt(ctx.args, "repeats", TIMED_STEPS) };
    const measured = await profile(c.plan, c.pipeline.ctx, { ...options, backend: backendRequest, inRun, load, onStep: countProgress(ctx.progress, "profile", "steps"), ...(torch ? { engine: chosen.engine } : {}) });
    ctx.progress.end();
    const { tasks, updates: measuredUpdates, slowdowns: measuredSlowdowns, deliveryMs: measuredDelivery } = measured;
    let updates: MeasuredUpdate[] = measuredUpdates;
    let slowdowns = measuredSlowdowns?.length ? measuredSlowdowns : undefined;
    let deliveryMs = measuredDelivery?.length ? measuredDelivery : undefined;
    let entries: MeasuredEntry[] = tasks.map((t) => ({
      op: t.op, inputs: t.inputs, attrs: t.attrs, extent: t.extent, forwardMs: t.forwardMs, backwardMs: t.backwardMs,
      ...(t.loadedForwardMs !== undefined && t.loadedBackwardMs !== undefined ? { loadedForwardMs: t.loadedForwardMs, loadedBackwardMs: t.loadedBackwardMs } : {}),
    }));
    if (old) {
      entries = mergeEntries(old.entries, entries);
      updates = mergeUpdates(old.updates ?? [], updates);
      // Interference is the machine's state in one run: the latest run's replaces the table's.
      if (!slowdowns && !deliveryMs) ({ slowdowns, deliveryMs } = old);
    }
    const table: MeasuredCosts = {
      format: "par-measured-costs", version: 1, device: c.mesh.devices[0].spec.kind, backend: measured.backend, ...(load > 0 ? { loadedBy: load } : {}), entries,
      ...(updates.length ? { updates } : {}),
      ...(slowdowns ? { slowdowns } : {}),
      ...(deliveryMs ? { deliveryMs } : {}),
    };
    writeOutput(out, JSON.stringify(table, null, 1) + "\n");
    if (ctx.args.flags.json === true) ctx.io.out(JSON.stringify({ out: out.shown, engine: chosen.engine.name, backend: measured.backend, device: table.device, tasks: tasks.length, entries: entries.length, measured: tasks, updates: measuredUpdates, ...(measuredSlowdowns ? { slowdowns: measuredSlowdowns } : {}), ...(measuredDelivery ? { deliveryMs: measuredDelivery } : {}) }, null, 2) + "\n");
    else {
      const how = inRun ? `, in a run on ${c.plan.programs.length} ${torch ? "torch rank" : "worker"}(s)` : load > 0 ? `, alone and with ${load} other device(s) computing` : "";
      ctx.io.out(`profiled ${tasks.length} distinct tasks of ${c.plan.model} / ${c.plan.strategy} on ${measured.backend} (device kind ${table.device})${how}\n`);
      const loaded = (t: (typeof tasks)[number]) => (t.loadedForwardMs !== undefined ? `  (loaded fwd ${t.loadedForwardMs.toFixed(3)} ms  bwd ${t.loadedBackwardMs!.toFixed(3)} ms)` : "");
      for (const t of tasks) ctx.io.out(`  ${t.opName.padEnd(16)} ${t.op.padEnd(22)} extent [${t.extent.join(", ")}]  fwd ${t.forwardMs.toFixed(3)} ms  bwd ${t.backwardMs.toFixed(3)} ms${loaded(t)}\n`);
      for (const u of measuredUpdates) ctx.io.out(`  ${`${u.optimizer} update`.padEnd(39)} ${String(u.floats).padStart(9)} weights  ${u.ms.toFixed(3)} ms\n`);
      // "(N): median m, p90 p, max x" of a measured list.
      const spread = (xs: number[], digits: number, unit: string) => {
        const q = (p: number) => `${quantile(xs, p).toFixed(digits)}${unit}`;
        return `(${xs.length}): median ${q(0.5)}, p90 ${q(0.9)}, max ${q(1)}`;
      };
      if (measuredSlowdowns?.length) ctx.io.out(`  interference: slowdown of own work per device and step ${spread(measuredSlowdowns, 2, "")}\n`);
      if (measuredDelivery?.length) ctx.io.out(`  interference: delivery delay per message ${spread(measuredDelivery, 3, " ms")}\n`);
      ctx.io.out(`wrote ${out.shown} (${entries.length} entries)\n`);
    }
    return 0;
  },
};
