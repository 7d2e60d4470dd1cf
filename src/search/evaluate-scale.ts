// One large-scale strategy priced: its stages planned (src/ir/stage-plan.ts), one step
// simulated hierarchically (src/sim/scale/) and its memory per device counted
// (src/cost/scale-memory.ts). `par simulate` of a strategy that uses replicas, a pipeline,
// ZeRO, recomputation or 16-bit precision, the scale search and `npm run bench -- scale`
// all price strategies here, so they agree.

import type { Mesh } from "../core/mesh.js";
import { ScaleCostModel, type ScaleCostOptions } from "../cost/scale-costs.js";
import { scaleMemory, type ScaleMemoryReport } from "../cost/scale-memory.js";
import type { Graph } from "../ir/graph.js";
import { planStages, type PlanOptions, type ScalePlan } from "../ir/stage-plan.js";
import type { Strategy } from "../ir/strategy.js";
import { simulateScale, type ScaleSimOptions, type ScaleTimeline } from "../sim/scale/simulate-scale.js";

export interface ScaleEvaluation {
  plan: ScalePlan;
  timeline: ScaleTimeline;
  memory: ScaleMemoryReport;
  /** Seconds of one training step. */
  stepTime: number;
  /** Model FLOPs of one step (forward + backward of every op, once: recomputation excluded). */
  modelFlops: number;
  /** Devices the strategy uses: replica 0's times the replicas. */
  devicesUsed: number;
  /** Model FLOP/s per used device (the PTD-P paper's per-GPU throughput, without recomputation). */
  flopsPerDevice: number;
}

/** Everything a run of evaluations shares: the cost model and the stage timings it has seen. */
export class ScaleEvaluator {
  readonly costs: ScaleCostModel;
  private readonly cache: NonNullable<ScaleSimOptions["cache"]> = new Map();
  private readonly graphs = new Map<string, Graph>();
  /** Op-level stage simulations run so far (distinct stage structures). */
  stageSimulations = 0;

  constructor(readonly mesh: Mesh, readonly options: ScaleCostOptions & Pick<ScaleSimOptions, "gradSync"> = {}) {
    this.costs = new ScaleCostModel(mesh, options);
  }

  evaluate(graph: Graph, strategy: Strategy, planOptions: PlanOptions = {}): ScaleEvaluation {
    const plan = planStages(graph, this.mesh, strategy, { graphCache: this.graphs, ...planOptions });
    const sim: ScaleSimOptions = { cache: this.cache };
    if (this.options.gradSync) sim.gradSync = this.options.gradSync;
    const timeline = simulateScale(plan, this.costs, sim);
    this.stageSimulations += timeline.stageSimulations;
    const memory = scaleMemory(plan, this.costs.optimizer, timeline.stages.map((s) => s.weights.shards));
    const modelFlops = stepFlops(graph);
    const replica0 = new Set(plan.stages.flatMap((s) => s.devices)).size;
    const devicesUsed = replica0 * plan.replicas.count;
    return { plan, timeline, memory, stepTime: timeline.stepTime, modelFlops, devicesUsed, flopsPerDevice: modelFlops / timeline.stepTime / devicesUsed };
  }
}

/** Forward + backward FLOPs of every op over the whole batch, as their entries count them. */
export function stepFlops(graph: Graph): number {
  let f = 0;
  for (const op of graph.ops.values()) {
    const c = op.sig.flops(op.sig.space.map((d) => d.size));
    f += c.forward + c.backward;
  }
  return f;
}
