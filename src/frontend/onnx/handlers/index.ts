// The ONNX op table: every family's handlers merged into one map by ONNX op type, each with
// the line docs/import.md shows for it. An op type claimed by two families is a programming
// error, caught when the module loads.

import type { HandlerTable, OnnxOpHandler, OnnxOpSpec } from "../context.js";
import { BINARY_HANDLERS } from "./binary.js";
import { CONV_POOL_HANDLERS } from "./conv-pool.js";
import { ELEMENTWISE_HANDLERS } from "./elementwise.js";
import { GATHER_HANDLERS } from "./gather.js";
import { LINEAR_HANDLERS } from "./linear.js";
import { LOGIC_HANDLERS } from "./logic.js";
import { NORMALIZATION_HANDLERS } from "./normalization.js";
import { RECURRENT_HANDLERS } from "./recurrent.js";
import { REDUCE_HANDLERS } from "./reduce.js";
import { RESIZE_HANDLERS } from "./resize.js";
import { SHAPE_HANDLERS } from "./shape.js";

/** Merges family tables (by family name); throws when two claim the same op type. */
export function mergeHandlerTables(families: Readonly<Record<string, HandlerTable>>): ReadonlyMap<string, OnnxOpSpec> {
  const merged = new Map<string, OnnxOpSpec>();
  const familyOf = new Map<string, string>();
  for (const [family, table] of Object.entries(families)) {
    for (const [opType, spec] of Object.entries(table)) {
      const first = familyOf.get(opType);
      if (first !== undefined) throw new Error(`ONNX op ${opType} has handlers in both ${first} and ${family}`);
      familyOf.set(opType, family);
      merged.set(opType, spec);
    }
  }
  return merged;
}

/** Every ONNX op type that maps to par ops: its handler and what it becomes. */
export const ONNX_OPS: ReadonlyMap<string, OnnxOpSpec> = mergeHandlerTables({
  elementwise: ELEMENTWISE_HANDLERS,
  binary: BINARY_HANDLERS,
  linear: LINEAR_HANDLERS,
  "conv-pool": CONV_POOL_HANDLERS,
  normalization: NORMALIZATION_HANDLERS,
  reduce: REDUCE_HANDLERS,
  shape: SHAPE_HANDLERS,
  gather: GATHER_HANDLERS,
  recurrent: RECURRENT_HANDLERS,
  logic: LOGIC_HANDLERS,
  resize: RESIZE_HANDLERS,
});

/** The handler of every ONNX op type that maps to par ops. */
export const ONNX_HANDLERS: ReadonlyMap<string, OnnxOpHandler> = new Map([...ONNX_OPS].map(([op, spec]) => [op, spec.map]));
