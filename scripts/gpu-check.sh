#!/bin/sh
# scripts/gpu-check.sh: the torch engine's CUDA path on a machine with CUDA GPUs.
#   1. the engine and torch (`python3 -m par_torch info`), one rank per GPU (at most 8);
#   2. verify on cuda: the quick-start MLP, a small CNN and a transformer block, data and
#      tensor parallel, against their single-device plans (losses, last gradients, weights),
#      and the same plans' losses on cuda against cpu (Gloo);
#   3. profile on cuda (the measured-cost table's rows, summarised);
#   4. `npm run bench -- torch` on cuda: par against hand-written DDP / tensor parallel.
# Needs node (npm run build is run when dist/ is missing) and a Python with torch + CUDA
# (PAR_PYTHON, else python3). Prints the figures; exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
PY="${PAR_PYTHON:-python3}"
export PAR_PYTHON="$PY"
export PYTHONPATH="$(pwd)/python${PYTHONPATH:+:$PYTHONPATH}"

echo "== engine"
"$PY" -m par_torch info
GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)")
if [ "$GPUS" -lt 1 ]; then
  echo "gpu-check: no CUDA GPU visible to $PY" >&2
  exit 1
fi
RANKS=$(( GPUS > 8 ? 8 : GPUS ))
GPU_NAME=$("$PY" -c "import torch; print(torch.cuda.get_device_name(0))")
echo "GPUs: $GPUS ($GPU_NAME); ranks: $RANKS"
[ -f dist/src/engines/torch/index.js ] && [ -f dist/bench/main.js ] || npm run build

echo
echo "== verify and profile on cuda"
RANKS="$RANKS" GPU_NAME="$GPU_NAME" node --input-type=module <<'JS'
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const D = join(process.cwd(), "dist/src");
const { loadProgram } = await import(`${D}/frontend/load.js`);
const { Diagnostics } = await import(`${D}/core/diagnostics.js`);
const { lower, singleDeviceStrategy } = await import(`${D}/codegen/lower.js`);
const { localMeshOf } = await import(`${D}/core/builtin-meshes.js`);
const { dataParallel, megatron } = await import(`${D}/ir/baselines.js`);
const { verifyPlanTorch, runPlanTorch, profilePlanTorch } = await import(`${D}/engines/torch/index.js`);

const ranks = Number(process.env.RANKS);
const dir = mkdtempSync(join(tmpdir(), "gpu-check-"));
const block = join(dir, "block.par");
writeFileSync(block, `model tblock(batch = 16, seq = 64, hidden = 256, heads = 4, classes = 10) {
  input x      : f32[batch, seq, hidden]
  input labels : i32[batch]
  mid = add(x, attention(layernorm(x), heads = heads, causal = true))
  y = add(mid, linear(gelu(linear(layernorm(mid), out = 4 * hidden)), out = hidden))
  logits = linear(reduce_mean(y, axes = [1]), out = classes)
  loss = softmax_cross_entropy(logits, labels)
}
`);
const load = (path) => {
  const d = new Diagnostics();
  const g = [...(loadProgram(path, { sources: new Map(), diagnostics: d }, {})?.models.values() ?? [])][0];
  if (!g) throw new Error(`${path}: ${d.items.map((x) => x.message).join("; ")}`);
  return g;
};
const mesh = localMeshOf(ranks);
const one = localMeshOf(1);
const opt = { seed: 1, optimizer: { kind: "sgd", learningRate: 0.01 } };
let failed = false;
for (const [name, path] of [["mlp", "models/mlp.par"], ["tinycnn", "bench/tiny-cnn.par"], ["transformer block", block]]) {
  const g = load(path);
  const single = lower(g, singleDeviceStrategy(g, one.name), one, opt);
  for (const [sname, s] of [["dp", dataParallel(g, mesh)], ...(ranks > 1 ? [["megatron", megatron(g, mesh)]] : [])]) {
    const plan = lower(g, { ...s, mesh: mesh.name }, mesh, opt);
    const v = await verifyPlanTorch(plan, single, { steps: 3, device: "cuda" });
    const cpu = await runPlanTorch(plan, { steps: 3, device: "cpu" });
    const rel = Math.max(...cpu.losses.map((l, i) => Math.abs(l - v.losses.plan[i]) / Math.abs(l)));
    failed ||= !v.ok || rel > 1e-4;
    console.log(`${name} ${sname} on ${ranks} GPU(s): verify ${v.ok ? "ok" : "FAILED"} (max rel error ${v.maxRelError.toExponential(2)}), cuda vs cpu losses rel ${rel.toExponential(2)}, losses ${v.losses.plan.map((x) => x.toFixed(5)).join(" ")}`);
    if (sname === "dp") {
      const table = await profilePlanTorch(plan, { device: "cuda", warmup: 5, repeats: 10 });
      const fwd = table.entries.reduce((a, e) => a + e.forwardMs, 0);
      const bwd = table.entries.reduce((a, e) => a + e.backwardMs, 0);
      writeFileSync(join(dir, `${name.replace(/ /g, "-")}.costs.json`), JSON.stringify({ ...table, device: process.env.GPU_NAME }, null, 1));
      console.log(`  profile: ${table.entries.length} task rows (forward ${fwd.toFixed(3)} ms, backward ${bwd.toFixed(3)} ms summed), ${table.updates.length} update rows; table in ${dir}`);
    }
  }
}
if (failed) process.exit(1);
JS

echo
echo "== bench on cuda"
PAR_BENCH_TORCH_DEVICE=cuda PAR_BENCH_RANKS="$RANKS" node dist/bench/main.js torch
