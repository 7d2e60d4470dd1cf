// Small ONNX models for importer tests, encoded with the embedded ModelProto schema.
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { onnxModelType } from "../../../src/frontend/onnx/decode.js";
import { importOnnx, type ImportedModel, type ImportOptions } from "../../../src/frontend/onnx/import.js";

type Obj = Record<string, unknown>;

/** A graph input or output: name, dims (numbers or symbolic names), element type (1 = float, 7 = int64). */
export const valueInfo = (name: string, dims: (number | string)[], elem = 1): Obj => ({
  name,
  type: { tensor_type: { elem_type: elem, shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) } } },
});

export const node = (op_type: string, input: string[], output: string[], name = output[0], attribute: Obj[] = []): Obj => ({ op_type, input, output, name, attribute });

/** Attributes by their ONNX type: int (2), float (1), ints (7), string (3), strings (8). */
export const intAttr = (name: string, i: number): Obj => ({ name, type: 2, i });
export const floatAttr = (name: string, f: number): Obj => ({ name, type: 1, f });
export const intsAttr = (name: string, ints: number[]): Obj => ({ name, type: 7, ints });
export const stringAttr = (name: string, s: string): Obj => ({ name, type: 3, s: new TextEncoder().encode(s) });
export const stringsAttr = (name: string, strings: string[]): Obj => ({ name, type: 8, strings: strings.map((s) => new TextEncoder().encode(s)) });

/** A float initializer; values default to 0.5, 1.5, 2.5, ... */
export const floats = (name: string, dims: number[], values?: number[]): Obj => ({ name, dims, data_type: 1, float_data: values ?? Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i + 0.5) });
export const ints = (name: string, values: number[], dims = [values.length]): Obj => ({ name, dims, data_type: 7, int64_data: values });

export interface GraphSpec {
  nodes: Obj[];
  inputs?: Obj[];
  initializers?: Obj[];
  outputs?: string[];
  opset?: number;
}

export function encodeOnnx(g: GraphSpec): Uint8Array {
  const T = onnxModelType();
  // Outputs are declared float of unknown shape (as exporters may): ONNX Runtime infers them.
  const graph = { name: "g", node: g.nodes, input: g.inputs ?? [valueInfo("x", [2, 4])], output: (g.outputs ?? ["y"]).map((name) => ({ name, type: { tensor_type: { elem_type: 1 } } })), initializer: g.initializers ?? [] };
  return T.encode(T.fromObject({ ir_version: 8, opset_import: [{ domain: "", version: g.opset ?? 13 }], graph })).finish();
}

export interface Imported {
  model: ImportedModel | undefined;
  codes: string[];
  messages: string[];
  /** The par ops (without the appended training loss) as "name:op". */
  ops: string[];
}

export function importSpec(g: GraphSpec, options: ImportOptions = {}): Imported {
  const d = new Diagnostics();
  const model = importOnnx(encodeOnnx(g), "m.onnx", options, d);
  const loss = new Set(model?.graph.lossOps().map((o) => o.name));
  const ops = model ? model.graph.topoOrder().filter((o) => !loss.has(o.name)).map((o) => `${o.name}:${o.op}`) : [];
  return { model, codes: d.errors.map((e) => e.code), messages: d.errors.map((e) => e.message), ops };
}
