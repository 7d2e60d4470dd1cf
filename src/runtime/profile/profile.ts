// Task kernels of a plan, runnable on their own: every distinct (op, task box extent) among
// a plan's forward instructions with deterministic operands, forward and backward, the way
// the executor calls a kernel (tensors from typed arrays, the kernel, results read back).
// The background load of profile-load.ts cycles through them. The measurements themselves
// (`par profile`) time the executor's own instructions: profile-exec.ts.
//
// ProfiledTask rows are the simulator's measured-cost entries (the `par-measured-costs`
// format of src/cost/compute.ts); the runtime does not import src/cost, the CLI wraps them.

import type { Tensor } from "@tensorflow/tfjs-core";
import { regionShape, regionVolume } from "../../core/region.js";
import type { DeviceProgram, Instruction, Plan } from "../../plan/plan.js";
import type { Attrs, TF } from "../../ops/contract.js";
import { backwardOf } from "../../ops/autodiff.js";
import { isFirstAlongReductions, spaceSizes, taskRegions } from "../../ops/regions.js";
import { planSignatures } from "../exec/executor.js";
import { hashKey, strHash, symmetric } from "../exec/hash.js";

export interface ProfiledTask {
  op: string;
  inputs: number[][];
  attrs: Attrs;
  extent: number[];
  forwardMs: number;
  backwardMs: number;
  /** The plan op it was measured for (the first one with this key), for people. */
  opName: string;
}

/**
 * Untimed steps before measuring, in a profile and in a benchmark run alike: on wasm a
 * fresh thread reaches steady speed only after V8 has tiered up the hot wasm functions and
 * the executor's code (measured: a small MLP's step falls from ~100 ms to ~17 ms over its
 * first 10–15 steps).
 */
export const WARMUP_STEPS = 12;
/** Measured steps after the warm-up (medians are taken over them). */
export const TIMED_STEPS = 10;

export interface ProfileOptions {
  /** Default WARMUP_STEPS. */
  warmup?: number;
  /** Default TIMED_STEPS. */
  repeats?: number;
  /** Called as each step starts: `done` of `total` steps (warm-up, alone and loaded), for a progress line. Not sent to worker threads. */
  onStep?: (done: number, total: number) => void;
}

/**
 * An optimizer step measured by execution: the executor's `update` instruction on a weight
 * shard of `floats` elements (the simulator's measured-cost `updates` rows).
 */
export interface ProfiledUpdate {
  optimizer: string;
  floats: number;
  ms: number;
}


/** Deterministic operand data: floats in (−1, 1); integers 0 (a valid class or token id). */
function operand(dtype: "f32" | "i32", n: number, salt: string): Float32Array | Int32Array {
  if (dtype === "i32") return new Int32Array(n);
  const out = new Float32Array(n);
  const h = strHash(salt);
  for (let i = 0; i < n; i++) out[i] = symmetric(hashKey(h, i, 11));
  return out;
}

/** What a measured-cost row says of a task, without its times. */
export type TaskDescriptor = Omit<ProfiledTask, "forwardMs" | "backwardMs">;

/** A forward instruction of a plan with its task's measured-cost key (op, input shapes, attrs, extent). */
export interface PlanTask {
  key: string;
  task: TaskDescriptor;
  ins: Extract<Instruction, { kind: "forward" }>;
  program: DeviceProgram;
}

/** The elements of the weight shard each `update` instruction of `program` steps (a measured update row's key). */
export function updateShardFloats(program: DeviceProgram): Map<Instruction, number> {
  const volume = new Map(program.buffers.map((b) => [b.id, regionVolume(b.region)]));
  const out = new Map<Instruction, number>();
  for (const ins of program.instructions) if (ins.kind === "update") out.set(ins, volume.get(ins.param) ?? 0);
  return out;
}

/** Every forward instruction of `plan`, in plan order, keyed as a measured-cost row is. */
export function planTasks(plan: Plan): PlanTask[] {
  const sigs = planSignatures(plan);
  const out: PlanTask[] = [];
  for (const program of plan.programs) {
    for (const ins of program.instructions) {
      if (ins.kind !== "forward") continue;
      const rt = sigs.get(ins.op)!;
      const extent = ins.box.hi.map((h, i) => h - ins.box.lo[i]);
      out.push({
        key: `${rt.op.op}|${JSON.stringify(rt.inputShapes)}|${JSON.stringify(rt.op.attrs)}|${extent.join(",")}`,
        task: { op: rt.op.op, inputs: rt.inputShapes.map((s) => [...s]), attrs: rt.op.attrs, extent, opName: ins.op },
        ins,
        program,
      });
    }
  }
  return out;
}

/** One distinct task of a plan, ready to run: forward, then backward (which reads forward's outputs). */
export interface TaskKernel {
  task: TaskDescriptor;
  forward(): void;
  backward(): void;
}

/** The distinct tasks of `plan` (the first of each planTasks key), in plan order. */
export function planKernels(plan: Plan, tf: TF): TaskKernel[] {
  const sigs = planSignatures(plan);
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  const seen = new Set<string>();
  const out: TaskKernel[] = [];
  for (const { key, task, ins, program } of planTasks(plan)) {
    if (seen.has(key)) continue;
    seen.add(key);
    const rt = sigs.get(ins.op)!;
    const r = taskRegions(rt.sig, rt.inputShapes, ins.box);
    const inputData = r.inputs.map((reg, i) => ({ data: operand(tensors.get(rt.op.inputs[i])!.dtype, regionVolume(reg), `${ins.op}/in${i}`), shape: regionShape(reg), dtype: tensors.get(rt.op.inputs[i])!.dtype }));
    const paramData = r.params.map((reg, i) => ({ data: operand("f32", regionVolume(reg), `${ins.op}/p${i}`), shape: regionShape(reg), dtype: "f32" as const }));
    const outShapes = r.outputs.map((reg) => regionShape(reg));
    const dOut = outShapes.map((s, i) => operand("f32", s.reduce((a, b) => a * b, 1), `${ins.op}/dy${i}`));
    const shard = { box: ins.box, spaceSizes: spaceSizes(rt.sig), inputRegions: r.inputs, outputRegions: r.outputs, firstAlongReductions: isFirstAlongReductions(rt.sig, ins.box) };
    const mk = (x: { data: Float32Array | Int32Array; shape: number[]; dtype: "f32" | "i32" }): Tensor => tf.tensor(x.data, x.shape, x.dtype === "i32" ? "int32" : "float32");
    // Forward's results, read back as the executor does; backward starts from them.
    let outputs: Float32Array[] = outShapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
    // As the executor does: input gradients the plan discards (fed tensors) are not computed.
    const bw = program.instructions.find((b) => b.kind === "backward" && b.op === ins.op && b.task === ins.task);
    const wantInputs = bw && bw.kind === "backward" ? bw.dInputs.map((id) => id !== null) : undefined;
    out.push({
      task,
      forward: () =>
        tf.tidy(() => {
          const ys = rt.entry.forward(tf, { inputs: inputData.map(mk), params: paramData.map(mk), attrs: rt.op.attrs, sig: rt.sig, shard });
          outputs = ys.map((y) => Float32Array.from(y.dataSync() as ArrayLike<number>));
        }),
      backward: () =>
        tf.tidy(() => {
          const g = backwardOf(rt.entry, tf, {
            inputs: inputData.map(mk),
            params: paramData.map(mk),
            attrs: rt.op.attrs,
            sig: rt.sig,
            shard,
            outputs: outputs.map((o, i) => tf.tensor(o, outShapes[i], "float32")),
            dOutputs: dOut.map((d, i) => tf.tensor(d, outShapes[i], "float32")),
          }, wantInputs);
          for (const d of g.dInputs) d?.dataSync();
          for (const d of g.dParams) d.dataSync();
        }),
    });
  }
  return out;
}
