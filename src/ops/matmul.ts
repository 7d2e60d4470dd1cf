// matmul and batch_matmul: y[..., m, n] = a[..., m, k] · b[..., k, n] with leading batch
// dims broadcast NumPy-style (a size-1 batch axis is read whole by every task).
// Parallel dims: the leading batch dims (sample, attr1, ...), rows (m), cols (n) and
// inner (k, a reduction: splitting it gives partial sums).

import type { Tensor } from "@tensorflow/tfjs-core";
import { checkInputs } from "./attrs.js";
import type { AxisMap, InferContext, OpEntry, OpSignature, ParallelDim, TF } from "./contract.js";
import { fmtShape, iter, product } from "./common.js";
import type { TensorType } from "../core/tensor.js";


/** Names of the leading (batch) dims of a matmul's iteration space. */
function leadNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? "sample" : `attr${i}`));
}

/**
 * The signature shared by both entries. `b` is either rank 2 (shared across every batch
 * index, like a weight) or of a's rank; `transposeB` reads b as [..., n, k].
 */
function matmulSignature(name: string, a: TensorType, b: TensorType, transposeB: boolean, ctx: InferContext): OpSignature | undefined {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const L = ra - 2;
  const [m, k] = a.shape.slice(-2);
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    ctx.diagnostics.error("PAR2107", `\`${name}\` inner dims differ: a ${fmtShape(a.shape)} has k = ${k}, b ${fmtShape(b.shape)} has k = ${kb}`, {
      pos: ctx.pos,
      expected: transposeB ? `b shaped [..., n, ${k}]` : `b shaped [..., ${k}, n]`,
    });
    return undefined;
  }
  // Leading dims: b's (when batched) broadcast against a's.
  const lead: number[] = [];
  for (let i = 0; i < L; i++) {
    const da = a.shape[i];
    const db = rb === 2 ? da : b.shape[i];
    if (da !== db && da !== 1 && db !== 1) {
      ctx.diagnostics.error("PAR2107", `\`${name}\` cannot broadcast batch dims of a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)}: axis ${i} is ${da} vs ${db}`, {
        pos: ctx.pos,
        expected: `equal sizes or 1 at batch axis ${i}`,
      });
      return undefined;
    }
    lead.push(Math.max(da, db));
  }
  const names = leadNames(L);
  const space: ParallelDim[] = [
    ...lead.map((size, i): ParallelDim => ({ name: names[i], cls: i === 0 ? "sample" : "attribute", size })),
    // Without batch dims the rows of a are the samples (a flattened batch).
    { name: "rows", cls: L === 0 ? "sample" : "attribute", size: m },
    // A rank-2 b is shared like a weight: a cols split holds a column block of it.
    { name: "cols", cls: rb === 2 ? "parameter" : "attribute", size: n },
    { name: "inner", cls: "reduction", size: k },
  ];
  const leadMaps = (t: TensorType): AxisMap[] => lead.map((size, i) => (t.shape[i] === size ? iter(i) : { kind: "full" }));
  const bCore = transposeB ? [iter(L + 1), iter(L + 2)] : [iter(L + 2), iter(L + 1)];
  const outDims = [...a.dims.slice(0, L), a.dims[L], rb === 2 || transposeB ? `${ctx.opName}.n` : b.dims[rb - 1]];
  return {
    outputs: [{ dtype: a.dtype, shape: [...lead, m, n], dims: outDims }],
    params: [],
    space,
    inputMaps: [
      [...leadMaps(a), iter(L), iter(L + 2)],
      rb === 2 ? bCore : [...leadMaps(b), ...bCore],
    ],
    paramMaps: [],
    outputMaps: [[...lead.map((_, i) => iter(i)), iter(L), iter(L + 1)]],
    // 2 FLOPs per multiply-add; backward computes da and db, each as costly as forward.
    flops: (e) => ({ forward: 2 * product(e), backward: 4 * product(e) }),
  };
}

/** The kernel on one task's pieces: broadcasting batch dims, then one (batched) matMul. */
function matmulKernel(tf: TF, a: Tensor, b: Tensor, transposeB: boolean): Tensor {
  const ra = a.rank;
  const [m, k] = a.shape.slice(-2) as number[];
  const n = (transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]) as number;
  const lead = a.shape.slice(0, -2) as number[];
  if (b.rank === 2) {
    // b shared by every batch index: one 2-D product over the flattened rows.
    const y = tf.matMul(tf.reshape(a, [-1, k]), b, false, transposeB);
    return tf.reshape(y, [...lead, m, n]);
  }
  const outLead = lead.map((d, i) => Math.max(d, b.shape[i] as number));
  const bLead = b.shape.slice(0, -2) as number[];
  const aFull = lead.every((d, i) => d === outLead[i]) ? a : tf.broadcastTo(a, [...outLead, m, k]);
  const bFull = bLead.every((d, i) => d === outLead[i]) ? b : tf.broadcastTo(b, [...outLead, ...(b.shape.slice(-2) as number[])]);
  const batch = product(outLead);
  const y = tf.matMul(
    tf.reshape(aFull, [batch, m, k]),
    tf.reshape(bFull, [batch, ...(b.shape.slice(-2) as number[])]),
    false,
    transposeB,
  );
  return ra === 3 ? y : tf.reshape(y, [...outLead, m, n]);
}

export const matmul: OpEntry = {
  name: "matmul",
  family: "linear algebra",
  doc: "Matrix product of two activations: a[..., m, k] · b[k, n] or b[..., k, n] (batch dims broadcast); `transpose_b` reads b as [n, k] (a tied LM head h·wteᵀ).",
  // b is usually a weight (a `param` op): a dense layer whose weight is shared.
  roles: ["fully-connected"],
  inputs: [{ name: "a" }, { name: "b" }],
  attrs: [{ name: "transpose_b", kind: "bool", default: false, doc: "multiply by the transpose of b's last two axes" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [a, b] = inputs;
    if (a.shape.length < 2 || (b.shape.length !== 2 && b.shape.length !== a.shape.length)) {
      ctx.diagnostics.error("PAR2108", `\`matmul\` needs a of rank ≥ 2 and b of rank 2 or a's rank, got a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}`, {
        pos: ctx.pos,
        expected: "a[..., m, k] with b[k, n] or b[..., k, n]",
        hint: a.shape.length < 2 ? "reshape a to at least [m, k]" : "reshape b to [k, n] or give it a's batch dims",
      });
      return undefined;
    }
    return matmulSignature("matmul", a, b, attrs.transpose_b === true, ctx);
  },
  forward: (tf, { inputs, attrs }) => [matmulKernel(tf, inputs[0], inputs[1], attrs.transpose_b === true)],
};

export const batchMatmul: OpEntry = {
  name: "batch_matmul",
  family: "linear algebra",
  doc: "Batched matrix product a[b..., m, k] · b[b..., k, n]; `transpose_b` reads b as [b..., n, k] (attention scores q·kᵀ).",
  inputs: [{ name: "a" }, { name: "b" }],
  attrs: [{ name: "transpose_b", kind: "bool", default: false, doc: "multiply by the transpose of b's last two axes" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [a, b] = inputs;
    if (a.shape.length < 3 || b.shape.length !== a.shape.length) {
      ctx.diagnostics.error("PAR2108", `\`batch_matmul\` needs a and b of the same rank ≥ 3, got a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}`, {
        pos: ctx.pos,
        expected: "a[batch..., m, k] and b[batch..., k, n]",
        hint: "use `matmul` to multiply by a 2-D b",
      });
      return undefined;
    }
    return matmulSignature("batch_matmul", a, b, attrs.transpose_b as boolean, ctx);
  },
  forward: (tf, { inputs, attrs }) => [matmulKernel(tf, inputs[0], inputs[1], attrs.transpose_b as boolean)],
};

// ---------------------------------------------------------------------------------------
// einsum(equation): ONNX Einsum / torch.einsum over one or more operands ("bij,bkj->bik",
// "...ij,...jk->...ik"). Every index letter is one iteration dim: the output's letters
// first (sample, then attributes, in output order), then the summed ones (reductions:
// splitting one gives partial sums that add). Each operand axis maps to its letter's dim,
// or is read whole where it broadcasts (an ellipsis axis of size 1). The kernel contracts
// the operands pairwise as batched matMuls, so autodiff gives every operand's gradient.

/** A parsed equation: each operand's letters and the output's; "…" expanded to digits. */
interface Einsum {
  operands: string[][];
  output: string[];
}

const LETTER = /^[A-Za-z]$/;

/** Parses `equation` for operands of these ranks; a message on failure. */
export function parseEinsum(equation: string, ranks: readonly number[]): Einsum | string {
  const eq = equation.replace(/\s+/g, "");
  const arrow = eq.indexOf("->");
  const lhs = arrow < 0 ? eq : eq.slice(0, arrow);
  const terms = lhs.split(",");
  if (terms.length !== ranks.length) return `${terms.length} operand${terms.length === 1 ? "" : "s"} in the equation, ${ranks.length} given`;
  // The ellipsis covers the axes a term's letters leave; its axes broadcast right-aligned.
  let ellipsis = 0;
  const letters: string[][] = [];
  for (const [i, term] of terms.entries()) {
    const parts = term.split("...");
    if (parts.length > 2) return `operand ${i} has more than one ellipsis`;
    const named = parts.join("");
    if (![...named].every((c) => LETTER.test(c))) return `operand ${i} "${term}" has a character that is not a letter`;
    if (new Set(named).size !== named.length) return `operand ${i} "${term}" repeats a letter (diagonals are not supported)`;
    const span = ranks[i] - named.length;
    if (span < 0 || (parts.length === 1 && span !== 0)) return `operand ${i} "${term}" names ${named.length} axes, but it has ${ranks[i]}`;
    ellipsis = Math.max(ellipsis, span);
    letters.push(parts.length === 1 ? [...named] : [...parts[0], ...Array.from({ length: span }, (_, k) => String(k + 10 - span)), ...parts[1]]);
  }
  // Ellipsis axes are digits, right-aligned: the last is "9", the one before "8", ...
  const dots = Array.from({ length: ellipsis }, (_, k) => String(k + 10 - ellipsis));
  let output: string[];
  if (arrow < 0) {
    // Implicit output: the ellipsis, then the letters that appear once, alphabetically.
    const count = new Map<string, number>();
    for (const l of letters.flat()) if (LETTER.test(l)) count.set(l, (count.get(l) ?? 0) + 1);
    output = [...dots, ...[...count.entries()].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  } else {
    const rhs = eq.slice(arrow + 2);
    const parts = rhs.split("...");
    if (parts.length > 2) return "the output has more than one ellipsis";
    output = parts.length === 1 ? [...rhs] : [...parts[0], ...dots, ...parts[1]];
    if (!output.every((c) => LETTER.test(c) || dots.includes(c))) return `the output "${rhs}" has a character that is not a letter`;
    if (new Set(output).size !== output.length) return `the output "${rhs}" repeats a letter`;
    const known = new Set(letters.flat());
    const unknown = output.find((c) => !known.has(c));
    if (unknown !== undefined) return `the output letter ${unknown} is in no operand`;
  }
  return { operands: letters, output };
}

/** Each letter's size: equal across operands, or 1 where an ellipsis axis broadcasts; a message on a conflict. */
function letterSizes(e: Einsum, shapes: readonly (readonly number[])[]): Map<string, number> | string {
  const sizes = new Map<string, number>();
  for (const [i, letters] of e.operands.entries()) {
    for (const [j, l] of letters.entries()) {
      const s = shapes[i][j];
      const known = sizes.get(l);
      if (known === undefined || known === 1) sizes.set(l, s);
      else if (s !== known && !(s === 1 && /\d/.test(l))) return `index ${/\d/.test(l) ? "of the ellipsis" : l} is ${known} in one operand and ${s} in operand ${i}`;
    }
  }
  return sizes;
}

export const einsum: OpEntry = {
  name: "einsum",
  family: "linear algebra",
  doc: "Einstein summation over the operands (ONNX Einsum, torch.einsum): \"bij,bkj->bik\"; an ellipsis broadcasts; every letter is a parallel dim, the summed ones reductions.",
  inputs: [{ name: "xs", variadic: true }],
  attrs: [{ name: "equation", kind: "string", doc: "operands' letters, comma-separated, then -> and the output's letters" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const parsed = parseEinsum(attrs.equation as string, inputs.map((t) => t.shape.length));
    if (typeof parsed === "string") {
      ctx.diagnostics.error("PAR2104", `\`einsum\` equation "${attrs.equation}": ${parsed}`, { pos: ctx.pos, expected: "letters per operand axis, e.g. \"bij,bjk->bik\"" });
      return undefined;
    }
    const sizes = letterSizes(parsed, inputs.map((t) => t.shape));
    if (typeof sizes === "string") {
      ctx.diagnostics.error("PAR2107", `\`einsum\` "${attrs.equation}" on ${inputs.map((t) => fmtShape(t.shape)).join(", ")}: ${sizes}`, { pos: ctx.pos, expected: "each letter the same size in every operand" });
      return undefined;
    }
    const summed = [...new Set(parsed.operands.flat())].filter((l) => !parsed.output.includes(l));
    const order = [...parsed.output, ...summed];
    const dimOf = new Map(order.map((l, i) => [l, i]));
    const outNames = Array.from({ length: parsed.output.length }, (_, i) => (i === 0 ? "sample" : `attr${i}`));
    const space: ParallelDim[] = [
      ...parsed.output.map((l, i): ParallelDim => ({ name: outNames[i], cls: i === 0 ? "sample" : "attribute", size: sizes.get(l)! })),
      ...summed.map((l, i): ParallelDim => ({ name: summed.length === 1 ? "inner" : `inner${i + 1}`, cls: "reduction", size: sizes.get(l)! })),
    ];
    const dimsOf = (l: string): string => {
      for (const [i, letters] of parsed.operands.entries()) {
        const j = letters.indexOf(l);
        if (j >= 0 && inputs[i].shape[j] === sizes.get(l)) return inputs[i].dims[j];
      }
      return `${ctx.opName}.${l}`;
    };
    const perPoint = inputs.length === 1 ? 1 : 2 * (inputs.length - 1);
    return {
      outputs: [{ dtype: inputs[0].dtype, shape: parsed.output.map((l) => sizes.get(l)!), dims: parsed.output.map(dimsOf) }],
      params: [],
      space,
      inputMaps: parsed.operands.map((letters, i) => letters.map((l, j): AxisMap => (inputs[i].shape[j] === sizes.get(l) ? iter(dimOf.get(l)!) : { kind: "full" }))),
      paramMaps: [],
      outputMaps: [parsed.output.map((l) => iter(dimOf.get(l)!))],
      // A multiply-add per point of the joint index space and pair of operands (one add for
      // one operand); backward the gradient of each operand, twice that.
      flops: (e) => ({ forward: perPoint * product(e), backward: 2 * perPoint * product(e) }),
    };
  },
  forward(tf, { inputs, attrs }) {
    const parsed = parseEinsum(attrs.equation as string, inputs.map((t) => t.rank)) as Einsum;
    return [contract(tf, inputs.map((t, i) => ({ t, letters: parsed.operands[i] })), parsed.output)];
  },
};

interface Term {
  t: Tensor;
  letters: string[];
}

/** Sums `t` over its letters not in `keep`. */
function sumOut(tf: TF, term: Term, keep: ReadonlySet<string>): Term {
  const axes = term.letters.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return term;
  return { t: tf.sum(term.t, axes), letters: term.letters.filter((l) => keep.has(l)) };
}

/** a's and b's letters in the order `letters`, as [product of the groups' sizes...]. */
function arrange(tf: TF, term: Term, groups: string[][], sizeOf: (l: string) => number): Tensor {
  const order = groups.flat();
  const perm = order.map((l) => term.letters.indexOf(l));
  const moved = perm.every((p, i) => p === i) ? term.t : tf.transpose(term.t, perm);
  return tf.reshape(moved, groups.map((g) => product(g.map(sizeOf))));
}

/** Contracts the terms pairwise (batched matMuls) down to the output's letters, in its order. */
function contract(tf: TF, terms: Term[], output: string[]): Tensor {
  const out = new Set(output);
  const later = (i: number): Set<string> => new Set([...output, ...terms.slice(i).flatMap((t) => t.letters)]);
  // A letter only one term has, and the output lacks, is summed first.
  let acc = sumOut(tf, terms[0], later(1));
  for (let i = 1; i < terms.length; i++) {
    const b = sumOut(tf, terms[i], new Set([...later(i + 1), ...acc.letters]));
    const a = sumOut(tf, acc, new Set([...later(i + 1), ...b.letters]));
    const needed = later(i + 1);
    const batch = a.letters.filter((l) => b.letters.includes(l) && needed.has(l));
    const inner = a.letters.filter((l) => b.letters.includes(l) && !needed.has(l));
    const aOnly = a.letters.filter((l) => !b.letters.includes(l));
    const bOnly = b.letters.filter((l) => !a.letters.includes(l));
    // A batch letter of size 1 in one operand broadcasts against the other.
    const size = (l: string): number => Math.max(a.t.shape[a.letters.indexOf(l)] ?? 1, b.t.shape[b.letters.indexOf(l)] ?? 1);
    const widen = (term: Term): Term => {
      const target = term.letters.map((l, j) => (batch.includes(l) ? size(l) : (term.t.shape[j] as number)));
      return target.every((s, j) => s === term.t.shape[j]) ? term : { t: tf.broadcastTo(term.t, target), letters: term.letters };
    };
    const [wa, wb] = [widen(a), widen(b)];
    const sizeA = (l: string): number => wa.t.shape[wa.letters.indexOf(l)] as number;
    const sizeB = (l: string): number => wb.t.shape[wb.letters.indexOf(l)] as number;
    const y = tf.matMul(arrange(tf, wa, [batch, aOnly, inner], sizeA) as Tensor, arrange(tf, wb, [batch, inner, bOnly], sizeB) as Tensor);
    acc = { t: tf.reshape(y, [...batch.map(sizeA), ...aOnly.map(sizeA), ...bOnly.map(sizeB)]), letters: [...batch, ...aOnly, ...bOnly] };
  }
  acc = sumOut(tf, acc, out);
  const perm = output.map((l) => acc.letters.indexOf(l));
  return perm.every((p, i) => p === i) ? (terms.length === 1 ? tf.clone(acc.t) : acc.t) : tf.transpose(acc.t, perm);
}

export const MATMUL_OPS: OpEntry[] = [matmul, batchMatmul, einsum];
