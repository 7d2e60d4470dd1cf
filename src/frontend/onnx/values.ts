// The value of every ONNX tensor name during import: a par tensor (computed from the
// inputs) or a constant. A constant is an initializer, a view of one (a transpose, an
// identity or a float cast of it, kept lazy so that a large weight is never copied into
// folding's number arrays) or a value folded from constants. Constants are decoded
// lazily, since most initializers are weights that are never folded.

import { isFloatDType, type OnnxGraph, type OnnxTensor } from "./decode.js";
import { type ConstValue, constOfTensor, transposeConst } from "./fold.js";

/** An initializer seen through a permutation of its axes (the identity for Identity and Cast). */
export interface TensorView {
  tensor: OnnxTensor;
  /** Output axis i is the tensor's axis perm[i]. */
  perm: number[];
}

export type TensorVal = { kind: "tensor"; id: string };
export type ConstVal = { kind: "const"; tensor?: OnnxTensor; view?: TensorView; value?: ConstValue };
export type Val = TensorVal | ConstVal;

/** Every initializer as a constant value, by name. */
export function valuesFromInitializers(g: OnnxGraph): Map<string, Val> {
  const values = new Map<string, Val>();
  for (const [name, t] of g.initializers) values.set(name, { kind: "const", tensor: t });
  return values;
}

const isIdentity = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);

/** The constant of a value (an initializer's data, a view materialised, or a folded value), or undefined. */
export function constOf(v: Val | undefined): ConstValue | undefined {
  if (!v || v.kind !== "const") return undefined;
  if (!v.value && v.tensor) v.value = constOfTensor(v.tensor);
  if (!v.value && v.view) {
    const base = constOfTensor(v.view.tensor);
    if (base) v.value = isIdentity(v.view.perm) ? base : { ...transposeConst(base, v.view.perm), sources: [v.view.tensor.name] };
  }
  return v.value;
}

export function isConst(v: Val | undefined): v is ConstVal {
  return v?.kind === "const";
}

/** A constant's dims, known even when its data is external. */
export function constDims(v: Val): number[] {
  if (v.kind !== "const") throw new Error("not a constant");
  if (v.tensor) return v.tensor.dims;
  if (v.view) return v.view.perm.map((p) => v.view!.tensor.dims[p]);
  return v.value!.shape;
}

export function isFloatConst(v: ConstVal): boolean {
  if (v.tensor) return isFloatDType(v.tensor.dataType);
  if (v.view) return isFloatDType(v.view.tensor.dataType);
  return v.value?.dtype === "float";
}

/** The initializer a constant is (perm = identity) or views (a transpose of it); undefined for folded values. */
export function initializerView(v: Val | undefined): TensorView | undefined {
  if (!v || v.kind !== "const") return undefined;
  if (v.tensor) return { tensor: v.tensor, perm: v.tensor.dims.map((_, i) => i) };
  return v.view;
}

/** The initializers a value was computed from (empty for a computed tensor or a pure constant). */
export function sourcesOf(v: Val | undefined): readonly string[] {
  if (!v || v.kind !== "const") return [];
  if (v.tensor) return [v.tensor.name];
  if (v.view) return [v.view.tensor.name];
  return v.value?.sources ?? [];
}
