// Refusing a plan predicted not to fit (PAR5030): `par compile`, `run`, `verify`, `profile`
// and `export` check every plan they make or load against the memory of the devices that
// will run it, unless --force. The account is the plan's own (src/plan/memory.ts): its
// buffers per device plus what the engine that runs it adds. Which engine and which
// capacity: `par run` knows (--engine, --backend, --device); a plan compiled for a mesh of
// `cpu` devices will run on the local runtime (tfjs, wasm unless a native binding is
// installed), on its devices' share of this machine's RAM; a plan for GPUs runs on the
// torch engine, on its devices' memory.

import { lookupDevice } from "../core/catalog.js";
import { Diagnostics, type Diagnostic } from "../core/diagnostics.js";
import { nativeTfjsInstalled, ramShareBytes } from "../core/local-memory.js";
import type { Mesh } from "../core/mesh.js";
import { memoryShortfalls, planMemory, tfjsMemoryRuntime, torchMemoryRuntime, type MemoryRuntime, type MemoryShortfall } from "../plan/memory.js";
import type { Plan } from "../plan/plan.js";
import type { FlagSpec } from "./args.js";
import type { CommandContext } from "./command.js";
import { formatBytes } from "./format.js";

export const FORCE_FLAG: FlagSpec = { name: "force", kind: "bool", doc: "go ahead with a plan predicted not to fit in device memory (PAR5030 becomes a warning)" };

/** Where a plan will run: the engine's allocation habits and each device's capacity in bytes (undefined: unknown). */
export interface MemoryTarget {
  runtime: MemoryRuntime;
  capacity: (device: number) => number | undefined;
  /** For people: "this machine's RAM shared by 2 devices". */
  where: string;
}

/** The tfjs backend `request` resolves to here (`auto`: tensorflow when a native binding is installed, else wasm). */
export function tfjsBackendHere(request: string): "wasm" | "cpu" | "tensorflow" {
  if (request === "wasm" || request === "cpu" || request === "tensorflow") return request;
  return nativeTfjsInstalled() ? "tensorflow" : "wasm";
}

/** Running here: `devices` devices share this machine's RAM. */
function localTarget(runtime: MemoryRuntime, devices: number): MemoryTarget {
  const share = ramShareBytes(devices);
  return { runtime, capacity: () => share, where: `${devices} device(s) sharing this machine's RAM` };
}

/** The tfjs worker runtime on this machine. */
export function tfjsTarget(plan: Plan, backend: string): MemoryTarget {
  return localTarget(tfjsMemoryRuntime(tfjsBackendHere(backend)), plan.programs.length);
}

/** The torch engine's ranks: on this machine's CPUs, or on GPUs of the plan's device kinds. */
export function torchTarget(plan: Plan, device: "cpu" | "cuda"): MemoryTarget {
  if (device === "cpu") return localTarget(torchMemoryRuntime("cpu"), plan.programs.length);
  const kinds = new Map(plan.devices.map((d) => [d.index, d.kind]));
  return {
    runtime: torchMemoryRuntime("cuda"),
    capacity: (d) => {
      const found = lookupDevice(kinds.get(d) ?? "");
      return found.ok && found.spec.kind !== "cpu" ? found.spec.memoryBytes : undefined;
    },
    where: "the GPUs of the plan's device kinds (catalog)",
  };
}

/** Where a plan compiled for `mesh` runs by default: cpu devices on the local tfjs runtime, GPUs on torch. */
export function meshTarget(mesh: Mesh): MemoryTarget {
  if (mesh.devices.every((d) => d.spec.kind === "cpu")) {
    return localTarget(tfjsMemoryRuntime(tfjsBackendHere("auto")), mesh.devices.length);
  }
  const byIndex = new Map(mesh.devices.map((d) => [d.index, d.spec.memoryBytes]));
  return { runtime: torchMemoryRuntime("cuda"), capacity: (d) => byIndex.get(d), where: `the devices of mesh ${mesh.name}` };
}

function describe(s: MemoryShortfall, runtime: MemoryRuntime, where: string): string {
  const pool = s.pool === "wasm heap" ? `of its wasm heap, which ${runtime.name} caps at` : `of memory, and has`;
  const top = s.consumers.map((c) => `${c.category} ${c.what} ${formatBytes(c.bytes)}`).join(", ");
  const from = s.pool === "memory" ? ` (${where})` : "";
  return `device ${s.device} is predicted to need ${formatBytes(s.bytes)} ${pool} ${formatBytes(s.capacity)}${from}; largest: ${top}`;
}

/** PAR5030 for every device of `plan` over capacity on `target`: errors, or warnings when `force`. */
export function memoryDiagnostics(plan: Plan, target: MemoryTarget, force: boolean): Diagnostic[] {
  const short = memoryShortfalls(planMemory(plan, target.runtime), target.capacity);
  if (short.length === 0) return [];
  const diagnostics = new Diagnostics();
  const heap = short.some((s) => s.pool === "wasm heap");
  const hint = [
    "split the weights over more devices (a searched or model-parallel strategy)",
    "a smaller model or batch (--set NAME=VALUE)",
    heap ? "the torch engine (--engine torch), which has no 4 GiB heap" : "",
    "or --force to go ahead anyway",
  ].filter(Boolean).join(", ");
  // One finding per pool (the wasm heap first: the harder limit), for its fullest device.
  for (const pool of ["wasm heap", "memory"] as const) {
    const over = short.filter((s) => s.pool === pool).sort((a, b) => b.bytes - a.bytes || a.device - b.device);
    if (over.length === 0) continue;
    const others = over.slice(1).map((s) => s.device);
    const also = others.length ? ` (device${others.length > 1 ? "s" : ""} ${others.join(", ")} too)` : "";
    const message = `plan ${plan.model}/${plan.strategy} does not fit on ${target.runtime.name}: ${describe(over[0], target.runtime, target.where)}${also}`;
    if (force) diagnostics.warning("PAR5030", `${message} (--force: going ahead)`);
    else diagnostics.error("PAR5030", message, { hint });
  }
  return diagnostics.items;
}

/** Checks `plan` against `target` (PAR5030, reported; a warning under --force). False when the plan is refused. */
export function checkPlanMemory(ctx: CommandContext, plan: Plan, target: MemoryTarget): boolean {
  const d = memoryDiagnostics(plan, target, ctx.args.flags.force === true);
  ctx.report(d);
  return !d.some((x) => x.severity === "error");
}

/** The target of `par run`/`verify`/`profile`: the engine they picked, on this machine (or its GPUs). */
export function engineTarget(engine: string, backend: string, device: "cpu" | "cuda" | undefined): (plan: Plan) => MemoryTarget {
  return (plan) => (engine === "torch" ? torchTarget(plan, device ?? "cpu") : tfjsTarget(plan, backend));
}
