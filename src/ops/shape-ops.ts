// Layout ops: transpose, expand/broadcast_to, pad, tile, depth_to_space, space_to_depth
// (view ops are in reshape.ts, concat/split/slice in join.ts). They move data and compute nothing, so their FLOPs
// are 0 (expand's backward sums over the broadcast axes: one add per output element) and the cost model charges them by bytes. Each task's kernel works on its own
// regions only: every forward derives its output shape from shard.outputRegions, never
// from the whole.

import type { Tensor } from "@tensorflow/tfjs-core";
import type { TensorType } from "../core/tensor.js";
import { checkInputs } from "./attrs.js";
import type { AxisMap, InferContext, OpEntry, ParallelDim } from "./contract.js";
import { activationSpace, FULL, fmtShape, identityMaps, iter, noFlops, outShape, product } from "./common.js";
import { broadcastMaps, broadcastShapes } from "./elementwise.js";

export const transpose: OpEntry = {
  name: "transpose",
  family: "shape",
  doc: "Permutes the axes: output axis i is input axis perm[i] (torch.permute).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "perm", kind: "ints", doc: "a permutation of the input's axes" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const rank = x.shape.length;
    const given = attrs.perm as number[];
    const perm = given.map((p) => (p < 0 ? p + rank : p));
    if (perm.length !== rank || perm.some((p) => p < 0 || p >= rank) || new Set(perm).size !== rank) {
      ctx.diagnostics.error("PAR2133", `\`transpose\`: perm [${given.join(", ")}] is not a permutation of the ${rank} axes of ${fmtShape(x.shape)}`, {
        pos: ctx.pos,
        expected: `each of 0..${rank - 1} exactly once`,
      });
      return undefined;
    }
    return {
      outputs: [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]), dims: perm.map((p) => x.dims[p]) }],
      params: [],
      // The space follows the input's axes; output axis i addresses dim perm[i].
      space: activationSpace(x),
      inputMaps: [identityMaps(rank)],
      paramMaps: [],
      outputMaps: [perm.map((p) => iter(p))],
      flops: noFlops,
    };
  },
  forward: (tf, { inputs, attrs }) => {
    const rank = inputs[0].shape.length;
    return [tf.transpose(inputs[0], (attrs.perm as number[]).map((p) => (p < 0 ? p + rank : p)))];
  },
};

function expandEntry(name: string): OpEntry {
  return {
    name,
    family: "shape",
    doc: "Broadcasts x to `shape` (NumPy rules, as ONNX Expand: the result is the broadcast of both shapes).",
    inputs: [{ name: "x", dtype: "any" }],
    attrs: [{ name: "shape", kind: "ints", min: 1, doc: "target shape" }],
    outputNames: ["y"],
    infer(inputs, attrs, ctx) {
      if (!checkInputs(this, inputs, ctx)) return undefined;
      const [x] = inputs;
      const target = attrs.shape as number[];
      const r = broadcastShapes(x.shape, target);
      if ("axis" in r) {
        ctx.diagnostics.error("PAR2138", `\`${name}\` cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(target)}`, {
          pos: ctx.pos,
          expected: "each input axis equal to the target's or 1 (right-aligned)",
        });
        return undefined;
      }
      const shape = r.shape;
      const off = shape.length - x.shape.length;
      const out: TensorType = { dtype: x.dtype, shape, dims: shape.map((_, i) => (i >= off && x.shape[i - off] === shape[i] ? x.dims[i - off] : `${ctx.opName}.d${i}`)) };
      return {
        outputs: [out],
        params: [],
        space: activationSpace(out),
        inputMaps: [broadcastMaps(x.shape, shape)],
        paramMaps: [],
        outputMaps: [identityMaps(shape.length)],
        // Forward copies; backward sums the gradient over the broadcast axes.
        flops: (e) => ({ forward: 0, backward: product(e) }),
      };
    },
    // x + zeros rather than tf.broadcastTo: Tile's gradient stops at rank 4, Add's does not.
    forward: (tf, { inputs, shard }) => [tf.add(inputs[0], tf.zeros(outShape(shard), inputs[0].dtype))],
  };
}

export const expand = expandEntry("expand");
export const broadcastTo = expandEntry("broadcast_to");

export const pad: OpEntry = {
  name: "pad",
  family: "shape",
  doc: "Constant zero padding; `pads` = [before_0, ..., before_{r-1}, after_0, ..., after_{r-1}] (ONNX order).",
  inputs: [{ name: "x" }],
  attrs: [{ name: "pads", kind: "ints", min: 0, doc: "zeros before each axis, then after each axis" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const rank = x.shape.length;
    const pads = attrs.pads as number[];
    if (pads.length !== 2 * rank) {
      ctx.diagnostics.error("PAR2139", `\`pad\` of rank-${rank} ${fmtShape(x.shape)} needs ${2 * rank} pads, got ${pads.length}`, {
        pos: ctx.pos,
        expected: `[before × ${rank}, after × ${rank}]`,
      });
      return undefined;
    }
    const padded = (i: number): boolean => pads[i] + pads[i + rank] > 0;
    const shape = x.shape.map((s, i) => s + pads[i] + pads[i + rank]);
    const out: TensorType = { dtype: x.dtype, shape, dims: [...x.dims] };
    // Padded axes are unsplittable: a task lying wholly in the padding would read an
    // empty input region. Unpadded axes split as in any elementwise op.
    return {
      outputs: [out],
      params: [],
      space: activationSpace(out).map((d, i) => (padded(i) ? { ...d, splittable: false } : d)),
      inputMaps: [x.shape.map((_, i) => (padded(i) ? FULL : iter(i)))],
      paramMaps: [],
      outputMaps: [identityMaps(rank)],
      flops: noFlops,
    };
  },
  forward: (tf, { inputs, attrs }) => {
    const x = inputs[0];
    const rank = x.shape.length;
    const pads = attrs.pads as number[];
    return [tf.pad(x, x.shape.map((_, i): [number, number] => [pads[i], pads[i + rank]]))];
  },
};

/**
 * tile(repeats): x repeated along each axis (ONNX Tile, torch Tensor.repeat). Output
 * position o along an axis reads x at o mod the axis's size, so a repeated axis is read
 * whole by every task (`full`) and an axis repeated once is the identity; every output
 * axis splits. Computed as a broadcast over a new axis in front of each repeated one
 * (x + zeros, whose gradient sums the copies at any rank; tfjs's Tile gradient stops at
 * rank 4), then cut to the task's output region.
 */
export const tile: OpEntry = {
  name: "tile",
  family: "shape",
  doc: "x repeated `repeats[i]` times along axis i (ONNX Tile, torch Tensor.repeat).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "repeats", kind: "ints", min: 1, doc: "copies along each axis (one per axis)" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const reps = attrs.repeats as number[];
    if (reps.length !== x.shape.length) {
      ctx.diagnostics.error("PAR2139", `\`tile\` of rank-${x.shape.length} ${fmtShape(x.shape)} needs ${x.shape.length} repeats, got ${reps.length}`, {
        pos: ctx.pos,
        expected: `repeats = [one per axis × ${x.shape.length}]`,
      });
      return undefined;
    }
    const shape = x.shape.map((s, i) => s * reps[i]);
    const out: TensorType = { dtype: x.dtype, shape, dims: x.dims.map((d, i) => (reps[i] === 1 ? d : `${ctx.opName}.d${i}`)) };
    return {
      outputs: [out],
      params: [],
      space: activationSpace(out),
      inputMaps: [x.shape.map((_, i) => (reps[i] === 1 ? iter(i) : FULL))],
      paramMaps: [],
      outputMaps: [identityMaps(shape.length)],
      // Forward copies; backward sums the gradient of the copies.
      flops: (e) => ({ forward: 0, backward: product(e) }),
    };
  },
  forward(tf, { inputs, attrs, shard }) {
    const x = inputs[0];
    const reps = attrs.repeats as number[];
    const region = shard.outputRegions[0];
    let y = x;
    for (let a = 0; a < reps.length; a++) {
      if (reps[a] === 1) continue;
      // [.., L, ..] → [.., r, L, ..] → [.., r·L, ..], then the task's range along a.
      const s = y.shape as number[];
      const spread = [...s.slice(0, a), reps[a], ...s.slice(a)];
      const copies = tf.add(tf.reshape(y, [...s.slice(0, a), 1, ...s.slice(a)]), tf.zeros(spread, y.dtype));
      const whole = tf.reshape(copies, [...s.slice(0, a), reps[a] * s[a], ...s.slice(a + 1)]);
      y = tf.slice(whole, whole.shape.map((_, i) => (i === a ? region.lo[a] : 0)), whole.shape.map((v, i) => (i === a ? region.hi[a] - region.lo[a] : (v as number))));
    }
    return [reps.every((r) => r === 1) ? tf.clone(y) : y];
  },
};

/**
 * depth_to_space(blocksize, mode) (ONNX DepthToSpace; torch PixelShuffle is mode CRD):
 * [N, C, H, W] → [N, C/b², H·b, W·b]. Output channel c' takes input channels
 * [c'·b², (c' + 1)·b²) in CRD, every (C/b²)-th channel in DCR. The spatial dims count INPUT
 * positions: input row i makes output rows [i·b, (i + 1)·b) (`block` maps). The channel dim
 * counts output channels and splits in CRD (a `block` map of b² input channels); in DCR a
 * channel block reads a strided set of input channels, so it stays whole.
 */
export const depthToSpace: OpEntry = {
  name: "depth_to_space",
  family: "shape",
  doc: "[N, C, H, W] → [N, C/b², H·b, W·b], channel blocks moved into space (ONNX DepthToSpace; torch PixelShuffle = mode CRD).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [
    { name: "blocksize", kind: "int", min: 1, doc: "b: the upscaling factor" },
    { name: "mode", kind: "string", default: "DCR", choices: ["DCR", "CRD"], doc: "channel order: depth-column-row (ONNX's default) or column-row-depth (PixelShuffle)" },
  ],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const b = attrs.blocksize as number;
    if (!checkSpaceDepth("depth_to_space", x, ctx)) return undefined;
    const [N, C, H, W] = x.shape;
    if (C % (b * b) !== 0) {
      ctx.diagnostics.error("PAR2111", `\`depth_to_space\`: channels ${C} are not divisible by blocksize² = ${b * b}`, { pos: ctx.pos, expected: `channels divisible by ${b * b}` });
      return undefined;
    }
    const crd = attrs.mode === "CRD";
    const space: ParallelDim[] = [
      { name: "sample", cls: "sample", size: N },
      { name: "channel", cls: "attribute", size: C / (b * b), splittable: crd },
      { name: "height", cls: "attribute", size: H },
      { name: "width", cls: "attribute", size: W },
    ];
    const block = (dim: number, blockSize: number): AxisMap => (blockSize === 1 ? iter(dim) : { kind: "block", dim, blockSize });
    return {
      outputs: [{ dtype: x.dtype, shape: [N, C / (b * b), H * b, W * b], dims: [x.dims[0], `${ctx.opName}.c`, `${ctx.opName}.h`, `${ctx.opName}.w`] }],
      params: [],
      space,
      inputMaps: [[iter(0), crd ? block(1, b * b) : FULL, iter(2), iter(3)]],
      paramMaps: [],
      outputMaps: [[iter(0), iter(1), block(2, b), block(3, b)]],
      flops: noFlops,
    };
  },
  forward(tf, { inputs, attrs }) {
    const x = inputs[0];
    const b = attrs.blocksize as number;
    const [n, c, h, w] = x.shape as number[];
    const oc = c / (b * b);
    const crd = attrs.mode === "CRD";
    const split = tf.reshape(x, crd ? [n, oc, b, b, h, w] : [n, b, b, oc, h, w]);
    const moved = tf.transpose(split, crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2]);
    return [tf.reshape(moved, [n, oc, h * b, w * b])];
  },
};

/**
 * space_to_depth(blocksize) (ONNX SpaceToDepth): [N, C, H, W] → [N, C·b², H/b, W/b], output
 * channel (i·b + j)·C + c holding x[c, y·b + i, x·b + j]. The spatial dims count output
 * positions, each reading a b×b input block (`block` maps); an output channel block reads a
 * strided set of input channels, so the channel dim stays whole.
 */
export const spaceToDepth: OpEntry = {
  name: "space_to_depth",
  family: "shape",
  doc: "[N, C, H, W] → [N, C·b², H/b, W/b], b×b blocks moved into channels (ONNX SpaceToDepth).",
  inputs: [{ name: "x", dtype: "any" }],
  attrs: [{ name: "blocksize", kind: "int", min: 1, doc: "b: the downscaling factor" }],
  outputNames: ["y"],
  infer(inputs, attrs, ctx) {
    if (!checkInputs(this, inputs, ctx)) return undefined;
    const [x] = inputs;
    const b = attrs.blocksize as number;
    if (!checkSpaceDepth("space_to_depth", x, ctx)) return undefined;
    const [N, C, H, W] = x.shape;
    if (H % b !== 0 || W % b !== 0) {
      ctx.diagnostics.error("PAR2111", `\`space_to_depth\`: height ${H} and width ${W} must be divisible by blocksize ${b}`, { pos: ctx.pos, expected: `spatial sizes divisible by ${b}` });
      return undefined;
    }
    const space: ParallelDim[] = [
      { name: "sample", cls: "sample", size: N },
      { name: "channel", cls: "attribute", size: C * b * b, splittable: false },
      { name: "height", cls: "attribute", size: H / b },
      { name: "width", cls: "attribute", size: W / b },
    ];
    const block = (dim: number): AxisMap => (b === 1 ? iter(dim) : { kind: "block", dim, blockSize: b });
    return {
      outputs: [{ dtype: x.dtype, shape: [N, C * b * b, H / b, W / b], dims: [x.dims[0], `${ctx.opName}.c`, `${ctx.opName}.h`, `${ctx.opName}.w`] }],
      params: [],
      space,
      inputMaps: [[iter(0), FULL, block(2), block(3)]],
      paramMaps: [],
      outputMaps: [identityMaps(4)],
      flops: noFlops,
    };
  },
  forward(tf, { inputs, attrs }) {
    const x = inputs[0];
    const b = attrs.blocksize as number;
    const [n, c, h, w] = x.shape as number[];
    const split = tf.reshape(x, [n, c, h / b, b, w / b, b]);
    return [tf.reshape(tf.transpose(split, [0, 3, 5, 1, 2, 4]), [n, c * b * b, h / b, w / b])];
  },
};

function checkSpaceDepth(op: string, x: TensorType, ctx: InferContext): boolean {
  if (x.shape.length === 4) return true;
  ctx.diagnostics.error("PAR2108", `\`${op}\` needs an input [N, C, H, W] of rank 4, got ${fmtShape(x.shape)}`, { pos: ctx.pos, expected: "a tensor [batch, channels, height, width]" });
  return false;
}

export const SHAPE_OPS: OpEntry[] = [transpose, expand, broadcastTo, pad, tile, depthToSpace, spaceToDepth];
