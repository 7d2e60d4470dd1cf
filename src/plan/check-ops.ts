// What a plan's tensors must agree with: each op's signature, re-inferred from the registry
// from its input tensors and attributes. A plan whose input shape was edited by hand would
// otherwise run (the kernels read the buffers they are given) and compute something else
// than it claims. Then each kernel instruction's buffers: the tensors, kinds and regions its
// task box needs (a kernel takes a buffer whole as its operand), and the regions every other
// instruction moves lie inside its buffers. Also: every device has a program and the
// programs compute the losses.

import { Diagnostics } from "../core/diagnostics.js";
import { formatRegion, intersect, regionVolume, type Region } from "../core/region.js";
import { taskRegions } from "../ops/regions.js";
import { isFloat, type TensorType } from "../core/tensor.js";
import { resolveAttrs } from "../ops/attrs.js";
import type { OpSignature } from "../ops/contract.js";
import { getOp } from "../ops/registry.js";
import type { Instruction, Plan, PlanBuffer, PlanTensor } from "./plan.js";

/** Reports a problem at a JSON pointer of the plan. */
export type PlanError = (code: string, pointer: string, message: string) => void;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function typeOf(t: PlanTensor): TensorType {
  return { dtype: t.dtype, shape: [...t.shape], dims: t.shape.map((_, i) => `${t.id}.d${i}`) };
}

const shape = (s: readonly number[]) => `[${s.join(", ")}]`;

/** The signature of plan op `i` from the registry, or undefined after PAR5023. */
function reinfer(plan: Plan, i: number, tensors: Map<string, PlanTensor>, err: PlanError): OpSignature | undefined {
  const op = plan.ops[i];
  const entry = getOp(op.op);
  if (!entry) return undefined; // PAR5006, reported by the caller
  const inputs = op.inputs.map((id) => tensors.get(id));
  if (inputs.some((t) => t === undefined)) return undefined; // PAR5009, reported by the caller
  const sink = new Diagnostics();
  const ctx = { opName: op.name, diagnostics: sink };
  const explain = () => sink.items.map((d) => `${d.code} ${d.message}`).join("; ");
  const resolved = resolveAttrs(entry, op.attrs, ctx);
  if (!resolved) {
    err("PAR5023", `/ops/${i}/attrs`, `the attributes of op ${op.name} (${op.op}) are not valid: ${explain()}`);
    return undefined;
  }
  // The runtime infers from the attributes as written: a plan lists every one (lowering does).
  const missing = entry.attrs.filter((a) => !Object.prototype.hasOwnProperty.call(op.attrs, a.name)).map((a) => a.name);
  if (missing.length) {
    err("PAR5023", `/ops/${i}/attrs`, `op ${op.name} (${op.op}) does not list attribute${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
    return undefined;
  }
  let sig: OpSignature | undefined;
  try {
    sig = entry.infer(inputs.map((t) => typeOf(t!)), op.attrs, ctx);
  } catch (e) {
    sink.error("PAR5023", e instanceof Error ? e.message : String(e));
  }
  if (!sig) {
    const given = op.inputs.map((id) => `${id} ${shape(tensors.get(id)!.shape)}`).join(", ");
    err("PAR5023", `/ops/${i}`, `op ${op.name} (${op.op}) does not accept its inputs ${given}: ${explain()}`);
  }
  return sig;
}

/**
 * PAR5023: each op's outputs, params and degrees as its signature makes them. Returns the
 * signatures of the ops that agree (for checkInstructions).
 */
export function checkOpSignatures(plan: Plan, err: PlanError): Map<string, OpSignature> {
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  const good = new Map<string, OpSignature>();
  plan.ops.forEach((op, i) => {
    const sig = reinfer(plan, i, tensors, err);
    if (!sig) return;
    let agrees = true;
    const bad: PlanError = (code, pointer, message) => {
      agrees = false;
      err(code, pointer, message);
    };
    const compare = (field: "outputs" | "params", wanted: { shape: readonly number[]; dtype?: string }[]) => {
      const ids = op[field];
      if (ids.length !== wanted.length) {
        bad("PAR5023", `/ops/${i}/${field}`, `op ${op.name} (${op.op}) has ${wanted.length} ${field}, the plan lists ${ids.length}`);
        return;
      }
      ids.forEach((id, j) => {
        const t = tensors.get(id);
        if (!t) return; // PAR5009
        const want = wanted[j];
        const dtype = want.dtype === undefined ? "f32" : isFloat(want.dtype as TensorType["dtype"]) ? "f32" : "i32";
        if (!sameShape(t.shape, want.shape) || t.dtype !== dtype) {
          const from = op.inputs.map((x) => `${x} ${shape(tensors.get(x)!.shape)}`).join(", ");
          bad("PAR5023", `/ops/${i}/${field}/${j}`, `tensor ${id} is ${t.dtype}${shape(t.shape)}, but ${op.name} (${op.op}) makes ${dtype}${shape(want.shape)} from ${from}`);
        }
      });
    };
    compare("outputs", sig.outputs);
    compare("params", sig.params);
    if (op.degrees.length !== sig.space.length) {
      bad("PAR5023", `/ops/${i}/degrees`, `op ${op.name} (${op.op}) has ${sig.space.length} parallel dims, the plan gives ${op.degrees.length} degrees`);
    } else {
      op.degrees.forEach((d, j) => {
        if (d > sig.space[j].size) bad("PAR5023", `/ops/${i}/degrees/${j}`, `degree ${d} of ${op.name}'s dim ${sig.space[j].name} exceeds its size ${sig.space[j].size}`);
      });
    }
    if (agrees) good.set(op.name, sig);
  });
  return good;
}

/** PAR5024: a device without a program; PAR5025: programs that compute none of the losses. */
export function checkProgramsRun(plan: Plan, err: PlanError): void {
  if (plan.devices.length === 0) err("PAR5024", "/devices", "the plan has no devices");
  const withProgram = new Set(plan.programs.map((p) => p.device));
  plan.devices.forEach((d, i) => {
    if (!withProgram.has(d.index)) err("PAR5024", `/devices/${i}`, `device ${d.index} has no program`);
  });
  const computed = plan.programs.some((p) => p.instructions.some((ins) => ins.kind === "loss"));
  if (!computed) {
    err("PAR5025", "/programs", plan.losses.length ? `no program computes the plan's loss (${plan.losses.join(", ")}): a step would do nothing` : "the plan has no loss: a step would train nothing");
  }
}

const sameRegion = (a: Region, b: Region) => a.lo.length === b.lo.length && a.lo.every((x, i) => x === b.lo[i] && a.hi[i] === b.hi[i]);
const inside = (a: Region, b: Region) => a.lo.length === b.lo.length && a.lo.every((x, i) => x >= b.lo[i] && a.hi[i] <= b.hi[i] && x <= a.hi[i]);

/**
 * PAR5026: each instruction's buffers are what it needs: a kernel's, the tensor, kind and
 * region of each operand of its task box (exactly: the kernel takes the buffer whole); a
 * move's region inside its buffers; an update's state for the optimizer; the members of an
 * all-reduce holding the same number of elements. `sigs`: the ops that re-inferred.
 */
export function checkInstructions(plan: Plan, sigs: ReadonlyMap<string, OpSignature>, err: PlanError): void {
  const ops = new Map(plan.ops.map((o) => [o.name, o]));
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  const allreduceSizes = new Map<string, { volume: number; pointer: string }>();
  plan.programs.forEach((p, pi) => {
    const bufs = new Map(p.buffers.map((b) => [b.id, b]));
    p.instructions.forEach((ins, ii) => {
      const ptr = `/programs/${pi}/instructions/${ii}`;
      const fail = (message: string) => err("PAR5026", ptr, `${ins.kind} on device ${p.device}: ${message}`);
      /** The buffer `id`, checked to be of `tensor`, one of `kinds` and (when given) exactly `region`. */
      const operand = (id: string, tensor: string, kinds: readonly PlanBuffer["kind"][], region: Region | undefined, what: string): void => {
        const b = bufs.get(id);
        if (!b) return; // PAR5004
        if (b.tensor !== tensor) fail(`${what} is buffer ${id} of tensor ${b.tensor}, but the op reads tensor ${tensor} there`);
        else if (!kinds.includes(b.kind)) fail(`${what} is buffer ${id} of kind ${b.kind}, not ${kinds.join(" or ")}`);
        else if (region && !sameRegion(b.region, region)) fail(`${what} is buffer ${id} holding ${formatRegion(b.region)}, but the task needs ${formatRegion(region)}`);
      };
      switch (ins.kind) {
        case "forward":
        case "backward": {
          const op = ops.get(ins.op);
          const sig = op && sigs.get(op.name);
          if (!op || !sig) return; // PAR5009, PAR5023
          const sizes = sig.space.map((d) => d.size);
          if (ins.box.lo.length !== sizes.length || ins.box.hi.length !== sizes.length || ins.box.lo.some((l, d) => !(l >= 0 && l < ins.box.hi[d] && ins.box.hi[d] <= sizes[d]))) {
            fail(`box ${formatRegion(ins.box)} is not a task of ${op.name}, whose space is [${sizes.join(", ")}]`);
            return;
          }
          const shapes = op.inputs.map((id) => tensors.get(id)!.shape);
          const r = taskRegions(sig, shapes, ins.box);
          const lists: [string, readonly (string | null)[], readonly string[], readonly PlanBuffer["kind"][], readonly Region[]][] = [
            ["inputs", ins.inputs, op.inputs, ["value"], r.inputs],
            ["params", ins.params, op.params, ["param"], r.params],
            ["outputs", ins.outputs, op.outputs, ["value"], r.outputs],
          ];
          if (ins.kind === "backward") {
            lists.push(["dOutputs", ins.dOutputs, op.outputs, ["grad"], r.outputs], ["dInputs", ins.dInputs, op.inputs, ["grad"], r.inputs], ["dParams", ins.dParams, op.params, ["param_grad"], r.params]);
          }
          for (const [field, ids, want, kinds, regions] of lists) {
            if (ids.length !== want.length) {
              fail(`${op.name} (${op.op}) takes ${want.length} ${field}, the instruction names ${ids.length}`);
              continue;
            }
            ids.forEach((id, j) => id !== null && operand(id, want[j], kinds, regions[j], `${field}[${j}]`));
          }
          return;
        }
        case "feed": {
          const b = bufs.get(ins.buf);
          if (b && (b.kind !== "value" || tensors.get(b.tensor)?.role !== "input")) fail(`buffer ${ins.buf} is not the value of a graph input`);
          return;
        }
        case "copy": {
          const src = bufs.get(ins.src);
          const dst = bufs.get(ins.dst);
          if (!src || !dst) return;
          const moved = intersect(ins.region, src.region);
          if (src.tensor !== dst.tensor) fail(`copies tensor ${src.tensor} into a buffer of ${dst.tensor}`);
          else if (moved && !inside(moved, dst.region)) fail(`copies ${formatRegion(moved)} into buffer ${dst.id}, which holds ${formatRegion(dst.region)}`);
          return;
        }
        case "send":
        case "recv": {
          const b = bufs.get(ins.kind === "send" ? ins.src : ins.dst);
          if (b && !inside(ins.region, b.region)) fail(`region ${formatRegion(ins.region)} is not inside buffer ${b.id}, which holds ${formatRegion(b.region)}`);
          return;
        }
        case "allreduce": {
          const b = bufs.get(ins.buf);
          if (!b) return;
          const seen = allreduceSizes.get(ins.tag);
          if (!seen) allreduceSizes.set(ins.tag, { volume: regionVolume(b.region), pointer: ptr });
          else if (seen.volume !== regionVolume(b.region)) fail(`all-reduce ${ins.tag} sums ${regionVolume(b.region)} elements here and ${seen.volume} at ${seen.pointer}`);
          return;
        }
        case "update": {
          const param = bufs.get(ins.param);
          if (!param) return;
          operand(ins.param, param.tensor, ["param"], undefined, "param");
          operand(ins.grad, param.tensor, ["param_grad"], param.region, "grad");
          const needs = plan.optimizer.kind === "adam" ? ["m", "v"] : plan.optimizer.kind === "momentum" ? ["m"] : [];
          for (const k of ["m", "v"] as const) {
            const id = (ins as Extract<Instruction, { kind: "update" }>)[k];
            if (needs.includes(k) && id === undefined) fail(`the ${plan.optimizer.kind} update of ${ins.param} needs its state \`${k}\``);
            if (id !== undefined) operand(id, param.tensor, [k === "m" ? "opt_m" : "opt_v"], param.region, k);
          }
          return;
        }
        case "loss": {
          const b = bufs.get(ins.buf);
          if (b && !plan.losses.includes(b.tensor)) fail(`buffer ${ins.buf} is not the value of a loss of the plan`);
          return;
        }
        case "zero":
        case "fill":
          return;
      }
    });
  });
}
