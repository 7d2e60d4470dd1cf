import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ELEMENTWISE_OPS } from "../../src/ops/elementwise.js";
import type { OpEntry, TF } from "../../src/ops/contract.js";
import { taskRegions } from "../../src/ops/regions.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { assertProperty } from "../support/property.js";
import { degreesFor, dimSummary, errorCodes, expectFlopsAdd, expectKernelShapes, expectShardedEqualsWhole, f32, onPositive, resolved, shapeArb, sigOf } from "./_ops-b-helpers.js";

const op = (name: string): OpEntry => {
  const e = ELEMENTWISE_OPS.find((o) => o.name === name);
  if (!e) throw new Error(`no op ${name}`);
  return e;
};

const UNARY = ["relu", "gelu", "tanh", "sigmoid", "exp", "log", "sqrt", "rsqrt", "neg", "abs", "square", "leaky_relu", "clip", "erf", "identity"];
const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"];
// Ops defined on positive numbers only get |x| + 0.5 (and div's divisor, pow's base).
const POSITIVE: Record<string, number[]> = { log: [0], sqrt: [0], rsqrt: [0], div: [1], pow: [0] };
const ATTRS: Record<string, Record<string, number>> = { leaky_relu: { alpha: 0.2 }, clip: { min: -0.5, max: 0.3 } };
const entryUnderTest = (name: string): OpEntry => (POSITIVE[name] ? onPositive(op(name), POSITIVE[name]) : op(name));

describe("elementwise: shapes, FLOPs, regions", () => {
  it("registers every unary and binary op once", () => {
    expect(ELEMENTWISE_OPS.map((o) => o.name).sort()).toEqual([...UNARY, ...BINARY].sort());
  });

  it("unary ops keep the shape and split every axis", () => {
    for (const name of UNARY) {
      const sig = sigOf(op(name), [f32(4, 3, 2)], ATTRS[name] ?? {});
      expect(sig.outputs[0].shape).toEqual([4, 3, 2]);
      expect(dimSummary(sig)).toEqual(["sample:sample:4", "length:attribute:3", "channel:attribute:2"]);
    }
  });

  it("documents per-element FLOPs (gelu 8/12, exp 4/1, identity 0/0)", () => {
    expect(sigOf(op("gelu"), [f32(2, 5)]).flops([2, 5])).toEqual({ forward: 80, backward: 120 });
    expect(sigOf(op("exp"), [f32(2, 5)]).flops([1, 5])).toEqual({ forward: 20, backward: 5 });
    expect(sigOf(op("identity"), [f32(2, 5)]).flops([2, 5])).toEqual({ forward: 0, backward: 0 });
    expect(sigOf(op("mul"), [f32(2, 5), f32(5)]).flops([2, 5])).toEqual({ forward: 10, backward: 20 });
  });

  it("leaky_relu defaults alpha to 0.01; clip needs min and max with min ≤ max", () => {
    expect(resolved(op("leaky_relu"), {})).toEqual({ alpha: 0.01 });
    expect(errorCodes(op("clip"), [f32(3)], { min: 0 })).toEqual(["PAR2102"]);
    expect(errorCodes(op("clip"), [f32(3)], { min: 1, max: 0 })).toEqual(["PAR2130"]);
    expect(errorCodes(op("clip"), [f32(3)], { min: 0, max: 0 })).toEqual([]);
    expect(errorCodes(op("tanh"), [f32(3)], { alpha: 1 })).toEqual(["PAR2101"]);
    expect(errorCodes(op("exp"), [{ dtype: "i32", shape: [3], dims: ["d0"] }])).toEqual(["PAR2106"]);
  });

  it("binary ops broadcast; a size-1 axis is read whole by every task", () => {
    const sig = sigOf(op("sub"), [f32(4, 1, 3), f32(5, 1)]);
    expect(sig.outputs[0].shape).toEqual([4, 5, 3]);
    const r = taskRegions(sig, [[4, 1, 3], [5, 1]], { lo: [2, 1, 1], hi: [4, 3, 2] });
    expect(r.inputs[0]).toEqual({ lo: [2, 0, 1], hi: [4, 1, 2] });
    expect(r.inputs[1]).toEqual({ lo: [1, 0], hi: [3, 1] });
    expect(r.outputs[0]).toEqual({ lo: [2, 1, 1], hi: [4, 3, 2] });
    expect(errorCodes(op("mul"), [f32(4, 3), f32(2)])).toEqual(["PAR2107"]);
    expect(errorCodes(op("pow"), [f32(4, 3)])).toEqual(["PAR2105"]);
  });

  it("FLOPs of the shards sum to the whole (every op, random partitions)", () => {
    assertProperty(
      fc.property(fc.constantFrom(...UNARY, ...BINARY), shapeArb(1, 3, 6), (name, shape) => {
        const inputs = BINARY.includes(name) ? [f32(...shape), f32(...shape.slice(1))] : [f32(...shape)];
        const sig = sigOf(op(name), inputs, ATTRS[name] ?? {});
        fc.assert(fc.property(degreesFor(sig, 4), (deg) => expectFlopsAdd(sig, deg)), { numRuns: 5 });
      }),
      25,
    );
  });
});

for (const backend of BACKENDS) {
  describe(`elementwise on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    it("gelu uses erf (torch's default), not the tanh approximation", () => {
      const y = op("gelu").forward(tf, {
        inputs: [tf.tensor([-1, 0.5, 2], [3])],
        params: [],
        attrs: {},
        sig: sigOf(op("gelu"), [f32(3)]),
        shard: { box: { lo: [0], hi: [3] }, spaceSizes: [3], inputRegions: [], outputRegions: [{ lo: [0], hi: [3] }], firstAlongReductions: true },
      })[0];
      // torch.nn.functional.gelu(torch.tensor([-1., .5, 2.]))
      const want = [-0.15865525, 0.34573123, 1.95449974];
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    });

    it("shape inference agrees with the kernel", () => {
      for (const name of UNARY) expectKernelShapes(tf, entryUnderTest(name), [f32(2, 3)], ATTRS[name] ?? {});
      for (const name of BINARY) expectKernelShapes(tf, entryUnderTest(name), [f32(2, 1, 3), f32(4, 1)]);
    });

    it("unary: sharded equals whole (forward and backward), any partition", () => {
      const arb = fc
        .record({ name: fc.constantFrom(...UNARY), shape: shapeArb(1, 4, 5), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreesFor(sigOf(op(c.name), [f32(...c.shape)], ATTRS[c.name] ?? {}))));
      assertProperty(
        fc.property(arb, ([c, deg]) => expectShardedEqualsWhole(tf, entryUnderTest(c.name), [f32(...c.shape)], ATTRS[c.name] ?? {}, deg, c.seed)),
        25,
      );
    });

    it("binary with broadcasting: sharded equals whole (forward and backward), any partition", () => {
      // b drops leading axes and has size 1 on some of the others.
      const arb = fc
        .record({
          name: fc.constantFrom(...BINARY),
          shape: shapeArb(1, 3, 5),
          drop: fc.integer({ min: 0, max: 2 }),
          ones: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
          aOnes: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
          swap: fc.boolean(),
          seed: fc.nat(),
        })
        .map((c) => {
          const drop = Math.min(c.drop, c.shape.length - 1);
          const a = c.shape.map((s, i) => (c.aOnes[i] && i % 2 === 0 ? 1 : s));
          const b = c.shape.slice(drop).map((s, i) => (c.ones[i] ? 1 : s));
          const inputs = c.swap ? [f32(...b), f32(...a)] : [f32(...a), f32(...b)];
          return { ...c, inputs };
        })
        .chain((c) => fc.tuple(fc.constant(c), degreesFor(sigOf(op(c.name), c.inputs))));
      assertProperty(
        fc.property(arb, ([c, deg]) => expectShardedEqualsWhole(tf, entryUnderTest(c.name), c.inputs, {}, deg, c.seed)),
        25,
      );
    });
  });
}
