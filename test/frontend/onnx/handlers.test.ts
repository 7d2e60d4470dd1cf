// One test per handler family (src/frontend/onnx/handlers/): the par ops a small model
// maps to, their attributes and weights. A new ONNX op adds its case to its family here.
import { describe, expect, it } from "vitest";
import { floatAttr, floats, importSpec, intAttr, ints, intsAttr, node, stringAttr, stringsAttr, valueInfo } from "./build-onnx.js";

const kinds = (ops: string[]) => ops.map((o) => o.split(":")[1]);
const img = [valueInfo("x", [2, 3, 8, 8])];

describe("elementwise", () => {
  it("Relu is par's relu, named after the node", () => {
    expect(importSpec({ nodes: [node("Relu", ["x"], ["y"], "/act/Relu")] }).ops).toEqual(["act_relu:relu"]);
  });

  it("Clip with min 0 and no max is relu; with both bounds, clip", () => {
    expect(kinds(importSpec({ nodes: [node("Clip", ["x", "lo"], ["y"])], initializers: [floats("lo", [], [0])] }).ops)).toEqual(["relu"]);
    const r = importSpec({ nodes: [node("Clip", ["x", "lo", "hi"], ["y"])], initializers: [floats("lo", [], [-1]), floats("hi", [], [6])] });
    expect(r.ops).toEqual(["y:clip"]);
    expect(r.model!.graph.op("y").attrs).toMatchObject({ min: -1, max: 6 });
  });

  it("Dropout with ratio 0 and a same-kind Cast need no op", () => {
    const r = importSpec({ nodes: [node("Dropout", ["x", "r"], ["a"]), node("Cast", ["a"], ["b"], "c", [intAttr("to", 11)]), node("Tanh", ["b"], ["y"])], initializers: [floats("r", [], [0])] });
    expect(r.ops).toEqual(["y:tanh"]);
  });

  it("Cast of a float tensor to int or bool is par's cast; to a string it is PAR6016", () => {
    const r = importSpec({ nodes: [node("Cast", ["x"], ["i"], "c", [intAttr("to", 7)]), node("Cast", ["i"], ["b"], "b", [intAttr("to", 9)]), node("Cast", ["b"], ["y"], "f", [intAttr("to", 1)])] });
    expect(r.ops).toEqual(["c:cast", "b:cast", "f:cast"]);
    expect(["c", "b", "f"].map((o) => r.model!.graph.op(o).attrs.to)).toEqual(["int", "bool", "float"]);
    expect(r.model!.graph.tensor(r.model!.graph.op("b").outputs[0]).type.dtype).toBe("i32");
    expect(importSpec({ nodes: [node("Cast", ["x"], ["y"], "c", [intAttr("to", 8)])] }).codes).toEqual(["PAR6016"]);
  });

  it("activations with attributes pass them on; PRelu's slope initializer is prelu's parameter", () => {
    const r = importSpec({
      nodes: [node("HardSigmoid", ["x"], ["a"], "hs", [floatAttr("alpha", 0.25)]), node("Elu", ["a"], ["b"], "elu"), node("PRelu", ["b", "s"], ["y"], "/act/PRelu")],
      inputs: [valueInfo("x", [2, 3, 4])],
      initializers: [floats("s", [3, 1], [0.1, 0.2, 0.3])],
    });
    expect(r.ops).toEqual(["hs:hard_sigmoid", "elu:elu", "act:prelu"]);
    expect(r.model!.graph.op("hs").attrs).toMatchObject({ alpha: 0.25, beta: 0.5 });
    expect(r.model!.graph.op("elu").attrs).toEqual({ alpha: 1 });
    expect(r.model!.graph.op("act").attrs).toEqual({ shape: [3, 1] });
    expect(Array.from(r.model!.weights.get("act.slope")!)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    expect(r.model!.parameters).toBe(3);
  });

  it("a unary op on a constant that does not fold reads it as an op: a float initializer is a learned param", () => {
    const r = importSpec({ nodes: [node("Tan", ["k"], ["t"]), node("Add", ["x", "t"], ["y"])], initializers: [floats("k", [4], [0, 0.5, 1, 1.5])] });
    expect(r.ops).toEqual(["k:param", "t:tan", "y:add"]);
    expect(r.model!.parameters).toBe(4);
  });
});

describe("binary", () => {
  it("constant − tensor is a negation and a bias_add holding the constant", () => {
    const r = importSpec({ nodes: [node("Sub", ["k", "x"], ["y"], "/blk/Sub")], initializers: [floats("k", [4], [1, 2, 3, 4])] });
    expect(r.ops).toEqual(["blk_sub_neg:scale_shift", "blk_sub:bias_add"]);
    expect(Array.from(r.model!.weights.get("blk_sub.bias")!)).toEqual([1, 2, 3, 4]);
    expect(r.model!.parameters).toBe(4);
  });

  it("tensor ÷ scalar is scale_shift; x^0.5 is sqrt", () => {
    const div = importSpec({ nodes: [node("Div", ["x", "s"], ["y"])], initializers: [floats("s", [], [4])] });
    expect(div.ops).toEqual(["y:scale_shift"]);
    expect(div.model!.graph.op("y").attrs).toMatchObject({ scale: 0.25, shift: 0 });
    expect(kinds(importSpec({ nodes: [node("Pow", ["x", "s"], ["y"])], initializers: [floats("s", [], [0.5])] }).ops)).toEqual(["sqrt"]);
  });

  it("scalar ÷ tensor: a float initializer is a (scalar) parameter; a Constant node's value a `constant`, not counted", () => {
    const r = importSpec({ nodes: [node("Div", ["s", "x"], ["y"])], initializers: [floats("s", [], [4])] });
    expect(r.ops).toEqual(["s:param", "s_scalar:squeeze", "y:div"]);
    expect(Array.from(r.model!.weights.get("s.weight")!)).toEqual([4]);
    // A float initializer is a parameter, scalar or not (accounting.ts).
    expect(r.model!.parameters).toBe(1);
    const k = importSpec({ nodes: [node("Constant", [], ["s"], "k", [{ name: "value", type: 4, t: { dims: [], data_type: 1, float_data: [4] } }]), node("Div", ["s", "x"], ["y"])] });
    expect(k.ops).toEqual(["s:constant", "y:div"]);
    expect(k.model!.parameters).toBe(0);
  });

  it("integer arithmetic with a constant is par's binary op on the integers", () => {
    const r = importSpec({ nodes: [node("Add", ["ids", "one"], ["p"]), node("Cast", ["p"], ["y"], "c", [intAttr("to", 1)])], inputs: [valueInfo("ids", [2, 5], 7)], initializers: [ints("one", [1], [])] });
    expect(r.ops).toEqual(["one:constant", "p:add", "c:cast"]);
    expect(r.model!.graph.op("one").attrs).toMatchObject({ shape: [], dtype: "int" });
  });

  it("Mod is mod (fmod = 0) or fmod (fmod = 1); Sum and Mean of three are chains", () => {
    const m = importSpec({ nodes: [node("Mod", ["x", "x"], ["a"], "m"), node("Mod", ["a", "x"], ["y"], "f", [intAttr("fmod", 1)])] });
    expect(m.ops).toEqual(["m:mod", "f:fmod"]);
    expect(importSpec({ nodes: [node("Sum", ["x", "x", "x"], ["y"], "s")] }).ops).toEqual(["s_1:add", "s:add"]);
    const mean = importSpec({ nodes: [node("Mean", ["x", "x", "x"], ["y"], "m")] });
    expect(mean.ops).toEqual(["m_1:add", "m_2:add", "m:scale_shift"]);
    expect(mean.model!.graph.op("m").attrs.scale).toBeCloseTo(1 / 3);
  });

  it("Max of one tensor is that tensor", () => {
    expect(importSpec({ nodes: [node("Max", ["x"], ["a"]), node("Relu", ["a"], ["y"])] }).ops).toEqual(["y:relu"]);
  });
});

describe("logic", () => {
  it("comparisons, And and Where on a constant mask: i32 0/1 tensors, the mask a `constant`", () => {
    const r = importSpec({
      nodes: [node("Greater", ["x", "zero"], ["g"], "g"), node("And", ["g", "mask"], ["m"], "and"), node("Where", ["m", "x", "neg"], ["y"], "w")],
      initializers: [floats("zero", [], [0]), { name: "mask", dims: [4], data_type: 9, int32_data: [1, 0, 1, 1] }, floats("neg", [], [-1e9])],
    });
    // The float initializers are parameters: `zero` a buffer (no gradient through Greater), `neg` trains.
    expect(r.ops).toEqual(["zero:param", "zero_scalar:squeeze", "g:greater", "mask:constant", "and:logical_and", "neg:param", "neg_scalar:squeeze", "w:where"]);
    expect(r.model!.graph.tensor(r.model!.graph.op("and").outputs[0]).type.dtype).toBe("i32");
    expect(Array.from(r.model!.weights.get("mask.value")!)).toEqual([1, 0, 1, 1]);
    expect(r.model!.parameters).toBe(2);
    expect(r.model!.graph.frozen.has("zero.weight")).toBe(true);
    expect(r.model!.graph.frozen.has("neg.weight")).toBe(false);
  });

  it("an integer constant beyond ±2^24 cannot be a par constant (PAR6016)", () => {
    const r = importSpec({ nodes: [node("Equal", ["ids", "big"], ["y"])], inputs: [valueInfo("ids", [2], 7)], initializers: [ints("big", [2 ** 25, 1])] });
    expect(r.codes).toEqual(["PAR6016"]);
  });
});

describe("linear", () => {
  it("MatMul by a weight and the Add of a [out] constant become one linear with bias", () => {
    const r = importSpec({ nodes: [node("MatMul", ["x", "w"], ["h"], "/fc/MatMul"), node("Add", ["h", "b"], ["y"], "/fc/Add")], initializers: [floats("w", [4, 3]), floats("b", [3])] });
    expect(r.ops).toEqual(["fc:linear"]);
    expect(r.model!.graph.op("fc").attrs).toMatchObject({ out: 3, bias: true });
    expect([...r.model!.weights.keys()].sort()).toEqual(["fc.bias", "fc.weight"]);
    expect(r.model!.parameters).toBe(15);
  });

  it("Einsum passes its equation; Trilu on a computed tensor reads its diagonal offset", () => {
    const e = importSpec({ nodes: [node("Einsum", ["x", "x"], ["y"], "e", [stringAttr("equation", "bi,bj->bij")])] });
    expect(e.ops).toEqual(["e:einsum"]);
    expect(e.model!.graph.tensor(e.model!.graph.op("e").outputs[0]).type.shape).toEqual([2, 4, 4]);
    const t = importSpec({ nodes: [node("Trilu", ["x", "k"], ["y"], "t", [intAttr("upper", 0)])], initializers: [ints("k", [-1], [])] });
    expect(t.model!.graph.op("t").attrs).toEqual({ upper: false, k: -1 });
  });

  it("Gemm with transB stores B transposed to [in, out]", () => {
    const r = importSpec({ nodes: [node("Gemm", ["x", "w"], ["y"], "/fc/Gemm", [intAttr("transB", 1)])], inputs: [valueInfo("x", [2, 2])], initializers: [floats("w", [3, 2], [1, 2, 3, 4, 5, 6])] });
    expect(r.ops).toEqual(["fc:linear"]);
    expect(Array.from(r.model!.weights.get("fc.weight")!)).toEqual([1, 3, 5, 2, 4, 6]);
  });
});

describe("conv-pool", () => {
  it("asymmetric Conv pads are conv2d's padding and padding_end (no pad op: the spatial dims stay splittable)", () => {
    const r = importSpec({ nodes: [node("Conv", ["x", "w"], ["y"], "/c/Conv", [intsAttr("pads", [0, 1, 1, 0])])], inputs: img, initializers: [floats("w", [4, 3, 3, 3])] });
    expect(r.ops).toEqual(["c:conv2d"]);
    expect(r.model!.graph.op("c").attrs).toMatchObject({ padding: [0, 1], padding_end: [1, 0] });
  });

  it("Conv pads as wide as the kernel (a 1×1 conv with pads 1) also become an explicit pad", () => {
    const r = importSpec({ nodes: [node("Conv", ["x", "w"], ["y"], "/c/Conv", [intsAttr("pads", [1, 1, 1, 1])])], inputs: img, initializers: [floats("w", [4, 3, 1, 1])] });
    expect(r.codes).toEqual([]);
    expect(r.ops).toEqual(["c_pad:pad", "c:conv2d"]);
    expect(r.model!.graph.tensor("c").type.shape).toEqual([2, 4, 10, 10]);
  });

  it("Conv on 1-D and 3-D inputs is conv1d / conv3d; auto_pad SAME_UPPER puts the odd pad at the end", () => {
    const c1 = importSpec({ nodes: [node("Conv", ["x", "w"], ["y"], "/c/Conv", [intsAttr("dilations", [2]), intAttr("group", 3)])], inputs: [valueInfo("x", [2, 3, 16])], initializers: [floats("w", [6, 1, 3])] });
    expect(c1.ops).toEqual(["c:conv1d"]);
    expect(c1.model!.graph.op("c").attrs).toMatchObject({ out: 6, kernel: [3], dilation: [2], groups: 3 });
    const c3 = importSpec({ nodes: [node("Conv", ["x", "w", "b"], ["y"], "/c/Conv", [intsAttr("strides", [1, 2, 2]), stringAttr("auto_pad", "SAME_UPPER")])], inputs: [valueInfo("x", [1, 3, 4, 8, 8])], initializers: [floats("w", [5, 3, 3, 3, 3]), floats("b", [5])] });
    expect(c3.ops).toEqual(["c:conv3d"]);
    expect(c3.model!.graph.op("c").attrs).toMatchObject({ padding: [1, 0, 0], padding_end: [1, 1, 1] });
    expect(c3.model!.parameters).toBe(5 * 81 + 5);
  });

  it("MaxPool with ceil_mode and dilations, AveragePool 3-D excluding the padding, GlobalMaxPool", () => {
    const mp = importSpec({ nodes: [node("MaxPool", ["x"], ["y"], "p", [intsAttr("kernel_shape", [3, 3]), intsAttr("strides", [2, 2]), intAttr("ceil_mode", 1), intsAttr("dilations", [1, 2])])], inputs: img });
    expect(mp.ops).toEqual(["p:pool2d"]);
    expect(mp.model!.graph.op("p").attrs).toMatchObject({ mode: "max", ceil_mode: true, dilation: [1, 2] });
    const ap = importSpec({ nodes: [node("AveragePool", ["x"], ["y"], "p", [intsAttr("kernel_shape", [2, 2, 2]), intsAttr("pads", [1, 1, 1, 1, 1, 1])])], inputs: [valueInfo("x", [1, 2, 4, 4, 4])] });
    expect(ap.ops).toEqual(["p:pool3d"]);
    expect(ap.model!.graph.op("p").attrs).toMatchObject({ mode: "avg", count_include_pad: false, padding: [1, 1, 1] });
    const gm = importSpec({ nodes: [node("GlobalMaxPool", ["x"], ["y"], "g")], inputs: img });
    expect(gm.ops).toEqual(["g:reduce_max"]);
    expect(gm.model!.graph.op("g").attrs).toMatchObject({ axes: [2, 3], keepdims: true });
  });

  it("ConvTranspose: group and output_padding; output_shape with SAME_UPPER splits the total padding", () => {
    const t = importSpec({ nodes: [node("ConvTranspose", ["x", "w", "b"], ["y"], "/up/ConvTranspose", [intsAttr("strides", [2, 2]), intsAttr("pads", [1, 1, 1, 1]), intsAttr("output_padding", [1, 1]), intAttr("group", 3)])], inputs: img, initializers: [floats("w", [3, 2, 3, 3]), floats("b", [6])] });
    expect(t.ops).toEqual(["up:conv_transpose2d"]);
    expect(t.model!.graph.op("up").attrs).toMatchObject({ out: 6, groups: 3, padding: [1, 1], output_padding: [1, 1] });
    expect(t.model!.graph.tensor(t.model!.graph.op("up").outputs[0]).type.shape).toEqual([2, 6, 16, 16]);
    expect(t.model!.parameters).toBe(54 + 6);
    const same = importSpec({ nodes: [node("ConvTranspose", ["x", "w"], ["y"], "u", [intsAttr("strides", [2]), intsAttr("output_shape", [20]), stringAttr("auto_pad", "SAME_UPPER")])], inputs: [valueInfo("x", [1, 3, 10])], initializers: [floats("w", [3, 4, 3])] });
    expect(same.ops).toEqual(["u:conv_transpose1d"]);
    // total = 2·9 + 3 − 20 = 1: SAME_UPPER puts it at the end.
    expect(same.model!.graph.op("u").attrs).toMatchObject({ padding: [0], padding_end: [1] });
  });

  it("attribute values ONNX does not define, or of the wrong length, are PAR6016 naming the node's attribute", () => {
    const conv = (attrs: ReturnType<typeof stringAttr>[]) => importSpec({ nodes: [node("Conv", ["x", "w"], ["y"], "c", attrs)], inputs: img, initializers: [floats("w", [4, 3, 3, 3])] });
    const bogus = conv([stringAttr("auto_pad", "SAME_MIDDLE")]);
    expect(bogus.codes).toEqual(["PAR6016"]);
    expect(bogus.messages[0]).toContain('Conv auto_pad "SAME_MIDDLE"');
    const pads = conv([intsAttr("pads", [1, 1, 1])]);
    expect(pads.codes).toEqual(["PAR6016"]);
    expect(pads.messages[0]).toContain("Conv pads [1, 1, 1] for 2 spatial axes");
    const strides = conv([intsAttr("strides", [2, 2, 2])]);
    expect(strides.messages[0]).toContain("Conv strides [2, 2, 2] for 2 spatial axes");
    const noKernel = importSpec({ nodes: [node("MaxPool", ["x"], ["y"], "p")], inputs: img });
    expect(noKernel.codes).toEqual(["PAR6016"]);
    expect(noKernel.messages[0]).toContain("MaxPool without kernel_shape");
    const t = importSpec({ nodes: [node("ConvTranspose", ["x", "w"], ["y"], "u", [intsAttr("output_padding", [1])])], inputs: img, initializers: [floats("w", [3, 2, 3, 3])] });
    expect(t.messages[0]).toContain("ConvTranspose output_padding [1] for 2 spatial axes");
    const tAuto = importSpec({ nodes: [node("ConvTranspose", ["x", "w"], ["y"], "u", [stringAttr("auto_pad", "same")])], inputs: img, initializers: [floats("w", [3, 2, 3, 3])] });
    expect(tAuto.messages[0]).toContain('ConvTranspose auto_pad "same"');
  });

  it("a pool over a rank-6 input is PAR6016", () => {
    const r = importSpec({ nodes: [node("MaxPool", ["x"], ["y"], "p", [intsAttr("kernel_shape", [2, 2, 2, 2])])], inputs: [valueInfo("x", [1, 1, 2, 2, 2, 2])] });
    expect(r.codes).toEqual(["PAR6016"]);
  });
});

describe("resize", () => {
  it("Resize by scales keeps them for the coordinates; by sizes the ratio; cubic and the batch axis are PAR6016", () => {
    const up = importSpec({ nodes: [node("Resize", ["x", "", "s"], ["y"], "/up/Resize", [stringAttr("mode", "linear"), stringAttr("coordinate_transformation_mode", "pytorch_half_pixel")])], inputs: img, initializers: [floats("s", [4], [1, 1, 2, 2])] });
    expect(up.ops).toEqual(["up_resize:resize"]);
    expect(up.model!.graph.op("up_resize").attrs).toMatchObject({ size: [16, 16], scale: [2, 2], mode: "linear", coordinate: "pytorch_half_pixel" });
    const sized = importSpec({ nodes: [node("Resize", ["x", "", "", "sz"], ["y"], "r", [stringAttr("coordinate_transformation_mode", "asymmetric"), stringAttr("nearest_mode", "floor")])], inputs: img, initializers: [ints("sz", [2, 3, 10, 12])] });
    expect(sized.model!.graph.op("r").attrs).toMatchObject({ size: [10, 12], scale: [], mode: "nearest", nearest_mode: "floor" });
    expect(importSpec({ nodes: [node("Resize", ["x", "", "s"], ["y"], "r", [stringAttr("mode", "cubic")])], inputs: img, initializers: [floats("s", [4], [1, 1, 2, 2])] }).codes).toEqual(["PAR6016"]);
    expect(importSpec({ nodes: [node("Resize", ["x", "", "s"], ["y"], "r")], inputs: img, initializers: [floats("s", [4], [2, 1, 2, 2])] }).codes).toEqual(["PAR6016"]);
    const badNearest = importSpec({ nodes: [node("Resize", ["x", "", "s"], ["y"], "r", [stringAttr("nearest_mode", "nearest")])], inputs: img, initializers: [floats("s", [4], [1, 1, 2, 2])] });
    expect(badNearest.codes).toEqual(["PAR6016"]);
    expect(badNearest.messages[0]).toContain('Resize nearest_mode "nearest"');
  });

});

describe("normalization", () => {
  it("opset-11 Softmax over a middle axis flattens, normalises and reshapes back", () => {
    const r = importSpec({ nodes: [node("Softmax", ["x"], ["y"], "/s/Softmax", [intAttr("axis", 1)])], inputs: [valueInfo("x", [2, 3, 4])], opset: 11 });
    expect(kinds(r.ops)).toEqual(["flatten", "softmax", "reshape"]);
  });

  it("InstanceNormalization is group_norm with a group per channel; its scale and B, even an identity affine (torch's GroupNorm export), are float initializers: parameters", () => {
    const r = importSpec({ nodes: [node("InstanceNormalization", ["x", "s", "b"], ["y"], "/inorm/InstanceNormalization", [floatAttr("epsilon", 1e-3)])], inputs: img, initializers: [floats("s", [3]), floats("b", [3])] });
    expect(r.ops).toEqual(["inorm:group_norm"]);
    expect(r.model!.graph.op("inorm").attrs.groups).toBe(3);
    expect(r.model!.graph.op("inorm").attrs.eps).toBeCloseTo(1e-3);
    expect(r.model!.parameters).toBe(6);
    const id = importSpec({ nodes: [node("InstanceNormalization", ["x", "s", "b"], ["y"], "/inorm/InstanceNormalization")], inputs: img, initializers: [floats("s", [3], [1, 1, 1]), floats("b", [3], [0, 0, 0])] });
    expect(id.model!.parameters).toBe(6);
  });

  it("LayerNormalization without B keeps a zero bias: only the scale counts as imported", () => {
    const r = importSpec({ nodes: [node("LayerNormalization", ["x", "s"], ["y"], "/ln/LayerNormalization")], initializers: [floats("s", [4])], opset: 17 });
    expect(r.ops).toEqual(["ln:layernorm"]);
    expect(r.model!.parameters).toBe(4);
  });
});

describe("reduce", () => {
  it("ReduceSum reads its axes from an input since opset 13", () => {
    const r = importSpec({ nodes: [node("ReduceSum", ["x", "ax"], ["y"], "r", [intAttr("keepdims", 0)])], inputs: [valueInfo("x", [2, 3, 4])], initializers: [ints("ax", [-1])] });
    expect(r.ops).toEqual(["r:reduce_sum"]);
    expect(r.model!.graph.op("r").attrs).toMatchObject({ axes: [2], keepdims: false });
  });
});

describe("reduce: composed reductions and CumSum", () => {
  it("ReduceL2 is square, reduce_sum, sqrt; ReduceLogSumExp and ReduceProd are single ops; CumSum reads its axis", () => {
    const r = importSpec({ nodes: [node("ReduceL2", ["x"], ["y"], "n", [intsAttr("axes", [1]), intAttr("keepdims", 0)])], inputs: [valueInfo("x", [2, 3, 4])] });
    expect(r.ops).toEqual(["n_square:square", "n_sum:reduce_sum", "n:sqrt"]);
    expect(r.model!.graph.op("n_sum").attrs).toEqual({ axes: [1], keepdims: false });
    const l = importSpec({ nodes: [node("ReduceLogSumExp", ["x"], ["a"], "l", [intsAttr("axes", [-1])]), node("ReduceProd", ["a"], ["y"], "p")], inputs: [valueInfo("x", [2, 3])] });
    expect(kinds(l.ops)).toEqual(["reduce_log_sum_exp", "reduce_prod"]);
    const c = importSpec({ nodes: [node("CumSum", ["x", "ax"], ["y"], "c", [intAttr("reverse", 1)])], initializers: [ints("ax", [1], [])] });
    expect(c.model!.graph.op("c").attrs).toEqual({ axis: 1, exclusive: false, reverse: true });
  });
});

describe("shape", () => {
  it("Slice over two axes is one par slice per axis", () => {
    const r = importSpec({ nodes: [node("Slice", ["x", "st", "en", "ax"], ["y"], "/s/Slice")], inputs: [valueInfo("x", [2, 6, 8])], initializers: [ints("st", [1, 2]), ints("en", [5, -1]), ints("ax", [1, -1])] });
    expect(r.ops).toEqual(["s_slice_1:slice", "s_slice_2:slice"]);
  });

  it("a Reshape target folded from Shape → Gather → Unsqueeze → Concat", () => {
    const r = importSpec({
      nodes: [node("Shape", ["x"], ["sh"]), node("Gather", ["sh", "i0"], ["n"]), node("Unsqueeze", ["n", "a0"], ["nu"]), node("Concat", ["nu", "m1"], ["t"], "t", [intAttr("axis", 0)]), node("Reshape", ["x", "t"], ["y"], "flat")],
      inputs: img,
      initializers: [ints("i0", [0], []), ints("a0", [0]), ints("m1", [-1])],
    });
    expect(r.ops).toEqual(["flat:reshape"]);
    expect(r.model!.graph.op("flat").attrs).toMatchObject({ shape: [2, 192] });
  });
});

describe("shape: Tile, DepthToSpace, SpaceToDepth; constant and learned operands", () => {
  it("DepthToSpace with a mode ONNX lacks is PAR6016", () => {
    const r = importSpec({ nodes: [node("DepthToSpace", ["x"], ["y"], "d", [intAttr("blocksize", 2), stringAttr("mode", "RDC")])], inputs: [valueInfo("x", [1, 8, 3, 3])] });
    expect(r.codes).toEqual(["PAR6016"]);
    expect(r.messages[0]).toContain('DepthToSpace mode "RDC"');
  });

  it("Tile of a computed tensor is tile; DepthToSpace keeps its mode", () => {
    const t = importSpec({ nodes: [node("Tile", ["x", "r"], ["y"], "t")], initializers: [ints("r", [1, 3])] });
    expect(t.ops).toEqual(["t:tile"]);
    expect(t.model!.graph.op("t").attrs).toEqual({ repeats: [1, 3] });
    const d = importSpec({ nodes: [node("DepthToSpace", ["x"], ["a"], "d", [intAttr("blocksize", 2), stringAttr("mode", "CRD")]), node("SpaceToDepth", ["a"], ["y"], "s", [intAttr("blocksize", 2)])], inputs: [valueInfo("x", [1, 8, 3, 3])] });
    expect(d.ops).toEqual(["d:depth_to_space", "s:space_to_depth"]);
    expect(d.model!.graph.op("d").attrs).toEqual({ blocksize: 2, mode: "CRD" });
  });

  it("a learned token expanded over the batch and concatenated stays one parameter (ViT's class token)", () => {
    const r = importSpec({
      nodes: [node("Shape", ["x"], ["sh"]), node("Gather", ["sh", "i0"], ["n"]), node("Unsqueeze", ["n", "a0"], ["nu"]), node("Concat", ["nu", "one", "one"], ["target"], "target", [intAttr("axis", 0)]), node("Expand", ["cls", "target"], ["c"], "/Expand"), node("Concat", ["c", "x"], ["y"], "/Concat", [intAttr("axis", 1)])],
      inputs: [valueInfo("x", [2, 3, 4])],
      initializers: [floats("cls", [1, 1, 4]), ints("i0", [0], []), ints("a0", [0]), ints("one", [1])],
    });
    expect(r.ops).toEqual(["cls:param", "expand:expand", "concat:concat"]);
    expect(r.model!.graph.op("cls").attrs).toMatchObject({ shape: [1, 1, 4] });
    expect(r.model!.parameters).toBe(4);
    expect(Array.from(r.model!.weights.get("cls.weight")!)).toEqual([0.5, 1.5, 2.5, 3.5]);
  });
});

describe("gather", () => {
  it("Gather of a float table by integer ids is an embedding owning the table", () => {
    const r = importSpec({ nodes: [node("Gather", ["E", "ids"], ["y"], "/emb/Gather")], inputs: [valueInfo("ids", [2, 5], 7)], initializers: [floats("E", [10, 4])] });
    expect(r.ops).toEqual(["emb:embedding"]);
    expect(r.model!.parameters).toBe(40);
  });

  it("Gather by computed indices, or by non-contiguous constant ones, is take; GatherElements is take_along_axis", () => {
    const r = importSpec({ nodes: [node("Gather", ["x", "i"], ["y"], "g", [intAttr("axis", 1)])], inputs: [valueInfo("x", [2, 6, 3]), valueInfo("i", [4], 7)] });
    expect(r.ops).toEqual(["g:take"]);
    expect(r.model!.graph.op("g").attrs).toEqual({ axis: 1 });
    const k = importSpec({ nodes: [node("Gather", ["x", "i"], ["y"], "g", [intAttr("axis", 1)])], inputs: [valueInfo("x", [2, 6, 3])], initializers: [ints("i", [0, 2])] });
    expect(k.ops).toEqual(["i:constant", "g:take"]);
    const e = importSpec({ nodes: [node("GatherElements", ["x", "i"], ["y"], "g", [intAttr("axis", 1)])], inputs: [valueInfo("x", [2, 6]), valueInfo("i", [2, 3], 7)] });
    expect(e.ops).toEqual(["g:take_along_axis"]);
  });

  it("ScatterND on activations, OneHot, ArgMax", () => {
    const s = importSpec({ nodes: [node("ScatterND", ["x", "i", "u"], ["y"], "s")], inputs: [valueInfo("x", [4, 3]), valueInfo("u", [1, 3])], initializers: [ints("i", [1], [1, 1])] });
    expect(s.ops).toEqual(["i:constant", "s:scatter_nd"]);
    const o = importSpec({ nodes: [node("OneHot", ["ids", "d", "v"], ["y"], "o")], inputs: [valueInfo("ids", [2, 3], 7)], initializers: [ints("d", [5], []), floats("v", [2], [0, 1])] });
    expect(o.model!.graph.op("o").attrs).toMatchObject({ depth: 5, on: 1, off: 0, axis: -1 });
    const a = importSpec({ nodes: [node("ArgMax", ["x"], ["m"], "a", [intAttr("axis", 1), intAttr("keepdims", 0)]), node("Cast", ["m"], ["y"], "c", [intAttr("to", 1)])] });
    expect(a.ops).toEqual(["a:arg_max", "c:cast"]);
    expect(a.model!.graph.op("a").attrs).toEqual({ axis: 1, keepdims: false, select_last_index: false });
  });

  it("ScatterND: mul/max/min on activations and unknown reductions are PAR6016; on constants every ONNX reduction folds", () => {
    const onX = (reduction: string) => importSpec({ nodes: [node("ScatterND", ["x", "i", "u"], ["y"], "s", [stringAttr("reduction", reduction)])], inputs: [valueInfo("x", [4, 3]), valueInfo("u", [1, 3])], initializers: [ints("i", [1], [1, 1])] });
    expect(onX("max").codes).toEqual(["PAR6016"]);
    expect(onX("max").messages[0]).toContain('ScatterND with reduction "max"');
    const folded = (reduction: string) =>
      importSpec({
        nodes: [node("ScatterND", ["d", "i", "u"], ["k"], "s", [stringAttr("reduction", reduction)]), node("Add", ["x", "k"], ["y"], "a")],
        inputs: [valueInfo("x", [2, 3])],
        initializers: [floats("d", [3], [1, 5, 2]), ints("i", [0, 2, 2], [3, 1]), floats("u", [3], [4, 1, 3])],
      });
    const bias = (reduction: string) => Array.from(folded(reduction).model!.weights.get("a.bias")!);
    expect(bias("none")).toEqual([4, 5, 3]);
    expect(bias("add")).toEqual([5, 5, 6]);
    expect(bias("mul")).toEqual([4, 5, 6]);
    expect(bias("max")).toEqual([4, 5, 3]);
    expect(bias("min")).toEqual([1, 5, 1]);
    expect(folded("bogus").codes).toEqual(["PAR6016"]);
  });

  it("Gather of a scalar index is a slice and a squeeze", () => {
    const r = importSpec({ nodes: [node("Gather", ["x", "i"], ["y"], "g", [intAttr("axis", 1)])], inputs: [valueInfo("x", [2, 6, 3])], initializers: [ints("i", [-1], [])] });
    expect(kinds(r.ops)).toEqual(["slice", "squeeze"]);
  });
});

describe("recurrent", () => {
  const lstm = (outputs: string[], used: string[]) => ({
    nodes: [node("LSTM", ["x", "W", "R", "B"], outputs, "/lstm/LSTM", [intAttr("hidden_size", 3)])],
    inputs: [valueInfo("x", [5, 2, 4])],
    initializers: [floats("W", [1, 12, 4]), floats("R", [1, 12, 3]), floats("B", [1, 24])],
    outputs: used,
  });

  it("LSTM Y_h is par's final state, unsqueezed to ONNX's [1, batch, h]", () => {
    const r = importSpec(lstm(["", "Yh"], ["Yh"]));
    expect(kinds(r.ops)).toEqual(["transpose", "lstm", "unsqueeze"]);
    expect(r.model!.graph.op("lstm").attrs).toMatchObject({ hidden: 3, return_state: true, reverse: false });
    expect(r.model!.parameters).toBe(4 * 3 * (4 + 3) + 24);
  });

  it("LSTM Y and Y_c: Y transposed back to [seq, 1, batch, h], Y_c the final cell", () => {
    const r = importSpec(lstm(["Y", "", "Yc"], ["Y", "Yc"]));
    expect(kinds(r.ops)).toEqual(["transpose", "lstm", "unsqueeze", "transpose", "unsqueeze"]);
    expect(r.model!.graph.tensor(r.model!.graph.op("lstm_seq_first").outputs[0]).type.shape).toEqual([5, 1, 2, 3]);
  });

  it("a bidirectional GRU is two par grus, the second reversed, concatenated on ONNX's direction axis", () => {
    const r = importSpec({
      nodes: [node("GRU", ["x", "W", "R", "B", "", "h0"], ["Y", "Yh"], "/gru/GRU", [intAttr("hidden_size", 3), stringAttr("direction", "bidirectional"), intAttr("linear_before_reset", 1)])],
      inputs: [valueInfo("x", [5, 2, 4]), valueInfo("h0", [2, 2, 3])],
      initializers: [floats("W", [2, 9, 4]), floats("R", [2, 9, 3]), floats("B", [2, 18])],
      outputs: ["Y", "Yh"],
    });
    expect(r.codes).toEqual([]);
    const ops = r.model!.graph;
    expect(ops.op("gru").attrs).toMatchObject({ reverse: false, linear_before_reset: true, return_state: true });
    expect(ops.op("gru_reverse").attrs).toMatchObject({ reverse: true });
    // initial_h [2, batch, h]: one slice and squeeze per direction feeds each gru.
    expect(ops.op("gru").inputs.length).toBe(2);
    expect(ops.tensor(ops.op("gru_seq_first").outputs[0]).type.shape).toEqual([5, 2, 2, 3]);
    expect(ops.tensor(ops.op("gru_h").outputs[0]).type.shape).toEqual([2, 2, 3]);
    // ONNX gate blocks z, r, h → torch's r, z, n: B's first 3 values (z) move to the second block.
    const w = r.model!.weights.get("gru.bias_ih")!;
    expect(Array.from(w.slice(3, 6))).toEqual([0.5, 1.5, 2.5]);
    expect(r.model!.parameters).toBe(2 * (9 * 4 + 9 * 3 + 18));
  });

  it("an RNN with Relu activations is rnn(nonlinearity = relu); without B its biases are zero, not counted", () => {
    const r = importSpec({
      nodes: [node("RNN", ["x", "W", "R"], ["Y"], "/rnn/RNN", [intAttr("hidden_size", 3), stringsAttr("activations", ["Relu"])])],
      inputs: [valueInfo("x", [5, 2, 4])],
      initializers: [floats("W", [1, 3, 4]), floats("R", [1, 3, 3])],
      outputs: ["Y"],
    });
    expect(r.model!.graph.op("rnn").attrs).toMatchObject({ nonlinearity: "relu" });
    expect(Array.from(r.model!.weights.get("rnn.bias_ih")!)).toEqual([0, 0, 0]);
    expect(r.model!.parameters).toBe(12 + 9);
  });

  it("peepholes, clip, custom activations and short sequence_lens are PAR6016", () => {
    const base = lstm(["Y"], ["Y"]);
    expect(importSpec({ ...base, nodes: [node("LSTM", ["x", "W", "R", "B"], ["Y"], "l", [intAttr("hidden_size", 3), floatAttr("clip", 1)])] }).codes).toEqual(["PAR6016"]);
    expect(importSpec({ ...base, nodes: [node("LSTM", ["x", "W", "R", "B"], ["Y"], "l", [intAttr("hidden_size", 3), stringsAttr("activations", ["Sigmoid", "Relu", "Tanh"])])] }).codes).toEqual(["PAR6016"]);
    expect(importSpec({ ...base, nodes: [node("LSTM", ["x", "W", "R", "B", "sl"], ["Y"], "l", [intAttr("hidden_size", 3)])], initializers: [...base.initializers, ints("sl", [5, 3])] }).codes).toEqual(["PAR6016"]);
    expect(importSpec({ ...base, nodes: [node("LSTM", ["x", "W", "R", "B", "sl"], ["Y"], "l", [intAttr("hidden_size", 3)])], initializers: [...base.initializers, ints("sl", [5, 5])] }).codes).toEqual([]);
  });
});

describe("dispatch", () => {
  it("an op that only folds, on computed inputs, is PAR6017", () => {
    const r = importSpec({ nodes: [node("Range", ["x", "x", "x"], ["y"])] });
    expect(r.codes).toEqual(["PAR6017"]);
    expect(r.messages[0]).toContain("Range on non-constant inputs is only supported when it folds to a constant");
  });

  it("attribute readers take defaults when an attribute is absent", () => {
    const r = importSpec({ nodes: [node("LeakyRelu", ["x"], ["a"]), node("LeakyRelu", ["a"], ["y"], "l2", [floatAttr("alpha", 0.2)])] });
    expect(r.model!.graph.op("a").attrs).toMatchObject({ alpha: 0.01 });
    expect(r.model!.graph.op("l2").attrs.alpha).toBeCloseTo(0.2);
  });
});
