// Tensor types with named dims: the vocabulary shared by ops, the IR and the plan.

export type DType = "f32" | "f16" | "bf16" | "i32" | "i64" | "bool";

export const DTYPES: readonly DType[] = ["f32", "f16", "bf16", "i32", "i64", "bool"];

export function dtypeBytes(dtype: DType): number {
  switch (dtype) {
    case "f32": case "i32": return 4;
    case "f16": case "bf16": return 2;
    case "i64": return 8;
    case "bool": return 1;
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype === "f32" || dtype === "f16" || dtype === "bf16";
}

/** A tensor's type. `dims[i]` names axis i ("batch", "hidden", "d1"); names are for people and strategies. */
export interface TensorType {
  dtype: DType;
  shape: number[];
  dims: string[];
}

export function volume(shape: readonly number[]): number {
  let v = 1;
  for (const s of shape) v *= s;
  return v;
}

export function tensorBytes(t: TensorType): number {
  return volume(t.shape) * dtypeBytes(t.dtype);
}

export function formatType(t: TensorType): string {
  return `${t.dtype}[${t.shape.map((s, i) => (t.dims[i] && !/^d\d+$/.test(t.dims[i]) ? `${t.dims[i]}=${s}` : String(s))).join(", ")}]`;
}
