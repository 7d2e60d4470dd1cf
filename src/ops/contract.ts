// The operator contract. An operator is one declarative `OpEntry`, registered in
// src/ops/registry.ts. Everything downstream (checker, cost model, simulator, lowering,
// runtime, verification) reads only this contract, never an op-specific switch.
//
// The central idea is the *iteration space*: each op declares a list of parallel dims
// (sample / attribute / parameter / reduction). A task owns a box of that space. Every
// tensor the op touches (inputs, parameters, outputs) maps each of its axes to either an
// iteration dim, the whole axis, or a sliding window over an iteration dim (conv/pool
// halos). From a task's box follow the input regions it reads, the weight shard it holds
// and the output region it writes. A dim that no output axis maps to is a reduction:
// splitting it yields partial sums that must be added.

import type { Tensor } from "@tensorflow/tfjs-core";
import type { Diagnostics, SourcePos } from "../core/diagnostics.js";
import type { Region } from "../core/region.js";
import type { DType, TensorType } from "../core/tensor.js";

/** The tfjs namespace, injected so that ops never import TensorFlow.js themselves. */
export type TF = typeof import("@tensorflow/tfjs-core");

export type AttrValue = number | string | boolean | number[];
export type Attrs = Record<string, AttrValue>;

export type AttrKind = "int" | "float" | "bool" | "string" | "ints" | "floats";

export interface AttrSpec {
  name: string;
  kind: AttrKind;
  doc: string;
  /** Absent and no default → the attribute is required. */
  default?: AttrValue;
  /** For `string` attributes: the allowed values. */
  choices?: string[];
  /** For numeric attributes (and each element of `ints`): the smallest allowed value. */
  min?: number;
}

export interface InputSpec {
  name: string;
  /** Accepts any number ≥ 1 of tensors here (concat's inputs). Only the last input may be variadic. */
  variadic?: boolean;
  optional?: boolean;
  /** "float" (default), "int" (indices, labels) or "any". */
  dtype?: "float" | "int" | "any";
  /** What a tensor fed here means (see InputRole); absent: a plain activation. */
  role?: InputRole;
  /** For integer inputs: how many distinct values (classes, table rows) the op accepts here. */
  classes?: ClassCount;
}

/**
 * What a tensor fed to an input means beyond its shape, so that code outside src/ops can
 * make data for it without knowing the op: synthetic training data (src/codegen/feeds.ts)
 * and importers that append a training loss (src/frontend/import-build.ts).
 * - `labels`: integer class labels of a classification loss, shaped like the loss's first
 *   input without its last (class) axis;
 * - `target`: regression targets of a loss, shaped like the loss's first input;
 * - `indices`: integer row indices into a table.
 */
export type InputRole = "labels" | "target" | "indices";

/**
 * The number of distinct values an integer input ranges over, read from the op instance:
 * an axis of another input (`softmax_cross_entropy`'s labels: axis -1 of the logits) or an
 * integer attribute (`embedding`'s indices: `vocab`). Negative axes count from the end.
 */
export type ClassCount = { input: number; axis: number } | { attr: string };

/**
 * What kind of layer an op is, for strategies that treat layers by kind (the hand-made
 * baselines in src/ir/baselines.ts, after FlexFlow's expert strategies and Megatron-LM):
 * - `fully-connected`: a dense layer (output channels are a parameter dim, inputs a
 *   reduction): parameter-parallel in `expert`, column- then row-parallel in `megatron`;
 * - `sequence`: a recurrent, embedding or attention layer, placed layer by layer (GNMT);
 * - `attention-heads`: an attention block whose `heads` dim splits it Megatron's way;
 * - `passthrough`: a one-input elementwise op that may sit between a Megatron pair of
 *   fully connected layers, split like the hidden dim it passes through.
 */
export type OpRole = "fully-connected" | "sequence" | "attention-heads" | "passthrough";

/**
 * FlexFlow's SOAP classes. `sample` splits the batch, `attribute` splits spatial or
 * sequence positions, `parameter` splits a dim that the weights carry (so each task
 * holds a weight shard), `reduction` splits a summed-over dim (partial sums).
 */
export type DimClass = "sample" | "attribute" | "parameter" | "reduction";

/** One axis of an op's iteration space. `name` is what strategies write (`sample = 4`). */
export interface ParallelDim {
  name: string;
  cls: DimClass;
  size: number;
  /** False when the kernel cannot run on a piece of this dim (recurrence, softmax axis). */
  splittable?: boolean;
}

/** How one tensor axis is addressed by the iteration space. */
export type AxisMap =
  /** Axis index == iteration dim index (same size). */
  | { kind: "iter"; dim: number }
  /** The task always needs/produces the whole axis. */
  | { kind: "full" }
  /**
   * Sliding window (conv, pool): output position o along iteration dim `dim` reads input
   * positions o*stride - padLo + j*dilation for j in [0, kernel); `size` is the input extent.
   */
  | { kind: "window"; dim: number; stride: number; dilation: number; kernel: number; padLo: number; size: number }
  /**
   * Blocks (attention heads): iteration index i along `dim` owns tensor indices
   * [i*blockSize, (i+1)*blockSize), so a box [lo, hi) touches [lo*blockSize, hi*blockSize).
   * The tensor axis has size `blockSize` × the iteration dim's size.
   */
  | { kind: "block"; dim: number; blockSize: number };

export type InitSpec =
  | { kind: "zeros" }
  | { kind: "ones" }
  /** U(-bound, bound), e.g. PyTorch's kaiming-uniform bound 1/sqrt(fan_in). */
  | { kind: "uniform"; bound: number }
  | { kind: "normal"; std: number };

export interface ParamSpec {
  /** Local name ("weight", "bias"); the graph qualifies it with the op name. */
  name: string;
  shape: number[];
  dims: string[];
  init: InitSpec;
  dtype?: DType;
}

/** Everything the compiler needs to know about one op instance, produced by `infer`. */
export interface OpSignature {
  outputs: TensorType[];
  params: ParamSpec[];
  space: ParallelDim[];
  /** One AxisMap per axis, for each input, param and output, in declaration order. */
  inputMaps: AxisMap[][];
  paramMaps: AxisMap[][];
  outputMaps: AxisMap[][];
  /**
   * FLOPs of one task whose box has these extents along the iteration dims (forward and
   * backward, backward including weight gradients). For the whole op pass the full sizes.
   */
  flops(extent: readonly number[]): { forward: number; backward: number };
}

export interface InferContext {
  /** The op instance's name and position, for diagnostics. */
  opName: string;
  pos?: SourcePos;
  diagnostics: Diagnostics;
}

/** What a task's kernel knows about its place in the whole (for halos, masks, bias). */
export interface ShardContext {
  /** The task's box in the iteration space. */
  box: Region;
  /** Full iteration-space sizes. */
  spaceSizes: number[];
  /** The region of each input the task was handed (already clipped to the tensor). */
  inputRegions: Region[];
  /** The region of each output the task produces. */
  outputRegions: Region[];
  /**
   * True for the task that is first along every reduction dim: terms that must be added
   * once (a bias) are added only there, so that summing partials gives the whole.
   */
  firstAlongReductions: boolean;
}

export interface ForwardArgs {
  inputs: Tensor[];
  params: Tensor[];
  attrs: Attrs;
  sig: OpSignature;
  shard: ShardContext;
}

export interface BackwardArgs extends ForwardArgs {
  outputs: Tensor[];
  dOutputs: Tensor[];
}

export interface Gradients {
  /** null for inputs that take no gradient (integer labels, indices). */
  dInputs: (Tensor | null)[];
  dParams: Tensor[];
}

/** A sub-op of a composite op, as `expandComposite` (src/ops/composite.ts) makes it. */
export interface ExpandedOp {
  /** Suffix appended to the composite's name ("mean" → "bn1.mean"); "" for the final op. */
  suffix: string;
  op: string;
  /** Indices into the composite's inputs (number) or earlier sub-op outputs ({ op, output }). */
  inputs: (number | { op: number; output: number })[];
  attrs: Attrs;
}

/** Where an expanded sub-op reads: an input of the composite, or an earlier sub-op's output. */
export type PartInput = number | { op: number; output: number };

/** One sub-op of a composite's declared expansion. */
export interface ExpansionPart {
  /** Appended to the composite's name ("mean" → "bn1.mean"); "" for the final part, which keeps the name. */
  suffix: string;
  op: string;
  inputs: readonly PartInput[];
  /** The composite's attributes handed to this part under the same name (batchnorm's `eps`). */
  attrs?: readonly string[];
}

export interface OpEntry {
  name: string;
  /** The doc family in docs/ops.md ("linear algebra", "elementwise", ...). */
  family: string;
  doc: string;
  inputs: InputSpec[];
  attrs: AttrSpec[];
  outputNames: string[];
  /**
   * Shape inference and attribute validation. Reports coded diagnostics into
   * ctx.diagnostics and returns undefined when the op cannot be typed.
   */
  infer(inputs: TensorType[], attrs: Attrs, ctx: InferContext): OpSignature | undefined;
  /**
   * Optional: a composite op is replaced by primitive sub-ops when the graph is built
   * (batchnorm = moments + central_moment + batchnorm_apply, so that batch statistics stay exact under a
   * sample split). Parameters belong to the sub-ops. Declared as data, not a function, so
   * that the same table expands a call (src/ops/composite.ts) and lets a printer recognise
   * the parts in a graph again (src/frontend/import-to-par.ts). The last part is the final op.
   */
  expansion?: readonly ExpansionPart[];
  /** The layer kinds the op counts as (see OpRole); absent: none. */
  roles?: readonly OpRole[];
  /** Compute the task's output region(s) from its input regions and weight shard. */
  forward(tf: TF, args: ForwardArgs): Tensor[];
  /**
   * Gradients of the task's inputs (over the regions it read) and of its weight shard.
   * Optional: absent means "autodiff of forward" (src/ops/autodiff.ts).
   */
  backward?(tf: TF, args: BackwardArgs): Gradients;
  /** True when the op is a training loss (a scalar output that starts backward). */
  isLoss?: boolean;
  /**
   * Deterministic kernels only, except: ops with `seeded` randomness (dropout) derive it
   * from the global element index so that any sharding gives the same mask.
   */
  seeded?: boolean;
}
