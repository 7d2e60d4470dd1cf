// One device's interpreter of its Plan program. It holds the device's buffers (typed
// arrays: kernels get tfjs tensors made from them, copies and sums work on the arrays),
// runs kernels through the op registry and exchanges data only through `Comm`, so it
// runs the same in one thread (memory-comm.ts) or one per worker.

import type { Tensor } from "@tensorflow/tfjs-core";
import { Diagnostics, ParError } from "../../core/diagnostics.js";
import { intersect, regionShape, regionVolume, type Region } from "../../core/region.js";
import type { TensorType } from "../../core/tensor.js";
import { bufferAccesses } from "../../plan/access.js";
import type { Instruction, Plan, PlanBuffer, PlanOp, PlanTensor } from "../../plan/plan.js";
import { sliceOf } from "../../plan/slices.js";
import type { OpEntry, OpSignature, ShardContext, TF } from "../../ops/contract.js";
import { backwardOf } from "../../ops/autodiff.js";
import { isFirstAlongReductions, spaceSizes, taskRegions } from "../../ops/regions.js";
import { getOp } from "../../ops/registry.js";
import type { Comm } from "./comm.js";
import { DATASET_BATCHES, synthesize } from "./data.js";
import { givenRegion, initRegion } from "./init.js";
import { decodeF32 } from "../../plan/weights.js";
import { applyUpdate } from "./optimizer.js";
import { copyRegion, extract, insert, type BufferData } from "./regions.js";
import { addInto } from "../wasm/f32-add.js";

interface Buffer {
  spec: PlanBuffer;
  data: BufferData;
  shape: number[];
}

interface OpRuntime {
  op: PlanOp;
  entry: OpEntry;
  sig: OpSignature;
  inputShapes: number[][];
}

function fail(code: string, message: string): never {
  throw new ParError([{ code, severity: "error", message }]);
}

/** The plan's tensor as the op contract's TensorType (dims are only names). */
function tensorType(t: PlanTensor): TensorType {
  return { dtype: t.dtype, shape: [...t.shape], dims: t.shape.map((_, i) => `${t.id}.d${i}`) };
}

/** Re-infers every op's signature from the plan (once per plan and executor). */
export function planSignatures(plan: Plan): Map<string, OpRuntime> {
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  const out = new Map<string, OpRuntime>();
  for (const op of plan.ops) {
    const entry = getOp(op.op);
    if (!entry) fail("PAR5051", `op ${op.name}: unknown op kind ${op.op}`);
    const inputs = op.inputs.map((id) => {
      const t = tensors.get(id);
      if (!t) fail("PAR5051", `op ${op.name}: unknown input tensor ${id}`);
      return tensorType(t);
    });
    const diagnostics = new Diagnostics();
    const sig = entry.infer(inputs, op.attrs, { opName: op.name, diagnostics });
    if (!sig) fail("PAR5051", `op ${op.name}: ${diagnostics.items.map((d) => `${d.code} ${d.message}`).join("; ")}`);
    out.set(op.name, { op, entry, sig, inputShapes: inputs.map((t) => t.shape) });
  }
  return out;
}

/**
 * Optional fast paths a Comm may offer (ShmComm does): receive a message's chunks straight
 * into their destination, and all-reduce in the caller's buffer. Same results as recv +
 * insert and allreduce + set; they only skip intermediate arrays.
 */
interface DirectComm {
  recvInto(from: number, tag: string, sink: { begin(total: number): void; chunk(src: Float32Array, srcIndex: number, offset: number, count: number): void }): Promise<void>;
  allreduceInPlace(group: number[], tag: string, data: Float32Array): Promise<void>;
}

function isDirect(c: Comm): c is Comm & DirectComm {
  const d = c as Partial<DirectComm>;
  return typeof d.recvInto === "function" && typeof d.allreduceInPlace === "function";
}

/**
 * Where region `r` lies in a buffer holding `holder` when it is one contiguous run of the
 * buffer's row-major order (every axis after the last partial one is whole, every axis
 * before it has extent 1 in `r`): its start; otherwise -1.
 */
function contiguousOffset(holder: Region, r: Region): number {
  const rank = r.lo.length;
  let p = rank - 1;
  while (p >= 0 && r.lo[p] === holder.lo[p] && r.hi[p] === holder.hi[p]) p--;
  for (let i = 0; i < p; i++) if (r.hi[i] - r.lo[i] !== 1) return -1;
  let off = 0;
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    off += (r.lo[i] - holder.lo[i]) * stride;
    stride *= holder.hi[i] - holder.lo[i];
  }
  return off;
}

export interface InstructionObserver {
  before?(index: number, ins: Instruction): void;
  after?(index: number, ins: Instruction): void;
}

export class DeviceExecutor {
  private readonly buffers = new Map<string, Buffer>();
  private readonly instructions: Instruction[];
  private readonly ops: Map<string, OpRuntime>;
  private readonly tensors: Map<string, PlanTensor>;

  constructor(
    readonly plan: Plan,
    readonly device: number,
    private readonly tf: TF,
    private readonly comm: Comm,
    /** Called around every instruction (index in the program): the worker runtime times instructions and names the failing one. */
    private readonly observer?: InstructionObserver,
  ) {
    const program = plan.programs.find((p) => p.device === device);
    if (!program) fail("PAR5050", `plan ${plan.model}/${plan.strategy} has no program for device ${device}`);
    this.instructions = program.instructions;
    this.tensors = new Map(plan.tensors.map((t) => [t.id, t]));
    this.ops = planSignatures(plan);
    const inits = new Map(plan.params.map((p) => [p.tensor, p.init]));
    // Given values, decoded once per executor (several shards of one param share them).
    const given = new Map<string, Float32Array>();
    const givenValues = (ref: string, t: PlanTensor): Float32Array => {
      let v = given.get(ref);
      if (!v) {
        const w = plan.weights?.[ref];
        v = w ? decodeF32(w.data) : undefined;
        if (!v || v.length !== t.shape.reduce((a, b) => a * b, 1)) fail("PAR5052", `param ${t.id}: given values \`${ref}\` are missing or of the wrong length`);
        given.set(ref, v);
      }
      return v;
    };
    for (const spec of program.buffers) {
      let data = this.fresh(spec);
      if (spec.kind === "param") {
        const init = inits.get(spec.tensor);
        const t = this.tensors.get(spec.tensor);
        if (!init || !t) fail("PAR5052", `buffer ${spec.id}: no param ${spec.tensor} in the plan`);
        data = init.kind === "values" ? givenRegion(givenValues(init.ref, t), t.shape, spec.region) : initRegion(init, plan.seed, spec.tensor, t.shape, spec.region);
        // A ZeRO member's master copy holds its slice of the shard's elements.
        if (spec.slice) data = data.slice(spec.slice[0], spec.slice[1]);
      }
      // A slice buffer is a flat run of its region's row-major elements.
      this.buffers.set(spec.id, { spec, data, shape: spec.slice ? [spec.slice[1] - spec.slice[0]] : regionShape(spec.region) });
    }
  }

  /** Zero-filled storage for a buffer (its region, or its slice of it). */
  private fresh(spec: PlanBuffer): BufferData {
    const n = spec.slice ? spec.slice[1] - spec.slice[0] : regionVolume(spec.region);
    return spec.dtype === "i32" ? new Int32Array(n) : new Float32Array(n);
  }

  /** Buffers whose storage a `release` dropped; the next (pure) write allocates it again. */
  private readonly released = new Set<string>();

  /** Whether `release` dropped the buffer's storage and nothing wrote it since (its contents are meaningless). */
  isReleased(id: string): boolean {
    return this.released.has(id);
  }

  /** Allocates released buffers that `ins` writes; a released buffer it reads is a plan error (validation rejects such plans: PAR5017). */
  private revive(ins: Instruction): void {
    for (const a of bufferAccesses(ins)) {
      if (!this.released.has(a.buf)) continue;
      if (a.read) fail("PAR5017", `device ${this.device}: ${ins.kind} reads buffer ${a.buf} after its release`);
      const b = this.buf(a.buf);
      b.data = this.fresh(b.spec);
      this.released.delete(a.buf);
    }
  }

  /** The current contents of a buffer (live: later steps change it, and a receive or an all-reduce may replace the array itself: ask again after a step). */
  buffer(id: string): BufferData {
    return this.buf(id).data;
  }

  bufferSpecs(): PlanBuffer[] {
    return [...this.buffers.values()].map((b) => b.spec);
  }

  private buf(id: string): Buffer {
    const b = this.buffers.get(id);
    if (!b) fail("PAR5052", `device ${this.device}: no buffer ${id}`);
    return b;
  }

  /**
   * Tensors of param buffers, kept across kernels until the buffer is written (`written`):
   * a step's forward and backward of one op then pass the SAME weight tensor, so backends
   * that cache per-weight work (wasm/XNNPACK packs a matmul's weights once per tensor) do it
   * once per step instead of at every kernel. Same values, same kernels: same results.
   */
  private readonly paramTensors = new Map<string, Tensor>();

  private tensorOf(b: Buffer): Tensor {
    if (b.spec.kind === "param") {
      let t = this.paramTensors.get(b.spec.id);
      if (!t) {
        t = this.tf.keep(this.tf.tensor(b.data, b.shape, b.spec.dtype === "i32" ? "int32" : "float32"));
        this.paramTensors.set(b.spec.id, t);
      }
      return t;
    }
    return this.tf.tensor(b.data, b.shape, b.spec.dtype === "i32" ? "int32" : "float32");
  }

  /** Drops the kept tensors of buffers that `ins` writes. */
  private written(ins: Instruction): void {
    if (this.paramTensors.size === 0) return;
    const drop = (id: string | null | undefined) => {
      if (!id) return;
      const t = this.paramTensors.get(id);
      if (t) {
        t.dispose();
        this.paramTensors.delete(id);
      }
    };
    switch (ins.kind) {
      case "feed":
      case "zero":
      case "fill":
      case "allreduce":
        drop(ins.buf);
        break;
      case "copy":
      case "recv":
        drop(ins.dst);
        break;
      case "forward":
        ins.outputs.forEach(drop);
        break;
      case "backward":
        ins.dInputs.forEach(drop);
        ins.dParams.forEach(drop);
        break;
      case "update":
        drop(ins.param);
        drop(ins.grad);
        drop(ins.m);
        drop(ins.v);
        break;
      case "reducescatter":
        drop(ins.dst);
        break;
      case "allgather":
      case "release":
        drop(ins.buf);
        break;
      case "send":
      case "loss":
        break;
    }
  }

  private store(b: Buffer, t: Tensor, accumulate: boolean, what: string): void {
    const v = t.dataSync() as ArrayLike<number>;
    if (v.length !== b.data.length) fail("PAR5053", `device ${this.device}: ${what} has ${v.length} elements for buffer ${b.spec.id} of ${b.data.length}`);
    if (accumulate) for (let i = 0; i < v.length; i++) b.data[i] += v[i];
    else b.data.set(v);
  }

  private shard(rt: OpRuntime, box: Region): ShardContext {
    const r = taskRegions(rt.sig, rt.inputShapes, box);
    return {
      box,
      spaceSizes: spaceSizes(rt.sig),
      inputRegions: r.inputs,
      outputRegions: r.outputs,
      firstAlongReductions: isFirstAlongReductions(rt.sig, box),
    };
  }

  private kernel(ins: Extract<Instruction, { kind: "forward" | "backward" }>): void {
    const rt = this.ops.get(ins.op);
    if (!rt) fail("PAR5051", `device ${this.device}: no op ${ins.op} in the plan`);
    const tf = this.tf;
    tf.tidy(() => {
      const args = {
        inputs: ins.inputs.map((id) => this.tensorOf(this.buf(id))),
        params: ins.params.map((id) => this.tensorOf(this.buf(id))),
        attrs: rt.op.attrs,
        sig: rt.sig,
        shard: this.shard(rt, ins.box),
      };
      if (ins.kind === "forward") {
        const ys = rt.entry.forward(tf, args);
        ins.outputs.forEach((id, i) => this.store(this.buf(id), ys[i], false, `${ins.op} output ${i}`));
        return;
      }
      const g = backwardOf(rt.entry, tf, {
        ...args,
        outputs: ins.outputs.map((id) => this.tensorOf(this.buf(id))),
        dOutputs: ins.dOutputs.map((id) => this.tensorOf(this.buf(id))),
      }, ins.dInputs.map((id) => id !== null));
      ins.dInputs.forEach((id, i) => {
        const d = g.dInputs[i];
        if (id !== null && d) this.store(this.buf(id), d, true, `${ins.op} d input ${i}`);
      });
      ins.dParams.forEach((id, i) => this.store(this.buf(id), g.dParams[i], true, `${ins.op} d param ${i}`));
    });
  }

  /** This device's shard of the synthetic dataset, by (buffer, batch): generated once, as a data loader would. */
  private readonly batches = new Map<string, BufferData>();

  /**
   * The batch shard a feed of `step` loads. The dataset has DATASET_BATCHES batches, cycled
   * (synthesize depends on the step only through step % DATASET_BATCHES), so each shard is
   * generated once and copied in afterwards: generating it every step (a teacher network's
   * forward in JavaScript) cost milliseconds per step on the critical path, a cost no real
   * input pipeline puts there and the simulator does not charge.
   */
  private batch(id: string, b: Buffer, step: number): BufferData {
    const key = `${id}|${step % DATASET_BATCHES}`;
    let data = this.batches.get(key);
    if (!data) {
      const t = this.tensors.get(b.spec.tensor)!;
      const teacherId = t.feed && t.feed.kind !== "uniform" ? t.feed.teacher : null;
      const teacher = teacherId === null ? undefined : this.tensors.get(teacherId);
      if (teacherId !== null && !teacher) fail("PAR5054", `tensor ${t.id}: teacher ${teacherId} is not in the plan`);
      data = synthesize(t, teacher, this.plan.seed, step, b.spec.region);
      this.batches.set(key, data);
    }
    return data;
  }

  /** Runs this device's program once: one training step. `step` is 0-based. */
  async step(step: number): Promise<{ loss: number }> {
    let loss = 0;
    // Tags are unique within a step; prefixing the step keeps a fast device's next step
    // from meeting a slow device's messages of this one.
    const tagOf = (tag: string) => `${step}:${tag}`;
    let index = -1;
    for (const ins of this.instructions) {
      index++;
      this.observer?.before?.(index, ins);
      if (this.released.size) this.revive(ins);
      switch (ins.kind) {
        case "feed": {
          const b = this.buf(ins.buf);
          b.data.set(this.batch(ins.buf, b, step));
          break;
        }
        case "zero":
          this.buf(ins.buf).data.fill(0);
          break;
        case "fill":
          this.buf(ins.buf).data.fill(ins.value);
          break;
        case "copy": {
          const src = this.buf(ins.src);
          const dst = this.buf(ins.dst);
          const r = intersect(ins.region, src.spec.region);
          if (r) copyRegion(src.data, src.spec.region, dst.data, dst.spec.region, r, ins.accumulate === true);
          break;
        }
        case "forward":
        case "backward":
          this.kernel(ins);
          break;
        case "send": {
          const src = this.buf(ins.src);
          // A contiguous region goes as a view (send copies it); otherwise gather it first.
          const off = src.data instanceof Float32Array ? contiguousOffset(src.spec.region, ins.region) : -1;
          const data = off >= 0 ? (src.data as Float32Array).subarray(off, off + regionVolume(ins.region)) : extract(src.data, src.spec.region, ins.region);
          this.comm.send(ins.to, tagOf(ins.tag), data);
          break;
        }
        case "recv": {
          const dst = this.buf(ins.dst);
          const need = regionVolume(ins.region);
          const off = isDirect(this.comm) ? contiguousOffset(dst.spec.region, ins.region) : -1;
          if (off >= 0) {
            const d = dst.data;
            const accumulate = ins.accumulate === true;
            const from = ins.from;
            const tag = ins.tag;
            const device = this.device;
            // `adopt`: see ReceiveSink (shm-channel.ts).
            const sink: Parameters<DirectComm["recvInto"]>[2] & { adopt?(a: Float32Array): Float32Array | undefined } = {
              begin(total) {
                if (total !== need) fail("PAR5053", `device ${device}: message ${tag} from ${from} has ${total} elements, region needs ${need}`);
              },
              chunk(src, at, o, count) {
                const base = off + o;
                if (accumulate) {
                  if (d instanceof Float32Array) addInto(d, base, src, at, count);
                  else for (let i = 0; i < count; i++) d[base + i] += src[at + i];
                } else if (d instanceof Float32Array) d.set(src.subarray(at, at + count), base);
                else for (let i = 0; i < count; i++) d[base + i] = src[at + i];
              },
            };
            // A message that replaces the whole buffer and arrives in its own array (a
            // handed-off payload) becomes the buffer: no copy. The old array goes back to
            // the sender's pool (detached here), so nothing may use it afterwards: the only
            // holder besides `dst` is a kept param tensor (cpu tensors share their array),
            // which written() drops at the end of this instruction, before any kernel;
            // kernels' other tensors die with their tidy, and sends, feeds and updates
            // copy or work in place within their instruction. A buffer in shared memory
            // (moved there by the all-reduce) stays there: it receives by copy.
            if (d instanceof Float32Array && !(d.buffer instanceof SharedArrayBuffer) && off === 0 && need === d.length && !accumulate) {
              sink.adopt = (a) => {
                dst.data = a;
                return d;
              };
            }
            await (this.comm as Comm & DirectComm).recvInto(from, tagOf(tag), sink);
            break;
          }
          const data = await this.comm.recv(ins.from, tagOf(ins.tag));
          if (data.length !== need) fail("PAR5053", `device ${this.device}: message ${ins.tag} from ${ins.from} has ${data.length} elements, region needs ${need}`);
          insert(dst.data, dst.spec.region, ins.region, data, ins.accumulate === true);
          break;
        }
        case "allreduce": {
          const b = this.buf(ins.buf);
          if (isDirect(this.comm) && b.data instanceof Float32Array) {
            // ShmComm may move a large buffer into shared memory, where the members sum it
            // in place (shm-allreduce.ts): the buffer is then that array (same values).
            // The old one is only dropped; a kept param tensor of it goes with written().
            const shared = (this.comm as Partial<{ allreduceShared(group: number[], tag: string, data: Float32Array): Promise<Float32Array> }>).allreduceShared;
            if (shared) b.data = await shared.call(this.comm, ins.group, tagOf(ins.tag), b.data);
            else await this.comm.allreduceInPlace(ins.group, tagOf(ins.tag), b.data);
            break;
          }
          const sum = await this.comm.allreduce(ins.group, tagOf(ins.tag), Float32Array.from(b.data));
          if (sum.length !== b.data.length) fail("PAR5053", `device ${this.device}: all-reduce ${ins.tag} returned ${sum.length} elements for ${b.data.length}`);
          b.data.set(sum);
          break;
        }
        case "update": {
          const pb = this.buf(ins.param);
          const p = pb.data as Float32Array;
          // A ZeRO member updates its slice of the weight; operands holding the whole
          // region (ZeRO-1's all-reduced gradient) contribute that slice.
          const part = (id: string) => {
            const b = this.buf(id);
            const d = b.data as Float32Array;
            return pb.spec.slice && !b.spec.slice ? d.subarray(pb.spec.slice[0], pb.spec.slice[1]) : d;
          };
          const state = {
            ...(ins.m ? { m: part(ins.m) } : {}),
            ...(ins.v ? { v: part(ins.v) } : {}),
          };
          applyUpdate(this.plan.optimizer, p, part(ins.grad), state, step);
          break;
        }
        case "reducescatter": {
          // The sum over the group (the same bits on every member, as an all-reduce), of
          // which this member keeps its even slice.
          const whole = this.buf(ins.buf).data as Float32Array;
          const sum = await this.comm.allreduce(ins.group, tagOf(ins.tag), Float32Array.from(whole));
          const [lo, hi] = sliceOf(sum.length, ins.group.length, ins.group.indexOf(this.device));
          this.buf(ins.dst).data.set(sum.subarray(lo, hi));
          break;
        }
        case "allgather": {
          // Each member contributes its slice at its place, zeros elsewhere: the sum is
          // every slice, exactly (adding zeros rounds nothing).
          const whole = this.buf(ins.buf);
          const mine = new Float32Array(whole.data.length);
          const [lo] = sliceOf(mine.length, ins.group.length, ins.group.indexOf(this.device));
          mine.set(this.buf(ins.src).data as Float32Array, lo);
          whole.data.set(await this.comm.allreduce(ins.group, tagOf(ins.tag), mine));
          break;
        }
        case "release": {
          const b = this.buf(ins.buf);
          b.data = b.spec.dtype === "i32" ? new Int32Array(0) : new Float32Array(0);
          this.released.add(ins.buf);
          break;
        }
        case "loss": {
          const d = this.buf(ins.buf).data;
          for (let i = 0; i < d.length; i++) loss += d[i];
          break;
        }
      }
      this.written(ins);
      this.observer?.after?.(index, ins);
    }
    return { loss };
  }
}
