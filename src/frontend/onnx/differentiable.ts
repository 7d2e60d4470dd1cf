// Which ONNX inputs carry a gradient. A float initializer trains only when a gradient can
// reach it from a model output; one read only as a shape, an index, a mask condition, a
// bound or a statistic is a buffer (torch's register_buffer), never updated. The table
// lists, per op type, the inputs through which no gradient flows; an op not listed passes
// gradients through every input. Adding an ONNX op whose inputs include such operands
// means adding its row here.

import { isFloatDType, type OnnxModel, type OnnxNode } from "./decode.js";

/** Every input is non-differentiable: the op's outputs are integers, booleans, shapes or random. */
const ALL = "all";

const NON_DIFFERENTIABLE: Readonly<Record<string, readonly number[] | typeof ALL>> = {
  // Shapes, sizes, comparisons, indices: outputs without gradients.
  Shape: ALL, Size: ALL, ConstantOfShape: ALL, Range: ALL, NonZero: ALL, ArgMax: ALL, ArgMin: ALL,
  Equal: ALL, Less: ALL, LessOrEqual: ALL, Greater: ALL, GreaterOrEqual: ALL, Not: ALL, And: ALL, Or: ALL, Xor: ALL,
  IsNaN: ALL, IsInf: ALL, Sign: ALL, Floor: ALL, Ceil: ALL, Round: ALL, OneHot: ALL, EyeLike: ALL,
  RandomNormalLike: ALL, RandomUniformLike: ALL, Bernoulli: ALL, Multinomial: ALL, NonMaxSuppression: ALL,
  // Operands that are shapes, axes, indices, bounds or statistics.
  Reshape: [1], Expand: [1], Tile: [1], Slice: [1, 2, 3, 4], Pad: [1, 2, 3], Squeeze: [1], Unsqueeze: [1],
  Split: [1], TopK: [1], Resize: [1, 2, 3], Upsample: [1], Gather: [1], GatherElements: [1], GatherND: [1],
  ScatterElements: [1], ScatterND: [1], Where: [0], Clip: [1, 2], Dropout: [1, 2], Trilu: [1], CumSum: [1],
  ReduceSum: [1], ReduceMean: [1], ReduceMax: [1], ReduceMin: [1], ReduceProd: [1], ReduceL1: [1], ReduceL2: [1],
  ReduceLogSumExp: [1], ReduceSumSquare: [1], BatchNormalization: [3, 4], LSTM: [4], GRU: [4], RNN: [4],
};

/** For each input of `n`, whether a gradient flows through it. */
export function differentiableInputs(n: OnnxNode): boolean[] {
  const rule = NON_DIFFERENTIABLE[n.opType];
  // A cast to an integer type cuts the gradient; a cast between floats keeps it.
  const cutByCast = n.opType === "Cast" && !isFloatDType(n.attrs.get("to")?.i ?? 1);
  return n.inputs.map((_, i) => !(cutByCast || rule === ALL || (rule !== undefined && rule.includes(i))));
}

/**
 * The tensor names a gradient reaches from the model's outputs: walking the nodes from the
 * outputs back, a node with a reached output reaches its differentiable inputs.
 */
export function gradientReach(model: OnnxModel, order: readonly OnnxNode[]): Set<string> {
  const reached = new Set(model.graph.outputs.map((o) => o.name));
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k];
    if (!n.outputs.some((o) => o !== "" && reached.has(o))) continue;
    const diff = differentiableInputs(n);
    n.inputs.forEach((name, i) => {
      if (name !== "" && diff[i]) reached.add(name);
    });
  }
  return reached;
}
