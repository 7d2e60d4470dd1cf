import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ELEMENTWISE_OPS } from "../../src/ops/elementwise.js";
import type { Tensor } from "@tensorflow/tfjs-core";
import type { OpEntry, TF } from "../../src/ops/contract.js";
import { wholeShard } from "../support/sharded.js";
import { taskRegions } from "../../src/ops/regions.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { assertProperty } from "../support/property.js";
import { degreesFor, dimSummary, errorCodes, expectFlopsAdd, expectKernelShapes, expectShardedEqualsWhole, f32, i32, onPositive, resolved, shapeArb, sigOf } from "./_ops-b-helpers.js";

const op = (name: string): OpEntry => {
  const e = ELEMENTWISE_OPS.find((o) => o.name === name);
  if (!e) throw new Error(`no op ${name}`);
  return e;
};

const UNARY = [
  "relu", "gelu", "tanh", "sigmoid", "exp", "log", "sqrt", "rsqrt", "neg", "abs", "square", "leaky_relu", "clip", "erf", "identity",
  "hard_sigmoid", "hard_swish", "elu", "selu", "celu", "softplus", "softsign", "mish", "thresholded_relu", "shrink", "reciprocal",
  "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "floor", "ceil", "round", "sign",
];
const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "mod", "fmod"];
/** Binary ops with an integer kernel too. */
const INT_BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "mod", "fmod"];
// Ops defined on part of the line get inputs moved there: |x| + 0.5 for positive-only ops
// (and div's divisor, pow's base, the modulus), 0.9·x inside (−1, 1), |x| + 1.5 above 1.
const POSITIVE: Record<string, number[]> = { log: [0], sqrt: [0], rsqrt: [0], div: [1], pow: [0], reciprocal: [0], mod: [1], fmod: [1] };
const INSIDE_UNIT: string[] = ["asin", "acos", "atanh"];
const ABOVE_ONE: string[] = ["acosh"];
const ATTRS: Record<string, Record<string, number>> = {
  leaky_relu: { alpha: 0.2 }, clip: { min: -0.5, max: 0.3 }, elu: { alpha: 0.7 }, celu: { alpha: 0.5 }, thresholded_relu: { alpha: 0.1 }, shrink: { bias: 0.2, lambd: 0.3 },
};

/** `entry` with input 0 moved into its domain by `f` before the kernel. */
function onDomain(entry: OpEntry, f: (tf: TF, x: Tensor) => Tensor): OpEntry {
  return { ...entry, forward: (tf, args) => entry.forward(tf, { ...args, inputs: [f(tf, args.inputs[0]), ...args.inputs.slice(1)] }) };
}

const entryUnderTest = (name: string): OpEntry => {
  if (POSITIVE[name]) return onPositive(op(name), POSITIVE[name]);
  if (INSIDE_UNIT.includes(name)) return onDomain(op(name), (tf, x) => tf.mul(x, 0.9));
  if (ABOVE_ONE.includes(name)) return onDomain(op(name), (tf, x) => tf.add(tf.abs(x), 1.5));
  return op(name);
};

/** The whole op's outputs on given values (a one-task shard). */
function evaluate(tf: TF, name: string, values: number[][], attrs: Record<string, number> = {}, dtype: "float32" | "int32" = "float32"): number[] {
  const inputs = values.map((v) => tf.tensor(v, [v.length], dtype));
  const types = values.map((v) => (dtype === "int32" ? i32(v.length) : f32(v.length)));
  const sig = sigOf(op(name), types, attrs);
  return Array.from(op(name).forward(tf, { inputs, params: [], attrs: resolved(op(name), attrs), sig, shard: wholeShard(sig, types) })[0].dataSync());
}

describe("elementwise: shapes, FLOPs, regions", () => {
  it("registers every unary and binary op once", () => {
    expect(ELEMENTWISE_OPS.map((o) => o.name).sort()).toEqual([...UNARY, ...BINARY, "trilu"].sort());
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
    expect(resolved(op("hard_sigmoid"), {})).toEqual({ alpha: 0.2, beta: 0.5 });
    expect(errorCodes(op("celu"), [f32(3)], { alpha: 0 })).toEqual(["PAR2104"]);
  });

  it("binary ops take integer operands where they have an integer kernel, never a mixed pair", () => {
    for (const name of INT_BINARY) expect(sigOf(op(name), [i32(2, 3), i32(3)]).outputs[0].dtype, name).toBe("i32");
    expect(errorCodes(op("add"), [f32(2, 3), i32(3)])).toEqual(["PAR2106"]);
    expect(errorCodes(op("pow"), [i32(3), i32(3)])).toEqual(["PAR2106", "PAR2106"]);
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
      60,
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

    it("the new activations compute torch's values", () => {
      const x = [-2.5, -1.0, -0.25, 0.0, 0.5, 1.5, 3.5];
      // torch.nn.functional on x (and ONNX's formulas where torch has none).
      const want: [string, Record<string, number>, number[]][] = [
        ["hard_sigmoid", {}, [0.0, 0.3, 0.45, 0.5, 0.6, 0.8, 1.0]],
        ["hard_swish", {}, [-0.208333, -0.333333, -0.114583, 0.0, 0.291667, 1.125, 3.5]],
        ["elu", { alpha: 0.7 }, [-0.64254, -0.442484, -0.154839, 0.0, 0.5, 1.5, 3.5]],
        ["selu", {}, [-1.613786, -1.111331, -0.38889, 0.0, 0.525351, 1.576051, 3.677454]],
        ["celu", { alpha: 0.5 }, [-0.496631, -0.432332, -0.196735, 0.0, 0.5, 1.5, 3.5]],
        ["softplus", {}, [0.07889, 0.313262, 0.575939, 0.693147, 0.974077, 1.701413, 3.52975]],
        ["softsign", {}, [-0.714286, -0.5, -0.2, 0.0, 0.333333, 0.6, 0.777778]],
        ["mish", {}, [-0.196816, -0.303401, -0.129927, 0.0, 0.375245, 1.403378, 3.493991]],
        ["shrink", { bias: 0.2, lambd: 0.5 }, [-2.3, -0.8, 0.0, 0.0, 0.0, 1.3, 3.3]],
        ["thresholded_relu", { alpha: 1 }, [0, 0, 0, 0, 0, 1.5, 3.5]],
      ];
      for (const [name, attrs, values] of want) evaluate(tf, name, [x], attrs).forEach((v, i) => expect(v, `${name}[${i}]`).toBeCloseTo(values[i], 5));
      // Halves to even, as torch.round and ONNX Round.
      expect(evaluate(tf, "round", [[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.6]]).map((v) => v + 0)).toEqual([-2, -2, 0, 0, 2, 2, 3]);
    });

    it("mod takes the divisor's sign, fmod the dividend's; integer division truncates", () => {
      const a = [-7, -7, 7, 7, 5.5, -5.5];
      const b = [3, -3, 3, -3, 2, 2];
      // torch.remainder and torch.fmod
      evaluate(tf, "mod", [a, b]).forEach((v, i) => expect(v).toBeCloseTo([2, -1, 1, -2, 1.5, 0.5][i], 5));
      evaluate(tf, "fmod", [a, b]).forEach((v, i) => expect(v).toBeCloseTo([-1, -1, 1, 1, 1.5, -1.5][i], 5));
      const ai = [-7, -7, 7, 7, 6, -6];
      const bi = [3, -3, 3, -3, 2, 2];
      expect(evaluate(tf, "div", [ai, bi], {}, "int32")).toEqual([-2, 2, 2, -2, 3, -3]);
      expect(evaluate(tf, "mod", [ai.slice(0, 4), bi.slice(0, 4)], {}, "int32")).toEqual([2, -1, 1, -2]);
      expect(evaluate(tf, "fmod", [ai.slice(0, 4), bi.slice(0, 4)], {}, "int32")).toEqual([-1, -1, 1, 1]);
      expect(evaluate(tf, "add", [[1, 2], [3, -5]], {}, "int32")).toEqual([4, -3]);
    });

    it("integer binary ops: sharded equals whole", () => {
      const arb = fc
        .record({ name: fc.constantFrom(...INT_BINARY), shape: shapeArb(1, 3, 5), seed: fc.nat() })
        .chain((c) => fc.tuple(fc.constant(c), degreesFor(sigOf(op(c.name), [i32(...c.shape), i32(...c.shape.slice(1))]))));
      // Integer operands in [0, 5); a divisor moved to [1, 6) keeps division defined.
      const shifted = (name: string): OpEntry => (["div", "mod", "fmod"].includes(name) ? { ...op(name), forward: (tf, args) => op(name).forward(tf, { ...args, inputs: [args.inputs[0], tf.add(args.inputs[1], 1)] }) } : op(name));
      assertProperty(
        fc.property(arb, ([c, deg]) => expectShardedEqualsWhole(tf, shifted(c.name), [i32(...c.shape), i32(...c.shape.slice(1))], {}, deg, c.seed, 5)),
        15,
      );
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

describe("trilu: the triangle of the last two axes by global positions", () => {
  it("shapes and diagnostics", () => {
    expect(dimSummary(sigOf(op("trilu"), [f32(2, 3, 4)]))).toEqual(["sample:sample:2", "length:attribute:3", "channel:attribute:4"]);
    expect(errorCodes(op("trilu"), [f32(3)])).toEqual(["PAR2108"]);
  });

  for (const backend of BACKENDS) {
    it(`torch.triu / tril values and sharded equals whole on ${backend}`, async () => {
      const tf = await useBackend(backend);
      const ones = Array.from({ length: 12 }, () => 1);
      const run = (attrs: Record<string, unknown>) => {
        const sig = sigOf(op("trilu"), [f32(3, 4)], attrs as never);
        return Array.from(op("trilu").forward(tf, { inputs: [tf.tensor(ones, [3, 4])], params: [], attrs: resolved(op("trilu"), attrs as never), sig, shard: wholeShard(sig, [f32(3, 4)]) })[0].dataSync());
      };
      // torch.triu(ones(3, 4), 1) and torch.tril(ones(3, 4), -1)
      expect(run({ k: 1 })).toEqual([0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1]);
      expect(run({ upper: false, k: -1 })).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]);
      assertProperty(
        fc.property(shapeArb(2, 4, 5), fc.integer({ min: -2, max: 2 }), fc.boolean(), fc.nat(), (shape, k, upper, seed) => {
          const sig = sigOf(op("trilu"), [f32(...shape)], { k, upper });
          fc.assert(fc.property(degreesFor(sig, 3), (deg) => expectShardedEqualsWhole(tf, op("trilu"), [f32(...shape)], { k, upper }, deg, seed)), { numRuns: 3 });
        }),
        10,
      );
    });
  }
});
