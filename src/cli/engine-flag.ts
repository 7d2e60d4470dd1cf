// Choosing the engine from the command line, the same in `par run`, `verify`, `profile` and
// `auto`: `--engine tfjs|torch|auto` and the flags around it. `--backend` picks the tfjs
// runtime's backend, `--device cpu|cuda` and `--data DIR` are the torch engine's, and
// `--nproc N` is how many devices (threads or ranks) a model FILE's local mesh gets; for a
// plan it must equal the plan's devices. Flags of the other engine are usage errors, never
// silently ignored. `auto` takes torch when a Python can import it, the tfjs runtime
// otherwise; a flag only one engine has decides for it.

import { resolve } from "node:path";
import { localMeshOf } from "../core/builtin-meshes.js";
import type { Mesh } from "../core/mesh.js";
import type { Plan } from "../plan/plan.js";
import { ENGINE_REQUESTS, selectEngine, type EngineRequest, type EngineSelection } from "../pipeline.js";
import type { BackendRequest } from "../runtime/backend.js";
import { str, UsageError, type FlagSpec, type ParsedArgs } from "./args.js";

export const ENGINE_FLAG: FlagSpec = {
  name: "engine",
  kind: "string",
  value: "tfjs|torch|auto",
  doc: "what trains the plan: the embedded TensorFlow.js runtime (worker threads), torch (one PyTorch process per device), or auto (torch when it can be imported)",
};
export const DEVICE_FLAG: FlagSpec = { name: "device", kind: "string", value: "cpu|cuda", doc: "torch engine: ranks on CPUs with Gloo (default) or one CUDA GPU each with NCCL" };
export const NPROC_FLAG: FlagSpec = {
  name: "nproc",
  kind: "int",
  value: "N",
  doc: "devices (worker threads or torch ranks): a model FILE is compiled for the local mesh with N devices (default: one per core; one per GPU with --device cuda); a plan runs one per device, so N must equal its devices",
};
export const DATA_FLAG: FlagSpec = { name: "data", kind: "string", value: "DIR", doc: "torch engine: real data, one <input id>.npy per graph input, batches stacked along axis 0 (docs/engines.md)" };

/** The engine flags of run, verify, profile and auto (each adds ENGINE_FLAG with its own default). */
export const TORCH_FLAGS: FlagSpec[] = [DEVICE_FLAG, NPROC_FLAG, DATA_FLAG];

export type TorchDeviceName = "cpu" | "cuda";

export interface EngineArgs<Request extends string = EngineRequest> {
  /** What was asked for ("both" only where the command allows it). */
  request: Request;
  /** Why `request` differs from --engine, when a flag decided for auto. */
  decidedBy?: string;
  /** The engine was left to par (auto): commands then say which and why. */
  automatic: boolean;
  backend: BackendRequest;
  device?: TorchDeviceName;
  nproc?: number;
  data?: string;
}

/** The torch engine's own flags that were given. */
function torchOnly(args: ParsedArgs): string[] {
  return ["device", "data"].filter((f) => args.flags[f] !== undefined);
}

/**
 * Reads and checks the engine flags; `fallback` is the engine without --engine. Usage errors
 * (exit 2) for unknown values and for flags the chosen engine does not have.
 */
export function engineArgs(args: ParsedArgs, backend: BackendRequest, options: { fallback: EngineRequest }): EngineArgs;
export function engineArgs(args: ParsedArgs, backend: BackendRequest, options: { fallback: EngineRequest; both: true }): EngineArgs<EngineRequest | "both">;
export function engineArgs(args: ParsedArgs, backend: BackendRequest, options: { fallback: EngineRequest; both?: boolean }): EngineArgs<EngineRequest | "both"> {
  const allowed: string[] = [...ENGINE_REQUESTS, ...(options.both ? ["both"] : [])];
  const given = str(args, "engine");
  const wanted = given ?? options.fallback;
  if (!allowed.includes(wanted)) throw new UsageError(`unknown engine ${wanted}`, `one of ${allowed.join(", ")}`);
  const device = str(args, "device");
  if (device !== undefined && device !== "cpu" && device !== "cuda") throw new UsageError(`unknown device ${device}`, "--device cpu (Gloo) or --device cuda (NCCL)");
  const nproc = args.flags.nproc;
  if (nproc !== undefined && (typeof nproc !== "number" || nproc < 1)) throw new UsageError("--nproc needs a positive integer");
  const out: EngineArgs<EngineRequest | "both"> = {
    request: wanted as EngineRequest | "both",
    automatic: wanted === "auto",
    backend,
    ...(device !== undefined ? { device } : {}),
    ...(typeof nproc === "number" ? { nproc } : {}),
    ...(str(args, "data") !== undefined ? { data: str(args, "data")! } : {}),
  };
  const torchFlags = torchOnly(args);
  const backendGiven = args.flags.backend !== undefined && backend !== "auto";
  if (out.request === "tfjs" && torchFlags.length) {
    throw new UsageError(`--${torchFlags[0]} applies to the torch engine, not to tfjs`, "add --engine torch");
  }
  if (out.request === "torch" && backendGiven) {
    throw new UsageError(`--backend ${backend} picks a TensorFlow.js backend; the torch engine runs on --device cpu|cuda`, "drop --backend, or use --engine tfjs");
  }
  if (out.request === "auto") {
    if (backendGiven && torchFlags.length) throw new UsageError(`--backend is the tfjs runtime's, --${torchFlags[0]} the torch engine's: they do not go together`, "pick one engine with --engine");
    if (backendGiven) return { ...out, request: "tfjs", decidedBy: `--backend ${backend} names a TensorFlow.js backend` };
    if (torchFlags.length) return { ...out, request: "torch", decidedBy: `--${torchFlags[0]} is the torch engine's` };
  }
  return out;
}

/** The engine for `e` (the pipeline's selectEngine): PAR8001 with the install hint when torch is asked for and missing. */
export function chooseEngine(e: EngineArgs, cwd: string): EngineSelection {
  const sel = selectEngine(e.request, {
    backend: e.backend,
    ...(e.device ? { device: e.device } : {}),
    ...(e.data !== undefined ? { data: resolve(cwd, e.data) } : {}),
  });
  return e.decidedBy ? { ...sel, reason: e.decidedBy } : sel;
}

/** The one-line account of the choice: "engine: torch (torch 1.13.1 can be imported by /usr/bin/python3)". */
export function engineLine(sel: EngineSelection): string {
  return `engine: ${sel.engine.name} (${sel.reason})\n`;
}

/**
 * The mesh a model FILE is compiled for when the engine flags decide it: the local mesh with
 * --nproc devices, or with one device per visible GPU for the torch engine on cuda. Undefined
 * when --mesh (or nothing) decides; --mesh with --nproc is checked against the plan.
 */
export function meshForRanks(args: ParsedArgs, e: EngineArgs<string>, sel?: EngineSelection): Mesh | undefined {
  if (args.flags.mesh !== undefined) return undefined;
  if (e.nproc !== undefined) return localMeshOf(e.nproc);
  return sel?.cudaDevices ? localMeshOf(sel.cudaDevices) : undefined;
}

/** --nproc against the plan's devices: a plan runs one device per thread or rank (PAR8005 as a usage error). */
export function checkRanks(plan: Plan, e: EngineArgs<string>): void {
  if (e.nproc === undefined || e.nproc === plan.programs.length) return;
  throw new UsageError(`--nproc ${e.nproc} disagrees with the plan's ${plan.programs.length} devices (PAR8005)`, `omit --nproc (a plan runs one device per thread or rank), or compile the model for ${e.nproc} devices (--nproc ${e.nproc} with the model file)`);
}
