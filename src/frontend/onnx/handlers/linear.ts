// Matrix products. A product by a constant becomes par's `linear`, which owns the constant
// as its weight ([in, out]); a product of two computed tensors is `matmul`, and so is a
// product by a weight other nodes read too (a tied LM head), which stays one shared tensor.

import type { HandlerTable, NodeContext, OnnxOpHandler } from "../context.js";
import type { OnnxNode } from "../decode.js";
import { Unmappable } from "../errors.js";
import { volumeOf } from "../fold.js";
import { constDims, isFloatConst, type Val } from "../values.js";
import { addConstant } from "./binary.js";

function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = w[i * cols + j];
  return out;
}

/**
 * The Add that follows a MatMul with a [m] constant, when it can become the linear's bias
 * (torch exports nn.Linear on 3-D inputs as MatMul + Add).
 */
function fusableBias(cx: NodeContext, m: number): { node: OnnxNode; val: Val } | undefined {
  const y = cx.node.outputs[0];
  const users = cx.consumers(y);
  if (users.length !== 1 || cx.isGraphOutput(y)) return undefined;
  const add = users[0].node;
  if (add.opType !== "Add" || add.inputs.length !== 2) return undefined;
  const other = add.inputs[1 - users[0].index];
  const v = cx.value(other);
  if (!v || v.kind !== "const") return undefined;
  const dims = constDims(v);
  if (!isFloatConst(v) || volumeOf(dims) !== m || dims[dims.length - 1] !== m) return undefined;
  return { node: add, val: v };
}

const matMul: OnnxOpHandler = (cx) => {
  const a = cx.tensorIn(0, "A");
  const bv = cx.inputs[1];
  if (bv?.kind === "tensor") return cx.out(cx.emit("matmul", {}, [a, bv.id]));
  if (!bv) throw new Unmappable("PAR6016", "MatMul needs two inputs");
  const dims = constDims(bv);
  if (dims.length !== 2) throw new Unmappable("PAR6016", `MatMul by a constant of rank ${dims.length} (par's linear takes a [in, out] weight)`);
  const [k, m] = dims;
  if (cx.shape(a)[cx.rank(a) - 1] !== k) throw new Unmappable("PAR6016", `MatMul of [${cx.shape(a).join(", ")}] by a [${k}, ${m}] weight: inner dims differ`);
  const shared = cx.sharedWeight(bv);
  if (shared) return cx.out(cx.emit("matmul", { transpose_b: shared.perm[0] === 1 }, [a, shared.id]));
  const bias = fusableBias(cx, m);
  const owner = cx.asWeightOwner();
  const ids = owner.emit("linear", { out: m, bias: bias !== undefined }, [a]);
  if (!ids) return false;
  const op = cx.producer(ids[0]);
  cx.setWeight(op, "weight", bv, "MatMul weight");
  if (bias) {
    cx.setWeight(op, "bias", bias.val, "bias");
    cx.absorb(bias.node, ids[0]);
  }
  return cx.out(ids);
};

/** Y = A·B + C (alpha = beta = 1); B constant → linear, with C as its bias when C is a row. */
const gemm: OnnxOpHandler = (plain) => {
  const cx = plain.asWeightOwner();
  const alpha = cx.attr.float("alpha", 1);
  const beta = cx.attr.float("beta", 1);
  if (alpha !== 1 || beta !== 1) throw new Unmappable("PAR6016", `Gemm with alpha = ${alpha}, beta = ${beta} (par maps only alpha = beta = 1)`, "fold the scale into the weights before exporting");
  let a = cx.tensorIn(0, "A");
  if (cx.attr.int("transA", 0)) {
    const t = cx.emit("transpose", { perm: [1, 0] }, [a], `${cx.base}_transA`);
    if (!t) return false;
    a = t[0];
  }
  const transB = cx.attr.int("transB", 0) === 1;
  const bv = cx.inputs[1]!;
  const cv = cx.inputs[2];
  /** y + C as an op of its own, for a C that is not the linear's bias. */
  const addC = (y: string, c: Val): boolean => cx.out(c.kind === "tensor" ? cx.emit("add", {}, [y, c.id], `${cx.base}_bias`) : addConstant(cx, y, c, `${cx.base}_bias`));
  if (bv.kind === "tensor") {
    let bt = bv.id;
    if (transB) {
      const t = cx.emit("transpose", { perm: [1, 0] }, [bt], `${cx.base}_transB`);
      if (!t) return false;
      bt = t[0];
    }
    const mm = cx.emit("matmul", {}, [a, bt]);
    if (!mm || !cv) return cx.out(mm);
    return addC(mm[0], cv);
  }
  const [r0, r1] = constDims(bv);
  const [, m] = transB ? [r1, r0] : [r0, r1];
  const shared = cx.sharedWeight(bv);
  if (shared) {
    // B is the shared tensor, possibly through a transpose: multiply by its transpose when exactly one applies.
    const mm = cx.emit("matmul", { transpose_b: transB !== (shared.perm[0] === 1) }, [a, shared.id]);
    if (!mm || !cv) return cx.out(mm);
    return addC(mm[0], cv);
  }
  const cDims = cv?.kind === "const" ? constDims(cv) : undefined;
  const biasOk = cDims !== undefined && (volumeOf(cDims) === m || volumeOf(cDims) === 1) && cDims.length <= 2 && (cDims.length < 2 || cDims[0] === 1);
  const ids = cx.emit("linear", { out: m, bias: biasOk }, [a]);
  if (!ids) return false;
  const op = cx.producer(ids[0]);
  cx.setWeight(op, "weight", bv, "Gemm B", transB ? (w) => transpose2d(w, r0, r1) : undefined);
  if (biasOk) {
    // A scalar C broadcasts over the row: the bias holds it m times.
    cx.setWeight(op, "bias", cv, "Gemm C", volumeOf(cDims) === 1 ? (c) => new Float32Array(m).fill(c[0]) : undefined, () => m);
    return cx.out(ids);
  }
  if (!cv) return cx.out(ids);
  return addC(ids[0], cv);
};

/** Einsum: any operand may be a constant (NodeContext.operand). */
const einsum: OnnxOpHandler = (cx) => cx.out(cx.emit("einsum", { equation: cx.attr.string("equation", "") }, cx.node.inputs.map((_, i) => cx.operand(i))));

export const LINEAR_HANDLERS: HandlerTable = {
  MatMul: { map: matMul, par: "`linear` by a 2-D initializer (an `Add` of a [out] constant after it becomes its bias); by an initializer other nodes read too (or its transpose): `matmul` of its shared `param` tensor; `matmul` of two computed tensors" },
  Gemm: { map: gemm, par: "`linear` (B transposed to [in, out] when transB) with bias C; alpha = beta = 1 only (PAR6016); A computed → `transpose`; B computed → `matmul`" },
  Einsum: { map: einsum, par: "`einsum` (no repeated letter within an operand)" },
};
