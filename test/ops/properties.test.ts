// The declared op properties that code outside src/ops reads instead of op names
// (OpEntry.roles, .expansion; InputSpec.role, .classes) are consistent with each entry.
import { describe, expect, it } from "vitest";
import { expandComposite } from "../../src/ops/composite.js";
import { appendableLosses, classCountOf, hasRole, inputSpecAt } from "../../src/ops/properties.js";
import { allOps, getOp } from "../../src/ops/registry.js";

describe("declared op properties", () => {
  it("every expansion names registered ops, reads only earlier parts, ends in the final part and hands on declared attributes", () => {
    const composites = allOps().filter((e) => e.expansion);
    expect(composites.map((e) => e.name)).toEqual(["batchnorm"]);
    for (const e of composites) {
      const parts = e.expansion!;
      expect(parts[parts.length - 1].suffix).toBe("");
      expect(new Set(parts.map((p) => p.suffix)).size).toBe(parts.length);
      parts.forEach((p, i) => {
        const sub = getOp(p.op);
        expect(sub, `${e.name} part ${p.op}`).toBeDefined();
        expect(sub!.expansion).toBeUndefined();
        for (const ref of p.inputs) {
          if (typeof ref === "number") expect(ref).toBeLessThan(e.inputs.length);
          else expect(ref.op).toBeLessThan(i);
        }
        for (const a of p.attrs ?? []) {
          expect(e.attrs.map((s) => s.name)).toContain(a);
          expect(sub!.attrs.map((s) => s.name)).toContain(a);
        }
      });
    }
  });

  it("expandComposite hands each part the composite's attributes it declares", () => {
    expect(expandComposite(getOp("batchnorm")!, { eps: 0.001 })).toEqual([
      { suffix: "mean", op: "moments", inputs: [0], attrs: {} },
      { suffix: "var", op: "central_moment", inputs: [0, { op: 0, output: 0 }], attrs: {} },
      { suffix: "", op: "batchnorm_apply", inputs: [0, { op: 0, output: 0 }, { op: 1, output: 0 }], attrs: { eps: 0.001 } },
    ]);
    expect(() => expandComposite(getOp("relu")!, {})).toThrow(/not a composite/);
  });

  it("class counts name an existing input or attribute of an integer input", () => {
    for (const e of allOps()) {
      for (const spec of e.inputs) {
        if (!spec.classes) continue;
        expect(spec.dtype, `${e.name}.${spec.name}`).toBe("int");
        if ("attr" in spec.classes) expect(e.attrs.map((a) => a.name)).toContain(spec.classes.attr);
        else expect(spec.classes.input).toBeLessThan(e.inputs.length);
      }
    }
    const sce = getOp("softmax_cross_entropy")!;
    expect(classCountOf(inputSpecAt(sce, 1), [[8, 3, 11], [8, 3]], {})).toBe(11);
    expect(classCountOf(inputSpecAt(getOp("embedding")!, 0), [[8, 3]], { vocab: 50, dim: 4 })).toBe(50);
    expect(classCountOf(inputSpecAt(getOp("gather")!, 1), [[9, 4], [8]], {})).toBeUndefined();
  });

  it("inputSpecAt: a variadic last input covers every later index", () => {
    const concat = getOp("concat")!;
    expect(inputSpecAt(concat, 5)?.name).toBe("xs");
    expect(inputSpecAt(getOp("relu")!, 1)).toBeUndefined();
  });

  it("roles: the layers the baselines treat by kind", () => {
    const withRole = (r: Parameters<typeof hasRole>[1]) => allOps().filter((e) => hasRole(e, r)).map((e) => e.name).sort();
    expect(withRole("fully-connected")).toEqual(["linear", "matmul"]);
    expect(withRole("sequence")).toEqual(["attention", "embedding", "gather", "gru", "lstm", "lstm_chunk", "rnn", "sdpa"]);
    expect(withRole("attention-heads")).toEqual(["attention", "sdpa"]);
    expect(withRole("passthrough")).toEqual(
      [
        "abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "celu", "clip", "cos", "cosh", "dropout", "elu", "erf", "exp", "floor", "gelu",
        "hard_sigmoid", "hard_swish", "identity", "leaky_relu", "log", "mish", "neg", "reciprocal", "relu", "round", "rsqrt", "selu", "shrink", "sigmoid",
        "sign", "silu", "sin", "sinh", "softplus", "softsign", "sqrt", "square", "tan", "tanh", "thresholded_relu",
      ],
    );
    // A passthrough op is a one-input op whose output has its input's shape.
    for (const e of allOps().filter((x) => hasRole(x, "passthrough"))) expect(e.inputs.length, e.name).toBe(1);
  });

  it("appendable losses: losses whose second input is labels or a target", () => {
    expect(appendableLosses(allOps()).map((e) => [e.name, e.inputs[1].role])).toEqual([
      ["softmax_cross_entropy", "labels"],
      ["mse", "target"],
    ]);
  });
});
