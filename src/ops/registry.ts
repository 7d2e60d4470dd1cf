// The one explicit operator registry. A new op is an entry in its family file; a new
// family file adds one line here.

import type { OpEntry } from "./contract.js";
import { ELEMENTWISE_OPS } from "./elementwise.js";
import { linear } from "./linear.js";
import { LOSS_OPS } from "./losses.js";

const ALL: OpEntry[] = [linear, ...ELEMENTWISE_OPS, ...LOSS_OPS];

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
