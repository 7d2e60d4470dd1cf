// The graph's inputs as par graph inputs, with static shapes: the model's dims, or the
// caller's (--input gives a whole shape, --batch a symbolic leading dim).

import type { Diagnostics } from "../../core/diagnostics.js";
import type { DType } from "../../core/tensor.js";
import type { GraphBuilder, ImportOptions } from "../import-build.js";
import { isFloatDType, isIntDType, type OnnxModel } from "./decode.js";
import type { Val } from "./values.js";

/** par's dtype for an ONNX element type: f32 for floats, i32 (par's index type) for ints. */
function dtypeOf(elemType: number): DType | undefined {
  if (isFloatDType(elemType)) return "f32";
  if (isIntDType(elemType)) return "i32";
  return undefined;
}

/** Binds every graph input's shape; reports PAR6014/PAR6015. */
export function bindInputs(model: OnnxModel, file: string, given: ImportOptions, b: GraphBuilder, values: Map<string, Val>, d: Diagnostics): boolean {
  const g = model.graph;
  const real = g.inputs.filter((i) => !g.initializers.has(i.name));
  let options = given;
  if (given.bind) {
    const shapes = given.bind(real.map((i) => ({ name: i.name, dtype: dtypeOf(i.elemType) ?? "f32", dims: i.shape })));
    if (!shapes) return false;
    options = { ...given, inputs: shapes };
  }
  let ok = true;
  for (const name of Object.keys(options.inputs ?? {})) {
    if (!real.some((i) => i.name === name)) {
      d.error("PAR6015", `${file}: --input names \`${name}\`, which is not an input of the model`, { expected: real.map((i) => i.name).join(", ") || "no inputs" });
      ok = false;
    }
  }
  for (const inp of real) {
    const dtype = dtypeOf(inp.elemType);
    if (!dtype) {
      d.error("PAR6007", `${file}: input \`${inp.name}\` has element type ${inp.elemType}, which par does not import`, { expected: "a float or integer input" });
      ok = false;
      continue;
    }
    const given = options.inputs?.[inp.name];
    let shape: number[];
    if (given) {
      if (inp.shape && inp.shape.length !== given.length) {
        d.error("PAR6015", `${file}: --input ${inp.name} gives rank ${given.length}, but the model's input has rank ${inp.shape.length}`, { expected: `${inp.shape.length} dims` });
        ok = false;
        continue;
      }
      if (given.some((x) => !Number.isInteger(x) || x < 1 || x > 2 ** 31)) {
        d.error("PAR6015", `${file}: --input ${inp.name} has a dim outside [1, 2^31]: ${given.join("x")}`, { expected: "positive dims" });
        ok = false;
        continue;
      }
      shape = [...given];
    } else if (!inp.shape) {
      d.error("PAR6014", `${file}: input \`${inp.name}\` has no shape in the model`, { hint: `give it with --input ${inp.name}=2x3x224x224` });
      ok = false;
      continue;
    } else {
      const free = inp.shape.map((x, i) => (typeof x === "number" ? -1 : i)).filter((i) => i >= 0);
      const unbound = free.filter((i) => !(i === 0 && options.batch !== undefined));
      if (unbound.length) {
        const dims = inp.shape.map((x) => (typeof x === "number" ? String(x) : x ?? "?")).join("x");
        d.error("PAR6014", `${file}: input \`${inp.name}\` [${dims}] has symbolic or unknown dim${unbound.length > 1 ? "s" : ""} at axis ${unbound.join(", ")}`, {
          expected: "static dims",
          hint: unbound.every((i) => i === 0) ? "bind the batch dim with --batch N" : `give the whole shape with --input ${inp.name}=...`,
        });
        ok = false;
        continue;
      }
      shape = inp.shape.map((x) => (typeof x === "number" ? x : options.batch!));
    }
    const id = b.input(inp.name, dtype, shape);
    values.set(inp.name, { kind: "tensor", id });
  }
  return ok;
}
