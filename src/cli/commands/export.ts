// `par export PLAN|FILE --out DIR [--engine torch] [--nodes N] [--steps N] [--device cpu|cuda]
// [--force] [--json]`: writes a self-contained torch.distributed job (the plan, the engine,
// an entry script, torchrun and SLURM scripts, a README) that `torchrun` or `srun` starts on
// every node of a cluster (docs/engines.md "Many machines"). Written atomically (a temporary
// directory beside DIR, renamed into place); a DIR that exists and is not empty is PAR8014
// unless --force. Needs no torch on this machine.

import { exportJob } from "../../pipeline.js";
import { str, UsageError } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { DEVICE_FLAG, ENGINE_FLAG, NPROC_FLAG, checkRanks, engineArgs, meshForRanks } from "../engine-flag.js";
import { COMPILE_FLAGS, loadPlanOrPar } from "./compile-source.js";
import { positiveInt } from "./run.js";

export const exportCommand: Command = {
  name: "export",
  summary: "write a plan as a torch.distributed job directory for torchrun or SLURM on a cluster",
  usage: "plan.json|FILE --out DIR [--engine torch] [--nodes N] [--steps N] [--device cpu|cuda] [--force] [--json] [compile options of model files]",
  flags: [
    { name: "out", kind: "string", value: "DIR", doc: "the job directory to write (required)" },
    { ...ENGINE_FLAG, value: "torch", doc: "the engine the job runs on: torch (the only one that spans machines; default)" },
    { name: "nodes", kind: "int", value: "N", doc: "machines the job's scripts start it on; each runs devices / N ranks (default 1)" },
    { name: "steps", kind: "int", value: "N", doc: "training steps of the entry script (default 100; `train.py --steps N` overrides)" },
    { ...DEVICE_FLAG, doc: "the job's default device: cpu (Gloo) or cuda (NCCL, one GPU per rank; default cpu)" },
    NPROC_FLAG,
    { name: "force", kind: "bool", doc: "replace DIR when it exists and is not empty" },
    ...COMPILE_FLAGS,
    JSON_FLAG,
  ],
  details:
    "examples:\n  par compile models/mlp.par --set hidden=64 --strategy dp --out mlp.plan.json && par export mlp.plan.json --out mlp-job --nodes 2 --device cuda\n  par export models/mlp.par --mesh h100x64 --strategy dp --out job --nodes 8 --device cuda\n" +
    "then on every node:\n  torchrun --nnodes N --nproc_per_node K --node_rank R --rdzv_backend c10d --rdzv_endpoint HOST:PORT train.py --device cuda --steps 1000",
  async run(ctx: CommandContext): Promise<number> {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one plan or model FILE, got ${ctx.args.positionals.length}`);
    const out = str(ctx.args, "out");
    if (out === undefined) throw new UsageError("--out DIR is required");
    const engine = str(ctx.args, "engine") ?? "torch";
    if (engine !== "torch") throw new UsageError(`--engine ${engine}: only the torch engine runs jobs on clusters`, "--engine torch (the default)");
    const nodes = positiveInt(ctx.args, "nodes", 1);
    const steps = positiveInt(ctx.args, "steps", 100);
    // The device is the job's default, not this machine's: no torch is needed here.
    const flags = engineArgs(ctx.args, "auto", { fallback: "torch" });
    // The job runs on a cluster: its memory is checked there, not against this machine.
    const c = loadPlanOrPar(ctx, ctx.args.positionals[0], { mesh: meshForRanks(ctx.args, flags), memory: false });
    if (!c) return 1;
    checkRanks(c.plan, flags);
    const world = c.plan.programs.length;
    if (world % nodes !== 0) throw new UsageError(`--nodes ${nodes} does not divide the plan's ${world} devices (PAR8014)`, `a number of nodes that divides ${world}`);
    const job = exportJob(c.plan, out, c.pipeline.ctx, { nodes, steps, device: flags.device ?? "cpu", force: ctx.args.flags.force === true });
    if (ctx.args.flags.json === true) {
      ctx.io.out(JSON.stringify({ out, model: c.plan.model, strategy: c.plan.strategy, devices: world, nodes: job.nodes, perNode: job.perNode, device: flags.device ?? "cpu", files: job.files }, null, 2) + "\n");
    } else {
      ctx.io.out(`wrote ${out}: ${c.plan.model} / ${c.plan.strategy}, ${world} ranks = ${job.nodes} node(s) × ${job.perNode} (${job.files.length} files: plan.json, train.py, run-torchrun.sh, run-slurm.sh, README.md, par_torch/)\n`);
      ctx.io.out(`on every node:  cd ${out} && ./run-torchrun.sh HOST:PORT NODE_RANK   (or: sbatch run-slurm.sh; see ${out}/README.md)\n`);
    }
    return 0;
  },
};
