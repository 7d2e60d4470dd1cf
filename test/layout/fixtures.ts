// Graphs for the layout tests and the simulator/lowering agreement test.
import { Graph } from "../../src/ir/graph.js";
import type { OpSignature } from "../../src/ops/contract.js";
import { tt } from "../runtime/graphs.js";

/**
 * Adds an op with two outputs where one dim (cols) addresses only the first: tasks split
 * along cols write the same region of the second output, replicas of one another. No op
 * of the library has such a splittable dim today (lstm_chunk's `length` is not
 * splittable), so the signature is made here; layouts, lowering and simulation read only
 * the signature (the op kind, identity, is never run).
 */
export function addTwoHeaded(g: Graph, name: string, x: string): [string, string] {
  const [rows, cols] = g.tensor(x).type.shape;
  const sig: OpSignature = {
    outputs: [tt([rows, cols]), tt([rows])],
    params: [{ name: "scale", shape: [cols], dims: ["cols"], init: { kind: "ones" } }],
    space: [
      { name: "rows", cls: "sample", size: rows },
      { name: "cols", cls: "attribute", size: cols },
    ],
    inputMaps: [[{ kind: "iter", dim: 0 }, { kind: "iter", dim: 1 }]],
    paramMaps: [[{ kind: "iter", dim: 1 }]],
    outputMaps: [[{ kind: "iter", dim: 0 }, { kind: "iter", dim: 1 }], [{ kind: "iter", dim: 0 }]],
    flops: (e) => ({ forward: e[0] * e[1], backward: 2 * e[0] * e[1] }),
  };
  const o = g.addOp({ name, op: "identity", attrs: {}, inputs: [x], sig });
  return [o.outputs[0], o.outputs[1]];
}
