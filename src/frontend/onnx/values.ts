// The value of every ONNX tensor name during import: a par tensor (computed from the
// inputs) or a constant (an initializer, or a value folded from constants). Constants are
// decoded lazily, since most initializers are weights that are never folded.

import { isFloatDType, type OnnxGraph, type OnnxTensor } from "./decode.js";
import { type ConstValue, constOfTensor } from "./fold.js";

export type TensorVal = { kind: "tensor"; id: string };
export type ConstVal = { kind: "const"; tensor?: OnnxTensor; value?: ConstValue };
export type Val = TensorVal | ConstVal;

/** Every initializer as a constant value, by name. */
export function valuesFromInitializers(g: OnnxGraph): Map<string, Val> {
  const values = new Map<string, Val>();
  for (const [name, t] of g.initializers) values.set(name, { kind: "const", tensor: t });
  return values;
}

/** The constant of a value (an initializer's data or a folded value), or undefined. */
export function constOf(v: Val | undefined): ConstValue | undefined {
  if (!v || v.kind !== "const") return undefined;
  if (!v.value && v.tensor) v.value = constOfTensor(v.tensor);
  return v.value;
}

export function isConst(v: Val | undefined): v is ConstVal {
  return v?.kind === "const";
}

/** A constant's dims, known even when its data is external. */
export function constDims(v: Val): number[] {
  if (v.kind !== "const") throw new Error("not a constant");
  return v.tensor ? v.tensor.dims : v.value!.shape;
}

export function isFloatConst(v: ConstVal): boolean {
  return v.tensor ? isFloatDType(v.tensor.dataType) : v.value?.dtype === "float";
}

/** True when the value is an initializer (weights count toward the parameter count). */
export function fromInitializer(v: Val): boolean {
  return v.kind === "const" && v.tensor !== undefined;
}
