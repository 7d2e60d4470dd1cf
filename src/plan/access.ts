// What each instruction does to the buffers it names: reads them, overwrites them without
// reading (a pure write), or adds into them (reads and writes). One table for everyone who
// reasons about buffer lifetimes: plan validation (a released buffer must be written before
// it is read), the lowering's release pass (a buffer is dead between its last read and its
// next pure write), the executors (which released buffers to allocate again before an
// instruction) and the schedule of sends (a send goes out once its source is written).

import type { Instruction } from "./plan.js";

export interface BufferAccess {
  buf: string;
  /** The instruction reads the buffer's current contents (an accumulation reads too). */
  read: boolean;
  /** The instruction writes the buffer (with `read`: adds into it). */
  write: boolean;
}

const R = (buf: string): BufferAccess => ({ buf, read: true, write: false });
const W = (buf: string): BufferAccess => ({ buf, read: false, write: true });
const RW = (buf: string): BufferAccess => ({ buf, read: true, write: true });

/**
 * The buffers `ins` touches and how, in operand order. A pure write (`write` without
 * `read`) may cover only part of a buffer (a `copy` or `recv` of one piece): lowering
 * assembles such buffers from pieces that together cover them before anything reads them.
 */
export function bufferAccesses(ins: Instruction): BufferAccess[] {
  switch (ins.kind) {
    case "feed":
    case "zero":
    case "fill":
      return [W(ins.buf)];
    case "loss":
      return [R(ins.buf)];
    case "copy":
      return [R(ins.src), ins.accumulate ? RW(ins.dst) : W(ins.dst)];
    case "forward":
      return [...ins.inputs.map(R), ...ins.params.map(R), ...ins.outputs.map(W)];
    case "backward":
      return [
        ...ins.inputs.map(R),
        ...ins.params.map(R),
        ...ins.outputs.map(R),
        ...ins.dOutputs.map(R),
        ...ins.dInputs.filter((x): x is string => x !== null).map(RW),
        ...ins.dParams.map(RW),
      ];
    case "send":
      return [R(ins.src)];
    case "recv":
      return [ins.accumulate ? RW(ins.dst) : W(ins.dst)];
    case "allreduce":
      return [RW(ins.buf)];
    case "update":
      return [RW(ins.param), R(ins.grad), ...(ins.m ? [RW(ins.m)] : []), ...(ins.v ? [RW(ins.v)] : [])];
    case "reducescatter":
      return [R(ins.buf), W(ins.dst)];
    case "allgather":
      return [R(ins.src), W(ins.buf)];
    case "release":
      return [];
  }
}

/** Every buffer `ins` names (release included). */
export function buffersNamed(ins: Instruction): string[] {
  return ins.kind === "release" ? [ins.buf] : bufferAccesses(ins).map((a) => a.buf);
}

/** The collectives: every member of `group` joins the instruction with the same tag. */
export type CollectiveInstruction = Extract<Instruction, { kind: "allreduce" | "reducescatter" | "allgather" }>;

export function isCollective(ins: Instruction): ins is CollectiveInstruction {
  return ins.kind === "allreduce" || ins.kind === "reducescatter" || ins.kind === "allgather";
}
