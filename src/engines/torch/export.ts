// Exporting a plan as a self-contained torch job: a directory with the plan (its ops'
// signatures included), a copy of the par_torch package, an entry script that torchrun or
// srun starts on every node, shell scripts for both, and a README. Nothing else of par is
// needed on the nodes: Python 3 with torch ≥ 1.13.

import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parError } from "../../core/diagnostics.js";
import type { Plan } from "../../plan/plan.js";
import { packageRoot } from "./python.js";
import { signedPlan, type TorchDevice } from "./run.js";

export interface TorchExportOptions {
  /** Default training steps of the entry script (default 100). */
  steps?: number;
  device?: TorchDevice;
  /** Nodes the README's commands use (default 1); ranks per node = devices / nodes. */
  nodes?: number;
  /** Replace a directory that exists and is not empty (default: PAR8014). */
  force?: boolean;
}

export interface TorchExport {
  dir: string;
  files: string[];
  nodes: number;
  perNode: number;
}

function copyPackage(from: string, to: string, files: string[], rel: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from).sort()) {
    const src = join(from, name);
    if (statSync(src).isDirectory()) {
      if (name !== "__pycache__") copyPackage(src, join(to, name), files, `${rel}/${name}`);
    } else if (name.endsWith(".py")) {
      copyFileSync(src, join(to, name));
      files.push(`${rel}/${name}`);
    }
  }
}

const ENTRY = `#!/usr/bin/env python3
"""Entry point of an exported par plan: one rank per process, started by torchrun or srun
(rank, world size and local rank come from their environment). See README.md."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from par_torch.__main__ import main  # noqa: E402

if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(["run", os.path.join(HERE, "plan.json"), *args]))
`;

function torchrunScript(o: { nodes: number; perNode: number; steps: number; device: TorchDevice }): string {
  return `#!/bin/sh
# Starts this node's ${o.perNode} rank(s) of the ${o.nodes * o.perNode}-rank job: run it on every node with the
# same HOST:PORT (a reachable address of the first node and a free port) and this node's NODE_RANK.
#   ./run-torchrun.sh HOST:PORT [NODE_RANK] [extra flags, e.g. --steps 1000 --json]
set -eu
cd "$(dirname "$0")"
endpoint="$1"; shift
node_rank="\${1:-0}"; [ $# -gt 0 ] && shift
# --redirects 2 --tee 2: torch 1.13's torchrun on Python 3.11 fails on its default "0";
# redirecting only stderr (and teeing it) keeps the JSON lines on stdout clean.
exec torchrun --nnodes ${o.nodes} --nproc_per_node ${o.perNode} --node_rank "$node_rank" \\
  --rdzv_backend c10d --rdzv_endpoint "$endpoint" --redirects 2 --tee 2 \\
  train.py --device ${o.device} --steps ${o.steps} "$@"
`;
}

function slurmScript(o: { nodes: number; perNode: number; steps: number; device: TorchDevice }): string {
  return `#!/bin/bash
# sbatch run-slurm.sh [extra flags]: one task per rank, ${o.perNode} per node on ${o.nodes} node(s).
#SBATCH --nodes=${o.nodes}
#SBATCH --ntasks-per-node=${o.perNode}
${o.device === "cuda" ? `#SBATCH --gpus-per-node=${o.perNode}\n` : ""}#SBATCH --job-name=par-torch
set -eu
cd "$SLURM_SUBMIT_DIR"
export MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"
export MASTER_PORT="\${MASTER_PORT:-29500}"
srun python3 train.py --device ${o.device} --steps ${o.steps} "$@"
`;
}

function readme(plan: Plan, o: { nodes: number; perNode: number; steps: number; device: TorchDevice }): string {
  const world = o.nodes * o.perNode;
  return `# ${plan.model} / ${plan.strategy} on torch.distributed

Exported by par: the plan (\`plan.json\`, ${world} devices, one rank each), the engine that
runs it (\`par_torch/\`, Python 3 and torch ≥ 1.13, nothing else), and scripts to start it.
Backend: ${o.device === "cuda" ? "NCCL, one GPU per rank (cuda:LOCAL_RANK)" : "Gloo on CPUs"}; change with \`--device cpu|cuda\`.

## torchrun (${o.nodes} node(s) × ${o.perNode} rank(s))

On every node, with HOST:PORT a reachable address of the first node and a free port:

    ./run-torchrun.sh HOST:PORT NODE_RANK --steps ${o.steps}

which runs

    torchrun --nnodes ${o.nodes} --nproc_per_node ${o.perNode} --node_rank NODE_RANK \\
      --rdzv_backend c10d --rdzv_endpoint HOST:PORT --redirects 2 --tee 2 \\
      train.py --device ${o.device} --steps ${o.steps}

(\`--redirects 2 --tee 2\` works around torch 1.13's torchrun on Python 3.11; newer torch
does not need it.) With Gloo across machines, set \`GLOO_SOCKET_IFNAME\` to the interface
the nodes reach each other on (NCCL: \`NCCL_SOCKET_IFNAME\`).

## SLURM

    sbatch run-slurm.sh

(\`--nodes=${o.nodes}\`, \`--ntasks-per-node=${o.perNode}\`; the first node is the rendezvous).

## Output

Rank 0 prints one line per step (\`step 3: loss 2.301 (12.5 ms)\`), or JSON lines with
\`--json\` (\`{"event": "step", "step": 3, "loss": ..., "ms": ...}\`). Other flags:
\`--data DIR\` (one \`<input id>.npy\` per graph input, batches stacked along axis 0),
\`--trace OUT.json\` (Chrome trace of every instruction), \`--timeout S\`.
Errors are one coded line (\`PAR80xx\`) per failing rank.
`;
}

/**
 * Writes the job into `dir` atomically: into a temporary directory beside it, renamed into
 * place once complete, so a failure never leaves half a job. A `dir` that exists and is not
 * empty is PAR8014 unless `force` (then it is replaced).
 */
export function exportTorchJob(plan: Plan, dir: string, options: TorchExportOptions = {}): TorchExport {
  const world = plan.devices.length;
  const nodes = options.nodes ?? 1;
  if (!(Number.isInteger(nodes) && nodes >= 1 && world % nodes === 0)) {
    throw parError("PAR8014", `cannot split the plan's ${world} devices over ${nodes} nodes evenly`, { hint: `use a number of nodes that divides ${world}` });
  }
  const o = { nodes, perNode: world / nodes, steps: options.steps ?? 100, device: options.device ?? "cpu" };
  const target = resolve(dir);
  let exists = false;
  try {
    exists = existsSync(target);
    if (exists && !statSync(target).isDirectory()) throw parError("PAR8014", `${dir} exists and is not a directory`, { hint: "choose a new directory" });
    if (exists && readdirSync(target).length > 0 && !options.force) {
      throw parError("PAR8014", `export directory ${dir} exists and is not empty`, { hint: "choose a new directory, or add --force to replace it" });
    }
  } catch (e) {
    if (e instanceof Error && e.name === "ParError") throw e;
    throw parError("PAR8014", `cannot read the export directory ${dir}: ${(e as Error).message}`);
  }
  let tmp: string | undefined;
  try {
    mkdirSync(dirname(target), { recursive: true });
    tmp = mkdtempSync(join(dirname(target), `.${basename(target)}.tmp-`));
    chmodSync(tmp, 0o755);
    const files: string[] = [];
    const put = (name: string, text: string, mode = 0o644) => {
      writeFileSync(join(tmp!, name), text, { mode });
      files.push(name);
    };
    put("plan.json", JSON.stringify(signedPlan(plan)) + "\n");
    put("train.py", ENTRY, 0o755);
    put("run-torchrun.sh", torchrunScript(o), 0o755);
    put("run-slurm.sh", slurmScript(o), 0o755);
    put("README.md", readme(plan, o));
    copyPackage(join(packageRoot(), "par_torch"), join(tmp, "par_torch"), files, "par_torch");
    if (exists) {
      // Replace: the old directory steps aside first (a rename cannot overwrite a non-empty one).
      const old = `${tmp}.old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
    tmp = undefined;
    return { dir, files, nodes: o.nodes, perNode: o.perNode };
  } catch (e) {
    if (e instanceof Error && e.name === "ParError") throw e;
    throw parError("PAR8014", `cannot write the export directory ${dir}: ${(e as Error).message}`);
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}
