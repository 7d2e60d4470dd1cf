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
// tests run it on every lowered plan.)

import { formatRegion, type Region } from "../../core/region.js";
import type { BufferKind, Instruction, PlanBuffer, PlanDType } from "../../plan/plan.js";

/** A buffer's id: what it holds (prefix), of which tensor, over which region. */
export function bufId(prefix: string, tensor: string, r: Region, suffix = ""): string {
  return `${prefix}:${tensor}${formatRegion(r).replace(/ /g, "")}${suffix}`;
}

export class Builder {
  readonly programs = new Map<number, { buffers: Map<string, PlanBuffer>; instructions: Instruction[] }>();
  private tags = 0;
  /** Receives held back by deferReceives. */
  private deferred: [number, Instruction][] | undefined;

  constructor(
    devices: number[],
    /** The plan dtype of every tensor and param. */
    private readonly dtypeOf: ReadonlyMap<string, PlanDType>,
  ) {
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

  /** A value buffer `v:` of `tensor` over `region` on `device` (declared at first use). */
  value(device: number, tensor: string, region: Region, suffix = ""): string {
    const id = bufId("v", tensor, region, suffix);
    this.declare(device, { id, tensor, kind: "value", region, dtype: this.dtypeOf.get(tensor)! });
    return id;
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
