// Compute costs of one task (one op on one box of its iteration space, on one device).
//
// Roofline (Williams, Waterman & Patterson, CACM 2009):
//   time = max(FLOPs / (peak FLOP/s × efficiency), bytes / memory bandwidth) + launch overhead
// FLOPs come from the op's signature (`sig.flops(extent)`); bytes are the volumes of the
// regions the task touches (inputs it reads, weight shards it holds, outputs it writes)
// times the dtype size. Backward moves about twice the forward bytes (it reads the forward
// operands and the output gradient, writes input and weight gradients) and is charged one
// launch like forward.
//
// Efficiency: datasheet peaks are not reached by real kernels. Large cuBLAS GEMMs reach
// 70–80 % of peak, cuDNN convolutions 50–65 %, small or skinny ones far less; FlexFlow
// sidesteps the question by profiling each task once. We take 0.6 by default (documented in
// docs/simulator.md) and let a measured table override the roofline wherever it has an entry.
//
// Measured table (`par-measured-costs`, version 1), JSON:
//   { "format": "par-measured-costs", "version": 1, "device": "cpu", "backend": "wasm",
//     "entries": [ { "op": "linear", "inputs": [[64, 784]], "attrs": { "out": 128, "bias": true },
//                    "extent": [64, 128, 784], "forwardMs": 0.41, "backwardMs": 0.9 } ] }
// An entry matches a task of op kind `op` whose full input shapes are `inputs`, whose
// attributes (defaults filled in) equal `attrs`, and whose box extent is `extent`; it applies
// to devices whose kind equals the table's `device`.
//
// Contention (optional, `par profile` on a mesh of several devices of this machine): an
// entry may also carry "loadedForwardMs"/"loadedBackwardMs", the same task measured while
// the table's "loadedBy" other devices run kernels at the same time. Devices that share a
// machine share its memory bandwidth and caches (and, on virtual CPUs, often the physical
// cores), so a kernel runs slower while its neighbours compute; src/sim/contention.ts
// charges each task between its alone and loaded time by how much it overlaps them.
//
// Optimizer steps (optional): "updates": [ { "optimizer": "sgd", "floats": 200704, "ms": 0.8 } ]
// times the runtime's update of a weight shard of that many elements (src/cost/measured-updates.ts);
// they replace the roofline's update cost on the table's device kind for that optimizer.
//
// Interference (optional, `par profile --in-run`): "slowdowns": [0.97, 1.0, 1.42, ...], per
// device and measured step of a run, the time of that device's own work (all but waiting
// for peers) in the step over the sum of those instructions' medians: how much a device
// is slowed, step to step, by whatever else runs on the machine; and "deliveryMs":
// [0.05, 0.08, ...], per message received in the run, the time from its data being there
// to the receive's end (the receiver's wake-up). src/sim/interference.ts predicts under
// draws from both.

import { parError } from "../core/diagnostics.js";
import { INPUT_LIMITS, readTextFile } from "../core/read-text.js";
import type { DeviceSpec, Mesh } from "../core/mesh.js";
import { dtypeBytes, isFloat, type DType } from "../core/tensor.js";
import type { Graph, OpNode } from "../ir/graph.js";
import type { AttrValue, AxisMap, Attrs } from "../ops/contract.js";
import { getOp } from "../ops/registry.js";
import { CommModel } from "./comm.js";
import { optimizerStateFactor, type Optimizer } from "./memory.js";
import { UpdateTimes, type MeasuredUpdate } from "./measured-updates.js";

export type { MeasuredUpdate } from "./measured-updates.js";

/** Fraction of the datasheet peak FLOP/s a kernel reaches (see the header comment). */
export const DEFAULT_EFFICIENCY = 0.6;

export interface TaskTime {
  /** Seconds. */
  forward: number;
  backward: number;
}

/** Elements of a tensor region addressed by `maps` for a task box of `extent` (no allocation). */
export function mappedVolume(maps: readonly AxisMap[], shape: readonly number[], extent: readonly number[]): number {
  let v = 1;
  for (let a = 0; a < maps.length; a++) {
    const m = maps[a];
    if (m.kind === "iter") v *= extent[m.dim];
    else if (m.kind === "full") v *= shape[a];
    else if (m.kind === "block") v *= extent[m.dim] * m.blockSize;
    // A window of e outputs reads (e−1)·stride + (kernel−1)·dilation + 1 inputs, at most the axis.
    else v *= Math.min(m.size, (extent[m.dim] - 1) * m.stride + (m.kernel - 1) * m.dilation + 1);
  }
  return v;
}

/** Bytes one task of `op` reads and writes in forward: its input, weight and output regions. */
export function taskBytes(op: OpNode, inputTypes: readonly { dtype: DType; shape: number[] }[], extent: readonly number[]): number {
  const sig = op.sig;
  let bytes = 0;
  sig.inputMaps.forEach((maps, i) => (bytes += mappedVolume(maps, inputTypes[i].shape, extent) * dtypeBytes(inputTypes[i].dtype)));
  sig.paramMaps.forEach((maps, i) => (bytes += mappedVolume(maps, sig.params[i].shape, extent) * dtypeBytes(sig.params[i].dtype ?? opDtype(op, inputTypes))));
  sig.outputMaps.forEach((maps, i) => (bytes += mappedVolume(maps, sig.outputs[i].shape, extent) * dtypeBytes(sig.outputs[i].dtype)));
  return bytes;
}

/** The dtype an op computes in: its first float input's (a loss's output is f32 anyway). */
export function opDtype(op: OpNode, inputTypes: readonly { dtype: DType }[]): DType {
  for (const t of inputTypes) if (isFloat(t.dtype)) return t.dtype;
  for (const t of op.sig.outputs) if (isFloat(t.dtype)) return t.dtype;
  return "f32";
}

/** Peak FLOP/s of `spec` in `dtype`; integer math and missing entries fall back to f32. */
export function peakFlops(spec: DeviceSpec, dtype: DType): number {
  const p = spec.peakFlops[dtype] ?? spec.peakFlops.f32;
  if (!p) throw new Error(`device ${spec.kind} has no peak FLOP/s for ${dtype} or f32`);
  return p;
}

/** The roofline time of `flops` FLOPs moving `bytes` bytes on `spec`. */
export function rooflineTime(flops: number, bytes: number, spec: DeviceSpec, dtype: DType, efficiency = DEFAULT_EFFICIENCY): number {
  return Math.max(flops / (peakFlops(spec, dtype) * efficiency), bytes / spec.memoryBandwidth) + spec.launchOverhead;
}

// ------------------------------------------------------------------ measured tables

export interface MeasuredEntry {
  op: string;
  inputs: number[][];
  attrs: Attrs;
  extent: number[];
  forwardMs: number;
  backwardMs: number;
  /** The same task while `loadedBy` other devices compute (see the header comment). */
  loadedForwardMs?: number;
  loadedBackwardMs?: number;
}

export interface MeasuredCosts {
  format: "par-measured-costs";
  version: 1;
  /** Device kind the entries were measured on ("cpu", "V100"). */
  device: string;
  /** Backend used ("wasm", "cuda"), for people. */
  backend: string;
  /** How many other devices ran kernels while the loaded figures were measured. */
  loadedBy?: number;
  entries: MeasuredEntry[];
  /** Optimizer steps measured by shard size (see the header comment). */
  updates?: MeasuredUpdate[];
  /** Per device and step of a run, the time of its own work over its instructions' medians (see the header comment). */
  slowdowns?: number[];
  /** Per message received in a run, its delivery delay in ms (see the header comment). */
  deliveryMs?: number[];
}

function isNumArray(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((v) => typeof v === "number" && Number.isFinite(v));
}

/** Validates a parsed `par-measured-costs` document; throws a ParError (PAR7102) naming the offending field. */
export function parseMeasuredCosts(doc: unknown, where = "measured costs"): MeasuredCosts {
  const fail = (msg: string): never => {
    throw parError("PAR7102", `${where}: ${msg}`, { expected: "a table written by `par profile` (format par-measured-costs, version 1)" });
  };
  if (typeof doc !== "object" || doc === null) return fail("not a JSON object");
  const d = doc as Record<string, unknown>;
  if (d.format !== "par-measured-costs") fail(`"format" must be "par-measured-costs", got ${JSON.stringify(d.format)}`);
  if (d.version !== 1) fail(`"version" must be 1, got ${JSON.stringify(d.version)}`);
  if (typeof d.device !== "string") fail(`"device" must be a device kind string`);
  if (typeof d.backend !== "string") fail(`"backend" must be a string`);
  if (d.loadedBy !== undefined && !(Number.isInteger(d.loadedBy) && (d.loadedBy as number) >= 1)) fail(`"loadedBy" must be an integer ≥ 1`);
  if (!Array.isArray(d.entries)) return fail(`"entries" must be an array`);
  d.entries.forEach((e: unknown, i: number) => {
    const x = e as Record<string, unknown>;
    if (typeof x !== "object" || x === null) fail(`entries[${i}] is not an object`);
    if (typeof x.op !== "string") fail(`entries[${i}].op must be an op name`);
    if (!Array.isArray(x.inputs) || !x.inputs.every(isNumArray)) fail(`entries[${i}].inputs must be a list of shapes`);
    if (typeof x.attrs !== "object" || x.attrs === null || Array.isArray(x.attrs)) fail(`entries[${i}].attrs must be an object`);
    if (!isNumArray(x.extent)) fail(`entries[${i}].extent must be a list of numbers`);
    for (const f of ["forwardMs", "backwardMs"]) {
      if (typeof x[f] !== "number" || !(x[f] as number >= 0)) fail(`entries[${i}].${f} must be a number ≥ 0`);
    }
    for (const f of ["loadedForwardMs", "loadedBackwardMs"]) {
      if (x[f] !== undefined && (typeof x[f] !== "number" || !(x[f] as number >= 0))) fail(`entries[${i}].${f} must be a number ≥ 0`);
    }
    if ((x.loadedForwardMs === undefined) !== (x.loadedBackwardMs === undefined)) fail(`entries[${i}] needs both loadedForwardMs and loadedBackwardMs, or neither`);
  });
  if (d.updates !== undefined) {
    if (!Array.isArray(d.updates)) return fail(`"updates" must be an array`);
    d.updates.forEach((u: unknown, i: number) => {
      const x = u as Record<string, unknown>;
      if (typeof x !== "object" || x === null) fail(`updates[${i}] is not an object`);
      if (!["sgd", "momentum", "adam"].includes(x.optimizer as string)) fail(`updates[${i}].optimizer must be "sgd", "momentum" or "adam"`);
      if (!(Number.isInteger(x.floats) && (x.floats as number) > 0)) fail(`updates[${i}].floats must be an integer > 0`);
      if (typeof x.ms !== "number" || !(x.ms >= 0) || !Number.isFinite(x.ms)) fail(`updates[${i}].ms must be a number ≥ 0`);
    });
  }
  // Optional lists of finite numbers: slowdowns > 0, delivery delays ≥ 0.
  const numberList = (field: string, ok: (x: number) => boolean, bound: string): void => {
    const xs = d[field];
    if (xs === undefined) return;
    if (!Array.isArray(xs)) return fail(`"${field}" must be an array of numbers ${bound}`);
    xs.forEach((x: unknown, i: number) => {
      if (typeof x !== "number" || !Number.isFinite(x) || !ok(x)) fail(`${field}[${i}] must be a number ${bound}, got ${JSON.stringify(x)}`);
    });
  };
  numberList("slowdowns", (x) => x > 0, "> 0");
  numberList("deliveryMs", (x) => x >= 0, "≥ 0");
  return d as unknown as MeasuredCosts;
}

/** Reads and validates a measured-cost table; a coded ParError when it cannot be used. */
export function loadMeasuredCosts(path: string, shown = path): MeasuredCosts {
  const text = readTextFile(path, shown, INPUT_LIMITS.json);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw parError("PAR7101", `${shown} is not valid JSON: ${(e as Error).message}`, { expected: "a measured-cost table written by `par profile`" });
  }
  return parseMeasuredCosts(doc, shown);
}

/** Attributes with the op's defaults filled in, keys sorted: two spellings of one config compare equal. */
function canonicalAttrs(op: string, attrs: Attrs): string {
  const full: Record<string, AttrValue> = {};
  for (const spec of getOp(op)?.attrs ?? []) if (spec.default !== undefined) full[spec.name] = spec.default;
  Object.assign(full, attrs);
  return JSON.stringify(Object.keys(full).sort().map((k) => [k, full[k]]));
}

export function measuredKey(op: string, inputs: readonly (readonly number[])[], attrs: Attrs, extent: readonly number[]): string {
  return `${op}|${JSON.stringify(inputs)}|${canonicalAttrs(op, attrs)}|${extent.join(",")}`;
}

// ------------------------------------------------------------------ the cost model

/** Appends `xs` to `kind`'s list in `byKind` (creating it only for a non-empty `xs`). */
function poolByKind<T>(byKind: Map<string, T[]>, kind: string, xs: readonly T[]): void {
  if (!xs.length) return;
  const list = byKind.get(kind);
  if (list) list.push(...xs);
  else byKind.set(kind, [...xs]);
}

export interface CostModelOptions {
  /** Fraction of peak FLOP/s reached (default DEFAULT_EFFICIENCY). */
  efficiency?: number;
  /** Measured tables; an entry overrides the roofline on devices of the table's kind. */
  measured?: MeasuredCosts[];
  /** Optimizer whose update the simulator charges per weight shard (default "sgd"). */
  optimizer?: Optimizer;
  /** A comm model to share (its route table and collective cache). */
  comm?: CommModel;
}

/**
 * All costs of one (graph, mesh) pair, shaped as the simulator's `SimCosts` (which it
 * satisfies structurally: src/sim never imports src/cost). Compute times are cached per
 * (op, task extent, device kind): a strategy's tasks repeat few distinct extents.
 */
export class CostModel {
  readonly efficiency: number;
  readonly optimizer: Optimizer;
  readonly comm: CommModel;
  private readonly measured = new Map<string, TaskTime>();
  private readonly measuredLoaded = new Map<string, TaskTime>();
  private readonly measuredDevices = new Set<string>();
  /** Measured update times of this model's optimizer, by device kind. */
  private readonly measuredUpdates = new Map<string, UpdateTimes>();
  /** Measured interference by device kind (tables of one kind pooled): slowdowns, delivery delays (s). */
  private readonly measuredSlowdowns = new Map<string, number[]>();
  private readonly measuredDelays = new Map<string, number[]>();
  private readonly cache = new Map<string, TaskTime>();
  private readonly inputTypes = new Map<string, { dtype: DType; shape: number[] }[]>();

  constructor(readonly graph: Graph, readonly mesh: Mesh, options: CostModelOptions = {}) {
    this.efficiency = options.efficiency ?? DEFAULT_EFFICIENCY;
    if (!(this.efficiency > 0 && this.efficiency <= 1)) throw new RangeError(`efficiency must be in (0, 1], got ${this.efficiency}`);
    this.optimizer = options.optimizer ?? "sgd";
    this.comm = options.comm ?? new CommModel(mesh);
    for (const table of options.measured ?? []) {
      this.measuredDevices.add(table.device);
      for (const e of table.entries) {
        const key = `${table.device}#${measuredKey(e.op, e.inputs, e.attrs, e.extent)}`;
        this.measured.set(key, { forward: e.forwardMs / 1000, backward: e.backwardMs / 1000 });
        if (e.loadedForwardMs !== undefined && e.loadedBackwardMs !== undefined) {
          this.measuredLoaded.set(key, { forward: e.loadedForwardMs / 1000, backward: e.loadedBackwardMs / 1000 });
        }
      }
    }
    // Updates and interference pool over the tables of one device kind.
    const updateRows = new Map<string, MeasuredUpdate[]>();
    for (const table of options.measured ?? []) {
      poolByKind(updateRows, table.device, (table.updates ?? []).filter((u) => u.optimizer === this.optimizer));
      poolByKind(this.measuredSlowdowns, table.device, table.slowdowns ?? []);
      poolByKind(this.measuredDelays, table.device, (table.deliveryMs ?? []).map((ms) => ms / 1000));
    }
    for (const [kind, rows] of updateRows) this.measuredUpdates.set(kind, new UpdateTimes(rows));
  }

  /** The measured slowdowns of `device`'s kind, if a table has them (src/sim/interference.ts). */
  slowdowns(device: number): readonly number[] | undefined {
    return this.measuredSlowdowns.get(this.mesh.devices[device].spec.kind);
  }

  /** The measured delivery delays (s) of messages to `dst`, by its kind, if a table has them. */
  deliveryDelays(_src: number, dst: number): readonly number[] | undefined {
    return this.measuredDelays.get(this.mesh.devices[dst].spec.kind);
  }

  /** Whether a table has interference measured on a device kind of this mesh. */
  get hasInterference(): boolean {
    return this.mesh.devices.some((d) => this.measuredSlowdowns.has(d.spec.kind) || this.measuredDelays.has(d.spec.kind));
  }

  private typesOf(op: OpNode): { dtype: DType; shape: number[] }[] {
    let t = this.inputTypes.get(op.name);
    if (!t) this.inputTypes.set(op.name, (t = op.inputs.map((id) => this.graph.tensor(id).type)));
    return t;
  }

  /** Forward and backward seconds of one task of `op` with box `extent` on `device`. */
  compute(op: OpNode, extent: readonly number[], device: number): TaskTime {
    const spec = this.mesh.devices[device].spec;
    const key = `${op.name}|${extent.join(",")}|${spec.kind}`;
    let t = this.cache.get(key);
    if (t) return t;
    const types = this.typesOf(op);
    if (this.measuredDevices.has(spec.kind)) {
      t = this.measured.get(`${spec.kind}#${measuredKey(op.op, types.map((x) => x.shape), op.attrs, extent)}`);
    }
    if (!t) {
      const f = op.sig.flops(extent);
      const bytes = taskBytes(op, types, extent);
      const dtype = opDtype(op, types);
      t = {
        forward: rooflineTime(f.forward, bytes, spec, dtype, this.efficiency),
        backward: rooflineTime(f.backward, 2 * bytes, spec, dtype, this.efficiency),
      };
    }
    this.cache.set(key, t);
    return t;
  }

  /** Whether any measured entry carries loaded (contention) figures. */
  get hasLoadedCosts(): boolean {
    return this.measuredLoaded.size > 0;
  }

  /**
   * Forward and backward seconds of the task while the other devices compute (a measured
   * table's loaded figures), or undefined where nothing was measured under load.
   */
  computeLoaded(op: OpNode, extent: readonly number[], device: number): TaskTime | undefined {
    if (this.measuredLoaded.size === 0) return undefined;
    const kind = this.mesh.devices[device].spec.kind;
    return this.measuredLoaded.get(`${kind}#${measuredKey(op.op, this.typesOf(op).map((x) => x.shape), op.attrs, extent)}`);
  }

  private readonly kindIds = new Map<string, number>();

  /** Devices of one kind cost the same: the simulator asks `compute` once per (extent, kind). */
  computeClass(device: number): number {
    const kind = this.mesh.devices[device].spec.kind;
    let id = this.kindIds.get(kind);
    if (id === undefined) this.kindIds.set(kind, (id = this.kindIds.size));
    return id;
  }

  /** Adding `count` partial sums of `bytes` each on `device`: read them all, write one (memory bound). */
  partialSum(bytes: number, count: number, device: number): number {
    const spec = this.mesh.devices[device].spec;
    return (count + 1) * bytes / spec.memoryBandwidth + spec.launchOverhead;
  }

  transfer(bytes: number, src: number, dst: number): number {
    return this.comm.transfer(bytes, src, dst);
  }

  allReduce(bytes: number, devices: readonly number[]): number {
    return this.comm.allReduce(bytes, devices);
  }

  /**
   * Optimizer step on a weight shard of `bytes`: memory bound; reads weight and gradient,
   * writes the weight, and reads+writes each state buffer (sgd none, momentum 1, adam 2).
   * A measured table's updates for this device kind and optimizer replace that (f32 weights:
   * bytes / 4 elements).
   */
  update(bytes: number, device: number): number {
    const spec = this.mesh.devices[device].spec;
    const measured = this.measuredUpdates.get(spec.kind);
    if (measured) return measured.seconds(Math.round(bytes / 4));
    const traffic = (3 + 2 * optimizerStateFactor(this.optimizer)) * bytes;
    return traffic / spec.memoryBandwidth + spec.launchOverhead;
  }
}
