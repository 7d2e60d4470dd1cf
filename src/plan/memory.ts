// Peak memory per device of a Plan, counted from what its program allocates: the most
// truthful measure there is for a plan, since the engines allocate exactly the program's
// buffers (the tfjs executor at construction, the torch executor likewise), plus what each
// engine adds around them (docs/memory.md):
//
//   weights, gradients, optimizer   the `param`, `param_grad`, `opt_m`/`opt_v` buffers
//   activations, partial sums       `value` buffers a forward writes (a `#tK` one is a partial sum)
//   activation gradients            `grad` buffers
//   data                            `value` buffers a `feed` writes, plus the engines' cached
//                                   batches of the synthetic dataset (DATASET_BATCHES of them)
//   received                        `value`/`grad` buffers only a recv or copy writes
//   workspace                       the largest transient of one instruction: a kernel's
//                                   operands and results (and intermediates), a message
//   kernel weights                  tfjs wasm: each weight's tensor, copied into the wasm heap
//                                   and kept from its first kernel of a step to its update
//   overhead                        the worker's or process's own memory before the plan
//
// The tfjs wasm backend has a second limit: its kernels' tensors live in a 32-bit wasm heap
// of at most 4 GiB per worker, so "kernel weights" + the largest kernel's tensors + the
// heap's start must fit in that too (`heap`).
//
// Every buffer counts for the whole run: both engines allocate a program's buffers when
// they build its executor, so a v2 `release` (ZeRO-3, recomputation) drops storage only
// after that peak has been reached once.
//
// The plan is read as data (no runtime): the same accounting serves a plan just compiled
// and a plan file given to `par run`.

import { WASM_HEAP_MAX_BYTES } from "../core/local-memory.js";
import { regionVolume } from "../core/region.js";
import type { DeviceProgram, Instruction, Plan, PlanBuffer } from "./plan.js";
import { inferPlanOp } from "./signatures.js";

export type MemoryCategory =
  | "weights"
  | "gradients"
  | "optimizer"
  | "activations"
  | "partial sums"
  | "activation gradients"
  | "data"
  | "received"
  | "workspace"
  | "kernel weights"
  | "all-reduce buffers"
  | "overhead";

export { WASM_HEAP_MAX_BYTES };
/** The wasm heap tfjs-backend-wasm starts with (emscripten INITIAL_MEMORY): its static data, stack and first allocations. */
export const WASM_HEAP_INITIAL_BYTES = 16 << 20;
/** Batches of the synthetic dataset each engine generates once and cycles (src/runtime/exec/data.ts, python/par_torch/data.py). */
export const DATASET_BATCHES = 2;
/** emscripten's heap growth step (emscripten_resize_heap: `oldSize * (1 + .2 / cutDown)`). */
export const WASM_HEAP_GROWTH = 0.2;

/**
 * How an engine allocates around a plan's buffers. Overheads and factors are measured by
 * `npm run bench -- memory` on the machine named in docs/memory.md.
 */
export interface MemoryRuntime {
  /** For people: "tfjs wasm", "torch cpu". */
  name: string;
  /** Bytes a device's worker or process holds before any plan buffer (interpreter, framework). */
  overheadBytes: number;
  /** Bytes the first kernels add whatever the plan (the kernel library's code paged in, its allocator's arenas). */
  warmupBytes: number;
  /**
   * Temporaries of initialising a weight, per byte of its largest shard (torch computes the
   * init hashes in int64 and float64 tensors; tfjs writes the values in place: 0).
   */
  initFactor: number;
  /** Bytes an all-reduce allocates per byte it sums (torch on Gloo: the ring algorithm's inbox and outbox, 2). */
  allreduceBuffers: number;
  /** Typed arrays a step leaves for the garbage collector, uncollected until V8's external-memory trigger (tfjs). */
  garbageBytes: number;
  /** Kernels take copies of their operands (tfjs wasm copies them into its heap); else views of the buffers. */
  copiesOperands: boolean;
  /** Kernel intermediates, as a multiple of the kernel's results (e.g. a linear's matmul before its bias add). */
  intermediateFactor: number;
  /** A result is also copied out of the kernel's memory into its buffer (tfjs wasm dataSync). */
  copiesResultsOut: boolean;
  /** Cached dataset batches besides the fed buffer itself (torch rebinds the buffer to the cached batch: one fewer). */
  dataCopies: number;
  /**
   * tfjs wasm: weights are kept as heap tensors across a step, and every kernel tensor lives
   * in a heap of this cap. XNNPACK packs a matmul's weight operand into a copy of its own,
   * cached as long as the weight's tensor lives (`packsWeights`); a backward transposes such
   * a weight first (src/runtime/wasm/matmul.ts), and packs the transposed copy too.
   */
  heap?: { capBytes: number; initialBytes: number; growth: number; packsWeights: boolean };
}

const MiB = 1 << 20;

/**
 * The tfjs worker runtime on `backend` (src/runtime/workers). Overhead: a worker's JS heap
 * and typed arrays before its buffers (26–28 MiB measured). Intermediates: a backward is
 * autodiff of the forward (src/ops/autodiff.ts), which recomputes the outputs, multiplies
 * them by dOutput and, for the `0 · sum(x)` term that keeps every argument connected, makes
 * a zero gradient of each argument's size that it adds to the real one: about three
 * result-sized tensors besides the results.
 */
export function tfjsMemoryRuntime(backend: "wasm" | "cpu" | "tensorflow"): MemoryRuntime {
  // Garbage: every kernel result's copy out of the heap, every received message; V8 collects
  // them once external memory has grown by tens of MiB (measured: 15–50 MiB above the live buffers).
  const base = { overheadBytes: 28 * MiB, warmupBytes: 0, allreduceBuffers: 0, garbageBytes: 32 * MiB, intermediateFactor: 3, initFactor: 0, dataCopies: DATASET_BATCHES };
  switch (backend) {
    case "wasm":
      return { ...base, name: "tfjs wasm", copiesOperands: true, copiesResultsOut: true, heap: { capBytes: WASM_HEAP_MAX_BYTES, initialBytes: WASM_HEAP_INITIAL_BYTES, growth: WASM_HEAP_GROWTH, packsWeights: true } };
    case "cpu":
      return { ...base, name: "tfjs cpu", copiesOperands: false, copiesResultsOut: false };
    case "tensorflow":
      // libtensorflow copies tensors into its own allocations (as wasm does) but has no 4 GiB cap.
      return { ...base, name: "tfjs tensorflow", overheadBytes: 256 * MiB, copiesOperands: true, copiesResultsOut: true };
  }
}

/**
 * The torch engine's ranks (python/par_torch) on `device`. CPU: a rank's process holds
 * ~135 MiB resident before its job (interpreter, torch, the process group), and its first
 * kernels page in ~64 MiB more of torch's kernel libraries (both measured by the bench).
 * Intermediates: autograd's gradient of a kernel, made before it is added into its buffer.
 * Initialisation (python/par_torch/init.py) hashes global indices in int64 tensors and
 * draws in float64: about 8 bytes of temporaries per byte of the shard it makes.
 */
export function torchMemoryRuntime(device: "cpu" | "cuda"): MemoryRuntime {
  const base = { copiesOperands: false, intermediateFactor: 1, copiesResultsOut: false, dataCopies: DATASET_BATCHES - 1, garbageBytes: 0, initFactor: 8 };
  return device === "cpu"
    ? { ...base, name: "torch cpu", overheadBytes: 135 * MiB, warmupBytes: 64 * MiB, allreduceBuffers: 2 }
    : // A CUDA context with cuBLAS and cuDNN loaded holds several hundred MiB of device memory; not measured here (no GPU in the bench).
      // NCCL sums in its own fixed-size channel buffers.
      { ...base, name: "torch cuda", overheadBytes: 512 * MiB, warmupBytes: 0, allreduceBuffers: 0 };
}

/**
 * The size the wasm heap reaches when its tensors need `bytes`: emscripten grows it by at
 * least `growth` (20 %) of its size each time it is short (emscripten_resize_heap), in 64 KiB
 * pages, from its initial size; kernels allocate tensor by tensor, so it climbs that ladder.
 */
export function wasmHeapSize(bytes: number, initial = WASM_HEAP_INITIAL_BYTES, growth = WASM_HEAP_GROWTH, cap = WASM_HEAP_MAX_BYTES): number {
  // Beyond the cap the heap cannot grow: what is needed is what is reported.
  if (bytes > cap) return bytes;
  let size = initial;
  while (size < bytes) size = Math.min(cap, Math.ceil((size * (1 + growth)) / 65536) * 65536);
  return size;
}

/** One line of a device's account: bytes of one category for one tensor (or op, for workspace). */
export interface MemoryConsumer {
  category: MemoryCategory;
  /** The tensor (or, for workspace, the instruction) the bytes are for. */
  what: string;
  bytes: number;
}

export interface PlanDeviceMemory {
  device: number;
  /** Predicted peak bytes of the device (its process or worker), everything included. */
  total: number;
  byCategory: Partial<Record<MemoryCategory, number>>;
  /** Largest first. */
  consumers: MemoryConsumer[];
  /** tfjs wasm: the wasm heap's predicted peak, its cap and what fills it. */
  heap?: { bytes: number; capBytes: number; consumers: MemoryConsumer[] };
}

function bytesOf(b: PlanBuffer): number {
  // f32 and i32: 4 bytes an element; a v2 slice buffer holds its slice of the region.
  return (b.slice ? b.slice[1] - b.slice[0] : regionVolume(b.region)) * 4;
}

/** Which instructions write each buffer (by kind), to tell received copies from computed values. */
function writers(instructions: Instruction[]): Map<string, Set<Instruction["kind"]>> {
  const w = new Map<string, Set<Instruction["kind"]>>();
  const add = (id: string | null | undefined, k: Instruction["kind"]) => {
    if (!id) return;
    let s = w.get(id);
    if (!s) w.set(id, (s = new Set()));
    s.add(k);
  };
  for (const ins of instructions) {
    switch (ins.kind) {
      case "feed":
        add(ins.buf, ins.kind);
        break;
      case "copy":
      case "recv":
        add(ins.dst, ins.kind);
        break;
      case "forward":
        ins.outputs.forEach((o) => add(o, ins.kind));
        break;
      case "backward":
        ins.dInputs.forEach((o) => add(o, ins.kind));
        ins.dParams.forEach((o) => add(o, ins.kind));
        break;
      default:
        break;
    }
  }
  return w;
}

function categoryOf(b: PlanBuffer, written: Set<Instruction["kind"]> | undefined): MemoryCategory {
  switch (b.kind) {
    case "param":
      return "weights";
    case "param_grad":
      return "gradients";
    case "opt_m":
    case "opt_v":
      return "optimizer";
    case "grad":
      return written && written.size > 0 && [...written].every((k) => k === "recv" || k === "copy") ? "received" : "activation gradients";
    case "value":
      if (written?.has("feed")) return "data";
      if (written?.has("forward")) return /#t\d+$/.test(b.id) ? "partial sums" : "activations";
      return "received";
  }
}

/**
 * Param tensors a kernel contracts with one of its inputs (a linear's or conv's weight, not
 * an embedding's table, which it gathers from): the operands XNNPACK packs. From the
 * registry's signature of each op: a weight axis on a reduction dim that an input shares.
 */
export function contractedParams(plan: Plan): Set<string> {
  const out = new Set<string>();
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  for (const op of plan.ops) {
    const r = inferPlanOp(plan, op, tensors);
    if ("error" in r) continue;
    const { sig } = r;
    const iter = (maps: readonly { kind: string; dim?: number }[]) => maps.flatMap((m) => (m.kind === "iter" && m.dim !== undefined ? [m.dim] : []));
    const inputDims = new Set(sig.inputMaps.flatMap(iter));
    sig.paramMaps.forEach((maps, p) => {
      if (maps.length >= 2 && iter(maps).some((d) => sig.space[d].cls === "reduction" && inputDims.has(d))) out.add(op.params[p]);
    });
  }
  return out;
}

/** The transient bytes of one instruction under `rt`, and the part of them in the kernel's memory (the wasm heap). */
function transient(ins: Instruction, size: (id: string) => number, rt: MemoryRuntime, packed: (id: string) => boolean): { host: number; heap: number } {
  const sum = (ids: readonly (string | null)[]) => ids.reduce((a, id) => a + (id ? size(id) : 0), 0);
  switch (ins.kind) {
    case "forward":
    case "backward": {
      const results = ins.kind === "forward" ? sum(ins.outputs) : sum(ins.dInputs) + sum(ins.dParams);
      const operands = ins.kind === "forward" ? sum(ins.inputs) : sum(ins.inputs) + sum(ins.outputs) + sum(ins.dOutputs);
      // A backward's transposed weights, each packed as well.
      const transposed = ins.kind === "backward" && rt.heap?.packsWeights ? 2 * sum(ins.params.filter(packed)) : 0;
      const inKernel = (rt.copiesOperands ? operands : 0) + transposed + results * (1 + rt.intermediateFactor);
      return { host: rt.heap ? (rt.copiesResultsOut ? results : 0) : inKernel + (rt.copiesResultsOut ? results : 0), heap: rt.heap ? inKernel : 0 };
    }
    case "send":
    case "recv":
      // A message's payload: gathered (or handed off) by the sender, received into a fresh array when not in place.
      return { host: regionVolume(ins.region) * 4, heap: 0 };
    case "reducescatter":
    case "allgather":
      // v2 collectives: the whole region's sum (or gathered slices) passes through a buffer of its size.
      return { host: size(ins.buf), heap: 0 };
    default:
      return { host: 0, heap: 0 };
  }
}

function insLabel(ins: Instruction): string {
  switch (ins.kind) {
    case "forward":
    case "backward":
      return `${ins.kind} ${ins.op} task ${ins.task}`;
    case "send":
      return `send ${ins.tag} to ${ins.to}`;
    case "recv":
      return `recv ${ins.tag} from ${ins.from}`;
    default:
      return ins.kind;
  }
}

/**
 * The predicted peak of one device's program under `rt`. `packed`: the param tensors XNNPACK
 * packs (contractedParams of the plan; none when not given).
 */
export function programMemory(program: DeviceProgram, rt: MemoryRuntime, packed: ReadonlySet<string> = new Set()): PlanDeviceMemory {
  const byCategory: Partial<Record<MemoryCategory, number>> = {};
  const lines = new Map<string, MemoryConsumer>();
  const charge = (category: MemoryCategory, what: string, bytes: number) => {
    if (bytes <= 0) return;
    byCategory[category] = (byCategory[category] ?? 0) + bytes;
    const key = `${category}|${what}`;
    const l = lines.get(key);
    if (l) l.bytes += bytes;
    else lines.set(key, { category, what, bytes });
  };
  const sizes = new Map(program.buffers.map((b) => [b.id, bytesOf(b)]));
  const size = (id: string) => sizes.get(id) ?? 0;
  const written = writers(program.instructions);
  for (const b of program.buffers) {
    const c = categoryOf(b, written.get(b.id));
    const bytes = bytesOf(b);
    // The engines keep each fed buffer's batches of the synthetic dataset.
    charge(c, b.tensor, c === "data" ? bytes * (1 + rt.dataCopies) : bytes);
  }

  // Weights a kernel reads: tfjs wasm keeps a heap copy of each from its first kernel to its update.
  const heapLines: MemoryConsumer[] = [];
  let kept = 0;
  if (rt.heap) {
    const params = new Set<string>();
    for (const ins of program.instructions) if (ins.kind === "forward" || ins.kind === "backward") ins.params.forEach((p) => params.add(p));
    const byTensor = new Map<string, number>();
    for (const b of program.buffers) if (params.has(b.id)) byTensor.set(b.tensor, (byTensor.get(b.tensor) ?? 0) + bytesOf(b));
    for (const [tensor, b] of byTensor) {
      // The tensor, and XNNPACK's packed copy of a contracted weight.
      const bytes = rt.heap.packsWeights && packed.has(tensor) ? 2 * b : b;
      kept += bytes;
      charge("kernel weights", tensor, bytes);
      heapLines.push({ category: "kernel weights", what: tensor, bytes });
    }
  }

  // The largest transient: instructions run one at a time on a device.
  let worst = { host: 0, heap: 0, total: 0, label: "" };
  const tensorOf = new Map(program.buffers.map((b) => [b.id, b.tensor]));
  const isPacked = (id: string) => packed.has(tensorOf.get(id) ?? "");
  for (const ins of program.instructions) {
    const t = transient(ins, size, rt, isPacked);
    if (t.host + t.heap > worst.total) worst = { ...t, total: t.host + t.heap, label: insLabel(ins) };
  }
  // Making a weight shard's initial values, before the first step.
  for (const b of program.buffers) {
    const t = b.kind === "param" ? rt.initFactor * bytesOf(b) : 0;
    if (t > worst.total) worst = { host: t, heap: 0, total: t, label: `initialisation of ${b.tensor}` };
  }
  charge("workspace", worst.label || "none", worst.total);
  charge("overhead", rt.name, rt.overheadBytes);
  charge("overhead", "kernel library warm-up", rt.warmupBytes);
  charge("overhead", "typed arrays awaiting garbage collection", rt.garbageBytes);
  if (rt.allreduceBuffers > 0) {
    // Buckets all-reduce asynchronously, several in flight: each summed buffer's scratch counts.
    const reduced = new Set(program.instructions.flatMap((ins) => (ins.kind === "allreduce" && ins.group.length > 1 ? [ins.buf] : [])));
    for (const b of program.buffers) if (reduced.has(b.id)) charge("all-reduce buffers", b.tensor, rt.allreduceBuffers * bytesOf(b));
  }
  let heapBytes = 0;
  if (rt.heap) {
    charge("overhead", "wasm heap start", rt.heap.initialBytes);
    const need = rt.heap.initialBytes + kept + worst.heap;
    heapBytes = wasmHeapSize(need, rt.heap.initialBytes, rt.heap.growth, rt.heap.capBytes);
    // What the heap's growth rounds up: allocated, though no tensor uses it.
    charge("overhead", "wasm heap growth", heapBytes - need);
    heapLines.push(
      { category: "workspace", what: worst.label || "none", bytes: worst.heap },
      { category: "overhead", what: "wasm heap start", bytes: rt.heap.initialBytes },
      { category: "overhead", what: "wasm heap growth", bytes: heapBytes - need },
    );
  }

  const consumers = [...lines.values()].sort((a, b) => b.bytes - a.bytes || a.what.localeCompare(b.what));
  const total = consumers.reduce((a, l) => a + l.bytes, 0);
  const out: PlanDeviceMemory = { device: program.device, total, byCategory, consumers };
  if (rt.heap) out.heap = { bytes: heapBytes, capBytes: rt.heap.capBytes, consumers: heapLines.filter((l) => l.bytes > 0).sort((a, b) => b.bytes - a.bytes || a.what.localeCompare(b.what)) };
  return out;
}

/** The predicted peak of every device of `plan` under `rt`, in program order. */
export function planMemory(plan: Plan, rt: MemoryRuntime): PlanDeviceMemory[] {
  const packed = rt.heap?.packsWeights ? contractedParams(plan) : new Set<string>();
  return plan.programs.map((p) => programMemory(p, rt, packed));
}

/** A device whose predicted peak exceeds what it has: its whole memory, or (tfjs wasm) its wasm heap. */
export interface MemoryShortfall {
  device: number;
  /** "memory" (the device's share of RAM, or its GPU memory) or "wasm heap". */
  pool: "memory" | "wasm heap";
  bytes: number;
  capacity: number;
  /** The largest consumers of that pool, largest first (at most `top`). */
  consumers: MemoryConsumer[];
}

/** Devices over capacity (`capacity(device)` bytes of memory; the heap against its cap). */
export function memoryShortfalls(report: readonly PlanDeviceMemory[], capacity: (device: number) => number | undefined, top = 5): MemoryShortfall[] {
  const out: MemoryShortfall[] = [];
  for (const d of report) {
    const cap = capacity(d.device);
    if (cap !== undefined && d.total > cap) out.push({ device: d.device, pool: "memory", bytes: d.total, capacity: cap, consumers: d.consumers.slice(0, top) });
    if (d.heap && d.heap.bytes > d.heap.capBytes) out.push({ device: d.device, pool: "wasm heap", bytes: d.heap.bytes, capacity: d.heap.capBytes, consumers: d.heap.consumers.slice(0, top) });
  }
  return out;
}
