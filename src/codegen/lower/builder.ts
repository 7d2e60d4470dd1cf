// The plan under construction: per device its buffers and its program, and the one global
// sequence in which every phase of the lowering generates instructions.
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
//   p:P[R]~k/N (and pg:, m:, s:)    ZeRO: member k's slice of N of the shard (./zero.ts)
//
// Deadlock freedom. Instructions are generated in ONE global sequence S and appended to
// the programs of their devices in S's order; a `send` comes before its `recv` in S
// (generated together, or an op's forward sends all before their recvs: deferReceives),
// and an `allreduce` is appended to all members of its group at one point of S. So every
// program is a subsequence of S and every recv comes after its send in S. Suppose the
// devices were stuck; take the stuck instruction x that is earliest in S. A recv waits for
// its send s < x in S, whose device has not reached s, so it is stuck at some y before s
// in its program, i.e. y < s < x in S: contradiction. An allreduce waits for a member that
// has not reached it, stuck at y < x: contradiction. Sends never block, so nothing else
// can be stuck. (plan-io's `checkSchedule` replays a plan to check exactly this, and the
// tests run it on every lowered plan.) Reduce-scatters and all-gathers are appended to all
// members at one point like all-reduces; `release` never blocks.
//
// Early sends. A pipeline's S is a sequence of units (src/layout/schedule.ts); a transfer
// between units (an activation to the next stage, a gradient to the previous one) is
// generated when its receiver's unit needs it, but its send is placed right after the
// instruction that last wrote its source (`earlySends`), so that the sender does not hold
// the data back while it runs later units. That is S with the send moved earlier, to a
// point after its last write and before its receive: every program is still a subsequence
// of that sequence, and the argument above holds unchanged.

import { formatRegion, type Region } from "../../core/region.js";
import { bufferAccesses } from "../../plan/access.js";
import type { BufferKind, Instruction, PlanBuffer, PlanDType } from "../../plan/plan.js";

/** A buffer's id: what it holds (prefix), of which tensor, over which region. */
export function bufId(prefix: string, tensor: string, r: Region, suffix = ""): string {
  return `${prefix}:${tensor}${formatRegion(r).replace(/ /g, "")}${suffix}`;
}

interface DeviceProgramDraft {
  buffers: Map<string, PlanBuffer>;
  instructions: Instruction[];
  /** Sends placed after instruction i (early sends), in the order they were placed. */
  after: Map<number, Instruction[]>;
  /** Per buffer: the instruction that last wrote it, and in which unit. */
  lastWrite: Map<string, { index: number; unit: number }>;
}

export class Builder {
  readonly programs = new Map<number, DeviceProgramDraft>();
  private tags = 0;
  /** Receives held back by deferReceives. */
  private deferred: [number, Instruction][] | undefined;
  /** The unit of S being generated (beginUnit); sends of data written in an earlier unit go out early. */
  private unit = 0;

  constructor(
    devices: number[],
    /** The plan dtype of every tensor and param. */
    private readonly dtypeOf: ReadonlyMap<string, PlanDType>,
    /** Place sends between units right after their source's last write (pipelines). */
    private readonly earlySends = false,
  ) {
    for (const d of devices) this.programs.set(d, { buffers: new Map(), instructions: [], after: new Map(), lastWrite: new Map() });
  }

  /** Starts the next unit of S (a pipeline stage's forward or backward of one micro-batch). */
  beginUnit(): void {
    this.unit++;
  }

  /** The device's program: its instructions with the early sends in place. */
  instructionsOf(device: number): Instruction[] {
    const p = this.prog(device);
    if (p.after.size === 0) return p.instructions;
    const out: Instruction[] = [];
    p.instructions.forEach((ins, i) => {
      out.push(ins);
      const sends = p.after.get(i);
      if (sends) out.push(...sends);
    });
    return out;
  }

  /** The dtype of a tensor or param. */
  dtype(tensor: string): PlanDType {
    return this.dtypeOf.get(tensor)!;
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

  /** A value buffer `v:` of `tensor` over `region` on `device` (declared at first use). */
  value(device: number, tensor: string, region: Region, suffix = ""): string {
    const id = bufId("v", tensor, region, suffix);
    this.declare(device, { id, tensor, kind: "value", region, dtype: this.dtypeOf.get(tensor)! });
    return id;
  }

  /** Declares value buffer `id` of `tensor` over `region` on `device` (once). */
  declareValue(device: number, id: string, tensor: string, region: Region): void {
    this.declare(device, { id, tensor, kind: "value", region, dtype: this.dtypeOf.get(tensor)! });
  }

  /** A weight shard `p:` of `tensor` over `region` on `device` (declared at first use). */
  param(device: number, tensor: string, region: Region): string {
    const id = bufId("p", tensor, region);
    this.declare(device, { id, tensor, kind: "param", region, dtype: this.dtypeOf.get(tensor)! });
    return id;
  }

  /** A buffer for this step's backward: declared and zeroed at its first use. */
  zeroed(device: number, kind: BufferKind, prefix: string, tensor: string, region: Region, suffix = ""): string {
    const id = bufId(prefix, tensor, region, suffix);
    if (this.declare(device, { id, tensor, kind, region, dtype: "f32" })) this.emit(device, { kind: "zero", buf: id });
    return id;
  }

  emit(device: number, ins: Instruction): void {
    const p = this.prog(device);
    p.instructions.push(ins);
    if (this.earlySends) {
      for (const a of bufferAccesses(ins)) if (a.write) p.lastWrite.set(a.buf, { index: p.instructions.length - 1, unit: this.unit });
    }
  }

  /** Emits a send: right after its source's last write when that was in an earlier unit (early sends), else here. */
  private emitSend(from: number, send: Extract<Instruction, { kind: "send" }>): void {
    const p = this.prog(from);
    const w = this.earlySends ? p.lastWrite.get(send.src) : undefined;
    if (!w || w.unit === this.unit) {
      this.emit(from, send);
      return;
    }
    const list = p.after.get(w.index);
    if (list) list.push(send);
    else p.after.set(w.index, [send]);
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
    this.emitSend(from, { kind: "send", to, tag, src, region });
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
