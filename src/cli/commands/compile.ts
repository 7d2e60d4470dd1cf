// `par compile FILE.par|FILE.onnx|model.json [--model M | --input/--batch/--loss] [--mesh NAME|FILE] [--strategy S|dp|mp|expert|megatron |
//  --search [--budget N|DURATION]] [--optimizer sgd|momentum|adam] [--seed N] --out plan.json`:
// lowers a model under a strategy on a mesh to a Plan (src/codegen/lower.ts) and writes it
// atomically. Without --strategy the strategy is searched.

import { planText } from "../../plan/io.js";
import { UsageError } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { outputFlag, writeOutput } from "../output-path.js";
import { COMPILE_FLAGS, compileModel } from "./compile-source.js";
import { FORCE_FLAG } from "../memory-check.js";

export const compileCommand: Command = {
  name: "compile",
  summary: "lower a model under a strategy on a mesh to an executable plan (JSON)",
  usage: "FILE.par|FILE.onnx|model.json --out plan.json [--model M] [--mesh NAME|FILE] [--strategy S | --search [--budget N|DURATION]] [--optimizer NAME] [--seed N] [--force] [--set NAME=VALUE ...] [--input NAME=AxBx.. --batch N --loss KIND] [--json]",
  flags: [...COMPILE_FLAGS, FORCE_FLAG, { name: "out", kind: "string", value: "FILE", doc: "where to write the plan (required)" }, JSON_FLAG],
  details: [
    "examples:",
    "  par compile models/mlp.par --set hidden=64 --strategy dp --out mlp-dp.plan.json",
    "  par compile models/alexnet.par --mesh local --search --budget 2s --out alexnet.plan.json",
    "  par compile docs/examples/mlp.onnx --batch 8 --strategy dp --out model.plan.json   # keeps the trained weights",
    "  par compile models/mlp.par --set hidden=24000 --strategy dp --force --out big.plan.json   # does not fit: PAR5030, a warning with --force",
  ].join("\n"),
  run(ctx: CommandContext): number {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one model FILE, got ${ctx.args.positionals.length}`);
    const out = outputFlag(ctx, "out");
    if (out === undefined) throw new UsageError("--out FILE is required", "par compile FILE.par --out plan.json");
    const c = compileModel(ctx, ctx.args.positionals[0]);
    if (!c) return 1;
    writeOutput(out, planText(c.plan));
    const instructions = c.plan.programs.reduce((a, p) => a + p.instructions.length, 0);
    const summary = { out: out.shown, model: c.plan.model, parameters: c.graph.parameterCount(), mesh: c.plan.mesh, strategy: c.plan.strategy, devices: c.plan.programs.length, instructions, optimizer: c.plan.optimizer.kind, seed: c.plan.seed };
    if (ctx.args.flags.json === true) ctx.io.out(JSON.stringify(summary, null, 2) + "\n");
    else ctx.io.out(`wrote ${out.shown}: model ${summary.model}, strategy ${summary.strategy} on ${summary.mesh} (${summary.devices} devices, ${instructions} instructions), ${summary.optimizer}, seed ${summary.seed}\n`);
    return 0;
  },
};
