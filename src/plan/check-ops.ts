// What a plan's tensors must agree with: each op's signature, re-inferred from the registry
// from its input tensors and attributes. A plan whose input shape was edited by hand would
// otherwise run (the kernels read the buffers they are given) and compute something else
// than it claims. Also: every device has a program and the programs compute the losses.

import { Diagnostics } from "../core/diagnostics.js";
import { isFloat, type TensorType } from "../core/tensor.js";
import { resolveAttrs } from "../ops/attrs.js";
import type { OpSignature } from "../ops/contract.js";
import { getOp } from "../ops/registry.js";
import type { Plan, PlanTensor } from "./plan.js";

/** Reports a problem at a JSON pointer of the plan. */
export type PlanError = (code: string, pointer: string, message: string) => void;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function typeOf(t: PlanTensor): TensorType {
  return { dtype: t.dtype, shape: [...t.shape], dims: t.shape.map((_, i) => `${t.id}.d${i}`) };
}

const shape = (s: readonly number[]) => `[${s.join(", ")}]`;

/** The signature of plan op `i` from the registry, or undefined after PAR5016. */
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
    err("PAR5016", `/ops/${i}/attrs`, `the attributes of op ${op.name} (${op.op}) are not valid: ${explain()}`);
    return undefined;
  }
  // The runtime infers from the attributes as written: a plan lists every one (lowering does).
  const missing = entry.attrs.filter((a) => !Object.prototype.hasOwnProperty.call(op.attrs, a.name)).map((a) => a.name);
  if (missing.length) {
    err("PAR5016", `/ops/${i}/attrs`, `op ${op.name} (${op.op}) does not list attribute${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
    return undefined;
  }
  let sig: OpSignature | undefined;
  try {
    sig = entry.infer(inputs.map((t) => typeOf(t!)), op.attrs, ctx);
  } catch (e) {
    sink.error("PAR5016", e instanceof Error ? e.message : String(e));
  }
  if (!sig) {
    const given = op.inputs.map((id) => `${id} ${shape(tensors.get(id)!.shape)}`).join(", ");
    err("PAR5016", `/ops/${i}`, `op ${op.name} (${op.op}) does not accept its inputs ${given}: ${explain()}`);
  }
  return sig;
}

/** PAR5016: each op's outputs, params and degrees as its signature makes them. */
export function checkOpSignatures(plan: Plan, err: PlanError): void {
  const tensors = new Map(plan.tensors.map((t) => [t.id, t]));
  plan.ops.forEach((op, i) => {
    const sig = reinfer(plan, i, tensors, err);
    if (!sig) return;
    const compare = (field: "outputs" | "params", wanted: { shape: readonly number[]; dtype?: string }[]) => {
      const ids = op[field];
      if (ids.length !== wanted.length) {
        err("PAR5016", `/ops/${i}/${field}`, `op ${op.name} (${op.op}) has ${wanted.length} ${field}, the plan lists ${ids.length}`);
        return;
      }
      ids.forEach((id, j) => {
        const t = tensors.get(id);
        if (!t) return; // PAR5009
        const want = wanted[j];
        const dtype = want.dtype === undefined ? "f32" : isFloat(want.dtype as TensorType["dtype"]) ? "f32" : "i32";
        if (!sameShape(t.shape, want.shape) || t.dtype !== dtype) {
          const from = op.inputs.map((x) => `${x} ${shape(tensors.get(x)!.shape)}`).join(", ");
          err("PAR5016", `/ops/${i}/${field}/${j}`, `tensor ${id} is ${t.dtype}${shape(t.shape)}, but ${op.name} (${op.op}) makes ${dtype}${shape(want.shape)} from ${from}`);
        }
      });
    };
    compare("outputs", sig.outputs);
    compare("params", sig.params);
    if (op.degrees.length !== sig.space.length) {
      err("PAR5016", `/ops/${i}/degrees`, `op ${op.name} (${op.op}) has ${sig.space.length} parallel dims, the plan gives ${op.degrees.length} degrees`);
    } else {
      op.degrees.forEach((d, j) => {
        if (d > sig.space[j].size) err("PAR5016", `/ops/${i}/degrees/${j}`, `degree ${d} of ${op.name}'s dim ${sig.space[j].name} exceeds its size ${sig.space[j].size}`);
      });
    }
  });
}

/** PAR5017: a device without a program; PAR5018: programs that compute none of the losses. */
export function checkProgramsRun(plan: Plan, err: PlanError): void {
  if (plan.devices.length === 0) err("PAR5017", "/devices", "the plan has no devices");
  const withProgram = new Set(plan.programs.map((p) => p.device));
  plan.devices.forEach((d, i) => {
    if (!withProgram.has(d.index)) err("PAR5017", `/devices/${i}`, `device ${d.index} has no program`);
  });
  const computed = plan.programs.some((p) => p.instructions.some((ins) => ins.kind === "loss"));
  if (!computed) {
    err("PAR5018", "/programs", plan.losses.length ? `no program computes the plan's loss (${plan.losses.join(", ")}): a step would do nothing` : "the plan has no loss: a step would train nothing");
  }
}
