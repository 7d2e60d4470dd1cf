// Helpers shared by the op tests (elementwise, shape, reduce, dropout, loss, conv, pool, norm,
// transformer, ...).
import fc from "fast-check";
import { expect } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { TensorType } from "../../src/core/tensor.js";
import { resolveAttrs } from "../../src/ops/attrs.js";
import type { Attrs, OpEntry, OpSignature, TF } from "../../src/ops/contract.js";
import { checkShardedEqualsWhole, inferOrThrow, kernelShapes, shardFlops } from "../support/sharded.js";
import { assertProperty, degreeFor } from "../support/property.js";

export const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });
export const i32 = (...shape: number[]): TensorType => ({ dtype: "i32", shape, dims: shape.map((_, i) => `d${i}`) });

/** Attributes as the checker hands them to ops: validated, defaults filled. */
export function resolved(entry: OpEntry, attrs: Attrs): Attrs {
  const diagnostics = new Diagnostics();
  const r = resolveAttrs(entry, attrs, { opName: "op", diagnostics });
  if (!r) throw new Error(`attrs rejected: ${diagnostics.items.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return r;
}

export function sigOf(entry: OpEntry, inputs: TensorType[], attrs: Attrs = {}): OpSignature {
  return inferOrThrow(entry, inputs, resolved(entry, attrs));
}

/** The codes of the errors that attribute resolution plus inference report. */
export function errorCodes(entry: OpEntry, inputs: TensorType[], attrs: Attrs = {}): string[] {
  const diagnostics = new Diagnostics();
  const ctx = { opName: "op", diagnostics };
  const r = resolveAttrs(entry, attrs, ctx);
  if (r) {
    const sig = entry.infer(inputs, r, ctx);
    if (sig) expect(diagnostics.items).toEqual([]);
    else expect(diagnostics.items.length).toBeGreaterThan(0);
  }
  return diagnostics.items.map((d) => d.code);
}

export function dimSummary(sig: OpSignature): string[] {
  return sig.space.map((d) => `${d.name}:${d.cls}:${d.size}${d.splittable === false ? ":fixed" : ""}`);
}

/** Random degrees for every splittable dim (uneven splits included); 1 for the others. */
export function degreesFor(sig: OpSignature, max = 3): fc.Arbitrary<number[]> {
  return fc.tuple(...sig.space.map((d) => (d.splittable === false ? fc.constant(1) : degreeFor(d.size, max)))) as unknown as fc.Arbitrary<number[]>;
}

/** Inputs transformed by |x| + 0.5 before the op: for ops defined on positive numbers (log, pow). */
export function onPositive(entry: OpEntry, which: number[]): OpEntry {
  return {
    ...entry,
    forward: (tf, args) =>
      entry.forward(tf, { ...args, inputs: args.inputs.map((x, i) => (which.includes(i) ? tf.add(tf.abs(x), 0.5) : x)) }),
  };
}

/** One sharded-equals-whole case: forward, input and weight gradients all agree. */
export function expectShardedEqualsWhole(tf: TF, entry: OpEntry, inputs: TensorType[], attrs: Attrs, degrees: number[], seed: number, intHigh?: number): void {
  const res = checkShardedEqualsWhole(tf, { entry, inputs, attrs: resolved(entry, attrs), degrees, seed, ...(intHigh ? { intHigh } : {}) });
  expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
  expect(res.comparisons.length).toBeGreaterThan(0);
}

export function expectKernelShapes(tf: TF, entry: OpEntry, inputs: TensorType[], attrs: Attrs = {}): void {
  const { inferred, actual } = kernelShapes(tf, entry, inputs, resolved(entry, attrs));
  expect(actual).toEqual(inferred);
}

export function expectFlopsAdd(sig: OpSignature, degrees: number[]): void {
  expect(shardFlops(sig, degrees)).toEqual(sig.flops(sig.space.map((d) => d.size)));
}

/** Small shapes of rank 1..maxRank with sizes 1..maxSize. */
export function shapeArb(minRank = 1, maxRank = 4, maxSize = 5): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 1, max: maxSize }), { minLength: minRank, maxLength: maxRank });
}

/** One application of a one-input op drawn by a property: entry, resolved attributes, input, data seed. */
export interface OneInputCase {
  entry: OpEntry;
  a: Attrs;
  x: TensorType;
  seed: number;
}

/** The property that every drawn case (undefined: skipped) runs sharded by its degrees exactly as whole, forward and backward. */
export function assertShardedEqualsWhole(tf: TF, arb: fc.Arbitrary<readonly [OneInputCase, number[]] | undefined>, runs: number): void {
  assertProperty(
    fc.property(arb, (t) => {
      if (!t) return;
      const [c, degrees] = t;
      const res = checkShardedEqualsWhole(tf, { entry: c.entry, inputs: [c.x], attrs: c.a, degrees, seed: c.seed });
      expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
    }),
    runs,
  );
}
