// Lowering: (Graph, Strategy, Mesh) → Plan. Every op's iteration space is cut into the
// strategy's task boxes; from each box follow (src/ops/regions.ts) the input regions the
// task reads, the weight shard it holds and the output region it writes. Intersecting a
// consumer's input regions with the producer's output regions gives every transfer;
// the same algebra run backwards gives the gradient flow. docs/runtime.md states the rules.
//
// Buffers. A buffer is one region of one tensor's value / gradient / weight on one device,
// named by what it holds, so that two tasks on one device that need the same region share
// one buffer (and a consumer whose input region equals a producer's output region on the
// same device reads the producer's buffer directly, with no copy):
//   v:T[R]        value of T over R (the canonical, complete value)
//   v:T[R]#tK     task K's own output when it is a partial sum (or a replica)
//   g:T[R]        gradient of T over R (contributions are ADDED into it)
//   g:T[R]@b      a copy of the complete gradient, for a partial-sum task off the owner
//   g:T[R]@z      zero dOutput for a replica task (its value is counted once, by the owner)
//   g:T[]@one     dOutput = 1 of a loss
//   p:P[R] pg:P[R] m:P[R] s:P[R]   weight shard, its gradient, optimizer state (m, v)
//
// Deadlock freedom. Instructions are generated in ONE global sequence S and appended to
// the programs of their devices in S's order; a `send` comes before its `recv` in S
// (generated together, or an op's forward sends all before their recvs: deferReceives),
// and an `allreduce` is appended to all members of its group at one point of S. So every
// program is a subsequence of S and every recv comes after its send in S. Suppose the
// devices were stuck; take the stuck instruction x that is earliest in S. A recv waits for its send s < x in S, whose device has not reached s, so it is
// stuck at some y before s in its program, i.e. y < s < x in S: contradiction. An
// allreduce waits for a member that has not reached it, stuck at y < x: contradiction.
// Sends never block, so nothing else can be stuck. (plan-io's `checkSchedule` replays a
// plan to check exactly this, and the tests run it on every lowered plan.)

import type { Graph, OpNode } from "../ir/graph.js";
import { taskCount, type Strategy } from "../ir/strategy.js";
import { formatRegion, intersect, regionEquals, type Region } from "../core/region.js";
import { isFloat, type DType } from "../core/tensor.js";
import { reductionDims, taskBox, taskRegions, type TaskRegions } from "../ops/regions.js";
import { getOp } from "../ops/registry.js";
import { planWeightsOf } from "../plan/weights.js";
import { feeds } from "./feeds.js";
import {
  PLAN_FORMAT,
  PLAN_VERSION,
  type BufferKind,
  type PlanParam,
  type DeviceProgram,
  type Instruction,
  type OptimizerConfig,
  type Plan,
  type PlanBuffer,
  type PlanDType,
  type PlanOp,
  type PlanTensor,
} from "../plan/plan.js";

export interface LowerMesh {
  name: string;
  devices: { index: number; spec: { kind: string } }[];
}

export interface LowerOptions {
  seed: number;
  optimizer: OptimizerConfig;
  /**
   * Given param values by param id ("<op>.<param>", e.g. an imported model's weights):
   * those params get `init: {kind: "values"}` and their values go into `Plan.weights`
   * (PAR5013 beyond PLAN_WEIGHTS_CAP_BYTES). Ids that are not params of the graph are ignored.
   */
  weights?: ReadonlyMap<string, Float32Array>;
  /** Most bytes of given weights a plan may carry (default PLAN_WEIGHTS_CAP_BYTES; tests of large imported models raise it). */
  weightsCapBytes?: number;
}

/** Every op as one task on device 0: the reference the verifier compares against. */
export function singleDeviceStrategy(graph: Graph, mesh = "single"): Strategy {
  const ops: Strategy["ops"] = {};
  for (const o of graph.topoOrder()) ops[o.name] = { degrees: o.sig.space.map(() => 1), devices: [0] };
  return { name: "single-device", model: graph.name, mesh, ops };
}

export function planDType(d: DType): PlanDType {
  return isFloat(d) ? "f32" : "i32";
}

function key(r: Region): string {
  return formatRegion(r).replace(/ /g, "");
}

interface Task {
  index: number;
  device: number;
  box: Region;
  regions: TaskRegions;
  /** Buffer id of each output on the task's device. */
  outputs: string[];
}

/** The tasks of one op writing one output region: an owner and the others. */
interface OutputGroup {
  tensor: string;
  region: Region;
  /** The first task (lowest index) of the group; it holds the complete value. */
  owner: Task;
  /** Tasks whose outputs add up to the value (owner included). */
  partials: Task[];
  /** Tasks that write the same region with the same value (a dim only another output uses). */
  replicas: Task[];
  /** The complete value's buffer on the owner's device. */
  canonical: string;
}

interface LoweredOp {
  node: OpNode;
  tasks: Task[];
  groups: OutputGroup[][];
  isLoss: boolean;
}

interface Held {
  device: number;
  id: string;
  region: Region;
}

class Builder {
  readonly programs = new Map<number, { buffers: Map<string, PlanBuffer>; instructions: Instruction[] }>();
  private tags = 0;
  /** Receives held back by deferReceives. */
  private deferred: [number, Instruction][] | undefined;

  constructor(devices: number[]) {
    for (const d of devices) this.programs.set(d, { buffers: new Map(), instructions: [] });
  }

  private prog(device: number) {
    const p = this.programs.get(device);
    if (!p) throw new Error(`lower: device ${device} is not in the mesh`);
    return p;
  }

  has(device: number, id: string): boolean {
    return this.prog(device).buffers.has(id);
  }

  /** Declares a buffer (once); returns true when it is new. */
  declare(device: number, b: PlanBuffer): boolean {
    const bufs = this.prog(device).buffers;
    if (bufs.has(b.id)) return false;
    bufs.set(b.id, b);
    return true;
  }

  emit(device: number, ins: Instruction): void {
    this.prog(device).instructions.push(ins);
  }

  tag(prefix: string): string {
    return `${prefix}${this.tags++}`;
  }

  /** Moves `region` of `src` (on `from`) into `dst` (on `to`): a local copy or a send/recv pair. */
  transfer(from: number, src: string, to: number, dst: string, region: Region, accumulate: boolean, prefix: string): void {
    if (from === to) {
      if (src === dst) return;
      this.emit(to, accumulate ? { kind: "copy", src, dst, region, accumulate: true } : { kind: "copy", src, dst, region });
      return;
    }
    const tag = this.tag(prefix);
    this.emit(from, { kind: "send", to, tag, src, region });
    const recv: Instruction = accumulate ? { kind: "recv", from, tag, dst, region, accumulate: true } : { kind: "recv", from, tag, dst, region };
    if (this.deferred) this.deferred.push([to, recv]);
    else this.emit(to, recv);
  }

  /**
   * Runs `body` with the receives of its transfers held back and emitted after it, in
   * order: every send it generates goes out before any device waits for one of its
   * messages (else two devices exchanging halves would take turns). Each send still
   * precedes its receive in S, so deadlock freedom holds. Local copies are not held back:
   * only use it where no two transfers add into one buffer (the order of a sum).
   */
  deferReceives<T>(body: () => T): T {
    if (this.deferred) throw new Error("lower: deferReceives does not nest");
    const held: [number, Instruction][] = [];
    this.deferred = held;
    try {
      return body();
    } finally {
      this.deferred = undefined;
      for (const [device, ins] of held) this.emit(device, ins);
    }
  }
}

function bufId(prefix: string, tensor: string, r: Region, suffix = ""): string {
  return `${prefix}:${tensor}${key(r)}${suffix}`;
}

/** Checks the strategy against the graph and mesh; throws with every problem listed. */
function checkStrategy(graph: Graph, strategy: Strategy, devices: Set<number>): void {
  const problems: string[] = [];
  for (const o of graph.topoOrder()) {
    const c = strategy.ops[o.name];
    if (!c) {
      problems.push(`op ${o.name} has no config`);
      continue;
    }
    if (c.degrees.length !== o.sig.space.length) {
      problems.push(`op ${o.name}: ${c.degrees.length} degrees for ${o.sig.space.length} dims`);
      continue;
    }
    c.degrees.forEach((d, i) => {
      const dim = o.sig.space[i];
      if (!Number.isInteger(d) || d < 1 || d > dim.size) problems.push(`op ${o.name}: degree ${d} for dim ${dim.name} of size ${dim.size}`);
      else if (d > 1 && dim.splittable === false) problems.push(`op ${o.name}: dim ${dim.name} is not splittable`);
    });
    if (c.devices.length !== taskCount(c)) problems.push(`op ${o.name}: ${c.devices.length} devices for ${taskCount(c)} tasks`);
    for (const d of c.devices) if (!devices.has(d)) problems.push(`op ${o.name}: device ${d} is not in the mesh`);
  }
  if (problems.length) throw new Error(`lower: invalid strategy ${strategy.name}: ${problems.join("; ")}`);
}

export function lower(graph: Graph, strategy: Strategy, mesh: LowerMesh, options: LowerOptions): Plan {
  const deviceIndices = mesh.devices.map((d) => d.index);
  checkStrategy(graph, strategy, new Set(deviceIndices));
  const b = new Builder(deviceIndices);
  const order = graph.topoOrder();

  // ---- tensors, ops, params -------------------------------------------------------------
  const feedKinds = feeds(graph);
  const tensors: PlanTensor[] = [];
  for (const t of graph.tensors.values()) {
    const pt: PlanTensor = { id: t.id, shape: [...t.type.shape], dtype: planDType(t.type.dtype), role: t.producer ? "activation" : "input" };
    const f = feedKinds.get(t.id);
    if (f) pt.feed = f;
    tensors.push(pt);
  }
  const params = graph.params();
  for (const p of params) tensors.push({ id: p.id, shape: [...p.spec.shape], dtype: planDType(p.spec.dtype ?? "f32"), role: "param" });
  const dtypeOf = new Map(tensors.map((t) => [t.id, t.dtype]));
  const ops: PlanOp[] = order.map((o) => ({
    name: o.name,
    op: o.op,
    attrs: { ...o.attrs },
    inputs: [...o.inputs],
    outputs: [...o.outputs],
    params: o.sig.params.map((s) => `${o.name}.${s.name}`),
    degrees: [...strategy.ops[o.name].degrees],
  }));

  const value = (device: number, tensor: string, region: Region, suffix = ""): string => {
    const id = bufId("v", tensor, region, suffix);
    b.declare(device, { id, tensor, kind: "value", region, dtype: dtypeOf.get(tensor)! });
    return id;
  };
  /** A buffer for this step's backward: declared and zeroed at its first use. */
  const zeroed = (device: number, kind: BufferKind, prefix: string, tensor: string, region: Region, suffix = ""): string => {
    const id = bufId(prefix, tensor, region, suffix);
    if (b.declare(device, { id, tensor, kind, region, dtype: "f32" })) b.emit(device, { kind: "zero", buf: id });
    return id;
  };

  // ---- forward ----------------------------------------------------------------------------
  /** The complete value of each produced tensor: which device holds which region. */
  const pieces = new Map<string, Held[]>();
  const lowered: LoweredOp[] = [];
  for (const o of order) {
    const c = strategy.ops[o.name];
    const entry = getOp(o.op);
    if (!entry) throw new Error(`lower: op ${o.name} has unknown kind ${o.op}`);
    const isLoss = entry.isLoss === true;
    const inShapes = o.inputs.map((t) => graph.tensor(t).type.shape);
    const red = new Set(reductionDims(o.sig));
    const tasks: Task[] = [];
    for (let i = 0; i < taskCount(c); i++) {
      const box = taskBox(o.sig, c.degrees, i);
      tasks.push({ index: i, device: c.devices[i], box, regions: taskRegions(o.sig, inShapes, box), outputs: [] });
    }
    // Group the tasks by output region. Tasks that differ only along reduction dims hold
    // partial sums; tasks that also differ along a dim this output ignores are replicas.
    const groups: OutputGroup[][] = o.outputs.map((tensor, oi) => {
      const byRegion = new Map<string, OutputGroup>();
      for (const t of tasks) {
        const r = t.regions.outputs[oi];
        const g = byRegion.get(key(r));
        if (!g) {
          byRegion.set(key(r), { tensor, region: r, owner: t, partials: [t], replicas: [], canonical: "" });
          continue;
        }
        const samePlace = t.box.lo.every((lo, d) => red.has(d) || (lo === g.owner.box.lo[d] && t.box.hi[d] === g.owner.box.hi[d]));
        (samePlace ? g.partials : g.replicas).push(t);
      }
      return [...byRegion.values()];
    });
    // Output buffers: the owner of an un-split group writes the canonical buffer directly.
    groups.forEach((gs, oi) => {
      for (const g of gs) {
        for (const t of [...g.partials, ...g.replicas]) {
          const direct = t === g.owner && g.partials.length === 1;
          t.outputs[oi] = value(t.device, g.tensor, g.region, direct ? "" : `#t${t.index}`);
        }
        g.canonical = g.partials.length === 1 ? g.owner.outputs[oi] : bufId("v", g.tensor, g.region);
      }
    });

    // Every task's inputs first (all sends, then all receives), then every task's kernel:
    // a device's sends to the op's other tasks go out before it waits for its own inputs
    // or runs its own kernel (the simulator's order too: XF(r) before FO(r), src/sim/
    // taskgraph.ts). Forward inputs are plain copies, never sums: deferring is safe.
    const inputsOfTask = (t: Task): string[] =>
      o.inputs.map((tensor, ii) => {
        const r = t.regions.inputs[ii];
        const id = bufId("v", tensor, r);
        if (b.has(t.device, id)) return id;
        value(t.device, tensor, r);
        const held = pieces.get(tensor);
        if (!held) {
          // A graph input: data are a pure function of the global index, so every device
          // feeds exactly what it needs and no data moves.
          b.emit(t.device, { kind: "feed", buf: id });
        } else {
          for (const h of held) {
            const common = intersect(h.region, r);
            if (common) b.transfer(h.device, h.id, t.device, id, common, false, "f");
          }
        }
        return id;
      });
    const inputsOf = b.deferReceives(() => tasks.map(inputsOfTask));
    for (const t of tasks) {
      const inputs = inputsOf[t.index];
      const ps = o.sig.params.map((s, pi) => {
        const tensor = `${o.name}.${s.name}`;
        const region = t.regions.params[pi];
        const id = bufId("p", tensor, region);
        b.declare(t.device, { id, tensor, kind: "param", region, dtype: dtypeOf.get(tensor)! });
        return id;
      });
      b.emit(t.device, { kind: "forward", op: o.name, task: t.index, box: t.box, inputs, params: ps, outputs: [...t.outputs] });
      if (isLoss) for (const out of t.outputs) b.emit(t.device, { kind: "loss", buf: out });
    }

    // Partial sums: add them up on the owner (in task order, so the sum is deterministic)
    // before any consumer reads. A loss's partials go to `loss` instead; they are summed
    // into a value only if something consumes the loss.
    groups.forEach((gs, oi) => {
      const needed = !isLoss || graph.tensor(o.outputs[oi]).consumers.length > 0;
      for (const g of gs) {
        if (g.partials.length > 1 && needed) {
          const od = g.owner.device;
          value(od, g.tensor, g.region);
          b.emit(od, { kind: "zero", buf: g.canonical });
          for (const p of g.partials) b.transfer(p.device, p.outputs[oi], od, g.canonical, g.region, true, "r");
        }
      }
      pieces.set(o.outputs[oi], gs.map((g) => ({ device: g.owner.device, id: g.canonical, region: g.region })));
    });
    lowered.push({ node: o, tasks, groups, isLoss });
  }

  // ---- backward ---------------------------------------------------------------------------
  /** Per tensor: the gradient buffers consumers added their contributions into. */
  const contributions = new Map<string, Held[]>();
  const addContribution = (tensor: string, h: Held): void => {
    const list = contributions.get(tensor) ?? [];
    if (!list.some((x) => x.device === h.device && x.id === h.id)) list.push(h);
    contributions.set(tensor, list);
  };

  // Weight-gradient all-reduces and updates go to the END of S (after every backward), in
  // the order the ops produce them: a blocking all-reduce is a barrier between its members,
  // and the executor runs them in line (no overlap with kernels), so one barrier region at
  // the end costs the devices' imbalance once instead of at every layer. A param is read
  // only by its own op's kernels, which all precede its update either way; programs stay
  // subsequences of S (deadlock freedom, above).
  const tail: [number, Instruction][] = [];
  for (const lo of [...lowered].reverse()) {
    const o = lo.node;
    // dOutput of every task: a loss starts backward with 1; otherwise the owner of each
    // output region sums all consumer contributions intersecting it, and partial-sum
    // tasks elsewhere get a copy (d sum / d partial = 1).
    const dOuts: string[][] = lo.tasks.map(() => []);
    lo.groups.forEach((gs, oi) => {
      const tensor = o.outputs[oi];
      if (lo.isLoss) {
        for (const t of lo.tasks) {
          const id = bufId("g", tensor, t.regions.outputs[oi], "@one");
          if (b.declare(t.device, { id, tensor, kind: "grad", region: t.regions.outputs[oi], dtype: "f32" })) b.emit(t.device, { kind: "fill", buf: id, value: 1 });
          dOuts[t.index][oi] = id;
        }
        return;
      }
      for (const g of gs) {
        const od = g.owner.device;
        const canon = zeroed(od, "grad", "g", tensor, g.region);
        for (const h of contributions.get(tensor) ?? []) {
          if (h.device === od && h.id === canon) continue;
          const common = intersect(h.region, g.region);
          if (common) b.transfer(h.device, h.id, od, canon, common, true, "g");
        }
        for (const t of g.partials) {
          if (t.device === od) {
            dOuts[t.index][oi] = canon;
            continue;
          }
          const id = bufId("g", tensor, g.region, "@b");
          if (b.declare(t.device, { id, tensor, kind: "grad", region: g.region, dtype: "f32" })) b.transfer(od, canon, t.device, id, g.region, false, "b");
          dOuts[t.index][oi] = id;
        }
        for (const t of g.replicas) dOuts[t.index][oi] = zeroed(t.device, "grad", "g", tensor, g.region, "@z");
      }
    });

    for (const t of lo.tasks) {
      const dInputs = o.inputs.map((tensor, ii) => {
        const info = graph.tensor(tensor);
        if (!info.producer || !isFloat(info.type.dtype)) return null;
        const r = t.regions.inputs[ii];
        const id = zeroed(t.device, "grad", "g", tensor, r);
        addContribution(tensor, { device: t.device, id, region: r });
        return id;
      });
      const dParams = o.sig.params.map((s, pi) => zeroed(t.device, "param_grad", "pg", `${o.name}.${s.name}`, t.regions.params[pi]));
      b.emit(t.device, {
        kind: "backward",
        op: o.name,
        task: t.index,
        box: t.box,
        inputs: o.inputs.map((tensor, ii) => bufId("v", tensor, t.regions.inputs[ii])),
        params: o.sig.params.map((s, pi) => bufId("p", `${o.name}.${s.name}`, t.regions.params[pi])),
        outputs: [...t.outputs],
        dOutputs: dOuts[t.index],
        dInputs,
        dParams,
      });
    }

    // Weight gradients: tasks holding the same shard (replicas across sample/attribute
    // splits) sum their gradients; tasks on one device already added into one buffer.
    // Different shards never overlap (both are cells of the same grid), checked here.
    o.sig.params.forEach((s, pi) => {
      const tensor = `${o.name}.${s.name}`;
      // A frozen param (a buffer) is read, never updated: no all-reduce, no update.
      if (graph.frozen.has(tensor)) return;
      const shards: { region: Region; devices: number[] }[] = [];
      for (const t of lo.tasks) {
        const r = t.regions.params[pi];
        const sh = shards.find((x) => regionEquals(x.region, r));
        if (sh) {
          if (!sh.devices.includes(t.device)) sh.devices.push(t.device);
        } else {
          if (shards.some((x) => intersect(x.region, r))) throw new Error(`lower: op ${o.name}: shards of ${tensor} overlap without being equal`);
          shards.push({ region: r, devices: [t.device] });
        }
      }
      for (const sh of shards) {
        const pg = bufId("pg", tensor, sh.region);
        if (sh.devices.length > 1) {
          const group = [...sh.devices].sort((x, y) => x - y);
          const tag = b.tag("a");
          for (const d of group) tail.push([d, { kind: "allreduce", group, tag, buf: pg }]);
        }
        // Every replica applies the same update to the same values: replicas stay identical.
        for (const d of sh.devices) {
          const upd: Extract<Instruction, { kind: "update" }> = { kind: "update", param: bufId("p", tensor, sh.region), grad: pg };
          if (options.optimizer.kind !== "sgd") {
            upd.m = bufId("m", tensor, sh.region);
            b.declare(d, { id: upd.m, tensor, kind: "opt_m", region: sh.region, dtype: "f32" });
          }
          if (options.optimizer.kind === "adam") {
            upd.v = bufId("s", tensor, sh.region);
            b.declare(d, { id: upd.v, tensor, kind: "opt_v", region: sh.region, dtype: "f32" });
          }
          tail.push([d, upd]);
        }
      }
    });
  }
  for (const [d, ins] of tail) b.emit(d, ins);

  const programs: DeviceProgram[] = deviceIndices.map((d) => {
    const p = b.programs.get(d)!;
    return { device: d, buffers: [...p.buffers.values()], instructions: p.instructions };
  });
  const given = options.weights && options.weights.size ? planWeightsOf(options.weights, new Map(params.map((p) => [p.id, p.spec.shape])), options.weightsCapBytes) : undefined;
  const plan: Plan = {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    model: graph.name,
    mesh: mesh.name,
    strategy: strategy.name,
    seed: options.seed,
    optimizer: { ...options.optimizer },
    devices: mesh.devices.map((d) => ({ index: d.index, kind: d.spec.kind })),
    tensors,
    ops,
    params: params.map((p): PlanParam => ({ tensor: p.id, init: given?.[p.id] ? { kind: "values", ref: p.id } : p.spec.init, ...(graph.frozen.has(p.id) ? { trainable: false as const } : {}) })),
    losses: lowered.filter((l) => l.isLoss).flatMap((l) => l.node.outputs),
    programs,
  };
  if (given && Object.keys(given).length) plan.weights = given;
  return plan;
}
