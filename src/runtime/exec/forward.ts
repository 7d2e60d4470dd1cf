// The forward pass of a single-device plan, for `par forward`: the model's outputs on
// given inputs, nothing else. The plan's program runs up to its first backward
// instruction (a single-device program computes every forward before any backward), with
// the given inputs in place of their synthetic feeds and the given weights in place of
// the plan's initial values; buffers only the backward and the update use are never
// allocated, and nothing the outputs do not depend on runs (a training loss and its
// synthetic labels).

import { fullRegion, regionEquals, regionVolume } from "../../core/region.js";
import type { Plan } from "../../plan/plan.js";
import type { TF } from "../../ops/contract.js";
import { DeviceExecutor } from "./executor.js";
import { MemoryHub } from "./memory-comm.js";
import { extract, type BufferData } from "./regions.js";
import { buffersOf, sliceTo } from "../../plan/forward-plan.js";

/**
 * Runs the forward part of single-device `plan` on `inputs` (graph input tensor id →
 * values) with `weights` (param id → values; others start as the plan says) and returns
 * the values of `outputs` (tensor ids).
 */
export async function runForward(plan: Plan, tf: TF, inputs: ReadonlyMap<string, BufferData>, weights: ReadonlyMap<string, Float32Array>, outputs: readonly string[]): Promise<Map<string, BufferData>> {
  if (plan.programs.length !== 1) throw new Error(`runForward needs a single-device plan, got ${plan.programs.length} programs`);
  const program = plan.programs[0];
  const shapes = new Map(plan.tensors.map((t) => [t.id, t.shape]));
  const firstBackward = program.instructions.findIndex((i) => i.kind === "backward");
  const byId = new Map(program.buffers.map((b) => [b.id, b]));
  const prefix = program.instructions.slice(0, firstBackward < 0 ? undefined : firstBackward);
  // A given input replaces its feeds (one per buffer of it that ops read, each a region).
  const givenFeeds = new Set(prefix.flatMap((i) => (i.kind === "feed" && inputs.has(byId.get(i.buf)!.tensor) ? [i.buf] : [])));
  /** The buffer holding the whole value of `tensor` (single device: its producer's output). */
  const whole = (tensor: string) => program.buffers.find((b) => b.tensor === tensor && b.kind === "value" && regionEquals(b.region, fullRegion(shapes.get(tensor)!)));
  const outputBuffers = outputs.map((t) => {
    const b = whole(t);
    if (!b) throw new Error(`runForward: the plan holds no whole value of tensor ${t}`);
    return b.id;
  });
  const instructions = sliceTo(
    prefix.filter((i) => !(i.kind === "feed" && givenFeeds.has(i.buf))),
    outputBuffers,
  );
  const used = new Set([...instructions.flatMap(buffersOf), ...givenFeeds, ...outputBuffers]);
  // Given weights are copied in below: their params start as zeros (no random init to
  // compute, no base64 values to decode).
  const forwardPlan: Plan = {
    ...plan,
    params: plan.params.map((p) => (weights.has(p.tensor) ? { ...p, init: { kind: "zeros" as const } } : p)),
    programs: [{ ...program, buffers: program.buffers.filter((b) => used.has(b.id)), instructions }],
  };
  const executor = new DeviceExecutor(forwardPlan, program.device, tf, new MemoryHub().comm(program.device));
  for (const spec of executor.bufferSpecs()) {
    const given = spec.kind === "param" ? weights.get(spec.tensor) : givenFeeds.has(spec.id) ? inputs.get(spec.tensor) : undefined;
    if (!given) continue;
    const full = fullRegion(shapes.get(spec.tensor)!);
    if (given.length !== regionVolume(full)) throw new Error(`runForward: ${spec.tensor} has ${given.length} values for shape [${full.hi.join(", ")}]`);
    executor.buffer(spec.id).set(regionEquals(spec.region, full) ? given : extract(given, full, spec.region));
  }
  await executor.step(0);
  const out = new Map<string, BufferData>();
  for (const t of outputs) out.set(t, executor.buffer(whole(t)!.id).slice());
  return out;
}
