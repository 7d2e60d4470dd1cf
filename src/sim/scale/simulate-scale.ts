// The hierarchical, symmetric simulation of one training step of a large-scale strategy
// (docs/simulator.md, "Simulation at scale"):
//   1. each pipeline stage of replica 0, one micro-batch, op by op on its sub-mesh
//      (stage-timing.ts), identical stages simulated once (by their structural key);
//   2. the stage-to-stage transfers of activations and gradients (boundary.ts) and each
//      stage's weight costs across its data-parallel groups (weight-sync.ts);
//   3. the schedule of units (stage, micro-batch, F|B) on the device groups with the
//      data-parallel channel, tied weights and optimizer step (pipeline-sim.ts).
// Replicas are not simulated one by one: replica r runs replica 0's program on its images
// d + r·offset, on links of its own, so its times are replica 0's; only the collectives
// across replicas see them, through the data-parallel groups.

import { pipelineOrder, type PipelineUnit } from "../../ir/pipeline-schedule.js";
import type { ScalePlan } from "../../ir/stage-plan.js";
import { stageBoundaries, type Boundary, type Tie } from "./boundary.js";
import { translationPeriod } from "./symmetry.js";
import type { ScaleCosts } from "./costs.js";
import { simulateSchedule, type ScheduleTimes } from "./pipeline-sim.js";
import { timeStage, type StageTiming } from "./stage-timing.js";
import { stageWeightCosts, type GradSyncMode, type StageWeightCosts } from "./weight-sync.js";

export interface ScaleSimOptions {
  /** When gradient buckets start (default "overlap": as their gradients complete). */
  gradSync?: GradSyncMode;
  /**
   * Stage timings by structural key, shared across calls: a search evaluating many
   * strategies of one graph re-simulates only the stages it has not seen. Timings depend on
   * the costs too: use one cache per cost model.
   */
  cache?: Map<string, StageTiming>;
}

export interface StageResult {
  index: number;
  group: number;
  /** Replica 0's devices of the stage. */
  devices: readonly number[];
  timing: StageTiming;
  weights: StageWeightCosts;
  /** True when the timing came from another stage with the same key (or an earlier call). */
  cached: boolean;
}

export interface ScaleTimeline {
  /** Seconds of one training step. */
  stepTime: number;
  stages: StageResult[];
  boundaries: Boundary[];
  ties: Tie[];
  order: PipelineUnit[][];
  schedule: ScheduleTimes;
  microbatches: number;
  /** The pipeline bubble: the device groups' idle share until the last unit ends, 1 − Σ busy / (p × last unit's end). */
  bubble: number;
  /** Op-level simulations run (distinct stage keys not in the cache). */
  stageSimulations: number;
}

export function simulateScale(plan: ScalePlan, costs: ScaleCosts, options: ScaleSimOptions = {}): ScaleTimeline {
  const cache = options.cache ?? new Map<string, StageTiming>();
  const mode = options.gradSync ?? "overlap";
  let simulations = 0;
  const period = translationPeriod(plan.mesh);
  const seen = new Map<string, { devices: readonly number[]; weights: StageWeightCosts }>();
  const stages: StageResult[] = plan.stages.map((stage) => {
    let timing = cache.get(stage.key);
    const cached = timing !== undefined;
    if (!timing) {
      timing = timeStage(stage, costs);
      simulations++;
      cache.set(stage.key, timing);
    }
    // A stage identical to an earlier one and shifted by whole top-level groups of a regular
    // mesh has data-parallel groups of the same shapes: the same weight costs.
    const twin = seen.get(stage.key);
    let weights: StageWeightCosts;
    if (twin && period > 0 && (stage.devices[0] - twin.devices[0]) % period === 0) weights = twin.weights;
    else {
      weights = stageWeightCosts(stage, timing, plan.replicas, plan.zero, mode, costs);
      if (!twin) seen.set(stage.key, { devices: stage.devices, weights });
    }
    return { index: stage.index, group: stage.group, devices: stage.devices, timing, weights, cached };
  });
  const { boundaries, ties } = stageBoundaries(plan.stages, costs, period);
  const order = pipelineOrder(plan.schedule, plan.groups, plan.virtual, plan.microbatches);
  const schedule = simulateSchedule({
    order,
    microbatches: plan.microbatches,
    boundaries,
    ties,
    stages: stages.map((s) => ({
      forward: s.timing.forward,
      backward: s.timing.backward,
      perStepForward: s.timing.perStepForward,
      perStepBackward: s.timing.perStepBackward,
      unitGather: s.weights.unitGather,
      buckets: s.weights.buckets,
      everyMicrobatch: s.weights.everyMicrobatch,
      update: s.weights.update,
      postGather: s.weights.postGather,
    })),
  });
  let end = 0;
  let busy = 0;
  for (const g of schedule.groups) {
    end = Math.max(end, g.computeEnd);
    busy += g.busy;
  }
  const span = end * schedule.groups.length;
  return {
    stepTime: schedule.stepTime,
    stages,
    boundaries,
    ties,
    order,
    schedule,
    microbatches: plan.microbatches,
    bubble: span > 0 ? 1 - busy / span : 0,
    stageSimulations: simulations,
  };
}
