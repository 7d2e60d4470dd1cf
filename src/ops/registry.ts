// The one explicit operator registry. A new op is an entry in its family file; a new
// family file adds one line here.

import type { OpEntry } from "./contract.js";
import { ELEMENTWISE_OPS } from "./elementwise.js";
import { linear } from "./linear.js";
import { LOSS_OPS } from "./losses.js";
import { SHAPE_OPS } from "./shape-ops.js";
import { RESHAPE_OPS } from "./reshape.js";
import { JOIN_OPS } from "./join.js";
import { REDUCE_OPS } from "./reduce.js";
import { DROPOUT_OPS } from "./dropout.js";
import { MATMUL_OPS } from "./matmul.js";
import { CONV_OPS } from "./conv.js";
import { POOL_OPS } from "./pool.js";
import { NORM_OPS } from "./norm.js";
import { EMBEDDING_OPS } from "./embedding.js";
import { RECURRENT_OPS } from "./recurrent.js";
import { ATTENTION_OPS } from "./attention.js";
import { AFFINE_OPS } from "./affine.js";
import { SHARED_OPS } from "./shared.js";
import { LOGIC_OPS } from "./logic.js";
import { RESIZE_OPS } from "./resize.js";
import { INDEXING_OPS } from "./indexing.js";
import { TRANSFORMER_OPS } from "./transformer.js";

const ALL: OpEntry[] = [linear, ...MATMUL_OPS, ...CONV_OPS, ...POOL_OPS, ...NORM_OPS, ...EMBEDDING_OPS, ...ELEMENTWISE_OPS, ...LOSS_OPS, ...RESHAPE_OPS, ...JOIN_OPS, ...SHAPE_OPS, ...REDUCE_OPS, ...DROPOUT_OPS, ...RECURRENT_OPS, ...ATTENTION_OPS, ...AFFINE_OPS, ...SHARED_OPS, ...LOGIC_OPS, ...RESIZE_OPS, ...INDEXING_OPS, ...TRANSFORMER_OPS];

const BY_NAME = new Map<string, OpEntry>();
for (const e of ALL) {
  if (BY_NAME.has(e.name)) throw new Error(`duplicate op entry ${e.name}`);
  BY_NAME.set(e.name, e);
}

export function getOp(name: string): OpEntry | undefined {
  return BY_NAME.get(name);
}

export function opNames(): string[] {
  return [...BY_NAME.keys()].sort();
}

export function allOps(): readonly OpEntry[] {
  return ALL;
}
