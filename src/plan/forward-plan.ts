// A single-device plan cut to its forward pass, for an engine that runs plans but reports
// only losses and weights (the torch engine, docs/engines.md): the program up to its first
// backward instruction, then each requested output's value copied into a param buffer of
// its own (`<output>#forward`, zeros at the start, never trained), which the engine dumps
// with the weights. Nothing the engine runs is new: feeds, kernels and copies.

import { fullRegion } from "../core/region.js";
import { bufferAccesses } from "./access.js";
import type { Instruction, Plan, PlanBuffer } from "./plan.js";

/** The tensor id holding output `id` after a forward plan's step. */
export const forwardOutputParam = (id: string): string => `${id}#forward`;

/** The buffer ids an instruction names (the forward part's kinds). */
export function buffersOf(ins: Instruction): string[] {
  switch (ins.kind) {
    case "feed":
    case "zero":
    case "fill":
    case "loss":
      return [ins.buf];
    case "copy":
      return [ins.src, ins.dst];
    case "forward":
      return [...ins.inputs, ...ins.params, ...ins.outputs];
    default:
      return [];
  }
}

/**
 * The instructions of `instructions` that the `wanted` buffers' values depend on, in
 * order (a backward slice over reads and writes; every writer of a needed buffer stays).
 * What no wanted value reads is never run: a training loss and its labels, whose
 * synthetic regression targets cost more than the model itself on a segmentation output.
 */
export function sliceTo(instructions: readonly Instruction[], wanted: Iterable<string>): Instruction[] {
  const need = new Set(wanted);
  const keep = new Array<boolean>(instructions.length).fill(false);
  for (let i = instructions.length - 1; i >= 0; i--) {
    const accesses = bufferAccesses(instructions[i]);
    if (!accesses.some((a) => a.write && need.has(a.buf))) continue;
    keep[i] = true;
    for (const a of accesses) if (a.read) need.add(a.buf);
  }
  return instructions.filter((_, i) => keep[i]);
}

/**
 * `plan` (one device) reduced to its forward pass, with `outputs` (float tensor ids)
 * copied into params named by forwardOutputParam. Throws on a plan of several devices or
 * an output the plan holds no whole value of (a programming error, not input).
 */
export function forwardPlan(plan: Plan, outputs: readonly string[]): Plan {
  if (plan.programs.length !== 1) throw new Error(`forwardPlan needs a single-device plan, got ${plan.programs.length} programs`);
  const program = plan.programs[0];
  const firstBackward = program.instructions.findIndex((i) => i.kind === "backward");
  const instructions = program.instructions.slice(0, firstBackward < 0 ? undefined : firstBackward);
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  const extraTensors: Plan["tensors"] = [];
  const extraParams: Plan["params"] = [];
  const extraBuffers: PlanBuffer[] = [];
  for (const id of outputs) {
    const t = tensors.get(id);
    const region = t && fullRegion(t.shape);
    const value = region && program.buffers.find((b) => b.tensor === id && b.kind === "value" && b.region.lo.every((x, i) => x === region.lo[i] && b.region.hi[i] === region.hi[i]));
    if (!t || !region || !value) throw new Error(`forwardPlan: the plan holds no whole value of ${id}`);
    const param = forwardOutputParam(id);
    extraTensors.push({ id: param, shape: [...t.shape], dtype: "f32", role: "param" });
    extraParams.push({ tensor: param, init: { kind: "zeros" }, trainable: false });
    const buf: PlanBuffer = { id: `${param}@whole`, tensor: param, kind: "param", region, dtype: "f32" };
    extraBuffers.push(buf);
    instructions.push({ kind: "copy", src: value.id, dst: buf.id, region });
  }
  const used = new Set(instructions.flatMap(buffersOf));
  // Param buffers stay: the engine reads every param's init and dumps them.
  const buffers = program.buffers.filter((b) => used.has(b.id) || b.kind === "param");
  return {
    ...plan,
    tensors: [...plan.tensors, ...extraTensors],
    params: [...plan.params, ...extraParams],
    programs: [{ ...program, buffers: [...buffers, ...extraBuffers], instructions }],
  };
}
