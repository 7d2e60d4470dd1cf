// The torch engine as an Engine (src/plan/engine.ts): `run` and `train` both start one rank
// per plan device on this machine (python/par_torch); `train` also reads back the weights
// and last gradients the ranks dump, for verification. A session starts the ranks once
// (TorchServer) for several plans: starting a rank (interpreter, torch, process group) takes
// seconds, a step of a small model milliseconds.

import { parError } from "../../core/diagnostics.js";
import type { Engine, EngineRunOptions, EngineRunResult, EngineTrainedState } from "../../plan/engine.js";
import type { Plan } from "../../plan/plan.js";
import { findTorchPython, type TorchPython } from "./python.js";
import { runPlanTorch, type TorchDevice, type TorchRunOutput } from "./run.js";
import { TorchServer } from "./server.js";

export interface TorchEngineOptions {
  /** "cpu" (Gloo, default) or "cuda" (NCCL, one GPU per rank). */
  device?: TorchDevice;
  /** A directory of <input id>.npy files instead of the synthetic data (docs/engines.md). */
  data?: string;
  /** Default: findTorchPython() (PAR8001 with the install hint when there is none). */
  python?: TorchPython;
  env?: NodeJS.ProcessEnv;
}

export interface TorchEngine extends Engine {
  readonly name: "torch";
  readonly python: TorchPython;
  readonly device: TorchDevice;
}

function trained(r: TorchRunOutput): EngineTrainedState & { backend: string } {
  if (!r.dump) throw parError("PAR8012", "the torch engine returned no weights");
  return { losses: r.losses, params: r.dump.params, grads: r.dump.grads, backend: r.backend };
}

export function torchEngine(options: TorchEngineOptions = {}): TorchEngine {
  const python = options.python ?? findTorchPython(options.env);
  const device = options.device ?? "cpu";
  // Found here rather than by the ranks: before any model is loaded or searched.
  if (device === "cuda" && !python.cuda) {
    throw parError("PAR8003", `--device cuda: torch ${python.torch} (${python.python}) sees no CUDA device`, { hint: "run on a machine with a CUDA GPU and a CUDA build of torch, or use --device cpu" });
  }
  const data = options.data !== undefined ? { data: options.data } : {};
  const common = { python, device, ...data, ...(options.env ? { env: options.env } : {}) };
  const timeoutS = (ms: number | undefined) => (ms !== undefined ? { timeoutS: Math.max(1, Math.ceil(ms / 1000)) } : {});

  /** An engine whose runs go to `server` (plans it has ranks for) or to a launch of their own. */
  const onServer = (server: TorchServer): TorchEngine => {
    const fits = (plan: Plan) => plan.devices.length <= server.nproc;
    const view: TorchEngine = {
      name: "torch",
      python,
      device,
      run: (plan, o) =>
        fits(plan) ? server.run(plan, { steps: o.steps, ...data, ...(o.trace ? { times: true } : {}), ...(o.onStep ? { onStep: o.onStep } : {}) }) : engine.run(plan, o),
      train: async (plan, o) => (fits(plan) ? trained(await server.run(plan, { steps: o.steps, dumpWeights: true, ...data, ...(o.onStep ? { onStep: o.onStep } : {}) })) : engine.train(plan, o)),
      session: (devices, fn, o) => (devices <= server.nproc ? fn(view) : engine.session(devices, fn, o)),
    };
    return view;
  };

  const engine: TorchEngine = {
    name: "torch",
    python,
    device,
    run: (plan: Plan, o: EngineRunOptions): Promise<EngineRunResult> =>
      runPlanTorch(plan, { ...common, steps: o.steps, ...timeoutS(o.timeoutMs), ...(o.trace ? { times: true } : {}), ...(o.onStep ? { onStep: o.onStep } : {}) }),
    train: async (plan, o) => trained(await runPlanTorch(plan, { ...common, steps: o.steps, dumpWeights: true, ...(o.onStep ? { onStep: o.onStep } : {}) })),
    async session(devices, fn, o = {}) {
      const server = await TorchServer.start(devices, { python, device, ...timeoutS(o.timeoutMs), ...(options.env ? { env: options.env } : {}) });
      try {
        return await fn(onServer(server));
      } finally {
        await server.close();
      }
    },
  };
  return engine;
}
