// Lowering: (Graph, Strategy, Mesh) → Plan. Every op's iteration space is cut into the
// strategy's tasks; from the op's layout (src/layout) follow the input regions each task
// reads, the weight shard it holds and the output region it writes, and the groups of
// tasks writing one region. Intersecting a consumer's input regions with the producer's
// holder regions gives every transfer; the same algebra run backwards gives the gradient
// flow. docs/runtime.md states the rules. The phases live in ./lower/: the plan under
// construction and its buffers (builder.ts, with the argument for deadlock freedom), the
// forward pass (forward.ts), the backward pass (backward.ts) and the weight-gradient
// all-reduces and updates (weights.ts). Large-scale strategies (replicas, pipelines, ZeRO,
// recomputation; docs/strategies.md) add: micro-batches and replicas as more
// tasks (src/layout/units.ts), the schedule's order of units (steps.ts), ZeRO's sliced
// updates and gathers (zero.ts), and the release of dead buffers (release.ts); their plans
// are format version 2, all others exactly the version-1 plans they always were.

import type { Graph } from "../ir/graph.js";
import { usesScaleFeatures, type Strategy } from "../ir/strategy.js";
import { isFloat, type DType } from "../core/tensor.js";
import { planWeightsOf } from "../plan/weights.js";
import { feeds } from "./feeds.js";
import {
  PLAN_FORMAT,
  type PlanParam,
  type DeviceProgram,
  type Instruction,
  type OptimizerConfig,
  type Plan,
  type PlanDType,
  type PlanOp,
  type PlanTensor,
} from "../plan/plan.js";
import { Builder } from "./lower/builder.js";
import { checkStrategy } from "./lower/check.js";
import { prepareOp } from "./lower/forward.js";
import { insertReleases } from "./lower/release.js";
import { lowerStep } from "./lower/steps.js";

export interface LowerMesh {
  name: string;
  devices: { index: number; spec: { kind: string } }[];
}

export interface LowerOptions {
  seed: number;
  optimizer: OptimizerConfig;
  /**
   * Given param values by param id ("<op>.<param>", e.g. an imported model's weights):
   * those params get `init: {kind: "values"}` and their values go into `Plan.weights`
   * (PAR5013 beyond PLAN_WEIGHTS_CAP_BYTES). Ids that are not params of the graph are ignored.
   */
  weights?: ReadonlyMap<string, Float32Array>;
  /** Most bytes of given weights a plan may carry (default PLAN_WEIGHTS_CAP_BYTES; tests of large imported models raise it). */
  weightsCapBytes?: number;
}

/** Every op as one task on device 0: the reference the verifier compares against. */
export function singleDeviceStrategy(graph: Graph, mesh = "single"): Strategy {
  const ops: Strategy["ops"] = {};
  for (const o of graph.topoOrder()) ops[o.name] = { degrees: o.sig.space.map(() => 1), devices: [0] };
  return { name: "single-device", model: graph.name, mesh, ops };
}

export function planDType(d: DType): PlanDType {
  return isFloat(d) ? "f32" : "i32";
}

export function lower(graph: Graph, strategy: Strategy, mesh: LowerMesh, options: LowerOptions): Plan {
  const deviceIndices = mesh.devices.map((d) => d.index);
  checkStrategy(graph, strategy, new Set(deviceIndices));
  const order = graph.topoOrder();

  // ---- tensors, ops, params -------------------------------------------------------------
  const feedKinds = feeds(graph);
  const tensors: PlanTensor[] = [];
  for (const t of graph.tensors.values()) {
    const pt: PlanTensor = { id: t.id, shape: [...t.type.shape], dtype: planDType(t.type.dtype), role: t.producer ? "activation" : "input" };
    const f = feedKinds.get(t.id);
    if (f) pt.feed = f;
    tensors.push(pt);
  }
  const params = graph.params();
  for (const p of params) tensors.push({ id: p.id, shape: [...p.spec.shape], dtype: planDType(p.spec.dtype ?? "f32"), role: "param" });
  const ops: PlanOp[] = order.map((o) => ({
    name: o.name,
    op: o.op,
    attrs: { ...o.attrs },
    inputs: [...o.inputs],
    outputs: [...o.outputs],
    params: o.sig.params.map((s) => `${o.name}.${s.name}`),
    degrees: [...strategy.ops[o.name].degrees],
  }));

  // ---- the step: forward, backward (reverse order), weight sync at the end --------------
  // Precision alone changes nothing in the plan (plans compute in f32; docs/plan.md).
  const scaled = usesScaleFeatures({ ...strategy, precision: undefined });
  const b = new Builder(deviceIndices, new Map(tensors.map((t) => [t.id, t.dtype])), strategy.pipeline !== undefined);
  const lowered = order.map((o) => prepareOp(graph, strategy, o));
  const releasable = new Map<number, Set<string>>();
  lowerStep(b, {
    graph,
    strategy,
    ops: lowered,
    optimizer: options.optimizer,
    releasable: (d, id) => (releasable.get(d) ?? releasable.set(d, new Set()).get(d)!).add(id),
  });

  const programs: DeviceProgram[] = deviceIndices.map((d) => {
    const p = b.programs.get(d)!;
    let instructions = b.instructionsOf(d);
    if (scaled) {
      // Activations, gradients and gathered weights are freed where they die (release.ts).
      const extra = releasable.get(d);
      instructions = insertReleases(instructions, (id) => {
        const kind = p.buffers.get(id)?.kind;
        return kind === "value" || kind === "grad" || extra?.has(id) === true;
      });
    }
    return { device: d, buffers: [...p.buffers.values()], instructions };
  });
  const given = options.weights && options.weights.size ? planWeightsOf(options.weights, new Map(params.map((p) => [p.id, p.spec.shape])), options.weightsCapBytes) : undefined;
  const plan: Plan = {
    format: PLAN_FORMAT,
    version: scaled ? 2 : 1,
    model: graph.name,
    mesh: mesh.name,
    strategy: strategy.name,
    seed: options.seed,
    optimizer: { ...options.optimizer },
    devices: mesh.devices.map((d) => ({ index: d.index, kind: d.spec.kind })),
    tensors,
    ops,
    params: params.map((p): PlanParam => ({ tensor: p.id, init: given?.[p.id] ? { kind: "values", ref: p.id } : p.spec.init, ...(graph.frozen.has(p.id) ? { trainable: false as const } : {}) })),
    losses: lowered.filter((l) => l.isLoss).flatMap((l) => l.node.outputs),
    programs,
  };
  if (given && Object.keys(given).length) plan.weights = given;
  return plan;
}
