// Comparisons, boolean logic, where and cast: i32 0/1 booleans, broadcasting, no gradient
// through a comparison, the selected operand's gradient through where.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { TensorType } from "../../src/core/tensor.js";
import type { OpEntry, TF } from "../../src/ops/contract.js";
import { LOGIC_OPS } from "../../src/ops/logic.js";
import { taskRegions } from "../../src/ops/regions.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { assertProperty } from "../support/property.js";
import { wholeShard } from "../support/sharded.js";
import { degreesFor, dimSummary, errorCodes, expectFlopsAdd, expectKernelShapes, expectShardedEqualsWhole, f32, i32, resolved, shapeArb, sigOf } from "./_ops-b-helpers.js";

const op = (name: string): OpEntry => {
  const e = LOGIC_OPS.find((o) => o.name === name);
  if (!e) throw new Error(`no op ${name}`);
  return e;
};

const COMPARE = ["equal", "less", "less_equal", "greater", "greater_equal"];
const LOGICAL = ["logical_and", "logical_or", "logical_xor"];

/** The whole op's output values on given tensors. */
function evaluate(tf: TF, name: string, values: { data: number[]; type: TensorType }[], attrs: Record<string, unknown> = {}): { dtype: string; data: number[] } {
  const types = values.map((v) => v.type);
  const a = resolved(op(name), attrs as never);
  const sig = sigOf(op(name), types, a);
  const inputs = values.map((v) => tf.tensor(v.data, v.type.shape, v.type.dtype === "i32" ? "int32" : "float32"));
  const y = op(name).forward(tf, { inputs, params: [], attrs: a, sig, shard: wholeShard(sig, types) })[0];
  return { dtype: y.dtype, data: Array.from(y.dataSync()) };
}

describe("logic ops: shapes, dtypes, regions", () => {
  it("registers the comparisons, logical ops, is_nan/is_inf, where and cast", () => {
    expect(LOGIC_OPS.map((o) => o.name).sort()).toEqual([...COMPARE, ...LOGICAL, "logical_not", "is_nan", "is_inf", "where", "cast"].sort());
  });

  it("comparisons broadcast float or integer operands of one kind to an i32 output", () => {
    const sig = sigOf(op("less"), [f32(4, 1, 3), f32(5, 1)]);
    expect(sig.outputs[0]).toMatchObject({ dtype: "i32", shape: [4, 5, 3] });
    expect(dimSummary(sig)).toEqual(["sample:sample:4", "length:attribute:5", "channel:attribute:3"]);
    expect(sig.inputMaps[1]).toEqual([{ kind: "iter", dim: 1 }, { kind: "full" }]);
    expect(sigOf(op("equal"), [i32(3), i32(3)]).outputs[0].dtype).toBe("i32");
    expect(sig.flops([4, 5, 3])).toEqual({ forward: 60, backward: 0 });
    expect(errorCodes(op("equal"), [f32(3), i32(3)])).toEqual(["PAR2106"]);
    expect(errorCodes(op("greater"), [f32(3), f32(4)])).toEqual(["PAR2107"]);
  });

  it("logical ops take integers; where takes an integer condition and two operands of one kind", () => {
    expect(errorCodes(op("logical_and"), [f32(3), i32(3)])).toEqual(["PAR2106"]);
    const w = sigOf(op("where"), [i32(1, 1, 4, 4), f32(2, 3, 4, 4), f32()]);
    expect(w.outputs[0]).toMatchObject({ dtype: "f32", shape: [2, 3, 4, 4] });
    expect(w.inputMaps[0]).toEqual([{ kind: "full" }, { kind: "full" }, { kind: "iter", dim: 2 }, { kind: "iter", dim: 3 }]);
    expect(w.inputMaps[2]).toEqual([]);
    const r = taskRegions(w, [[1, 1, 4, 4], [2, 3, 4, 4], []], { lo: [1, 0, 2, 0], hi: [2, 3, 4, 2] });
    expect(r.inputs[0]).toEqual({ lo: [0, 0, 2, 0], hi: [1, 1, 4, 2] });
    expect(errorCodes(op("where"), [f32(3), f32(3), f32(3)])).toEqual(["PAR2106"]);
    expect(errorCodes(op("where"), [i32(3), f32(3), i32(3)])).toEqual(["PAR2106"]);
    expect(errorCodes(op("where"), [i32(2), f32(3), f32(3)])).toEqual(["PAR2107"]);
  });

  it("cast: to float, int or bool (i32); its attribute is required and checked", () => {
    expect(sigOf(op("cast"), [f32(2)], { to: "int" }).outputs[0].dtype).toBe("i32");
    expect(sigOf(op("cast"), [i32(2)], { to: "float" }).outputs[0].dtype).toBe("f32");
    expect(sigOf(op("cast"), [f32(2)], { to: "bool" }).outputs[0].dtype).toBe("i32");
    expect(errorCodes(op("cast"), [f32(2)], {})).toEqual(["PAR2102"]);
    expect(errorCodes(op("cast"), [f32(2)], { to: "string" })).toEqual(["PAR2104"]);
  });

  it("FLOPs of the shards sum to the whole", () => {
    assertProperty(
      fc.property(fc.constantFrom(...COMPARE, "where"), shapeArb(1, 3, 6), (name, shape) => {
        const inputs = name === "where" ? [i32(...shape.slice(1)), f32(...shape), f32(...shape)] : [f32(...shape), f32(...shape.slice(1))];
        const sig = sigOf(op(name), inputs);
        fc.assert(fc.property(degreesFor(sig, 4), (deg) => expectFlopsAdd(sig, deg)), { numRuns: 5 });
      }),
      20,
    );
  });
});

for (const backend of BACKENDS) {
  describe(`logic ops on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    const v = (data: number[], int = false) => ({ data, type: int ? i32(data.length) : f32(data.length) });

    it("comparisons and logical ops give i32 0/1; any non-zero integer is true", () => {
      const a = v([1, 2, 3, 4]);
      const b = v([2, 2, 2, 2]);
      expect(evaluate(tf, "less", [a, b])).toEqual({ dtype: "int32", data: [1, 0, 0, 0] });
      expect(evaluate(tf, "less_equal", [a, b]).data).toEqual([1, 1, 0, 0]);
      expect(evaluate(tf, "greater", [a, b]).data).toEqual([0, 0, 1, 1]);
      expect(evaluate(tf, "greater_equal", [a, b]).data).toEqual([0, 1, 1, 1]);
      expect(evaluate(tf, "equal", [v([3, 1], true), v([3, 2], true)]).data).toEqual([1, 0]);
      const p = v([0, 0, 5, -1], true);
      const q = v([0, 1, 0, 2], true);
      expect(evaluate(tf, "logical_and", [p, q]).data).toEqual([0, 0, 0, 1]);
      expect(evaluate(tf, "logical_or", [p, q]).data).toEqual([0, 1, 1, 1]);
      expect(evaluate(tf, "logical_xor", [p, q]).data).toEqual([0, 1, 1, 0]);
      expect(evaluate(tf, "logical_not", [p]).data).toEqual([1, 1, 0, 0]);
      const special = v([NaN, Infinity, -Infinity, 1]);
      expect(evaluate(tf, "is_nan", [special]).data).toEqual([1, 0, 0, 0]);
      expect(evaluate(tf, "is_inf", [special]).data).toEqual([0, 1, 1, 0]);
      expect(evaluate(tf, "is_inf", [special], { detect_negative: false }).data).toEqual([0, 1, 0, 0]);
    });

    it("where selects (a −∞ in the other operand stays out); cast truncates towards 0, bool is non-zero", () => {
      const w = evaluate(tf, "where", [v([1, 0, 2], true), v([1, 2, 3]), { data: [-Infinity], type: f32(1) }]);
      expect(w).toEqual({ dtype: "float32", data: [1, -Infinity, 3] });
      expect(evaluate(tf, "cast", [v([-1.7, -0.2, 0.9, 2.5])], { to: "int" })).toEqual({ dtype: "int32", data: [-1, 0, 0, 2] });
      expect(evaluate(tf, "cast", [v([-1.7, 0, 0.9])], { to: "bool" }).data).toEqual([1, 0, 1]);
      expect(evaluate(tf, "cast", [v([3, -2], true)], { to: "float" })).toEqual({ dtype: "float32", data: [3, -2] });
    });

    it("shape inference agrees with the kernels", () => {
      for (const name of COMPARE) expectKernelShapes(tf, op(name), [f32(2, 1, 3), f32(4, 1)]);
      for (const name of LOGICAL) expectKernelShapes(tf, op(name), [i32(2, 1, 3), i32(4, 1)]);
      expectKernelShapes(tf, op("where"), [i32(4, 1), f32(2, 1, 3), f32(3)]);
      expectKernelShapes(tf, op("cast"), [f32(2, 3)], { to: "int" });
    });

    it("comparisons: sharded equals whole, no gradient", () => {
      const arb = fc
        .record({ name: fc.constantFrom(...COMPARE, ...LOGICAL), shape: shapeArb(1, 3, 5), ones: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), seed: fc.nat() })
        .map((c) => {
          const b = c.shape.slice(1).map((s, i) => (c.ones[i] ? 1 : s));
          const t = LOGICAL.includes(c.name) ? i32 : f32;
          return { ...c, inputs: [t(...c.shape), t(...b)] };
        })
        .chain((c) => fc.tuple(fc.constant(c), degreesFor(sigOf(op(c.name), c.inputs))));
      assertProperty(fc.property(arb, ([c, deg]) => expectShardedEqualsWhole(tf, op(c.name), c.inputs, {}, deg, c.seed, 3)), 20);
    });

    it("where with broadcasting: sharded equals whole, forward and both operand gradients", () => {
      const arb = fc
        .record({ shape: shapeArb(1, 3, 5), cOnes: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), yOnes: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), yDrop: fc.boolean(), seed: fc.nat() })
        .map((c) => {
          const cond = c.shape.map((s, i) => (c.cOnes[i] ? 1 : s));
          const y = (c.yDrop ? c.shape.slice(1) : c.shape).map((s, i) => (c.yOnes[i] ? 1 : s));
          return { ...c, inputs: [i32(...cond), f32(...c.shape), f32(...y)] };
        })
        .chain((c) => fc.tuple(fc.constant(c), degreesFor(sigOf(op("where"), c.inputs))));
      assertProperty(fc.property(arb, ([c, deg]) => expectShardedEqualsWhole(tf, op("where"), c.inputs, {}, deg, c.seed)), 20);
    });

    it("cast: sharded equals whole; float → float passes the gradient", () => {
      for (const to of ["float", "int", "bool"]) expectShardedEqualsWhole(tf, op("cast"), [f32(3, 4)], { to }, [2, 3], 7);
      expectShardedEqualsWhole(tf, op("cast"), [i32(3, 4)], { to: "float" }, [3, 2], 7, 5);
    });
  });
}
